"""Events become lines, lines a score, scores ranks; cards from the escalation levels reached.

A line's key (cause, subject, day) is natural: the same event gives the same key on any run, so an appeal
(申诉) refers to it. A struck line counts 0 from the day the Office struck it, and stays shown, struck.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from duban.assessment.events import LEAD, Window, escalation_rows, gather, points_of
from duban.assessment.periods import AssessmentError, Span, parse_span
from duban.desk.supervision import page_of, title_of
from duban.glossary import ASSESSMENT_CAUSE, ASSESSMENT_ROLE, CARD, ESCALATION_CAUSE, cn_date
from duban.plan import Plan
from models import AssessmentAppeal, Escalation

KINDS = ("township", "department")  # ranked among their own kind


@dataclass(frozen=True)
class Line:
    key: str
    unit: str
    role: str  # lead 主办 | co 协办
    day: date
    cause: str
    points: Decimal  # as counted: 0 when struck
    subject: str
    link: str
    detail: str
    charged: Decimal = Decimal(0)  # the points before any appeal
    appeal_id: int | None = None
    appeal_state: str = ""  # pending | upheld | struck
    appeal_answer: str = ""
    appeal_reason: str = ""

    @property
    def struck(self) -> bool:
        return self.appeal_state == "struck"

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "date": self.day.isoformat(),
            "cause": self.cause,
            "cause_label": ASSESSMENT_CAUSE[self.cause],
            "points": float(self.points),
            "charged": float(self.charged),
            "role": self.role,
            "role_label": ASSESSMENT_ROLE[self.role],
            "subject": self.subject,
            "link": self.link,
            "detail": self.detail,
            "struck": self.struck,
            "appeal": {
                "id": self.appeal_id,
                "state": self.appeal_state,
                "reason": self.appeal_reason,
                "answer": self.appeal_answer,
            }
            if self.appeal_id
            else None,
        }


@dataclass(frozen=True)
class Card:
    colour: str  # yellow | red
    day: date
    cause: str  # the escalation's cause code
    title: str
    link: str
    subject: str  # the escalation's cause key and level

    def as_json(self) -> dict:
        return {
            "card": self.colour,
            "label": CARD[self.colour],
            "date": self.day.isoformat(),
            "cause": self.cause,
            "cause_label": ESCALATION_CAUSE.get(self.cause, "（未知）"),
            "title": self.title,
            "link": self.link,
        }


@dataclass
class UnitScore:
    unit: str
    kind: str
    score: Decimal
    rank: int
    cards: list[Card] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "unit": self.unit,
            "kind": self.kind,
            "score": float(self.score),
            "rank": self.rank,
            "cards": [c.as_json() for c in self.cards],
            "lines": [line.as_json() for line in self.lines],
        }


@dataclass
class Assessment:
    span: Span
    as_of: date
    base: Decimal
    floor: Decimal
    ceiling: Decimal
    units: list[UnitScore]

    def for_unit(self, name: str) -> UnitScore:
        found = next((u for u in self.units if u.unit == name), None)
        if found is None:
            raise AssessmentError(f"“{name}”不是考核对象（考核对象为各镇办和各牵头部门）")
        return found

    def line(self, key: str, unit: str) -> Line | None:
        return next((line for line in self.for_unit(unit).lines if line.key == key), None)

    def as_json(self) -> dict:
        return {
            "period": self.span.code,
            "period_label": self.span.label,
            "as_of": self.as_of.isoformat(),
            "base": float(self.base),
            "floor": float(self.floor),
            "ceiling": float(self.ceiling),
            "units": [u.as_json() for u in self.units],
        }


def rules_of(plan: Plan):  # noqa: ANN201 - the plan's AssessmentRules
    if plan.assessment is None:
        raise AssessmentError("实施方案未设考核规则（assessment 一节），无法考核")
    return plan.assessment


def assess(session: Session, plan: Plan, period: str, as_of: date, *, source: str = "kept") -> Assessment:
    """Every township's and department's score over `period`, as known on `as_of`."""
    rules_of(plan)
    span = parse_span(period)
    events = _events(session, plan, span, as_of, source)
    cards = _cards(session, plan, span, as_of)
    return _scored(session, plan, span, as_of, events, cards)


def trend(session: Session, plan: Plan, unit: str, year: int, as_of: date) -> list[tuple[str, Decimal, int]]:
    """(month, score, rank) of one unit for each month of `year` begun by `as_of` within the programme: the
    year's events are read once and scored month by month."""
    rules_of(plan)
    whole = parse_span(str(year))
    events = _events(session, plan, whole, as_of, "kept")
    cards = _cards(session, plan, whole, as_of)
    found = []
    months = [
        m
        for m in whole.months()
        if m.start <= as_of and plan.programme.start <= m.end and m.start <= plan.programme.end
    ]  # a month before the programme began has no score
    for month in months:
        inside = [e for e in events if month.start <= e.day <= month.end]
        mine = [c for c in cards if month.start <= c[1].day <= month.end]
        found.append(_scored(session, plan, month, as_of, inside, mine).for_unit(unit))
    return [(month.code, u.score, u.rank) for month, u in zip(months, found, strict=True)]


