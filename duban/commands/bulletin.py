"""`duban bulletin`: a numbered bulletin assembled (or re-printed) and its distribution queued."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban import config
from duban.cli_common import as_of_option, engine_option, err, out, use_engine, user_errors
from duban.files.paths import output_dir


@click.command()
@click.option("--period", required=True, metavar="YYYY-MM | DATE..DATE", help="A month, or a date range.")
@click.option("--kind", type=click.Choice(["monthly", "special", "adhoc"]), default="monthly", show_default=True)
@as_of_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Default: $DUBAN_HOME/bulletins.")
@click.option("--new-edition", is_flag=True, help="Issue a new edition with a new number, recomputed as of the date.")
@engine_option
@user_errors
def bulletin(period: str, kind: str, as_of: date, out_dir: Path | None, new_edition: bool, engine: bool | None) -> None:
    """Assemble (or re-print) a numbered bulletin as Word, PDF and HTML, and queue its distribution."""
    out_dir = output_dir(out_dir or config.home() / "bulletins")
    if use_engine(engine):
        from flows.bulletin import assemble_bulletin

        paths = assemble_bulletin(period, kind, as_of, str(out_dir), new_edition)
        for key in ("docx", "pdf", "html", "annex"):
            if key in paths:
                out.print(paths[key])
        return
    from duban.bulletin.issue import issue
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        issued = issue(
            session,
            plan,
            period=period,
            kind=kind,
            as_of=as_of,
            out_dir=out_dir,
            new_edition=new_edition,
        )
        label = (
            f"{issued.record.title}（{plan.bulletin.doc_prefix}〔{issued.record.year}〕"
            f"{issued.record.number}号，第{issued.record.issue}期）"
        )
    err.print(("已印发" if issued.new else "已重新生成（编号、内容不变）") + label)
    for path in (issued.docx, issued.pdf, issued.html, issued.annex):
        if path is not None:
            out.print(str(path))
