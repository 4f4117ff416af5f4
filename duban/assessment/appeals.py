"""申诉: a unit contests one line of its own score with a reason; the Office upholds or strikes it.

One appeal per line and unit (a second is refused, the same one again changes nothing); every step is
audited (subject "assessment_appeal") and told by a message: the Office of a new appeal, the unit of
the answer.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.assessment.kept import appealed, kept_line
from duban.assessment.periods import AssessmentError, parse_span
from duban.assessment.score import KINDS, assess
from duban.glossary import APPEAL_STATE, ASSESSMENT_CAUSE
from duban.plan import Plan
from models import AssessmentAppeal
from notifications.outbox import notify

PAGE = "/assessment"


def contest(
    session: Session, plan: Plan, *, unit: str, key: str, reason: str, person: str = "", as_of: date
) -> AssessmentAppeal:
    """File an appeal against line `key` of `unit`'s score, by that unit only."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="申诉理由")
    if plan.unit_kind(unit) not in KINDS:
        raise AssessmentError(f"“{unit}”不是考核对象，不能提出申诉")
    if not reason:
        raise AssessmentError("提出申诉须说明理由")
    existing = session.exec(
        select(AssessmentAppeal).where(AssessmentAppeal.line_key == key, AssessmentAppeal.unit == unit)
    ).first()
    if existing is not None:
        if existing.reason == reason:
            return existing  # the same appeal again: nothing changes
        raise AssessmentError(
            f"{unit}已于{existing.filed_on.isoformat()}对该扣分项提出申诉（编号{existing.id}），不能重复申诉"
        )
    line = _line(session, plan, unit, key, as_of)
    if line.charged >= 0:
        raise AssessmentError("只能对扣分项提出申诉")
    appeal = AssessmentAppeal(
        line_key=key,
        unit=unit,
        cause=line.cause,
        points=str(line.charged),
        reason=reason,
        filed_on=as_of,
        filed_by=person or audit.acting(unit),
    )
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        actor=unit,
        subject="assessment_appeal",
        key=str(appeal.id),
        action="appeal",
        effective_on=as_of,
        after={"line_key": key[:200], "cause": line.cause, "points": str(line.charged), "state": "pending"},
        note=reason,
    )
    appealed(session, plan, appeal, as_of)
    notify(
        session,
        plan,
        key=f"assessment_appeal:{appeal.id}",
        kind="assessment_appeal",
        recipient=plan.office.name,
        as_of=as_of,
        page=PAGE,
        unit=unit,
        appeal_id=appeal.id,
        cause=ASSESSMENT_CAUSE[line.cause],
        detail=line.detail,
        points=str(line.charged),
        day=line.day,
        reason=reason,
        filed_by=appeal.filed_by,
    )
    return appeal


def decide_appeal(
    session: Session, plan: Plan, *, appeal_id: int, uphold: bool, reason: str, person: str = "", as_of: date
) -> AssessmentAppeal:
    """The Office upholds the line (it keeps counting) or strikes it (it counts 0 from `as_of`)."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="裁定理由")
    appeal = session.get(AssessmentAppeal, appeal_id)
    if appeal is None:
        raise AssessmentError(f"没有编号为{appeal_id}的考核申诉")
    state = "upheld" if uphold else "struck"
    if appeal.state != "pending":
        if appeal.state == state and appeal.answer == reason:
            return appeal  # the same decision again: nothing changes
        raise AssessmentError(f"申诉{appeal_id}已于{appeal.decided_on.isoformat()}裁定为“{APPEAL_STATE[appeal.state]}”")
    if not reason:
        raise AssessmentError("裁定申诉须说明理由")
    if as_of < appeal.filed_on:
        raise AssessmentError(f"裁定日期{as_of.isoformat()}早于申诉日期{appeal.filed_on.isoformat()}")
    appeal.state, appeal.decided_on, appeal.answer = state, as_of, reason
    appeal.decided_by = person or audit.acting(plan.office.name)
    session.add(appeal)
    audit.record(
        session,
        actor=plan.office.name,
        subject="assessment_appeal",
        key=str(appeal.id),
        action=f"appeal_{state}",
        effective_on=as_of,
        before={"state": "pending"},
        after={"state": state},
        note=reason,
    )
    appealed(session, plan, appeal, as_of)
    notify(
        session,
        plan,
        key=f"assessment_appeal:{appeal.id}:{state}",
        kind="assessment_appeal_decided",
        recipient=appeal.unit,
        as_of=as_of,
        page=PAGE,
        unit=appeal.unit,
        appeal_id=appeal.id,
        cause=ASSESSMENT_CAUSE[appeal.cause],
        points=appeal.points,
        decision=APPEAL_STATE[state],
        struck=not uphold,
        reason=reason,
    )
    return appeal


def appeals(session: Session, unit: str | None = None, state: str | None = None) -> list[AssessmentAppeal]:
    """The appeals, newest first; of one unit, in one state (pending, upheld, struck)."""
    query = select(AssessmentAppeal)
    if unit:
        query = query.where(AssessmentAppeal.unit == unit)
    if state:
        query = query.where(AssessmentAppeal.state == state)
    return list(session.exec(query.order_by(col(AssessmentAppeal.id).desc())))


def _line(session: Session, plan: Plan, unit: str, key: str, as_of: date):  # noqa: ANN202 - a score.Line
    """The line as assessed over its month; another unit's line is not found for this one."""
    try:
        day = date.fromisoformat(key.rsplit(":", 1)[-1])
    except ValueError:
        raise AssessmentError(f"考核扣分项“{key}”不存在") from None
    month = parse_span(f"{day.year:04d}-{day.month:02d}")
    line = kept_line(session, plan, month, unit, key, as_of)
    if line is None:
        line = assess(session, plan, month.code, as_of).line(key, unit)
    if line is None:
        raise AssessmentError(f"{unit}的考核结果中没有扣分项“{key}”")
    return line
