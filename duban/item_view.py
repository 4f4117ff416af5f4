"""One item as `duban item show` presents it: fields, plan revisions, evidence, history."""

from __future__ import annotations

from sqlmodel import Session, select

from duban import audit, rectification
from duban.closeout import STATUS_LABELS, get_item
from duban.glossary import ITEM_ACTION as ACTION_LABELS
from duban.glossary import ITEM_FIELD as FIELD_LABELS
from duban.plan import Plan
from models import Evidence


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
        elif isinstance(value, list):
            value = "、".join(":".join(v) if isinstance(v, list) else str(v) for v in value) or "无"
        parts.append(f"{FIELD_LABELS.get(key, key)}：{value}")
    return "；".join(parts)
