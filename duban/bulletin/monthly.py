"""The scheduled monthly bulletin: issued once the departments' deadline is past, once per round."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from duban import config
from duban.bulletin.issue import Issued, issue
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.plan import Plan
from duban.reporting.periods import add_working_days, department_due, period_of
from duban.stored_plan import current_plan
from models import BulletinRecord


def due_period(session: Session, plan: Plan, as_of: date) -> str | None:
    """The round whose bulletin is due on `as_of` and not issued yet; None on every other day."""
    period = period_of(as_of)
    if not plan.reporting.covers(period):
        return None
    calendar = WorkingCalendar(plan.calendar)
    issue_on = add_working_days(
        calendar, department_due(plan, calendar, period), plan.bulletin.monthly_after_working_days
    )
    if as_of < issue_on:
        return None
    issued = session.exec(
        select(BulletinRecord.id).where(BulletinRecord.kind == "monthly", BulletinRecord.period == period)
    ).first()
    return None if issued else period


def assemble_monthly(as_of: date) -> Issued | None:
    with session_scope() as session:
        plan = current_plan(session)
        period = due_period(session, plan, as_of)
        if period is None:
            return None
        return issue(session, plan, period=period, kind="monthly", as_of=as_of, out_dir=config.home() / "bulletins")
