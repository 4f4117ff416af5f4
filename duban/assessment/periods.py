"""The periods an assessment covers: a month (2022-10), a quarter (2022-Q4) or a year (2022)."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

PATTERN = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


class AssessmentError(ValueError):
    """An assessment request that cannot be answered; the message says why, in Chinese."""


@dataclass(frozen=True)
class Span:
    code: str  # 2022-10 | 2022-Q4 | 2022
    start: date
    end: date

    @property
    def label(self) -> str:
        """2022年10月, 2022年第四季度, 2022年度."""
        year, _, rest = self.code.partition("-")
        if not rest:
            return f"{year}年度"
        if rest.startswith("Q"):
            return f"{year}年第{'一二三四'[int(rest[1]) - 1]}季度"
        return f"{year}年{int(rest)}月"

    def month_ends(self) -> list[date]:
        """The last day of each month in the span."""
        ends, day = [], self.start
        while day <= self.end:
            end = date(day.year, day.month, monthrange(day.year, day.month)[1])
            ends.append(end)
            day = end + timedelta(days=1)
        return ends

    def months(self) -> list[Span]:
        return [parse_span(f"{end.year:04d}-{end.month:02d}") for end in self.month_ends()]


def parse_span(code: str) -> Span:
    match = PATTERN.match(code or "")
    if not match:
        raise AssessmentError(f"考核期“{code}”格式有误，应为 2022-10（月）、2022-Q4（季度）或 2022（年度）")
    year = int(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        return Span(code, date(year, month, 1), date(year, month, monthrange(year, month)[1]))
    if match.group(3):
        first = (int(match.group(3)) - 1) * 3 + 1
        return Span(code, date(year, first, 1), date(year, first + 2, monthrange(year, first + 2)[1]))
    return Span(code, date(year, 1, 1), date(year, 12, 31))
