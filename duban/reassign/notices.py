"""The notice (签收) a reassignment gives each unit it moves an item to: asked for while the item is open
and has not moved again since; readable afterwards as history."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import and_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from duban.glossary import cn_date
from duban.items.closeout import TERMINAL
from duban.reassign.proposals import changes, described, gained
from models import LedgerItem, Reassignment

if TYPE_CHECKING:
    from duban.desk.acknowledge import Request
    from duban.desk.notices import Notice
    from duban.plan import Plan

ASKS = "接收该问题的整改任务，按整治方案和完成时限组织整改，并在以后的月度报送中报告进展"


def title(r: Reassignment) -> str:
    return f"问题{r.item_code}调整责任单位通知"


def requests(session: Session, as_of: date, unit: str | None) -> list[Request]:
    """The notices still asked for on `as_of`: the latest approved move of each open item, per unit gained."""
    from duban.desk.acknowledge import Request

    later = aliased(Reassignment)
    superseded = (
        select(later.id)
        .where(
            later.item_code == Reassignment.item_code,
            later.state == "approved",
            col(later.decided_on) <= as_of,
            later.id > Reassignment.id,
        )
        .exists()
    )
    query = (
        select(Reassignment)
        .join(LedgerItem, and_(col(LedgerItem.code) == Reassignment.item_code))
        .where(
            Reassignment.state == "approved",
            col(Reassignment.decided_on) <= as_of,
            col(LedgerItem.status).not_in(TERMINAL),
            ~superseded,
        )
    )
    if unit:
        query = query.where(
            (Reassignment.to_township == unit) | (Reassignment.to_responsible == unit) | (Reassignment.to_lead == unit)
        )
    found = []
    for r in session.exec(query.order_by(col(Reassignment.id))):
        for to in gained(r):
            if unit is None or to == unit:
                found.append(Request("reassignment", str(r.id), to, title(r), r.decided_on, f"/items/{r.item_code}"))
    return found


def notice(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    """The notice of reassignment `key` for a unit it gave the item to; None for any other unit."""
    from duban.desk.notices import Notice, row_id, sent

    r = session.get(Reassignment, number) if (number := row_id(key)) is not None else None
    if r is None or r.state != "approved" or r.decided_on > as_of or unit not in gained(r):
        return None
    old, new = described(r)
    facts = [("调整前", old), ("调整后", new), ("调整理由", r.reason), ("决定日期", cn_date(r.decided_on))]
    if r.answer:
        facts.append(("决定意见", r.answer))
    if r.new_deadline:
        facts.append(("新的完成时限", cn_date(r.new_deadline)))
    office = plan.office
    others = [n for _, _, n in changes(r) if n != unit and plan.contact_line(n)]
    return Notice(
        "reassignment",
        key,
        unit,
        title(r),
        r.decided_on,
        issuer=office.name,
        issuer_full=office.full_name or office.name,
        issuer_contact=plan.contact_line(office.name),
        asks=ASKS,
        due=None,
        about=((f"问题{r.item_code}", f"/items/{r.item_code}"),),
        sent=sent(session, unit, [("通知", f"reassign:{r.id}:to|{unit}|")]),
        facts=tuple(facts),
        closed_because="该问题已办结或再次调整",
        contacts=tuple((n, plan.contact_line(n)) for n in dict.fromkeys(others)),
    )
