"""A closed month's assessment kept as data, so that the 考核 pages read it instead of assessing again.

A month is kept (`assessment_month`, `assessment_score`, `assessment_line`) once its last day is reached:
by the daily sweep, by the monthly bulletin, or by a page that finds it missing or stale. The rows hold
the month as known on `as_of`; they stand for any later day while nothing that counts in the month has
been written since (`fresh`): no audit entry of the subjects the assessment reads dated within the
month, no escalation raised within it, no appeal on one of its lines, and the same plan. Otherwise
`keep` assesses the month again and writes only what changed, by the natural key (period, unit, line
key). An appeal filed or decided on a kept line updates that line, its unit's sums and the month's ranks
in place (`appealed`). The month under way is never kept: it is assessed when asked, from the few rows a
month without a month end can hold (duban/assessment/events.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from duban.assessment.periods import Span, parse_span
from duban.assessment.score import KINDS, Assessment, Card, Line, UnitScore, assess, rank, rules_of
from duban.plan import Plan
from models import AssessmentAppeal, AssessmentLine, AssessmentMonth, AssessmentScore, AuditEntry, Escalation

# the audit subjects whose entries dated within a month can change its lines (the rest, e.g. downloads,
# cannot); an appeal's entry is dated when filed or decided and counts for the month of its line
SUBJECTS = ("item", "ledger", "period", "submission", "extension", "reassignment", "programme")
CENT = Decimal("0.01")
LINE_FIELDS = (
    "role",
    "day",
    "cause",
    "points_cents",
    "charged_cents",
    "subject",
    "link",
    "detail",
    "card_cause",
    "card_title",
    "seq",
    "card_seq",
    "appeal_id",
    "appeal_state",
    "appeal_reason",
    "appeal_answer",
)
READ = ("key", "unit", *LINE_FIELDS)  # what a page reads of a kept line


@dataclass
class Standing:
    """One unit's score over a span, with what the overview shows beside it (no lines)."""

    unit: str
    kind: str
    total: Decimal
    deducted: Decimal
    added: Decimal
    yellow: int
    red: int
    pending: int
    score: Decimal = Decimal(0)
    rank: int = 0

    def totals(self) -> dict[str, object]:
        return {
            "deducted": self.deducted,
            "added": self.added,
            "yellow": self.yellow,
            "red": self.red,
            "pending": self.pending,
        }


def cents(value: Decimal) -> int:
    return int((value / CENT).to_integral_value())


def points(value: int) -> Decimal:
    return (Decimal(value) * CENT).quantize(CENT)


def digest(plan: Plan) -> str:
    """The plan the rows were assessed under: another plan (rules, units, calendar) makes them stale.
    The last plan's digest is remembered (a plan is immutable)."""
    if _digest[0] is not plan:
        _digest[:] = [plan, hashlib.sha256(plan.model_dump_json().encode()).hexdigest()]
    return _digest[1]


_digest: list = [None, ""]


def closed_months(plan: Plan, day: date) -> list[Span]:
    """The months whose last day is reached by `day`, from January of the programme's first year to its
    end: those the sweep keeps (a year's page reads twelve months)."""
    end = min(plan.programme.end, day)
    found = []
    for year in range(plan.programme.start.year, end.year + 1):
        found += [m for m in parse_span(str(year)).months() if m.end <= day and m.start <= end]
    return found


# -- keeping ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Since:
    """What was written after a month's marks, as much as its freshness needs: the earliest day an entry
    that counts is dated on, the earliest day a later escalation is raised on, and the appeals entered
    (appeal id, month of its line). Months kept at the same marks share one (the daily sweep's case)."""

    entry_day: date | None
    raised_day: date | None
    appealed: tuple[tuple[str, str], ...]


def since(session: Session, audit_mark: int, escalation_mark: int) -> Since:
    after = AuditEntry.seq > audit_mark  # (subject, seq) is indexed: a range of each subject's entries
    days = [  # one query each: with `IN` the planner reads a subject's whole history
        session.exec(select(func.min(AuditEntry.effective_on)).where(AuditEntry.subject == subject, after)).one()
        for subject in SUBJECTS
    ]
    appeals = select(AuditEntry.subject_key).where(after, AuditEntry.subject == "assessment_appeal")
    raised = session.exec(select(func.min(Escalation.raised_on)).where(Escalation.id > escalation_mark)).one()
    return Since(
        min((d for d in days if d is not None), default=None),
        raised,
        tuple((key, _appeal_month(session, key)) for key in session.exec(appeals)),
    )


