"""Reminding units before their report is due (3, 1 and 0 working days before, from the plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.plan import Plan
from duban.reporting.periods import working_days_before
from models import ReportingPeriod, Submission
from notifications.outbox import notify


@dataclass
class Reminders:
    sent: list[tuple[str, str, int]] = field(default_factory=list)  # (period, unit, working days before)
    messages: int = 0


def remind(session: Session, plan: Plan, as_of: date) -> Reminders:
    """On a working day, the latest reminder stage reached for each report not yet in; once each."""
    result = Reminders()
    calendar = WorkingCalendar(plan.calendar)
    if not calendar.is_working_day(as_of):
        return result
    query = (
        select(Submission, ReportingPeriod)
        .join(ReportingPeriod)
        .where(
            ReportingPeriod.opened_on <= as_of,
            col(Submission.status).in_(("requested", "draft")),
            Submission.due_on >= as_of,
        )
        .order_by(col(Submission.id))
    )
    for submission, period in session.exec(query):
        stages = [
            (n, working_days_before(calendar, submission.due_on, n))
            for n in plan.reporting.reminders_working_days_before
        ]
        reached = [(n, day) for n, day in stages if period.opened_on <= day <= as_of]
        if not reached:
            continue
        stage = min(n for n, _ in reached)
        added = notify(
            session,
            plan,
            key=f"remind:{submission.period}:{submission.unit}:{stage}",
            kind="reminder",
            recipient=submission.unit,
            as_of=as_of,
            period=submission.period,
            due=submission.due_on,
            days_left=calendar.working_days_after(as_of, submission.due_on),
            status=submission.status,
            page=f"/reports/{submission.period}",
        )
        if added:
            result.sent.append((submission.period, submission.unit, stage))
            result.messages += added
    return result
