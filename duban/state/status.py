"""Where the programme stands on a given date: counts, overdue items, traffic lights.

Today's answer reads the state each item keeps (indexed columns, the light computed in the query).
A date before the newest change replays the audit log up to that day (duban/items/log.py), so the
past shows the ledger as it was then: items filed later left out, fields, statuses and deadlines as
they stood that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import and_, case, literal
from sqlmodel import Session, col, select

from duban.calendar import UnknownYear, WorkingCalendar
from duban.glossary import LIGHT as LIGHT_LABELS
from duban.items.closeout import STATUS_LABELS, TERMINAL
from duban.items.log import last_change, replay
from duban.plan import Plan
from models import LedgerItem, PlanMilestone, RectificationPlan


class ItemState(NamedTuple):
    """One item on a day (a tuple: tens of thousands are built per question)."""

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
    facility_type: str | None = None
    stage: str = ""
    progress: int = 0
    milestones: tuple[tuple[date, str], ...] = ()  # of the plan in force that day


@dataclass(frozen=True)
class Lights:
    """A light follows from the deadline and the day: red before `as_of`, yellow up to `yellow_until`."""

    as_of: date
    yellow_until: date

    @classmethod
    def on(cls, plan: Plan, calendar: WorkingCalendar, as_of: date) -> Lights:
        """The bound stops where the calendar does: a deadline in a year it does not know is refused
        when its working days are counted, as before."""
        within, day = plan.traffic_light.yellow_within_working_days, as_of
        try:
            while calendar.working_days_after(as_of, day + timedelta(days=1)) <= within:
                day += timedelta(days=1)
        except UnknownYear:
            pass
        return cls(as_of, day)

    def of(self, status: str, deadline: date | None) -> str | None:
        if status in TERMINAL:
            return None
        if deadline is None:
            return "none"
        if deadline < self.as_of:
            return "red"
        return "yellow" if deadline <= self.yellow_until else "green"

    def column(self):  # noqa: ANN201 - a SQL expression
        """The same rule as `of`, as a column of the query."""
        deadline = col(LedgerItem.deadline)
        return case(
            (col(LedgerItem.status).in_(TERMINAL), literal(None)),
            (deadline.is_(None), literal("none")),
            (deadline < self.as_of, literal("red")),
            (deadline <= self.yellow_until, literal("yellow")),
            else_=literal("green"),
        )

    def where(self, light: str):  # noqa: ANN201 - a SQL condition
        """`column() == light` as ranges of the deadline, which an index on (unit, deadline) answers
        without reading every item of the unit."""
        deadline, open_ = col(LedgerItem.deadline), col(LedgerItem.status).not_in(TERMINAL)
        ranges = {
            "none": deadline.is_(None),
            "red": deadline < self.as_of,
            "yellow": and_(deadline >= self.as_of, deadline <= self.yellow_until),
            "green": deadline > self.yellow_until,
        }
        return and_(open_, ranges[light])


def item_states(session: Session, plan: Plan, as_of: date, *, open_only: bool = False) -> list[ItemState]:
    """Every item filed by `as_of` (only those not closed or cancelled with `open_only`), by code."""
    calendar = WorkingCalendar(plan.calendar)
    lights = Lights.on(plan, calendar, as_of)
    if kept_state_answers(session, as_of):
        return _kept(session, plan, calendar, lights, open_only)
    return _replayed(session, plan, calendar, lights, open_only)


def kept_state_answers(session: Session, as_of: date) -> bool:
    """True unless some item changed after `as_of` (then that day is answered from the log)."""
    newest = last_change(session)
    return newest is None or newest <= as_of


KEPT_COLUMNS = (
    "id",
    "code",
    "township",
    "community",
    "category",
    "facility_type",
    "stage",
    "lead_department",
    "responsible_unit",
    "key_difficult",
    "status",
    "progress",
    "deadline",
)


def _kept(session: Session, plan: Plan, calendar: WorkingCalendar, lights: Lights, open_only: bool) -> list[ItemState]:
    table = LedgerItem.__table__.c
    query = select(*(table[name] for name in KEPT_COLUMNS), lights.column().label("light"))
    if open_only:
        query = query.where(table.status.not_in(TERMINAL))
    # Core rows from the session's connection: through Session.exec the ORM's handling of 30,000 plain rows
    # was a fifth of `duban status` (bench status-today); the flush is what Session.exec would do first.
    session.flush()
    rows = session.connection().execute(query.order_by(table.code)).all()
    steps = _milestones_in_force(session, open_only)
    must = must_finish_lookup(plan)
    return [
        ItemState(
            code,
            township,
            community,
            category,
            lead,
            responsible,
            key,
            must(category, facility_type),
            status,
            deadline,
            _left(calendar, lights.as_of, status, deadline),
            light,
            facility_type,
            stage,
            progress,
            steps.get(item_id, ()),
        )
        for (
            item_id,
            code,
            township,
            community,
            category,
            facility_type,
            stage,
            lead,
            responsible,
            key,
            status,
            progress,
            deadline,
            light,
        ) in rows
    ]


def _replayed(
    session: Session, plan: Plan, calendar: WorkingCalendar, lights: Lights, open_only: bool
) -> list[ItemState]:
    must = must_finish_lookup(plan)
    states = []
    for code, logged in sorted(replay(session, lights.as_of).items()):
        if open_only and logged.status in TERMINAL:
            continue
        f = logged.fields
        states.append(
            ItemState(
                code=code,
                township=f["township"],
                community=f["community"],
                category=f["category"],
                lead_department=f["lead_department"],
                responsible_unit=f["responsible_unit"],
                key_difficult=f["key_difficult"],
                must_finish_by=must(f["category"], f.get("facility_type")),
                status=logged.status,
                deadline=logged.deadline,
                working_days_left=_left(calendar, lights.as_of, logged.status, logged.deadline),
                light=lights.of(logged.status, logged.deadline),
                facility_type=f.get("facility_type"),
                stage=f["stage"],
                progress=logged.progress,
                milestones=logged.milestones,
            )
        )
    return states


def _milestones_in_force(session: Session, open_only: bool) -> dict[int, tuple[tuple[date, str], ...]]:
    """Each item's milestones of the revision in force, in one query."""
    query = (
        select(RectificationPlan.item_id, PlanMilestone.due, PlanMilestone.title)
        .join(PlanMilestone, col(PlanMilestone.plan_id) == RectificationPlan.id)
        .join(
            LedgerItem,
            and_(
                col(LedgerItem.id) == RectificationPlan.item_id,
                col(LedgerItem.plan_revision) == RectificationPlan.revision,
            ),
        )
        .order_by(col(RectificationPlan.item_id), col(PlanMilestone.seq))
    )
    if open_only:
        query = query.where(col(LedgerItem.status).not_in(TERMINAL))
    steps: dict[int, tuple[tuple[date, str], ...]] = {}
    for item_id, due, title in session.exec(query):
        steps[item_id] = (*steps.get(item_id, ()), (due, title))
    return steps


def must_finish_lookup(plan: Plan):  # noqa: ANN202 - a memoised lookup
    """The plan's must-finish date of a category and facility type, looked up once per pair."""
    known: dict[tuple[str, str | None], date | None] = {}

    def lookup(category: str, facility_type: str | None) -> date | None:
        key = (category, facility_type)
        if key not in known:
            milestone = plan.must_finish(category, facility_type)
            known[key] = milestone.due if milestone else None
        return known[key]

    return lookup


def _left(calendar: WorkingCalendar, as_of: date, status: str, deadline: date | None) -> int | None:
    return calendar.working_days_after(as_of, deadline) if deadline and status not in TERMINAL else None


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
            {
                "code": s.code,
                "township": s.township,
                "community": s.community,
                "category": s.category,
                "lead_department": s.lead_department,
                "responsible_unit": s.responsible_unit,
                "key_difficult": s.key_difficult,
                "must_finish_by": s.must_finish_by and s.must_finish_by.isoformat(),
                "status": s.status,
                "deadline": s.deadline and s.deadline.isoformat(),
                "working_days_left": s.working_days_left,
                "light": s.light,
            }
            for s in states
        ],
    }