def fresh(
    session: Session,
    plan: Plan,
    kept: AssessmentMonth,
    month: Span,
    day: date,
    *,
    besides: int | None = None,
    written: Since | None = None,
) -> bool:
    """Whether the kept rows are the month as known on `day`: read past the marks, so the cost is what
    was written since the month was last kept or checked (the daily sweep checks every day). The appeal
    `besides` is left out (its line is being brought up to date); `written` is what `since` found past
    the month's marks, when the caller has it already."""
    if kept.plan_digest != digest(plan) or not (month.end <= kept.as_of <= day):
        return False
    written = written or since(session, kept.audit_mark, kept.escalation_mark)
    if written.entry_day is not None and written.entry_day <= month.end:
        return False
    if any(key != str(besides) and code == month.code for key, code in written.appealed):
        return False
    if written.raised_day is not None and written.raised_day <= month.end:
        return False
    later = select(AssessmentAppeal.id).where(  # one of the month's lines (keys end with the line's day)
        col(AssessmentAppeal.id) != (besides or 0),
        col(AssessmentAppeal.line_key).like(f"%:{month.code}-__"),
        or_(
            (col(AssessmentAppeal.filed_on) > kept.as_of) & (col(AssessmentAppeal.filed_on) <= day),
            (col(AssessmentAppeal.decided_on) > kept.as_of) & (col(AssessmentAppeal.decided_on) <= day),
        ),
    )
    return session.exec(later.limit(1)).first() is None


def month_kept(
    session: Session, plan: Plan, month: Span, day: date, read: dict[tuple[int, int], Since] | None = None
) -> AssessmentMonth | None:
    """The month's kept rows as known on `day`, kept again first when missing or stale; None when the
    month is not closed by `day` or `day` is before what is kept: then it is assessed, not kept."""
    if month.end > day:
        return None
    kept = session.get(AssessmentMonth, month.code)
    read = {} if read is None else read
    if kept is not None and fresh(session, plan, kept, month, day, written=_written(session, kept, read)):
        _advance(session, kept, day)
        return kept
    if kept is not None and day < kept.as_of:
        return None
    try:
        with session.begin_nested():
            keep(session, plan, month, day)
    except IntegrityError:  # another process kept it at the same moment: assess this once
        return None
    return session.get(AssessmentMonth, month.code)


def keep(session: Session, plan: Plan, month: Span, day: date) -> Assessment:
    """Assess the month as known on `day` and write what changed: the month's marks, each unit's sums and
    rank, each line by its natural key (inserted, updated or deleted)."""
    audit_mark, escalation_mark = _marks(session)  # before reading: what is written meanwhile is after them
    result = assess(session, plan, month.code, day)
    kept = session.get(AssessmentMonth, month.code)
    if kept is None:
        kept = AssessmentMonth(period=month.code, as_of=day, checked_on=day, plan_digest="")
    kept.as_of, kept.audit_mark, kept.escalation_mark = day, audit_mark, escalation_mark
    kept.checked_on = max(kept.checked_on, day)
    kept.plan_digest = digest(plan)
    session.add(kept)
    session.flush()
    _write_scores(session, month.code, result)
    _write_lines(session, month.code, result)
    return result


def keep_closed(session: Session, plan: Plan, day: date) -> list[str]:
    """Every closed month of the programme kept as known on `day` (the daily sweep): those already fresh
    are only checked; returns the months assessed again."""
    if plan.assessment is None:
        return []
    again: list[str] = []
    read: dict[tuple[int, int], Since] = {}
    for month in closed_months(plan, day):
        kept = session.get(AssessmentMonth, month.code)
        if kept is not None and fresh(session, plan, kept, month, day, written=_written(session, kept, read)):
            _advance(session, kept, day)
        elif kept is None or kept.as_of <= day:
            keep(session, plan, month, day)
            again.append(month.code)
    return again


def _written(session: Session, kept: AssessmentMonth, read: dict[tuple[int, int], Since]) -> Since:
    """What was written past the month's marks, read once for all the months a sweep or a page checks at
    the same marks (`read`, kept by the caller across its months)."""
    marks = (kept.audit_mark, kept.escalation_mark)
    if marks not in read:
        read[marks] = since(session, *marks)
    return read[marks]


