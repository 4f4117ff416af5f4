"""The bulletin's two charts as inline SVG (no script, no inline style): geometry computed here,
the template only places the numbers."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 40, 60, 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


def bars(rows: list[tuple[str, float | None]]) -> list[Bar]:
    """Completion rate by township, 0-100 %."""
    if not rows:
        return []
    span = (WIDTH - LEFT - 10) / len(rows)
    usable = HEIGHT - BOTTOM - TOP
    shown = []
    for index, (label, rate) in enumerate(rows):
        height = usable * (rate or 0) / 100
        shown.append(
            Bar(
                x=round(LEFT + index * span + span * 0.15, 1),
                y=round(TOP + usable - height, 1),
                width=round(span * 0.7, 1),
                height=round(height, 1),
                label=label,
                value="—" if rate is None else f"{rate:.0f}%",
            )
        )
    return shown


def trend(points: list[tuple[str, float | None]]) -> tuple[str, list[Bar]]:
    """The district's completion rate month by month: the polyline's points, and each labelled dot."""
    if not points:
        return "", []
    span = (WIDTH - LEFT - 20) / max(1, len(points) - 1) if len(points) > 1 else 0
    usable = HEIGHT - BOTTOM - TOP
    dots = []
    for index, (label, rate) in enumerate(points):
        x = LEFT + 10 + index * span
        y = TOP + usable - usable * (rate or 0) / 100
        dots.append(Bar(round(x, 1), round(y, 1), 0, 0, label, f"{(rate or 0):.1f}%"))
    return " ".join(f"{d.x},{d.y}" for d in dots), dots
