"""The `duban` command: what the Office and the units' clerks type.

Interactive commands run duban's plain functions directly and answer at once; the Prefect engine
is used where it earns its start-up cost (a server configured to record the run, or `--engine`).

The commands live by group in duban/commands/ and in the packages that own them (assessment, campaign,
mechanism, ...). `main` loads a command's module only when that command runs, and each command imports
what it needs when it runs: `duban status` loads neither the other commands nor Prefect, WeasyPrint,
matplotlib, openpyxl, FastAPI or uvicorn (tests/test_startup.py). `duban --help` loads none: each command's
line comes from SUMMARIES (tests/test_startup.py holds them to the commands' own help).
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

# The first paragraph of each command's help, which is all that `duban --help` shows of it: listing the
# commands from here spares importing every command module and what they import (SQLAlchemy, models, ...).
SUMMARIES = {
    "init": "Create or migrate the database and load (or re-load) the plan.",
    "ledger": "The problem ledger (台账): import, export, blank template.",
    "item": "One ledger item: its plan, its close-out, its history.",
    "check": "Rebuild every item's state from the audit log and report where the kept state differs.",
    "status": "Counts by status, category, township and lead department; overdue items; traffic lights.",
    "tick": "Run every scheduled flow due on one date (safe to run again).",
    "replay": "Tick every day from one date to another, as the schedules would have.",
    "report": "Monthly reports: the pre-filled form, submitting it, a department's review.",
    "period": "A month's reporting round.",
    "bulletin": "Assemble (or re-print) a numbered bulletin as Word, PDF and HTML, and queue its distribution.",
    "outbox": "Messages waiting, sent, failed or dead (newest first).",
    "notify": "Checking that messages reach a unit.",
    "serve": "Run every schedule on this machine until Ctrl+C: a Prefect server (unless PREFECT_API_URL names one) "
    "and the deployments served against it.",
    "deploy": "Register every flow with the Prefect server in PREFECT_API_URL, for that pool's workers, and the "
    "automation that frees the slot of a run whose machine died.",
    "portal": "The web portal: every person of the chain signs in and answers duban (FastAPI, server-rendered).",
    "campaign": "Supervision campaigns (专项督导): start, show, the response form, responding.",
    "project": "New residential projects and their joint-review gates (联合审查/审核).",
    "deliverable": "The plan's documents (专项规划, 联合审查机制, 工作专班): progress, issue, verification.",
    "extension": "Extension requests: ask to move a deadline, decide, list.",
    "assess": "考核: each township's and department's score, rank, cards and every line that made it.",
    "user": "Portal accounts: add, list, disable, enable, reset a password.",
    "audit": "The audit log: verify its hash chain.",
    "backup": "Copy the database and the files under DUBAN_HOME, with an SM3 manifest, while everything runs.",
    "restore": "Put one backup folder into an empty DUBAN_HOME (and empty database), then check it; exit 1 if a "
    "check fails.",
    "summary": "Assemble (or re-print) the numbered year-end report as Word, PDF and HTML, and queue it to the "
    "leaders.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when asked for (click's lazy-loading pattern): running
    one command imports its module only; `--help` imports none (`summaries`), completion imports them all."""

    def __init__(self, *args: object, lazy: dict[str, str], summaries: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy
        self.summaries = summaries

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but a command not loaded yet is listed from its summary, shortened as click would
        shorten its help (a stand-in command of that help), instead of being imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        listed = {name: self.commands.get(name) or click.Command(name, help=self.summaries[name]) for name in names}
        rows = [(name, command.get_short_help_str(limit)) for name, command in listed.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


@click.group(cls=LazyGroup, lazy=COMMANDS, summaries=SUMMARIES)
def main() -> None:
    """duban (督办): the Office's ledger, close-out, status and reporting for a district programme."""


if __name__ == "__main__":
    main()
