"""The `duban` command: what the Office and the units' clerks type.

Interactive commands run duban's plain functions directly and answer at once; the Prefect engine
is used where it earns its start-up cost (a server configured to record the run, or `--engine`).

The commands live by group in duban/commands/ and in the packages that own them (assessment, campaign,
mechanism, ...). `main` loads a command's module only when that command runs, and each command imports
what it needs when it runs: `duban status` loads neither the other commands nor Prefect, WeasyPrint,
matplotlib, openpyxl, FastAPI or uvicorn (tests/test_startup.py). `duban --help` loads every command module,
which is cheap (click, rich, duban.cli_common).
"""

from __future__ import annotations

from importlib import import_module

import click

# Every command of `duban`: its name and where it is defined ("module:attribute").
COMMANDS = {
    "init": "duban.commands.setup:init",
    "ledger": "duban.commands.ledger:ledger",
    "item": "duban.commands.item:item",
    "check": "duban.commands.check:check",
    "status": "duban.commands.status:status",
    "tick": "duban.commands.schedule:tick",
    "replay": "duban.commands.schedule:replay",
    "report": "duban.commands.report:report",
    "period": "duban.commands.period:period",
    "bulletin": "duban.commands.bulletin:bulletin",
    "outbox": "duban.commands.outbox:outbox",
    "notify": "duban.commands.notify:notify",
    "serve": "duban.commands.engine:serve",
    "deploy": "duban.commands.engine:deploy",
    "portal": "duban.commands.portal:portal",
    "campaign": "duban.campaign.commands:campaign",
    "project": "duban.mechanism.commands:project",
    "deliverable": "duban.mechanism.commands:deliverable",
    "extension": "duban.extensions.commands:extension",
    "assess": "duban.assessment.commands:assess",
    "user": "duban.commands.user:user",
    "audit": "duban.commands.audit:audit",
    "backup": "duban.commands.backup:backup",
    "restore": "duban.commands.backup:restore",
    "summary": "duban.commands.summary:summary",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when asked for (click's lazy-loading pattern): running
    one command imports its module only; listing them (--help, completion) imports them all."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but "Did you mean ...?" chooses among every name, not only the commands loaded."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None


@click.group(cls=LazyGroup, lazy=COMMANDS)
def main() -> None:
    """duban (督办): the Office's ledger, close-out, status and reporting for a district programme."""


if __name__ == "__main__":
    main()
