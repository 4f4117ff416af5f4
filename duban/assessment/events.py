"""The events a score is made of, from two sources that must agree for any past date.

`kept` reads the tables that keep each fact with its day (submissions, reviews, items with their plan
revisions and closing day, escalations): a few indexed queries, linear in the rows. `logged` replays the
audit log up to the date instead (as duban/state/status.py answers a past date), for what the log records: the
rounds opened, reports sent and returned, items filed, planned and closed. Escalations are not audit
entries: their table is itself a dated record (a row per cause and level, inserted once, `raised_on`
never changed), so both sources read it up to the date.

Each source is a small function pair in SOURCES; one more cause (an extension refused) is one more pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.desk.supervision import page_of, title_of
from duban.glossary import cn_date, cn_period
from duban.plan import Plan
from duban.reporting.periods import month_end_of, township_due
from models import (
    AuditEntry,
    Escalation,
    ExtensionRequest,
    LedgerItem,
    Reassignment,
    RectificationPlan,
    ReportingPeriod,
    Review,
    Submission,
)

LEAD, CO = "lead", "co"
ONCE_CAUSES = ("unacknowledged", "late_countersign", "overdue_deliverable")  # once per cause, when first escalated


@dataclass(frozen=True)
class Event:
    """Something a unit did or failed to do, on a day; `units` are (unit, role) pairs it counts for."""

    cause: str
    day: date
    subject: str  # what it is about: an item code, a report period, an escalation's cause and level
    link: str
    units: tuple[tuple[str, str], ...]
    detail: str
    amount: int = 1  # working days late, for report_late
    level: int = 0  # for escalation


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # the last day counted: the period's end or the as-of date, whichever is first
    as_of: date
    month_ends: tuple[date, ...]  # the month ends passed by `end`: when items stand overdue
    periods: tuple[str, ...]  # the reporting months begun by `end`


class Source(NamedTuple):
    name: str
    kept: Callable[[Session, Plan, Window], Iterable[Event]]
    logged: Callable[[Session, Plan, Window], Iterable[Event]]


# -- reports: late, missing, returned -------------------------------------------------------------


def _report_events(plan: Plan, window: Window, asked: Iterable[tuple[str, str, date, date | None]]) -> list[Event]:
    """(period, unit, due, first submitted) -> late or missing events. A report not sent by the last day
    of its month is missing (and not also late); one sent after its due date within the month is late."""
    calendar = WorkingCalendar(plan.calendar)
    events = []
    for period, unit, due, sent in asked:
        month_end = month_end_of(period)
        if sent is not None and sent > window.as_of:
            sent = None
        link, month = f"/reports/{period}", cn_period(period)
        if sent is not None and sent <= month_end:
            if sent > due:
                days = calendar.working_days_after(due, sent)
                detail = f"{month}报表应于{cn_date(due)}前报送，{cn_date(sent)}报送，逾期{days}个工作日"
                events.append(Event("report_late", sent, period, link, ((unit, LEAD),), detail, amount=days))
        elif month_end <= window.as_of:
            detail = f"{month}报表应于{cn_date(due)}前报送，截至{cn_date(month_end)}未报送"
            events.append(Event("report_missing", month_end, period, link, ((unit, LEAD),), detail))
    return events


def reports_kept(session: Session, plan: Plan, window: Window) -> list[Event]:
    query = (
        select(Submission.period, Submission.unit, Submission.due_on, Submission.first_submitted_on)
        .join(ReportingPeriod)
        .where(col(Submission.period).in_(window.periods), ReportingPeriod.opened_on <= window.as_of)
        .order_by(col(Submission.period), col(Submission.unit))
    )
    return _report_events(plan, window, session.exec(query).all())


def reports_logged(session: Session, plan: Plan, window: Window) -> list[Event]:
    """What each round asked (its `open` entry: the units and due dates) and each report's first `submit`."""
    calendar = WorkingCalendar(plan.calendar)
    periods = window.periods
    asked: dict[tuple[str, str], date] = {}
    sent: dict[tuple[str, str], date] = {}
    for subject, key, action, day, after in _entries(session, ("period", "submission"), window.as_of):
        if subject == "period" and action == "open" and key in periods:
            department_due = date.fromisoformat(after["department_due"])
            for unit in after["requests"]:
                kind = plan.unit_kind(unit)
                due = township_due(plan, calendar, key, unit) if kind == "township" else department_due
                asked[(key, unit)] = due
        elif subject == "submission" and action == "submit":
            period, _, unit = key.partition(":")
            sent.setdefault((period, unit), day)
    rows = [(period, unit, due, sent.get((period, unit))) for (period, unit), due in sorted(asked.items())]
    return _report_events(plan, window, rows)


