"""What the portal's 考核 pages need beyond the engine: the periods offered, the one chosen (checked), the
month a line belongs to, and the scores' numbers as the Office writes them."""

from __future__ import annotations

from datetime import date

from duban.assessment.periods import AssessmentError, Span, parse_span
from duban.assessment.rows import points_text
from duban.assessment.score import UnitScore
from models import AssessmentAppeal


def this_month(today: date) -> str:
    return f"{today.year:04d}-{today.month:02d}"


def chosen(code: str | None, today: date) -> Span:
    """The period asked for in the address (this month when none), refused with a Chinese message that
    does not repeat what was typed (a link must not put words on the page) when it is malformed or has
    not begun by `today`."""
    code = (code or "").strip() or this_month(today)
    try:
        span = parse_span(code)
    except AssessmentError as exc:
        raise AssessmentError(str(exc).replace(f"“{code}”", "")) from None
    if span.start > today:
        raise AssessmentError(f"{span.label}尚未开始，没有考核结果；请选择已开始的月份、季度或年度")
    return span


def choices(today: date, span: Span, programme: tuple[date, date]) -> list[tuple[str, str]]:
    """(code, label) of the periods begun by `today` within the programme's dates, in this year and the last,
    newest first: each month, each quarter, the year; the chosen one always among them."""
    start, end = programme

    def shown(s: Span) -> bool:
        return s.start <= today and s.end >= start and s.start <= end

    found: list[tuple[str, str]] = []
    for year in (today.year, today.year - 1):
        whole = parse_span(str(year))
        quarters = [parse_span(f"{year}-Q{q}") for q in range(4, 0, -1)]
        found += [(m.code, m.label) for m in reversed(whole.months()) if shown(m)]
        found += [(q.code, q.label) for q in quarters if shown(q)]
        found += [(whole.code, whole.label)] if shown(whole) else []
    if span.code not in {code for code, _ in found}:
        found.insert(0, (span.code, span.label))
    return found


def line_day(key: str) -> date | None:
    """The day of a line from its key (cause:subject:YYYY-MM-DD)."""
    try:
        return date.fromisoformat(key.rsplit(":", 1)[-1])
    except ValueError:
        return None


def line_month(key: str) -> str:
    """The month of a line, whose assessment holds it (an appeal is filed and decided on it)."""
    day = line_day(key)
    return this_month(day) if day else ""


def appeal_row(appeal: AssessmentAppeal) -> dict[str, object]:
    """An appeal as its list shows it: the line's day and month beside what was filed and decided."""
    return appeal.model_dump() | {"day": line_day(appeal.line_key), "month": line_month(appeal.line_key)}


def points(value: object) -> str:
    """-0.5, 87, 98.5: as the bulletin prints them; an empty value is a dash."""
    if value is None or value == "":
        return "—"
    return points_text(value)  # type: ignore[arg-type]


def totals(unit: UnitScore) -> dict[str, object]:
    """The points lost and gained as counted (struck lines count 0), the cards, the appeals pending."""
    return {
        "deducted": sum((line.points for line in unit.lines if line.points < 0), 0),
        "added": sum((line.points for line in unit.lines if line.points > 0), 0),
        "yellow": sum(c.colour == "yellow" for c in unit.cards),
        "red": sum(c.colour == "red" for c in unit.cards),
        "pending": sum(line.appeal_state == "pending" for line in unit.lines),
    }