def _marks(session: Session) -> tuple[int, int]:
    """The newest audit entry's sequence number (appends are serialised, so a later commit has a higher
    one) and the newest escalation's id."""
    session.flush()
    audit_mark = session.exec(select(func.max(AuditEntry.seq))).one() or 0
    escalation_mark = session.exec(select(func.max(Escalation.id))).one() or 0
    return audit_mark, escalation_mark


def _advance(session: Session, kept: AssessmentMonth, day: date) -> None:
    """A fresh month's marks moved to now, so that the next check reads only what came after. Once a day
    at most: a second sweep of the same day writes nothing (what later flows of that day wrote is read
    again by the next day's check)."""
    if day > kept.checked_on:
        kept.checked_on = day
        kept.audit_mark, kept.escalation_mark = _marks(session)
        session.add(kept)


def _appeal_month(session: Session, key: str) -> str:
    """The month of the line an appeal (by its audit entry's key, the appeal's id) is about."""
    appeal = session.get(AssessmentAppeal, int(key)) if key.isdigit() else None
    return _month_of(appeal.line_key) if appeal is not None else ""


def _month_of(line_key: str) -> str:
    """2022-10 of a line key (cause:subject:2022-10-12)."""
    return line_key.rsplit(":", 1)[-1][:7]


def _score_values(unit: UnitScore) -> dict[str, object]:
    total = sum((line.points for line in unit.lines), Decimal(0))
    return {
        "kind": unit.kind,
        "total_cents": cents(total),
        "score_cents": cents(unit.score),
        "rank": unit.rank,
        "deducted_cents": cents(sum((line.points for line in unit.lines if line.points < 0), Decimal(0))),
        "added_cents": cents(sum((line.points for line in unit.lines if line.points > 0), Decimal(0))),
        "yellow": sum(c.colour == "yellow" for c in unit.cards),
        "red": sum(c.colour == "red" for c in unit.cards),
        "pending": sum(line.appeal_state == "pending" for line in unit.lines),
    }


def _write_scores(session: Session, period: str, result: Assessment) -> None:
    existing = {s.unit: s for s in session.exec(select(AssessmentScore).where(AssessmentScore.period == period))}
    for unit in result.units:
        values = _score_values(unit)
        row = existing.pop(unit.unit, None)
        if row is None:
            session.add(AssessmentScore(period=period, unit=unit.unit, **values))
            continue
        for name, value in values.items():  # an unchanged value is not written
            setattr(row, name, value)
    for gone in existing.values():
        session.delete(gone)
    session.flush()


def _line_values(line: Line, seq: int, card: tuple[int, Card] | None) -> dict[str, object]:
    return {
        "role": line.role,
        "day": line.day,
        "cause": line.cause,
        "points_cents": cents(line.points),
        "charged_cents": cents(line.charged),
        "subject": line.subject,
        "link": line.link,
        "detail": line.detail,
        "card_cause": card[1].cause if card else "",
        "card_title": card[1].title if card else "",
        "seq": seq,
        "card_seq": card[0] if card else -1,
        "appeal_id": line.appeal_id,
        "appeal_state": line.appeal_state,
        "appeal_reason": line.appeal_reason,
        "appeal_answer": line.appeal_answer,
    }


def _write_lines(session: Session, period: str, result: Assessment) -> None:
    """The month's lines against those kept, by (unit, key): only the differences are written."""
    table = AssessmentLine.__table__
    c = table.c
    existing = {
        (unit, key): (row_id, tuple(values))
        for row_id, unit, key, *values in session.execute(
            select(c.id, c.unit, c.key, *(c[name] for name in LINE_FIELDS)).where(c.period == period)
        )
    }
    inserts, updates = [], []
    for unit in result.units:
        cards = {(card.subject, card.day): (n, card) for n, card in enumerate(unit.cards)}
        for seq, line in enumerate(unit.lines):
            card = cards.get((line.subject, line.day)) if line.cause.startswith("card_") else None
            values = _line_values(line, seq, card)
            found = existing.pop((unit.unit, line.key), None)
            if found is None:
                inserts.append({"period": period, "unit": unit.unit, "key": line.key, **values})
            elif found[1] != tuple(values.values()):
                updates.append({"_id": found[0], **values})
    gone = [row_id for row_id, _ in existing.values()]
    for start in range(0, len(gone), 500):
        session.execute(delete(table).where(c.id.in_(gone[start : start + 500])))
    if updates:
        session.execute(update(table).where(c.id == bindparam("_id")), updates)
    if inserts:
        session.execute(insert(table), inserts)


