"""`duban status`: the programme's counts, overdue items and traffic lights on one date."""

from __future__ import annotations

from datetime import date

import click

from duban.cli_common import as_of_option, collector_paused, out, print_json, user_errors, warn_undeliverable


@click.command()
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--limit", default=200, show_default=True, type=click.IntRange(min=0), help="Rows per list of items; 0 for all."
)
@user_errors
@collector_paused
def status(as_of: date, as_json: bool, limit: int) -> None:
    """Counts by status, category, township and lead department; overdue items; traffic lights."""
    from duban.db import engine
    from duban.state.status import summary
    from duban.stored_plan import current_plan

    # A Connection, not a Session: today's answer is read with Core, without the ORM and the models
    with engine().connect() as connection:
        plan = current_plan(connection)
        data = summary(connection, plan, as_of)
    if as_json:
        print_json(data)
        return
    from duban.state.status_view import print_status

    print_status(out, plan, data, limit)
    warn_undeliverable()
