"""China's working-day calendar (holidays and make-up working days), extended by the plan."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar

from duban.plan import CalendarRules


class UnknownYear(Exception):
    """The official calendar does not know the year and the plan gives no fallback."""


@cache
def _official(day: date) -> bool | None:
    """The official calendar's answer, or None for a year it does not know (cached: it is slow)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


class WorkingCalendar:
    def __init__(self, rules: CalendarRules) -> None:
        self.rules = rules
        self._holidays = set(rules.extra_holidays)
        self._workdays = set(rules.extra_workdays)
        self._running: dict[int, list[int]] = {}  # year -> working days from Jan 1 up to each day

    def is_working_day(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        official = _official(day)
        if official is not None:
            return official
        if self.rules.unknown_year == "weekends":
            return day.weekday() < 5
        raise UnknownYear(
            f"法定节假日安排未知：{day.year}年不在日历数据范围内。"
            "请在方案文件 calendar.extra_holidays / extra_workdays 中补充该年安排，"
            "或设置 calendar.unknown_year: weekends（仅按周末计算）"
        )

    def working_days_after(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_after(end, start)
        if start.year == end.year:
            return self._rank(end) - self._rank(start)
        total = self._year_total(start.year) - self._rank(start)
        total += sum(self._year_total(year) for year in range(start.year + 1, end.year))
        return total + self._rank(end)

    def _rank(self, day: date) -> int:
        """Working days from Jan 1 of its year up to and including `day`."""
        return self._running_counts(day.year)[day.toordinal() - date(day.year, 1, 1).toordinal()]

    def _year_total(self, year: int) -> int:
        return self._running_counts(year)[-1]

    def _running_counts(self, year: int) -> list[int]:
        counts = self._running.get(year)
        if counts is None:
            counts, running, day = [], 0, date(year, 1, 1)
            while day.year == year:
                running += self.is_working_day(day)
                counts.append(running)
                day += timedelta(days=1)
            self._running[year] = counts
        return counts
