"""Where the programme stands on a given date: counts, overdue items, traffic lights.

Today's answer reads the state each item keeps (indexed columns, the light computed in the query)
with SQLAlchemy Core (duban/state/tables.py): through a Session or, for `duban status`, a bare
Connection, so that the command starts without the ORM and the models (tests/test_startup.py).
A date before the newest change replays the audit log up to that day (duban/items/log.py), so the
past shows the ledger as it was then: items filed later left out, fields, statuses and deadlines as
they stood that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, case, func, literal, select

from duban.calendar import UnknownYear, WorkingCalendar
from duban.glossary import ITEM_STATUS as STATUS_LABELS
from duban.glossary import LIGHT as LIGHT_LABELS
from duban.glossary import TERMINAL
from duban.plan import Plan
from duban.state.tables import AUDIT_ENTRY, LEDGER_ITEM, PLAN_MILESTONE, RECTIFICATION_PLAN, execute


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

    def column(self, items: Any = None):  # noqa: ANN201 - a SQL expression
        """The same rule as `of`, as a column of a query of `items` (a table's columns; LedgerItem's by default)."""
        items = _ledger_items() if items is None else items
        deadline = items.deadline
        return case(
            (items.status.in_(TERMINAL), literal(None)),
            (deadline.is_(None), literal("none")),
            (deadline < self.as_of, literal("red")),
            (deadline <= self.yellow_until, literal("yellow")),
            else_=literal("green"),
        )

    def where(self, light: str):  # noqa: ANN201 - a SQL condition
        """`column() == light` as ranges of the deadline, which an index on (unit, deadline) answers
        without reading every item of the unit."""
        items = _ledger_items()
        deadline, open_ = items.deadline, items.status.not_in(TERMINAL)
        ranges = {
            "none": deadline.is_(None),
            "red": deadline < self.as_of,
            "yellow": and_(deadline >= self.as_of, deadline <= self.yellow_until),
            "green": deadline > self.yellow_until,
        }
        return and_(open_, ranges[light])


def _ledger_items():  # noqa: ANN202 - a table's columns
    """LedgerItem's own columns, for the portal's ORM queries (duban/state/tables.py's clause of the same
    table would be a second FROM there); the models load with them, not with this module."""
    from models import LedgerItem

    return LedgerItem.__table__.c


def item_states(
    bind: Any, plan: Plan, as_of: date, *, open_only: bool = False, milestones: bool = True
) -> list[ItemState]:
    """Every item filed by `as_of` (only those not closed or cancelled with `open_only`), by code, read
    through a Session or a Connection; without each plan's `milestones` when the caller needs none."""
    calendar = WorkingCalendar(plan.calendar)
    lights = Lights.on(plan, calendar, as_of)
    if kept_state_answers(bind, as_of):
        return _kept(bind, plan, calendar, lights, open_only, milestones)
    return _replayed(bind, plan, calendar, lights, open_only)


def kept_state_answers(bind: Any, as_of: date) -> bool:
    """True unless some item changed after `as_of` (then that day is answered from the log)."""
    audit = AUDIT_ENTRY.c
    newest = execute(bind, select(func.max(audit.effective_on)).where(audit.subject == "item")).scalar()
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


def _kept(
    bind: Any, plan: Plan, calendar: WorkingCalendar, lights: Lights, open_only: bool, milestones: bool
) -> list[ItemState]:
    table = LEDGER_ITEM.c
    query = select(*(table[name] for name in KEPT_COLUMNS), lights.column(table).label("light"))
    if open_only:
        query = query.where(table.status.not_in(TERMINAL))
    rows = execute(bind, query.order_by(table.code)).all()
    steps = _milestones_in_force(bind, open_only) if milestones else {}
    must = must_finish_lookup(plan)
    left = _days_left(calendar, lights.as_of)
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
            left(status, deadline),
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


def _replayed(bind: Any, plan: Plan, calendar: WorkingCalendar, lights: Lights, open_only: bool) -> list[ItemState]:
    # The log is read as ORM rows: a past date loads SQLModel and the models, today's answer does not.
    from sqlmodel import Session

    from duban.items.log import replay

    if isinstance(bind, Connection):
        with Session(bind) as session:
            return _replayed(session, plan, calendar, lights, open_only)
    must = must_finish_lookup(plan)
    left = _days_left(calendar, lights.as_of)
    states = []
    for code, logged in sorted(replay(bind, lights.as_of).items()):
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
                working_days_left=left(logged.status, logged.deadline),
                light=lights.of(logged.status, logged.deadline),
                facility_type=f.get("facility_type"),
                stage=f["stage"],
                progress=logged.progress,
                milestones=logged.milestones,
            )
        )
    return states


def _milestones_in_force(bind: Any, open_only: bool) -> dict[int, tuple[tuple[date, str], ...]]:
    """Each item's milestones of the revision in force, in one query."""
    plans, steps_, items = RECTIFICATION_PLAN.c, PLAN_MILESTONE.c, LEDGER_ITEM.c
    query = (
        select(plans.item_id, steps_.due, steps_.title)
        .select_from(RECTIFICATION_PLAN)
        .join(PLAN_MILESTONE, steps_.plan_id == plans.id)
        .join(LEDGER_ITEM, and_(items.id == plans.item_id, items.plan_revision == plans.revision))
        .order_by(plans.item_id, steps_.seq)
    )
    if open_only:
        query = query.where(items.status.not_in(TERMINAL))
    steps: dict[int, tuple[tuple[date, str], ...]] = {}
    for item_id, due, title in execute(bind, query):
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


def _days_left(calendar: WorkingCalendar, as_of: date) -> Callable[[str, date | None], int | None]:
    """An open item's working days left, counted once per deadline: 30,000 items share a few hundred."""
    known: dict[date, int] = {}

    def left(status: str, deadline: date | None) -> int | None:
        if not deadline or status in TERMINAL:
            return None
        if deadline not in known:
            known[deadline] = calendar.working_days_after(as_of, deadline)
        return known[deadline]

    return left


def is_overdue(state: ItemState, as_of: date) -> bool:
    return state.deadline is not None and state.deadline < as_of and state.status not in TERMINAL


def summary(bind: Any, plan: Plan, as_of: date) -> dict:
    """The JSON of `duban status` (through a Session or a Connection): keys are the plan's codes and unit
    names, zeros included, then any other value found, in the order of the items."""
    states = item_states(bind, plan, as_of, milestones=False)

    def count(key: str, keys: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(keys, 0)
        for value, n in Counter(map(attrgetter(key), states)).items():
            if value is not None:
                counts[value] = counts.get(value, 0) + n
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
