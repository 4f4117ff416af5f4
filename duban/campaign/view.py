"""Where a campaign stands on a date: who has answered, who is late, what was promised.

The same figures feed `duban campaign show` and, frozen at closing, the campaign bulletin.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from duban.campaign.scope import Scope
from duban.campaign.start import items_of
from duban.plan import Plan
from duban.state.status import item_states
from models import Campaign, Escalation, LedgerItem

ANSWERS = {"on_time": "按期反馈", "late": "逾期反馈", "missing": "未反馈"}
STAGES = {"answering": "反馈中", "chasing": "督办中", "closed": "已结束"}


def stage_of(campaign: Campaign, as_of: date) -> str:
    if campaign.closed_on is not None and campaign.closed_on <= as_of:
        return "closed"
    return "answering" if as_of <= campaign.due else "chasing"


def answer_of(first_responded_on: date | None, due: date, as_of: date) -> str:
    if first_responded_on is None or first_responded_on > as_of:
        return "missing"
    return "on_time" if first_responded_on <= due else "late"


def figures(session: Session, plan: Plan, campaign: Campaign, as_of: date) -> dict:
    rows = items_of(session, campaign.id)
    codes = [r.item_code for r in rows]
    ledger = {i.code: i for i in session.exec(select(LedgerItem).where(col(LedgerItem.code).in_(codes)))}
    states = {s.code: s for s in item_states(session, plan, as_of) if s.code in ledger}
    levels: dict[str, int] = {}
    for escalation in session.exec(
        select(Escalation).where(
            Escalation.cause == "campaign_response",
            col(Escalation.cause_key).startswith(f"campaign:{campaign.id}:"),
            Escalation.raised_on <= as_of,
        )
    ):
        levels[escalation.unit] = max(escalation.level, levels.get(escalation.unit, 0))
    items = []
    for row in rows:
        item = ledger[row.item_code]
        answered = row.first_responded_on is not None and row.first_responded_on <= as_of
        items.append(
            {
                "code": row.item_code,
                "unit": row.unit,
                "lead_department": row.lead_department,
                "township": item.township,
                "community": item.community,
                "category": plan.category(item.category).name,
                "key_difficult": item.key_difficult,
                "status_at_start": row.status_at_start,
                "status": states[row.item_code].status,
                "deadline": _iso(states[row.item_code].deadline),
                "answer": answer_of(row.first_responded_on, campaign.due, as_of),
                "responded_on": _iso(row.first_responded_on) if answered else None,
                "progress": row.progress if answered else "",
                "measures": row.measures if answered else "",
                "promised_by": _iso(row.promised_by) if answered else None,
            }
        )
    units = []
    for unit in dict.fromkeys(r["unit"] for r in items):
        mine = [r for r in items if r["unit"] == unit]
        counts = {k: sum(1 for r in mine if r["answer"] == k) for k in ANSWERS}
        units.append({"unit": unit, "items": len(mine), **counts, "level": levels.get(unit, 0)})
    totals = {k: sum(u[k] for u in units) for k in ANSWERS}
    return {
        "as_of": as_of.isoformat(),
        "campaign": {
            "id": campaign.id,
            "title": campaign.title,
            "scope": Scope.from_json(campaign.scope).describe(plan),
            "started_on": campaign.started_on.isoformat(),
            "started_by": campaign.started_by,
            "due": campaign.due.isoformat(),
            "closes_on": campaign.closes_on.isoformat(),
            "closed_on": _iso(campaign.closed_on),
            "stage": stage_of(campaign, as_of),
        },
        "totals": {
            "items": len(items),
            "units": len(units),
            **totals,
            "closed_since": sum(1 for r in items if r["status"] == "closed" and r["status_at_start"] != "closed"),
        },
        "units": units,
        "items": items,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
