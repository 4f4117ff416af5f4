"""The item page's 申请调整责任单位 form: the units to choose from, and a proposal already waiting."""

from __future__ import annotations

from sqlmodel import Session

from duban.items.closeout import TERMINAL
from duban.plan import Plan
from duban.reassign.proposals import described, pending, proposers
from models import LedgerItem


def form_context(session: Session, plan: Plan, item: LedgerItem, unit: str, acts: bool) -> dict | None:
    """What the item page's 申请调整责任单位 form needs; None when this person may not propose."""
    if not acts or unit not in proposers(plan, item) or item.status in TERMINAL:
        return None
    waiting = pending(session, item.code)
    return {
        "townships": plan.township_names(),
        "units": plan.township_names() + plan.department_names(),
        "departments": plan.department_names(),
        "category_lead": plan.category(item.category).lead_department,
        "pending": {"id": waiting.id, "by": waiting.proposed_by, "on": waiting.proposed_on, "what": described(waiting)}
        if waiting
        else None,
    }
