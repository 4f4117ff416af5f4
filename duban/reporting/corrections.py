"""申请更正: the only way to change a report once it is accepted.

An accepted report is locked (reports.check_open). Its unit asks, with a reason, to correct it; any
one of the lead departments that reviewed it allows or refuses, and the person is recorded. Allowing
reopens the report (status 更正中): the unit edits it and submits it as its next version, which every
reviewing department reviews again. The corrected version is not late for the correction itself: the
report's timeliness is that of its first submission, which stands; a correction that is later returned
follows the usual rule (resubmitted after its new due date, it is late). Refusing changes nothing but
the request's own record. A department's consolidated report has no accepted state (nobody reviews
it), so it never needs a correction.

A request is keyed by (report, accepted version, number): a second click finds it pending and adds
nothing, a second answer finds it decided and changes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.db import insert_once
from duban.glossary import cn_date, cn_period
from duban.plan import Plan
from duban.reporting.reports import ReportError, get_submission, latest_version
from models import ReportCorrection, Submission
from notifications.outbox import notify


def deciders(submission: Submission) -> list[str]:
    """Who answers a request: the lead departments that reviewed the report."""
    return list(submission.reviewers) if submission.kind == "township" else []


def request_correction(
    session: Session, plan: Plan, *, period: str, unit: str, reason: str, as_of: date
) -> ReportCorrection:
    """The unit asks to correct its accepted report; its reviewing departments are told."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="更正理由").strip()
    if not reason:
        raise ReportError("申请更正须说明更正理由")
    submission = get_submission(session, plan, period, unit)
    month = cn_period(period)
    if submission.status != "accepted":
        raise ReportError(f"{unit}{month}的报表尚未审核通过，未锁定，无需申请更正，可直接修改后报送")
    version = latest_version(session, submission, submitted_only=True)
    waiting = _pending(session, submission.id)
    if waiting is not None:
        raise ReportError(
            f"已于{cn_date(waiting.requested_on)}申请更正{month}报表，正在等待{'或'.join(deciders(submission))}处理"
        )
    number = 1 + (
        session.exec(
            select(func.max(ReportCorrection.number)).where(
                ReportCorrection.submission_id == submission.id, ReportCorrection.version == version.version
            )
        ).one()
        or 0
    )
    asked_by = audit.acting(unit)
    values = {
        "submission_id": submission.id,
        "version": version.version,
        "number": number,
        "reason": reason,
        "requested_by": asked_by,
        "requested_on": as_of,
        "state": "pending",
        "decided_unit": "",
        "decided_by": "",
        "answer": "",
    }
    if not insert_once(session, ReportCorrection, values, key=["submission_id", "version", "number"]):
        raise ReportError(f"{unit}{month}报表的更正申请刚刚已由本单位其他人员提出，请勿重复申请")
    correction = _pending(session, submission.id)
    audit.record(
        session,
        actor=unit,
        subject="submission",
        key=f"{period}:{unit}",
        action="correction_request",
        effective_on=as_of,
        before={"status": submission.status},
        after={"status": submission.status, "version": version.version, "correction": number},
        note=reason,
    )
    for department in deciders(submission):
        notify(
            session,
            plan,
            key=f"correction:{period}:{unit}:v{version.version}:{number}",
            kind="correction_requested",
            recipient=department,
            as_of=as_of,
            period=period,
            unit=unit,
            version=version.version,
            reason=reason,
            requested_by=asked_by,
            page=f"/reports/{period}/{unit}",
        )
    return correction


def decide_correction(
    session: Session, plan: Plan, *, correction_id: int, by: str, allow: bool, answer: str, as_of: date
) -> ReportCorrection:
    """A reviewing department allows (the report reopens) or refuses (with a reason) a request."""
    answer = textgate.clean(answer, multiline=True, limit=textgate.NOTE_LIMIT, field="不予更正理由").strip()
    correction = session.get(ReportCorrection, correction_id)
    submission = session.get(Submission, correction.submission_id) if correction else None
    if correction is None or by not in deciders(submission):
        raise ReportError("没有这项更正申请，或本单位不是该报表的审核部门")
    month = cn_period(submission.period)
    if correction.state != "pending":
        raise ReportError(
            f"{submission.unit}{month}报表的这项更正申请已于{cn_date(correction.decided_on)}"
            f"由{correction.decided_by}{'准予更正' if correction.state == 'allowed' else '不予更正'}，无需重复处理"
        )
    if not allow and not answer:
        raise ReportError("不予更正须说明理由")
    decided_by = audit.acting(by)
    table = ReportCorrection.__table__
    taken = session.execute(
        update(table)
        .where(table.c.id == correction.id, table.c.state == "pending")
        .values(
            state="allowed" if allow else "refused",
            decided_unit=by,
            decided_by=decided_by,
            decided_on=as_of,
            answer=answer,
        )
    )
    if taken.rowcount != 1:  # another reviewer answered between our read and our write
        raise ReportError(f"{submission.unit}{month}报表的这项更正申请刚刚已由其他人员处理，请刷新页面查看")
    session.refresh(correction)
    before = {"status": submission.status}
    if allow:
        submission.status = "correcting"
        session.add(submission)
    audit.record(
        session,
        actor=by,
        subject="submission",
        key=f"{submission.period}:{submission.unit}",
        action="correction_allow" if allow else "correction_refuse",
        effective_on=as_of,
        before=before,
        after={"status": submission.status, "version": correction.version, "correction": correction.number},
        note=answer,
    )
    notify(
        session,
        plan,
        key=f"correction-decided:{submission.period}:{submission.unit}:v{correction.version}:{correction.number}",
        kind="correction_decided",
        recipient=submission.unit,
        as_of=as_of,
        period=submission.period,
        version=correction.version,
        department=by,
        allowed=allow,
        answer=answer,
        page=f"/reports/{submission.period}",
    )
    return correction


def corrections_of(session: Session, submission: Submission) -> list[ReportCorrection]:
    """Every request made about a report, oldest first: its page shows them."""
    return list(
        session.exec(
            select(ReportCorrection)
            .where(ReportCorrection.submission_id == submission.id)
            .order_by(col(ReportCorrection.id))
        )
    )


def pending_corrections(session: Session, unit: str) -> list[tuple[ReportCorrection, Submission]]:
    """The requests waiting for `unit` (a lead department) to answer, oldest first, with their reports:
    for 待办 and the review pages."""
    rows = session.exec(
        select(ReportCorrection, Submission)
        .join(Submission, col(Submission.id) == ReportCorrection.submission_id)
        .where(ReportCorrection.state == "pending", Submission.kind == "township")
        .order_by(col(ReportCorrection.id))
    ).all()
    return [(correction, submission) for correction, submission in rows if unit in deciders(submission)]


def _pending(session: Session, submission_id: int) -> ReportCorrection | None:
    return session.exec(
        select(ReportCorrection).where(
            ReportCorrection.submission_id == submission_id, ReportCorrection.state == "pending"
        )
    ).first()