# -- an appeal on a kept line ---------------------------------------------------------------------------


def appealed(session: Session, plan: Plan, appeal: AssessmentAppeal, day: date) -> None:
    """After an appeal is filed or decided on `day`: its line's month, if kept and otherwise fresh, takes
    the appeal in place (the line, its unit's sums and score, the month's ranks); if not fresh, the next
    sweep or page assesses it again. Call after the appeal's audit entry is written."""
    month = parse_span(_month_of(appeal.line_key))
    kept = session.get(AssessmentMonth, month.code)
    if kept is None:
        return
    if not fresh(session, plan, kept, month, max(day, kept.as_of), besides=appeal.id):
        return
    line = session.exec(
        select(AssessmentLine).where(
            AssessmentLine.period == month.code,
            AssessmentLine.unit == appeal.unit,
            AssessmentLine.key == appeal.line_key,
        )
    ).first()
    if line is None:
        return
    line.appeal_id, line.appeal_state = appeal.id, appeal.state
    line.appeal_reason, line.appeal_answer = appeal.reason, appeal.answer
    line.points_cents = 0 if appeal.state == "struck" else line.charged_cents
    session.add(line)
    session.flush()
    _resum(session, plan, month.code, appeal.unit)
    kept.as_of = max(kept.as_of, day)
    kept.audit_mark, kept.escalation_mark = _marks(session)  # past the appeal's own entry, now taken in
    session.add(kept)
    session.flush()


def kept_line(session: Session, plan: Plan, month: Span, unit: str, key: str, day: date) -> Line | None:
    """The line as kept, when its month is kept and fresh on `day` (by its natural key, indexed); None
    otherwise (then the month is assessed)."""
    kept = session.get(AssessmentMonth, month.code)
    if kept is None or not fresh(session, plan, kept, month, day):
        return None
    c = AssessmentLine
    row = session.exec(select(c).where(c.period == month.code, c.unit == unit, c.key == key)).first()
    return _line(row.model_dump()) if row is not None else None


def _resum(session: Session, plan: Plan, period: str, unit: str) -> None:
    """One unit's sums from its kept lines, then the month's ranks among each kind."""
    rules = rules_of(plan)
    c = AssessmentLine.__table__.c
    rows = session.execute(select(c.points_cents, c.appeal_state).where(c.period == period, c.unit == unit)).all()
    score = session.exec(
        select(AssessmentScore).where(AssessmentScore.period == period, AssessmentScore.unit == unit)
    ).one()
    score.total_cents = sum(p for p, _ in rows)
    score.deducted_cents = sum(p for p, _ in rows if p < 0)
    score.added_cents = sum(p for p, _ in rows if p > 0)
    score.pending = sum(state == "pending" for _, state in rows)
    total = rules.base + points(score.total_cents)
    score.score_cents = cents(min(max(total, rules.floor), rules.ceiling))
    session.add(score)
    session.flush()
    scores = list(session.exec(select(AssessmentScore).where(AssessmentScore.period == period)))
    ranked = [UnitScore(s.unit, s.kind, points(s.score_cents), 0) for s in scores]
    rank(ranked)
    ranks = {u.unit: u.rank for u in ranked}
    for s in scores:
        if s.rank != ranks[s.unit]:
            s.rank = ranks[s.unit]
            session.add(s)


# -- reading ----------------------------------------------------------------------------------------------


