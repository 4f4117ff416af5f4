"""The `duban` command: what the Office and the units' clerks type.

Interactive commands run duban's plain functions directly and answer at once; the Prefect engine
is used where it earns its start-up cost (a server configured to record the run, or `--engine`).
The commands live by group in duban/commands/ and in the packages that own them (assessment,
campaign, mechanism, ...); here they are put together. Importing a command module is cheap (click and
duban.cli_common): what a command needs is imported when it runs, so `duban --help` and `duban status`
never load Prefect, WeasyPrint, matplotlib, openpyxl, FastAPI or uvicorn (tests/test_startup.py).
"""

from __future__ import annotations

import click

from duban.assessment.commands import assess
from duban.audit_commands import audit
from duban.backup_commands import backup, restore
from duban.campaign.commands import campaign
from duban.commands.bulletin import bulletin
from duban.commands.check import check
from duban.commands.engine import deploy, serve
from duban.commands.item import item
from duban.commands.ledger import ledger
from duban.commands.notify import notify
from duban.commands.outbox import outbox
from duban.commands.period import period
from duban.commands.portal import portal
from duban.commands.report import report
from duban.commands.schedule import replay, tick
from duban.commands.setup import init
from duban.commands.status import status
from duban.extensions.commands import extension
from duban.mechanism.commands import deliverable, project
from duban.reassign.commands import COMMANDS as REASSIGN_COMMANDS
from duban.summary_commands import summary
from duban.user_commands import user


@click.group()
def main() -> None:
    """duban (督办): the Office's ledger, close-out, status and reporting for a district programme."""


TOP_LEVEL = (
    init,
    ledger,
    item,
    check,
    status,
    tick,
    replay,
    report,
    period,
    bulletin,
    outbox,
    notify,
    serve,
    deploy,
    portal,
    campaign,
    project,
    deliverable,
    extension,
    assess,
    user,
    audit,
    backup,
    restore,
    summary,
)
for command in TOP_LEVEL:
    main.add_command(command)
for command in REASSIGN_COMMANDS:  # duban item reassign, reassign-decide, reassignments
    item.add_command(command)

if __name__ == "__main__":
    main()
