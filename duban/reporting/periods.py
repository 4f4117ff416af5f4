"""Which round a date belongs to, and when its reports are due (working days, holidays moved)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timedelta

from duban.calendar import WorkingCalendar
from duban.plan import Plan

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A period that is malformed or outside the plan's reporting months."""


def parse_period(plan: Plan, period: str) -> tuple[int, int]:
    match = PERIOD.match(period)
    if not match:
        raise PeriodError(f"报送期“{period}”格式有误，应为 YYYY-MM，如 2022-05")
    if not plan.reporting.covers(period):
        raise PeriodError(
            f"报送期{period}不在方案规定的报送月份内（{plan.reporting.first_period} 至 {plan.reporting.last_period}）"
        )
    return int(match.group(1)), int(match.group(2))


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def due_date(plan: Plan, calendar: WorkingCalendar, period: str, day_of_month: int) -> date:
    year, month = parse_period(plan, period)
    due = date(year, month, day_of_month)
    if plan.reporting.due_on_holiday == "next_working_day":
        while not calendar.is_working_day(due):
            due += timedelta(days=1)
    return due


def township_due(plan: Plan, calendar: WorkingCalendar, period: str, township: str) -> date:
    own = next((t.reports_by_day for t in plan.chain.townships if t.name == township), None)
    return due_date(plan, calendar, period, own or plan.reporting.township_due_day)


def department_due(plan: Plan, calendar: WorkingCalendar, period: str) -> date:
    return due_date(plan, calendar, period, plan.reporting.department_due_day)


def working_days_before(calendar: WorkingCalendar, day: date, n: int) -> date:
    """The n-th working day before `day` (n = 0: `day` itself)."""
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def add_working_days(calendar: WorkingCalendar, day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def month_end_of(period: str) -> date:
    year, month = (int(p) for p in period.split("-"))
    return date(year, month, monthrange(year, month)[1])