def standings(session: Session, plan: Plan, span: Span, day: date) -> tuple[list[Standing], dict[str, Assessment]]:
    """Every unit's score and rank over `span` as known on `day`, in the order of `assess`: the kept
    months' sums read by period (indexed), the others (the month under way) assessed and returned by
    month, so that a page need not assess them again. A span's lines are its months' lines, so its score
    is the base plus the months' sums, within the floor and ceiling."""
    rules = rules_of(plan)
    kinds = {name: kind for kind in KINDS for name in _names(plan, kind)}
    found = {name: Standing(name, kind, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0) for name, kind in kinds.items()}
    assessed: dict[str, Assessment] = {}
    read: dict[tuple[int, int], Since] = {}
    for month in _begun(span, day):
        if month_kept(session, plan, month, day, read) is None:
            assessed[month.code] = assess(session, plan, month.code, day)
            for unit in assessed[month.code].units:
                _add(found, unit.unit, _score_values(unit))
            continue
        for s in session.exec(select(AssessmentScore).where(AssessmentScore.period == month.code)):
            _add(found, s.unit, s.model_dump())
    ranked = []
    for s in found.values():
        s.score = min(max(rules.base + s.total, rules.floor), rules.ceiling)
        ranked.append(UnitScore(s.unit, s.kind, s.score, 0))
    rank(ranked)
    for u in ranked:
        found[u.unit].rank = u.rank
    return [found[u.unit] for u in ranked], assessed


def unit_score(
    session: Session, plan: Plan, span: Span, unit: str, day: date
) -> tuple[UnitScore, list[Standing], dict[str, Assessment]]:
    """One unit's score over `span` with every line and card (its own kept lines, read by period and unit,
    or those of a month assessed), every unit's standing for the rank, and the months assessed."""
    ranked, assessed = standings(session, plan, span, day)
    mine = next(s for s in ranked if s.unit == unit)
    lines: list[Line] = []
    cards: list[Card] = []
    for month in _begun(span, day):
        if month.code in assessed:
            found = assessed[month.code].for_unit(unit)
            lines += found.lines
            cards += found.cards
            continue
        c = AssessmentLine.__table__.c
        query = select(*(c[name] for name in READ)).where(c.period == month.code, c.unit == unit)
        kept = [dict(zip(READ, row, strict=True)) for row in session.execute(query.order_by(c.seq))]
        lines += [_line(row) for row in kept]
        cards += [_card(row) for row in sorted((r for r in kept if r["card_cause"]), key=lambda r: r["card_seq"])]
    return UnitScore(unit, mine.kind, mine.score, mine.rank, cards, lines), ranked, assessed


def trend(
    session: Session, plan: Plan, unit: str, year: int, day: date, assessed: dict[str, Assessment] | None = None
) -> list[tuple[str, Decimal, int]]:
    """(month, score, rank) of one unit for each month of `year` begun by `day` within the programme: the
    kept months read by unit (indexed), the others assessed (or taken from `assessed`)."""
    rules_of(plan)
    assessed = assessed or {}
    found = []
    read: dict[tuple[int, int], Since] = {}
    for month in _begun(parse_span(str(year)), day):
        if month.end < plan.programme.start or month.start > plan.programme.end:
            continue
        if month.code not in assessed and month_kept(session, plan, month, day, read) is not None:
            query = select(AssessmentScore).where(AssessmentScore.period == month.code, AssessmentScore.unit == unit)
            s = session.exec(query).one()
            found.append((month.code, points(s.score_cents), s.rank))
            continue
        if month.code not in assessed:
            assessed[month.code] = assess(session, plan, month.code, day)
        u = assessed[month.code].for_unit(unit)
        found.append((month.code, u.score, u.rank))
    return found


def _add(found: dict[str, Standing], unit: str, values: dict) -> None:
    s = found.get(unit)
    if s is None:
        return
    s.total += points(values["total_cents"])
    s.deducted += points(values["deducted_cents"])
    s.added += points(values["added_cents"])
    s.yellow += values["yellow"]
    s.red += values["red"]
    s.pending += values["pending"]


def _begun(span: Span, day: date) -> list[Span]:
    return [month for month in span.months() if month.start <= day]


def _names(plan: Plan, kind: str) -> list[str]:
    return plan.township_names() if kind == "township" else plan.department_names()


def _line(row: dict) -> Line:
    return Line(
        row["key"],
        row["unit"],
        row["role"],
        row["day"],
        row["cause"],
        points(row["points_cents"]),
        row["subject"],
        row["link"],
        row["detail"],
        charged=points(row["charged_cents"]),
        appeal_id=row["appeal_id"],
        appeal_state=row["appeal_state"],
        appeal_answer=row["appeal_answer"],
        appeal_reason=row["appeal_reason"],
    )


def _card(row: dict) -> Card:
    colour = row["cause"].removeprefix("card_")
    return Card(colour, row["day"], row["card_cause"], row["card_title"], row["link"], row["subject"])