def _window(span: Span, as_of: date) -> Window:
    end = min(span.end, as_of)
    ends = tuple(day for day in span.month_ends() if day <= end)
    return Window(span.start, end, as_of, ends, tuple(m.code for m in span.months() if m.start <= end))


def _events(session: Session, plan: Plan, span: Span, as_of: date, source: str) -> list:
    if as_of < span.start:
        return []
    return gather(session, plan, _window(span, as_of), source=source)


def _cards(session: Session, plan: Plan, span: Span, as_of: date) -> list[tuple[str, Card]]:
    """(unit, card) of the span: yellow at level 2, red at level 3 or on a unit's second yellow of the
    year (counted from 1 January, so a month's red knows the yellows before it: counted in SQL)."""
    end = min(span.end, as_of)
    if end < span.start:
        return []
    earlier = (
        select(Escalation.unit, func.count())
        .where(Escalation.level == 2, Escalation.raised_on >= date(span.start.year, 1, 1))
        .where(Escalation.raised_on < span.start)
        .group_by(Escalation.unit)
    )
    yellows: dict[str, int] = defaultdict(int, session.exec(earlier).all())
    found = []
    for e in escalation_rows(session, span.start, end, lowest=2):
        colour = "red"
        if e.level == 2:
            yellows[e.unit] += 1
            colour = "yellow" if yellows[e.unit] == 1 else "red"
        found.append((e.unit, Card(colour, e.raised_on, e.cause, title_of(e), page_of(e), f"{e.cause_key}#L{e.level}")))
    return found


def _scored(session: Session, plan: Plan, span: Span, as_of: date, events: list, cards: list) -> Assessment:
    rules = plan.assessment
    kinds = {name: kind for kind in KINDS for name in _names(plan, kind)}
    lines: dict[str, list[Line]] = {name: [] for name in kinds}
    for event in events:
        for unit, role in event.units:
            if unit in lines:
                points = points_of(plan, event, role)
                key = f"{event.cause}:{event.subject}:{event.day.isoformat()}"
                line = Line(key, unit, role, event.day, event.cause, points, event.subject, event.link, event.detail)
                lines[unit].append(replace(line, charged=points))
    unit_cards: dict[str, list[Card]] = defaultdict(list)
    for unit, card in cards:
        if unit not in lines:
            continue
        unit_cards[unit].append(card)
        cost = rules.cards.yellow if card.colour == "yellow" else rules.cards.red
        cause = f"card_{card.colour}"
        detail = f"{card.title}（{cn_date(card.day)}{CARD[card.colour]}）"
        key = f"{cause}:{card.subject}:{card.day.isoformat()}"
        lines[unit].append(Line(key, unit, LEAD, card.day, cause, cost, card.subject, card.link, detail, charged=cost))
    appealed = _appeals(session, as_of)
    scores = []
    for unit, found in lines.items():
        shown = sorted((_with_appeal(line, appealed) for line in found), key=lambda line: (line.day, line.key))
        total = rules.base + sum((line.points for line in shown), Decimal(0))
        score = min(max(total, rules.floor), rules.ceiling)
        scores.append(UnitScore(unit, kinds[unit], score, 0, unit_cards.get(unit, []), shown))
    rank(scores)
    return Assessment(span, as_of, rules.base, rules.floor, rules.ceiling, scores)


def _names(plan: Plan, kind: str) -> list[str]:
    return plan.township_names() if kind == "township" else plan.department_names()


def _appeals(session: Session, as_of: date) -> dict[tuple[str, str], AssessmentAppeal]:
    """The appeals filed by `as_of`; a decision made after it is not yet known then."""
    query = select(AssessmentAppeal).where(AssessmentAppeal.filed_on <= as_of)
    found = {}
    for appeal in session.exec(query):
        if appeal.decided_on is not None and appeal.decided_on > as_of:
            appeal = AssessmentAppeal.model_validate(appeal.model_dump() | {"state": "pending", "answer": ""})
        found[(appeal.line_key, appeal.unit)] = appeal
    return found


def _with_appeal(line: Line, appealed: dict[tuple[str, str], AssessmentAppeal]) -> Line:
    appeal = appealed.get((line.key, line.unit))
    if appeal is None:
        return line
    points = Decimal(0) if appeal.state == "struck" else line.points
    return replace(
        line,
        points=points,
        appeal_id=appeal.id,
        appeal_state=appeal.state,
        appeal_answer=appeal.answer,
        appeal_reason=appeal.reason,
    )


def rank(scores: list[UnitScore]) -> None:
    """Townships among townships, departments among departments, highest first; ties share a rank."""
    for kind in KINDS:
        ordered = sorted((s for s in scores if s.kind == kind), key=lambda s: -s.score)
        for position, unit in enumerate(ordered, start=1):
            before = ordered[position - 2] if position > 1 else None
            unit.rank = before.rank if before is not None and before.score == unit.score else position
    order = {name: i for i, name in enumerate(s.unit for s in scores)}
    scores.sort(key=lambda s: (KINDS.index(s.kind), s.rank, order[s.unit]))