def returns_kept(session: Session, plan: Plan, window: Window) -> list[Event]:
    query = (
        select(Submission.period, Submission.unit, Review.version, Review.department, Review.decided_on)
        .join(Submission, col(Submission.id) == Review.submission_id)
        .where(Review.decision == "returned", Review.decided_on >= window.start, Review.decided_on <= window.end)
        .order_by(col(Review.decided_on), col(Review.id))
    )
    return [_returned(*row) for row in session.exec(query)]


def returns_logged(session: Session, plan: Plan, window: Window) -> list[Event]:
    found = []
    for _subject, key, action, day, after in _entries(session, ("submission",), window.end, actor=True):
        if action == "return" and day >= window.start:
            period, _, unit = key.partition(":")
            found.append(_returned(period, unit, after["version"], after["_actor"], day))
    return found


def _returned(period: str, unit: str, version: int, department: str, day: date) -> Event:
    detail = f"{cn_period(period)}报表第{version}版被{department}退回"
    return Event(
        "report_returned", day, f"{period}:v{version}:{department}", f"/reports/{period}", ((unit, LEAD),), detail
    )


# -- items: overdue at a month end, closed early -------------------------------------------------------


@dataclass
class ItemLife:
    """One item's days: filed, its units from each day (moved by a reassignment), each deadline in force
    from a day, closed or cancelled."""

    code: str
    filed: date
    units: list[tuple[date, str, str]]  # (from, responsible unit, lead department), in order
    deadlines: list[tuple[date, date]]  # (from, deadline), in order
    ended: date | None = None
    closed: bool = False  # ended by close-out (not cancelled)

    def deadline_on(self, day: date) -> date | None:
        return _on(self.deadlines, day)

    def units_on(self, day: date) -> tuple[tuple[str, str], ...]:
        """Who answers for the item that day: the responsible unit (主办) and its lead department (协办)."""
        found = self.units[0]
        for moved in self.units:
            if moved[0] > day:
                break
            found = moved
        _, responsible, lead = found
        return ((responsible, LEAD),) + (((lead, CO),) if lead != responsible else ())


def _on(dated: list[tuple[date, date]], day: date) -> date | None:
    found = None
    for since, value in dated:
        if since > day:
            break
        found = value
    return found


def _item_events(lives: Iterable[ItemLife], window: Window) -> list[Event]:
    events = []
    for life in lives:
        link = f"/items/{life.code}"
        for end in window.month_ends:
            if end > window.end or life.filed > end or (life.ended is not None and life.ended <= end):
                continue
            deadline = life.deadline_on(end)
            if deadline is not None and deadline < end:
                detail = f"问题{life.code}完成时限{cn_date(deadline)}，截至{cn_date(end)}未完成整改"
                events.append(Event("item_overdue", end, life.code, link, life.units_on(end), detail))
        if life.closed and life.ended is not None and window.start <= life.ended <= window.end:
            deadline = life.deadline_on(life.ended)
            if deadline is not None and life.ended < deadline:
                detail = f"问题{life.code}完成时限{cn_date(deadline)}，{cn_date(life.ended)}提前销号"
                events.append(Event("closed_early", life.ended, life.code, link, life.units_on(life.ended), detail))
    return events


