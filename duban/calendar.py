"""China's working-day calendar (holidays and make-up working days), extended by the plan."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from duban.plan import CalendarRules


class UnknownYear(Exception):
    """The official calendar does not know the year and the plan gives no fallback."""


class WorkingCalendar:
    def __init__(self, rules: CalendarRules) -> None:
        self.rules = rules
        self._holidays = set(rules.extra_holidays)
        self._workdays = set(rules.extra_workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if self.rules.unknown_year == "weekends":
                return day.weekday() < 5
            raise UnknownYear(
                f"法定节假日安排未知：{day.year}年不在日历数据范围内。"
                "请在方案文件 calendar.extra_holidays / extra_workdays 中补充该年安排，"
                "或设置 calendar.unknown_year: weekends（仅按周末计算）"
            ) from None

    def working_days_after(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_after(end, start)
        return sum(self.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))
