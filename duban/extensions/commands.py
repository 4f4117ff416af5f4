"""`duban extension ...`: extension requests (延期申请) from the terminal, as on the portal."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table

from duban.cli_common import as_of_option, entered_at_terminal, out, parse_date, print_json, user_errors
from duban.glossary import EXTENSION_ROLE, EXTENSION_STATE, cn_date


@click.group()
def extension() -> None:
    """Extension requests: ask to move a deadline, decide, list."""


@extension.command("request")
@click.argument("code")
@click.option("--until", required=True, callback=parse_date, help="The date wanted (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why the deadline cannot be met (延期理由).")
@click.option("--progress", required=True, help="The progress so far (目前进展).")
@click.option("--by", "by", required=True, help="The unit asking: the item's responsible unit or lead department.")
@click.option("--milestone", default="", help="One milestone of the plan in force, by its title or number (1, 2, ...).")
@as_of_option
@user_errors
@entered_at_terminal
def extension_request(code: str, until: date, reason: str, progress: str, by: str, milestone: str, as_of: date) -> None:
    """Ask to move an item's deadline (or one milestone's date), on or before that date."""
    from duban.db import session_scope
    from duban.extensions.requests import request
    from duban.stored_plan import current_plan

    with session_scope() as session:
        row, new = request(
            session,
            current_plan(session),
            code=code,
            until=until,
            reason=reason,
            progress=progress,
            by=by,
            as_of=as_of,
            milestone=milestone,
        )
        step = row.steps[row.step] if row.state == "pending" else None
    if not new:
        out.print(f"第{row.id}号延期申请已于{cn_date(row.requested_on)}提出，本次未重复申请。")
        return
    marked = "（报领导小组）" if row.protected else ""
    out.print(f"已提出第{row.id}号延期申请{marked}：问题{code}申请延至{cn_date(until)}，待{step['unit']}审批。")


@extension.command("decide")
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--approve/--refuse", "approve", default=None, help="Approve, or refuse with a reason (one is required).")
@click.option("--until", callback=lambda c, p, v: None if v is None else parse_date(c, p, v), help="An earlier date.")
@click.option("--reason", default="", help="The reason (required to refuse).")
@click.option("--by", "by", required=True, help="The deciding unit (the approver of the request's current step).")
@as_of_option
@user_errors
@entered_at_terminal
def extension_decide(
    request_id: int, approve: bool | None, until: date | None, reason: str, by: str, as_of: date
) -> None:
    """Decide the current step of a request: approve (possibly with an earlier date) or refuse."""
    from duban.db import session_scope
    from duban.extensions import ExtensionError
    from duban.extensions.requests import decide
    from duban.stored_plan import current_plan

    if approve is None:
        raise ExtensionError("须指定审批结果：--approve（同意）或 --refuse（不同意，并用 --reason 说明理由）")
    if not approve and until is not None:
        raise ExtensionError("不同意延期时不能指定 --until")

    with session_scope() as session:
        row, new = decide(
            session,
            current_plan(session),
            request_id=request_id,
            by=by,
            approve=approve,
            as_of=as_of,
            until=until,
            reason=reason,
        )
        step = row.steps[row.step] if row.state == "pending" else None
    if not new:
        out.print(f"{by}已审批第{row.id}号延期申请，本次未重复登记。")
    elif row.state == "granted":
        out.print(
            f"第{row.id}号延期申请已批准：问题{row.item_code}延至{cn_date(row.granted_until)}（整治方案第{row.plan_revision}版）。"
        )
    elif row.state == "refused":
        out.print(f"第{row.id}号延期申请未获批准，原定期限{cn_date(row.current_due)}不变。")
    else:
        out.print(f"已同意，第{row.id}号延期申请转{step['unit']}（{EXTENSION_ROLE[step['role']]}）审批。")


@extension.command("list")
@click.option("--unit", default=None, help="Only requests this unit made or decides.")
@click.option("--state", type=click.Choice(sorted(EXTENSION_STATE)), default=None)
@click.option("--json", "as_json", is_flag=True)
@as_of_option
@user_errors
def extension_list(unit: str | None, state: str | None, as_json: bool, as_of: date) -> None:
    """Requests filed by the date given, newest first, with every decision."""
    from duban.db import session_scope
    from duban.extensions.requests import as_dict, decisions, listed

    with session_scope() as session:
        rows = [as_dict(r, decisions(session, r)) for r in listed(session, unit=unit, state=state, as_of=as_of)]
    if as_json:
        print_json({"requests": rows})
        return
    table = Table("编号", "问题", "申请单位", "原定期限", "申请延至", "批准延至", "状态", "待审批", title="延期申请")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["item"] + (f"（{r['milestone']}）" if r["milestone"] else ""),
            r["unit"],
            r["old"],
            r["until"],
            r["granted_until"] or "—",
            r["state_label"] + ("（报领导小组）" if r["protected"] else ""),
            r["next"]["unit"] if r["next"] else "—",
        )
    out.print(table)
