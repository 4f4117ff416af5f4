"""Where the programme stands on a given date: counts, overdue items, traffic lights.

The picture is rebuilt from the audit log, so a date in the past shows the ledger as it was then
(items filed later left out, statuses and deadlines as they stood that day).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.closeout import STATUS_LABELS, TERMINAL
from duban.plan import Plan
from models import AuditEntry, LedgerItem

LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "none": "未定时限"}


@dataclass(frozen=True)
class ItemState:
    code: str
    township: str
    community: str
    category: str
    lead_department: str
    responsible_unit: str
    key_difficult: bool
    must_finish_by: date | None
    status: str
    deadline: date | None
    working_days_left: int | None
    light: str | None  # None for closed and cancelled items
    milestones: tuple[tuple[date, str], ...] = ()  # of the plan in force that day


def item_states(session: Session, plan: Plan, as_of: date) -> list[ItemState]:
    calendar = WorkingCalendar(plan.calendar)
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.subject == "item", AuditEntry.effective_on <= as_of)
        .order_by(col(AuditEntry.id))
    )
    status: dict[str, str] = {}
    deadline: dict[str, date] = {}
    steps: dict[str, tuple[tuple[date, str], ...]] = {}
    for entry in entries:
        after = entry.after or {}
        if "status" in after:
            status[entry.subject_key] = after["status"]
        if entry.action == "plan":
            deadline[entry.subject_key] = date.fromisoformat(after["deadline"])
            steps[entry.subject_key] = tuple((date.fromisoformat(d), t) for d, t in after.get("milestones", []))
    states = []
    for item in session.exec(select(LedgerItem).order_by(col(LedgerItem.code))):
        if item.code not in status:
            continue  # filed after as_of
        state = status[item.code]
        due = deadline.get(item.code)
        left = calendar.working_days_after(as_of, due) if due and state not in TERMINAL else None
        must = plan.must_finish(item.category, item.facility_type)
        states.append(
            ItemState(
                code=item.code,
                township=item.township,
                community=item.community,
                category=item.category,
                lead_department=item.lead_department,
                responsible_unit=item.responsible_unit,
                key_difficult=item.key_difficult,
                must_finish_by=must.due if must else None,
                status=state,
                deadline=due,
                working_days_left=left,
                light=_light(plan, state, due, as_of, left),
                milestones=steps.get(item.code, ()),
            )
        )
    return states


def _light(plan: Plan, state: str, due: date | None, as_of: date, left: int | None) -> str | None:
    if state in TERMINAL:
        return None
    if due is None:
        return "none"
    if due < as_of:
        return "red"
    return "yellow" if left is not None and left <= plan.traffic_light.yellow_within_working_days else "green"


def is_overdue(state: ItemState, as_of: date) -> bool:
    return state.deadline is not None and state.deadline < as_of and state.status not in TERMINAL


def summary(session: Session, plan: Plan, as_of: date) -> dict:
    """The JSON of `duban status`: keys are the plan's codes and unit names, zeros included."""
    states = item_states(session, plan, as_of)

    def count(key: str, keys: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(keys, 0)
        for state in states:
            value = getattr(state, key)
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
        return counts

    overdue = [s for s in states if is_overdue(s, as_of)]
    return {
        "as_of": as_of.isoformat(),
        "items": {
            "total": len(states),
            "by_status": count("status", list(STATUS_LABELS)),
            "by_category": count("category", [c.code for c in plan.categories]),
            "by_township": count("township", plan.township_names()),
            "by_department": count("lead_department", plan.department_names()),
            "overdue": [
                {
                    "code": s.code,
                    "township": s.township,
                    "category": s.category,
                    "lead_department": s.lead_department,
                    "responsible_unit": s.responsible_unit,
                    "deadline": s.deadline.isoformat(),
                    "status": s.status,
                    "working_days_overdue": -s.working_days_left,
                    "key_difficult": s.key_difficult,
                }
                for s in overdue
            ],
        },
        "lights": count("light", list(LIGHT_LABELS)),
        "item_lights": [
            {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(s).items() if k != "milestones"}
            for s in states
        ],
    }
