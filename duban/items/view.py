"""One item as `duban item show` and the portal present it: fields, plan revisions, evidence, history; and
for the portal its summary card and the close-out request awaiting a decision."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from duban import audit
from duban.calendar import WorkingCalendar
from duban.desk import supervision
from duban.glossary import CHAIN_ROLE, percent
from duban.glossary import ITEM_ACTION as ACTION_LABELS
from duban.glossary import ITEM_FIELD as FIELD_LABELS
from duban.glossary import LEVEL as LEVEL_LABELS
from duban.glossary import LIGHT as LIGHT_LABELS
from duban.items import rectification
from duban.items.closeout import RULES, STATUS_LABELS, TERMINAL, get_item
from duban.plan import Plan
from duban.state.status import Lights
from models import Escalation, Evidence, LedgerItem

WORK_CAUSES = ("overdue_item", "overdue_milestone")  # the escalations of an item's own work


def item_view(session: Session, plan: Plan, code: str) -> dict:
    item = get_item(session, code)
    must = plan.must_finish(item.category, item.facility_type)
    plans = []
    for revision in rectification.revisions(session, item):
        plans.append(
            {
                "revision": revision.revision,
                "measures": revision.measures,
                "deadline": revision.deadline.isoformat(),
                "lead_unit": revision.lead_unit,
                "responsible_unit": revision.responsible_unit,
                "made_by": revision.made_by,
                "effective_on": revision.effective_on.isoformat(),
                "milestones": [
                    {"due": m.due.isoformat(), "title": m.title} for m in rectification.milestones(session, revision)
                ],
            }
        )
    evidence = session.exec(select(Evidence).where(Evidence.item_id == item.id)).all()
    history = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "effective_on": e.effective_on.isoformat(),
            "actor": e.actor,
            "who": audit.who(e.actor, e.person, e.via),
            "action": e.action,
            "action_label": ACTION_LABELS.get(e.action, e.action),
            "before": e.before,
            "after": e.after,
            "note": e.note,
            "before_text": _text(plan, e.before),
            "after_text": _text(plan, e.after),
        }
        for e in audit.history(session, "item", code)
    ]
    return {
        "code": item.code,
        "township": item.township,
        "community": item.community,
        "category": item.category,
        "category_name": plan.category(item.category).name,
        "facility_type": item.facility_type,
        "stage": item.stage,
        "stage_name": next(s.name for s in plan.stages if s.code == item.stage),
        "description": item.description,
        "lead_department": item.lead_department,
        "responsible_unit": item.responsible_unit,
        "key_difficult": item.key_difficult,
        "key_difficult_label": "是" if item.key_difficult else "",
        "must_finish_by": must.due.isoformat() if must else None,
        "status": item.status,
        "status_label": STATUS_LABELS[item.status],
        "progress": item.progress,
        "plans": plans,
        "evidence": [
            {
                "filename": e.filename,
                "sha256": e.sha256,
                "size": e.size,
                "stored_as": e.stored_as,
                "uploaded_by": e.uploaded_by,
            }
            for e in evidence
        ],
        "history": history,
    }


def _text(plan: Plan, values: dict | None) -> str:
    if not values:
        return ""
    parts = []
    for key, value in values.items():
        if key == "status":
            value = STATUS_LABELS.get(value, value)
        elif key == "category":
            value = plan.category(value).name
        elif key == "stage":
            value = next((s.name for s in plan.stages if s.code == value), value)
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif value is None or value == "":
            value = "—"
        elif key == "progress":
            value = percent(value)
        elif isinstance(value, list):
            value = "、".join(":".join(v) if isinstance(v, list) else str(v) for v in value) or "无"
        parts.append(f"{FIELD_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


def summary_card(session: Session, plan: Plan, item: LedgerItem, as_of: date) -> dict:
    """What an item page opens with: where it stands on `as_of` (light, working days left or overdue),
    how high it is supervised, and what happens next and by whom."""
    calendar = WorkingCalendar(plan.calendar)
    light = Lights.on(plan, calendar, as_of).of(item.status, item.deadline)
    days = ""
    if item.deadline is not None and item.status not in TERMINAL:
        left = calendar.working_days_after(as_of, item.deadline)
        if item.deadline < as_of:
            days = f"逾期{-left}个工作日"
        elif item.deadline == as_of:
            days = "今日到期"
        else:
            days = f"剩余{left}个工作日"
    level = session.exec(
        select(func.max(Escalation.level)).where(
            Escalation.item_code == item.code, col(Escalation.cause).in_(WORK_CAUSES), supervision.live(as_of)
        )
    ).one()
    return {
        "light": light,
        "light_label": LIGHT_LABELS[light] if light else "",
        "status_label": STATUS_LABELS[item.status],
        "progress": item.progress,
        "deadline": item.deadline,
        "days": days,
        "overdue": item.deadline is not None and item.deadline < as_of and item.status not in TERMINAL,
        "level_label": LEVEL_LABELS[level] if level else "未督办",
        "next": next_steps(plan, item),
    }


def next_steps(plan: Plan, item: LedgerItem) -> str:
    """The chain's next step, as a clerk reads it: "申请销号（责任单位城关街道）"; cancelling, which the
    Office may do at any time, is not a next step."""
    if item.status in TERMINAL:
        return "已办结"
    holders = {"responsible": item.responsible_unit, "lead": item.lead_department, "office": plan.office.name}
    steps: dict[str, list[str]] = {}
    for rule in RULES:
        if rule.source == item.status and rule.target != "cancelled":
            who = "、".join(f"{CHAIN_ROLE[role]}{holders[role]}" for role in holders if role in rule.roles)
            steps.setdefault(who, []).append(rule.action)
    return "；".join(f"{'或'.join(actions)}（{who}）" for who, actions in steps.items())


def close_request(session: Session, item: LedgerItem) -> dict | None:
    """The responsible unit's latest request to close the item (its note and evidence), for whoever
    decides on it; None when the item is not awaiting a decision."""
    if item.status not in ("close_requested", "verified"):
        return None
    asked = None
    for entry in audit.history(session, "item", item.code):
        if entry.action == "transition" and (entry.after or {}).get("status") == "close_requested":
            asked = entry
    if asked is None:
        return None
    names = set((asked.after or {}).get("evidence") or [])
    files = session.exec(select(Evidence).where(Evidence.item_id == item.id)).all()
    return {
        "on": asked.effective_on,
        "who": audit.who(asked.actor, asked.person, asked.via),
        "note": asked.note,
        "evidence": [e for e in files if e.filename in names],
    }