def items_kept(session: Session, plan: Plan, window: Window) -> list[Event]:
    """Three queries: the items that can have an event in the window (with the day each was closed), their
    plan revisions in item order, and their approved reassignments (an item moved answers by its old units
    before the day it moved). An item closed before the window has none; a window that passes no month end
    (the month under way) can hold only items closed early in it, so it reads those alone."""
    item = LedgerItem.__table__.c
    if window.month_ends:
        ended_before = item.closed_on < window.start
        inside = and_(item.created_on <= window.end, or_(item.closed_on.is_(None), ~ended_before))
    else:
        closed = and_(item.status == "closed", item.closed_on >= window.start, item.closed_on <= window.end)
        inside = and_(item.created_on <= window.end, closed)
    rows = session.execute(
        select(item.id, item.code, item.responsible_unit, item.lead_department, item.created_on)
        .add_columns(item.status, item.closed_on)
        .where(inside)
    ).all()
    revision = RectificationPlan.__table__.c
    deadlines: dict[int, list[tuple[date, date]]] = {}
    query = (
        select(revision.item_id, revision.effective_on, revision.deadline)
        .where(revision.effective_on <= window.end, revision.item_id.in_(select(item.id).where(inside)))
        .order_by(revision.item_id, revision.revision)
    )
    for item_id, since, deadline in session.execute(query):
        deadlines.setdefault(item_id, []).append((since, deadline))
    moves: dict[str, list[Reassignment]] = {}
    approved = select(Reassignment).where(
        Reassignment.state == "approved", col(Reassignment.item_code).in_(select(item.code).where(inside))
    )
    for moved in session.exec(approved.order_by(col(Reassignment.decided_on), col(Reassignment.id))):
        moves.setdefault(moved.item_code, []).append(moved)
    lives = []
    for item_id, code, responsible, lead, filed, status, closed_on in rows:
        ended = closed_on if closed_on is not None and closed_on <= window.as_of else None
        units = [(filed, responsible, lead)]
        if code in moves:
            units = [(filed, moves[code][0].from_responsible, moves[code][0].from_lead)]
            units += [(m.decided_on, m.to_responsible, m.to_lead) for m in moves[code]]
        lives.append(ItemLife(code, filed, units, deadlines.get(item_id, []), ended, status == "closed"))
    return _item_events(lives, window)


def items_logged(session: Session, plan: Plan, window: Window) -> list[Event]:
    """One pass over the items' entries up to the date: filed (create), planned (a deadline), closed."""
    lives: dict[str, ItemLife] = {}
    query = (
        select(AuditEntry.subject_key, AuditEntry.action, AuditEntry.effective_on, AuditEntry.after)
        .where(AuditEntry.subject == "item", AuditEntry.effective_on <= window.end)
        .order_by(col(AuditEntry.id))
        .execution_options(yield_per=5000)
    )
    for code, action, day, after in session.exec(query):
        after = after or {}
        life = lives.get(code)
        if life is None:
            life = lives[code] = ItemLife(code, day, [(day, "", "")], [])
        if action in ("create", "update"):  # the units as filed (or corrected in the ledger)
            _, responsible, lead = life.units[0]
            life.units[0] = (life.filed, after.get("responsible_unit", responsible), after.get("lead_department", lead))
        if action == "reassign":
            life.units.append((day, after["responsible_unit"], after["lead_department"]))
        if action == "plan":
            life.deadlines.append((day, date.fromisoformat(after["deadline"])))
        if after.get("status") in ("closed", "cancelled"):
            life.ended, life.closed = day, after["status"] == "closed"
    return _item_events(lives.values(), window)


# -- escalations: each level reached, and the causes counted once ---------------------------------------


def escalation_rows(session: Session, since: date, until: date, *, lowest: int = 1) -> list[Escalation]:
    """The escalations raised from `since` to `until` at `lowest` or above, oldest first: the table is its
    own dated record, read by day (indexed)."""
    query = select(Escalation).where(
        Escalation.raised_on >= since, Escalation.raised_on <= until, Escalation.level >= lowest
    )
    return list(session.exec(query.order_by(col(Escalation.raised_on), col(Escalation.level), col(Escalation.id))))


