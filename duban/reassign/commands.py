"""`duban item reassign`, `item reassign-decide`, `item reassignments`: reassignment from the terminal
(the same functions as the portal's forms)."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table

from duban.cli_common import as_of_option, entered_at_terminal, out, parse_date, print_json, user_errors
from duban.glossary import REASSIGNMENT_STATE, cn_date


@click.command("reassign")
@click.argument("code")
@click.option("--township", default=None, help="The township (镇办) to move the item to.")
@click.option("--responsible", default=None, help="The responsible unit (责任单位): a township or a department.")
@click.option("--lead", default=None, help="The lead department (牵头部门).")
@click.option("--reason", required=True, help="Why the item is filed against the wrong unit.")
@click.option("--by", "by", required=True, help="The unit proposing: the item's township, units, or the Office.")
@as_of_option
@user_errors
@entered_at_terminal
def reassign(
    code: str, township: str | None, responsible: str | None, lead: str | None, reason: str, by: str, as_of: date
) -> None:
    """Propose moving an item to another township, responsible unit and/or lead department; the Office decides."""
    from duban.db import session_scope
    from duban.reassign.proposals import described, propose
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        made, new = propose(
            session,
            plan,
            code=code,
            by=by,
            as_of=as_of,
            reason=reason,
            township=township,
            responsible=responsible,
            lead=lead,
        )
        number, (old, to) = made.id, described(made)
        office = plan.office.name
    if new:
        out.print(f"已登记第{number}号调整责任单位申请：问题{code}，{old} → {to}，待{office}决定。")
    else:
        out.print(f"第{number}号调整申请已登记过，没有变化。")


@click.command("reassign-decide")
@click.argument("number", type=int)
@click.option("--approve", "decision", flag_value="approve", help="Approve: the item moves to the proposed units.")
@click.option("--refuse", "decision", flag_value="refuse", help="Refuse (needs --reason); nothing moves.")
@click.option(
    "--deadline",
    callback=lambda c, p, v: None if v is None else parse_date(c, p, v),
    help="With --approve: a new deadline (YYYY-MM-DD); default unchanged.",
)
@click.option("--reason", default="", help="The Office's reason (required to refuse).")
@as_of_option
@user_errors
@entered_at_terminal
def reassign_decide(number: int, decision: str | None, deadline: date | None, reason: str, as_of: date) -> None:
    """The Office decides proposal NUMBER: --approve [--deadline D] or --refuse --reason TEXT."""
    from duban.db import session_scope
    from duban.reassign.proposals import decide
    from duban.stored_plan import current_plan

    if decision is None:
        raise click.UsageError("须选择 --approve（同意）或 --refuse（不同意）")
    with session_scope() as session:
        r, new = decide(
            session,
            current_plan(session),
            number=number,
            approve=decision == "approve",
            as_of=as_of,
            answer=reason,
            deadline=deadline,
        )
        code, state = r.item_code, r.state
    if not new:
        out.print(f"第{number}号调整申请已决定（{REASSIGNMENT_STATE[state]}），没有变化。")
    elif state == "approved":
        out.print(f"已同意第{number}号调整申请：问题{code}已调整（{cn_date(as_of)}）。")
    else:
        out.print(f"已不同意第{number}号调整申请：问题{code}不作调整。")


@click.command("reassignments")
@click.option("--item", "code", default=None, help="Only this item's proposals.")
@click.option("--state", type=click.Choice(sorted(REASSIGNMENT_STATE)), default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def reassignments(code: str | None, state: str | None, as_json: bool) -> None:
    """Every proposal to move an item, pending first, with its decision."""
    from duban.db import session_scope
    from duban.reassign.proposals import as_dict, described, listing

    with session_scope() as session:
        rows = listing(session, state=state, code=code)
        shown = [(as_dict(r), described(r)) for r in rows]
    if as_json:
        print_json([row for row, _ in shown])
        return
    table = Table(title="调整责任单位申请")
    for column in ("编号", "问题", "申请单位", "申请日期", "调整前", "调整后", "状态", "决定日期", "理由"):
        table.add_column(column)
    for row, (old, new) in shown:
        decided = cn_date(date.fromisoformat(row["decided_on"])) if row["decided_on"] else "—"
        table.add_row(
            str(row["id"]),
            row["item"],
            row["proposed_by"],
            cn_date(date.fromisoformat(row["proposed_on"])),
            old,
            new,
            REASSIGNMENT_STATE[row["state"]],
            decided,
            row["reason"],
        )
    out.print(table)


COMMANDS = (reassign, reassign_decide, reassignments)
