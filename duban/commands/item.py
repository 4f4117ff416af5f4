"""`duban item ...`: one ledger item shown, moved through close-out, and its rectification plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban import config
from duban.cli_common import as_of_option, entered_at_terminal, out, parse_date, print_json, user_errors
from duban.console import styled
from duban.glossary import ITEM_STATUS as STATUS_LABELS
from duban.reassign.commands import COMMANDS as REASSIGNMENT_COMMANDS


@click.group()
def item() -> None:
    """One ledger item: its plan, its close-out, its history."""


@item.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def item_show(code: str, as_json: bool) -> None:
    """Show an item, its plan revisions, evidence and full audit history."""
    from duban.db import session_scope
    from duban.items.view import item_view
    from duban.stored_plan import current_plan

    with session_scope() as session:
        view = item_view(session, current_plan(session), code)
    if as_json:
        print_json(view)
        return
    _print_item(view)


@item.command("transition")
@click.argument("code")
@click.option("--to", "target", required=True, help="Target state: code or Chinese name (e.g. closed, 已销号).")
@click.option("--by", "by", required=True, help="The unit making the change.")
@click.option("--note", default="", help="Note or reason (required for close requests and returns).")
@click.option("--evidence", multiple=True, type=click.Path(path_type=Path), help="Evidence file (repeatable).")
@as_of_option
@user_errors
@entered_at_terminal
def item_transition(code: str, target: str, by: str, note: str, evidence: tuple[Path, ...], as_of: date) -> None:
    """Move an item through close-out, as the chain allows."""
    from duban.db import session_scope
    from duban.items.closeout import transition
    from duban.stored_plan import current_plan

    state = next((k for k, v in STATUS_LABELS.items() if target in (k, v)), target)
    with session_scope() as session:
        moved = transition(
            session,
            current_plan(session),
            code=code,
            target=state,
            by=by,
            as_of=as_of,
            note=note,
            evidence=list(evidence),
            evidence_dir=config.home() / "evidence",
        )
    out.print(f"问题{code}已变更为“{STATUS_LABELS[moved.status]}”（{by}，{as_of.isoformat()}）")


@item.command("plan")
@click.argument("code")
@click.option("--by", "by", required=True, help="The unit making the plan.")
@click.option("--measures", help="Rectification measures (整改措施).")
@click.option("--deadline", callback=lambda c, p, v: None if v is None else parse_date(c, p, v), help="YYYY-MM-DD")
@click.option(
    "--milestone",
    "milestones",
    multiple=True,
    metavar="DATE:TITLE",
    help="A dated step (时间节点), repeatable; replaces the previous steps.",
)
@click.option("--note", default="")
@as_of_option
@user_errors
@entered_at_terminal
def item_plan(
    code: str, by: str, measures: str | None, deadline: date | None, milestones: tuple[str, ...], note: str, as_of: date
) -> None:
    """Make or revise an item's rectification plan (一事一案); revisions are kept."""
    from duban.db import session_scope
    from duban.items.rectification import make_plan
    from duban.stored_plan import current_plan

    steps = tuple(_milestone(text) for text in milestones) if milestones else None
    with session_scope() as session:
        revision = make_plan(
            session,
            current_plan(session),
            code=code,
            by=by,
            as_of=as_of,
            measures=measures,
            deadline=deadline,
            milestones_in=steps,
            note=note,
        )
    if revision is None:
        out.print(f"问题{code}的整治方案没有变化。")
    else:
        out.print(f"问题{code}的整治方案已登记为第{revision.revision}版。")


def _milestone(text: str) -> tuple[date, str]:
    from duban.items.closeout import ClosureError

    day, _, title = text.partition(":")
    try:
        return date.fromisoformat(day.strip()), title.strip() or "时间节点"
    except ValueError:
        raise ClosureError(f"时间节点“{text}”格式应为 日期:内容，如 2022-06-30:完成选址") from None


def _print_item(view: dict) -> None:
    from rich.table import Table

    out.print(styled((f"问题 {view['code']}", "bold"), f"  {view['status_label']}  进度 {view['progress']}%"))
    for label, key in (
        ("镇办", "township"),
        ("社区", "community"),
        ("设施类别", "category_name"),
        ("设施类型", "facility_type"),
        ("问题环节", "stage_name"),
        ("问题描述", "description"),
        ("牵头部门", "lead_department"),
        ("责任单位", "responsible_unit"),
        ("重点难点", "key_difficult_label"),
        ("必须完成时限", "must_finish_by"),
    ):
        if view.get(key):
            out.print(f"  {label}：{view[key]}")
    for plan in view["plans"]:
        out.print(
            f"  整治方案第{plan['revision']}版（{plan['made_by']}，{plan['effective_on']}）："
            f"{plan['measures']}；完成时限 {plan['deadline']}"
        )
        for step in plan["milestones"]:
            out.print(f"    时间节点 {step['due']}：{step['title']}")
    for evidence in view["evidence"]:
        out.print(f"  佐证材料：{evidence['filename']}（{evidence['uploaded_by']}，{evidence['size']} 字节）")
    table = Table(title="变更记录", show_lines=False)
    for column in ("日期", "单位", "操作", "变更前", "变更后", "说明"):
        table.add_column(column)
    for entry in view["history"]:
        table.add_row(
            entry["effective_on"],
            entry["actor"],
            entry["action_label"],
            entry["before_text"],
            entry["after_text"],
            entry["note"],
        )
    out.print(table)


for command in REASSIGNMENT_COMMANDS:  # duban item reassign, reassign-decide, reassignments
    item.add_command(command)