def escalation_events(session: Session, plan: Plan, window: Window) -> list[Event]:
    """Each escalation of the window; a cause counted once counts on the first escalation of its key,
    so the keys already escalated before the window are looked up (by key, indexed)."""
    rows = escalation_rows(session, window.start, window.end)
    seen = _escalated_before(session, {e.cause_key for e in rows if e.cause in ONCE_CAUSES}, window.start)
    events = []
    for e in rows:
        first = e.cause in ONCE_CAUSES and e.cause_key not in seen
        seen.add(e.cause_key)
        units, title, link = ((e.unit, LEAD),), title_of(e), page_of(e)
        subject = f"{e.cause_key}#L{e.level}"
        detail = f"{title}（{cn_date(e.raised_on)}{LEVEL_WORDS[e.level]}）"
        events.append(Event("escalation", e.raised_on, subject, link, units, detail, level=e.level))
        if first:
            events.append(Event(e.cause, e.raised_on, e.cause_key, link, units, title))
    return events


def _escalated_before(session: Session, keys: set[str], day: date) -> set[str]:
    """Which of `keys` were escalated before `day`, asked in chunks."""
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = select(Escalation.cause_key).where(col(Escalation.cause_key).in_(chunk), Escalation.raised_on < day)
        found.update(session.exec(query.distinct()))
    return found


LEVEL_WORDS = {1: "督办", 2: "挂牌督办", 3: "分管副区长督办"}


# -- extension requests refused ----------------------------------------------------------------------


def _refused(number: int, code: str, milestone: str, unit: str, day: date) -> Event:
    what = f"问题{code}" + (f"时间节点“{milestone}”" if milestone else "")
    detail = f"{what}的第{number}号延期申请不予批准（{cn_date(day)}）"
    return Event("extension_refused", day, f"extension:{number}", f"/extensions/{number}", ((unit, LEAD),), detail)


def extensions_kept(session: Session, plan: Plan, window: Window) -> list[Event]:
    query = select(ExtensionRequest).where(
        ExtensionRequest.state == "refused",
        col(ExtensionRequest.decided_on) >= window.start,
        col(ExtensionRequest.decided_on) <= window.end,
    )
    found = session.exec(query.order_by(col(ExtensionRequest.id)))
    return [_refused(r.id, r.item_code, r.milestone, r.unit, r.decided_on) for r in found]


def extensions_logged(session: Session, plan: Plan, window: Window) -> list[Event]:
    return [
        _refused(int(key), after["item"], after.get("milestone") or "", after["unit"], day)
        for _subject, key, action, day, after in _entries(session, ("extension",), window.end)
        if action == "refused" and day >= window.start
    ]


SOURCES: list[Source] = [
    Source("reports", reports_kept, reports_logged),
    Source("returns", returns_kept, returns_logged),
    Source("items", items_kept, items_logged),
    Source("escalations", escalation_events, escalation_events),
    Source("extensions", extensions_kept, extensions_logged),
]


def gather(session: Session, plan: Plan, window: Window, *, source: str = "kept") -> list[Event]:
    """Every event of the window from one source ("kept": the hot path; "logged": the replay)."""
    events: list[Event] = []
    for found in SOURCES:
        events += getattr(found, source)(session, plan, window)
    return [e for e in events if window.start <= e.day <= window.end]


def _entries(session: Session, subjects: tuple[str, ...], until: date, *, actor: bool = False):  # noqa: ANN202
    """(subject, key, action, day, after) of these subjects up to `until`, in log order; with `actor`,
    the entry's actor is put in `after` as `_actor`."""
    query = (
        select(AuditEntry.subject, AuditEntry.subject_key, AuditEntry.action, AuditEntry.effective_on)
        .add_columns(AuditEntry.after, AuditEntry.actor)
        .where(col(AuditEntry.subject).in_(subjects), AuditEntry.effective_on <= until)
        .order_by(col(AuditEntry.id))
        .execution_options(yield_per=5000)
    )
    for subject, key, action, day, after, who in session.exec(query):
        after = dict(after or {})
        if actor:
            after["_actor"] = who
        yield subject, key, action, day, after


def points_of(plan: Plan, event: Event, role: str) -> Decimal:
    """The plan's points for one event and role, weighted, to the cent."""
    rules = plan.assessment
    if event.cause == "report_late":
        raw = max(rules.report_late.per_working_day * event.amount, rules.report_late.cap)
    elif event.cause == "escalation":
        raw = getattr(rules.escalation, f"level{event.level}")
    else:
        raw = getattr(rules, event.cause)
    weight = rules.weights.lead if role == LEAD else rules.weights.co
    return (raw * weight).quantize(Decimal("0.01"))
