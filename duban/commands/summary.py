"""`duban summary --year 2022`: the programme's year-end report to the leadership group."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban import config
from duban.cli_common import as_of_option, entered_at_terminal, err, out, user_errors
from duban.files.paths import output_dir


@click.command()
@click.option("--year", required=True, type=click.IntRange(min=2000, max=2100), help="The year reported on.")
@as_of_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Default: $DUBAN_HOME/bulletins.")
@click.option("--new-edition", is_flag=True, help="Issue a new edition with a new number, recomputed as of the date.")
@user_errors
@entered_at_terminal
def summary(year: int, as_of: date, out_dir: Path | None, new_edition: bool) -> None:
    """Assemble (or re-print) the numbered year-end report as Word, PDF and HTML, and queue it to the leaders."""
    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from duban.summary.issue import issue_summary

    out_dir = output_dir(out_dir or config.home() / "bulletins")
    with session_scope() as session:
        plan = current_plan(session)
        issued = issue_summary(session, plan, year=year, as_of=as_of, out_dir=out_dir, new_edition=new_edition)
        number = issued.record.number
        label = f"{issued.record.title}（{plan.bulletin.doc_prefix}〔{issued.record.year}〕{number}号）"
    err.print(("已印发" if issued.new else "已重新生成（编号、内容不变）") + label)
    for path in (issued.docx, issued.pdf, issued.html, issued.annex):
        if path is not None:
            out.print(str(path))
