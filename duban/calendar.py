"""China's working-day calendar (holidays and make-up working days), extended by the plan."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar.constants import holidays as _official_days

from duban.plan import CalendarRules

OFFICIAL_YEARS = (min(_official_days).year, max(_official_days).year)
WEEKEND_YEARS = 10  # with `unknown_year: weekends`, years past the last known ones still counted by weekends


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

    def years(self) -> tuple[int, int]:
        """The first and last year this calendar counts working days in: the official calendar's, widened
        by the plan's extra days; with `unknown_year: weekends`, WEEKEND_YEARS more (a programme's horizon,
        not year 9999: counting to it would take minutes and overflow the date type)."""
        named = [day.year for day in (*self._holidays, *self._workdays)]
        first, last = min([OFFICIAL_YEARS[0], *named]), max([OFFICIAL_YEARS[1], *named])
        return first, last + (WEEKEND_YEARS if self.rules.unknown_year == "weekends" else 0)

    def outside(self, day: date, field: str) -> str | None:
        """Why a date a person typed for `field` cannot be used: it lies outside the years this calendar
        knows (None when it lies within)."""
        first, last = self.years()
        if first <= day.year <= last:
            return None
        return f"{field}（{day.isoformat()}）超出工作日历的年份范围，须在{first}年至{last}年之间"

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
