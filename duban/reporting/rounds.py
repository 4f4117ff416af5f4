"""Opening a month's round: who must report what, by when, and telling them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from duban import audit
from duban.calendar import WorkingCalendar
from duban.plan import Plan
from duban.reporting.periods import department_due, parse_period, township_due
from duban.state.status import item_states
from models import ReportingPeriod, Submission
from notifications.outbox import notify


@dataclass
class RoundOpened:
    period: str
    opened: bool  # False when the round was already open (nothing created)
    requests: list[str] = field(default_factory=list)
    messages: int = 0


def open_round(session: Session, plan: Plan, period: str, as_of: date) -> RoundOpened:
    """Create the period's submission requests once; re-running only re-checks the announcements."""
    parse_period(plan, period)
    calendar = WorkingCalendar(plan.calendar)
    result = RoundOpened(period=period, opened=False)
    record = session.get(ReportingPeriod, period)
    if record is None:
        result.opened = True
        record = ReportingPeriod(
            period=period,
            opened_on=as_of,
            township_due=township_due(plan, calendar, period, ""),
            department_due=department_due(plan, calendar, period),
        )
        session.add(record)
        session.flush()
        for submission in _requests(session, plan, calendar, period, as_of):
            session.add(submission)
            result.requests.append(submission.unit)
        audit.record(
            session,
            actor=plan.office.name,
            subject="period",
            key=period,
            action="open",
            effective_on=as_of,
            after={
                "requests": result.requests,
                "township_due": record.township_due.isoformat(),
                "department_due": record.department_due.isoformat(),
            },
        )
        session.flush()
    for submission in session.exec(select(Submission).where(Submission.period == period)):
        result.messages += notify(
            session,
            plan,
            key=f"open:{period}:{submission.unit}",
            kind="round_opened",
            recipient=submission.unit,
            as_of=record.opened_on,
            period=period,
            unit_kind=submission.kind,
            items=submission.items,
            due=submission.due_on,
            reviewers=submission.reviewers,
            page=f"/reports/{period}",
        )
    return result


def _requests(session: Session, plan: Plan, calendar: WorkingCalendar, period: str, as_of: date) -> list[Submission]:
    """Every township with items open on `as_of`, and every lead department of those items, reports."""
    items = item_states(session, plan, as_of, open_only=True)
    requests = []
    departments = plan.department_names()
    for township in plan.township_names():
        own = [i for i in items if i.township == township]
        if own:
            reviewers = sorted({i.lead_department for i in own}, key=departments.index)
            requests.append(
                Submission(
                    period=period,
                    unit=township,
                    kind="township",
                    items=[i.code for i in own],
                    reviewers=reviewers,
                    due_on=township_due(plan, calendar, period, township),
                )
            )
    for department in departments:
        led = [i for i in items if i.lead_department == department]
        if led:
            requests.append(
                Submission(
                    period=period,
                    unit=department,
                    kind="department",
                    items=[i.code for i in led],
                    reviewers=[plan.office.name],
                    due_on=department_due(plan, calendar, period),
                )
            )
    return requests
