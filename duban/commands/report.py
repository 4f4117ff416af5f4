"""`duban report ...`: a unit's monthly form, submitting it, and a lead department's review."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban.cli_common import as_of_option, entered_at_terminal, out, user_errors


@click.group()
def report() -> None:
    """Monthly reports: the pre-filled form, submitting it, a department's review."""


@report.command("form")
@click.option("--unit", required=True)
@click.option("--period", required=True, metavar="YYYY-MM")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def report_form(unit: str, period: str, file: Path) -> None:
    """Write the unit's pre-filled .xlsx form for the period."""
    from duban.db import session_scope
    from duban.reporting.forms import write_form
    from duban.stored_plan import current_plan

    with session_scope() as session:
        count = write_form(session, current_plan(session), period=period, unit=unit, path=file)
    out.print(f"已生成{unit}{period}填报表 {file}（{count}项问题）")


@report.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--unit", required=True)
@click.option("--period", required=True, metavar="YYYY-MM")
@click.option("--draft", is_flag=True, help="Save as a draft: kept, but not yet submitted.")
@as_of_option
@user_errors
@entered_at_terminal
def report_submit(file: Path, unit: str, period: str, draft: bool, as_of: date) -> None:
    """Submit (or save as a draft) a filled form: all rows or none."""
    from duban.db import session_scope
    from duban.reporting.forms import submit_form
    from duban.stored_plan import current_plan

    with session_scope() as session:
        version = submit_form(
            session, current_plan(session), path=file, period=period, unit=unit, as_of=as_of, draft=draft
        )
    what = "草稿已保存" if draft else "已报送"
    late = "（迟报）" if version.late else ""
    out.print(f"{unit}{period}报表{what}：第{version.version}版{late}，{as_of.isoformat()}")


@report.command("review")
@click.option("--by", "by", required=True, help="The reviewing lead department.")
@click.option("--unit", required=True, help="The township whose report is reviewed.")
@click.option("--period", required=True, metavar="YYYY-MM")
@click.option("--accept", "decision", flag_value="accept", help="Accept the report.")
@click.option("--return", "decision", flag_value="return", help="Return it for resubmission (with --reason).")
@click.option("--reason", default="")
@as_of_option
@user_errors
@entered_at_terminal
def report_review(by: str, unit: str, period: str, decision: str | None, reason: str, as_of: date) -> None:
    """A lead department accepts a township's report or returns it with a reason."""
    from duban.db import session_scope
    from duban.glossary import REPORT_STATUS as STATUS_LABELS
    from duban.reporting.reports import ReportError, review
    from duban.stored_plan import current_plan

    if decision is None:
        raise ReportError("请选择 --accept（通过）或 --return（退回）")
    with session_scope() as session:
        submission = review(
            session,
            current_plan(session),
            period=period,
            township=unit,
            by=by,
            accept=decision == "accept",
            reason=reason,
            as_of=as_of,
        )
    out.print(f"{by}已审核{unit}{period}报表：{STATUS_LABELS[submission.status]}")
