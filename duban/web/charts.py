"""The dashboard's charts as inline SVG (no script, no inline style): geometry here, the template places it.

Phone first: a chart is a list of horizontal bars, one row per township or month, its label on the left
and its value at the bar's end, in a viewBox WIDTH units wide however many rows. The page shows a chart
at most 420 px wide (`.narrow`) and, on a 390 px phone, about 358: scaled by 358/300 to 420/300, the
stylesheet's 11 px labels render at 13 to 15 px, and no label can run past the right edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.glossary import cn_period, percent

WIDTH = 300
ROW = 24  # one bar's row
TOP = 6
LABEL = 64  # the labels' column; labels end 4 units left of the axis
SPAN = 190  # a bar of 100 %: its value's text ("100%", about 26 units) still ends before WIDTH


@dataclass(frozen=True)
class Bar:
    y: float  # the row's top
    width: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return TOP * 2 + ROW * len(self.bars)

    @property
    def description(self) -> str:
        """What the chart shows, for a screen reader: every label with its value."""
        return "；".join(f"{b.label}{b.value}" for b in self.bars)


def chart(title: str, rows: list[tuple[str, float | None]]) -> Chart:
    """Rates 0-100 % by label; None (nothing to rate) is shown as "—" without a bar."""
    bars = [
        Bar(
            y=TOP + index * ROW,
            width=round(SPAN * min(max(rate or 0, 0), 100) / 100, 1),
            label=label,
            value="—" if rate is None else percent(round(rate, 1)),
        )
        for index, (label, rate) in enumerate(rows)
    ]
    return Chart(title, bars)


def by_township(rates: list[tuple[str, float | None]]) -> Chart:
    return chart("各镇办整治完成率", rates)


def by_month(points: list[tuple[str, float | None]]) -> Chart:
    """The district's rate month by month, as each month's bulletin gave it (periods written 2022年6月)."""
    return chart("全区整治完成率月度趋势", [(cn_period(period), rate) for period, rate in points])
