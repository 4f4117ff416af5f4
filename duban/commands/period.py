"""`duban period show`: a month's reporting round: who submitted, who is late, open escalations."""

from __future__ import annotations

from datetime import date

import click

from duban.cli_common import as_of_option, out, print_json, user_errors


@click.group()
def period() -> None:
    """A month's reporting round."""


@period.command("show")
@click.argument("period_code", metavar="YYYY-MM")
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def period_show(period_code: str, as_of: date, as_json: bool) -> None:
    """Who submitted when, who is late, and the open escalations with their levels."""
    from duban.db import session_scope
    from duban.reporting.view import period_view
    from duban.stored_plan import current_plan

    with session_scope() as session:
        view = period_view(session, current_plan(session), period_code, as_of)
    if as_json:
        print_json(view)
        return
    from duban.state.status_view import print_period

    print_period(out, view)
