"""Where a round stands: who reported when, who is late, and what is escalated at which level."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from duban.calendar import WorkingCalendar
from duban.glossary import ESCALATION_CAUSE as CAUSE_LABELS
from duban.glossary import LEVEL as LEVEL_LABELS
from duban.glossary import REPORT_STATUS as STATUS_LABELS
from duban.plan import Plan
from duban.reporting.periods import add_working_days, parse_period
from models import Escalation, ReportCorrection, ReportingPeriod, Review, Submission, SubmissionVersion


def period_view(session: Session, plan: Plan, period: str, as_of: date, *, escalations: bool = True) -> dict:
    """The round's reports and, unless `escalations` is False, every open escalation at its highest level."""
    parse_period(plan, period)
    record = session.get(ReportingPeriod, period)
    if record is None:
        return {"period": period, "opened": False, "submissions": [], "late": [], "escalations": []}
    submissions = list(
        session.exec(
            select(Submission)
            .where(Submission.period == period)
            .order_by(col(Submission.kind).desc(), col(Submission.id))
        )
    )
    ids = [s.id for s in submissions]
    versions: dict[int, list[SubmissionVersion]] = {}
    for version in session.exec(
        select(SubmissionVersion)
        .where(col(SubmissionVersion.submission_id).in_(ids), SubmissionVersion.saved_on <= as_of)
        .order_by(col(SubmissionVersion.version))
    ):
        versions.setdefault(version.submission_id, []).append(version)
    reviews: dict[int, list[Review]] = {}
    for review in session.exec(
        select(Review).where(col(Review.submission_id).in_(ids), Review.decided_on <= as_of).order_by(col(Review.id))
    ):
        reviews.setdefault(review.submission_id, []).append(review)
    reopened: dict[int, set[int]] = {}  # accepted versions reopened by an allowed 申请更正
    for submission_id, version in session.exec(
        select(ReportCorrection.submission_id, ReportCorrection.version).where(
            col(ReportCorrection.submission_id).in_(ids),
            ReportCorrection.state == "allowed",
            col(ReportCorrection.decided_on) <= as_of,
        )
    ):
        reopened.setdefault(submission_id, set()).add(version)
    calendar = WorkingCalendar(plan.calendar)
    rows, late = [], []
    for s in submissions:
        state = _state_on(plan, calendar, s, versions.get(s.id, []), reviews.get(s.id, []), reopened.get(s.id, set()))
        overdue = state["status"] in ("requested", "draft", "returned") and as_of > state["due"]
        submitted = [v for v in versions.get(s.id, []) if v.state == "submitted"]
        rows.append(
            {
                "unit": s.unit,
                "kind": s.kind,
                "due_on": s.due_on.isoformat(),
                "status": state["status"],
                "status_label": STATUS_LABELS[state["status"]],
                "items": len(s.items),
                "version": submitted[-1].version if submitted else None,
                "first_submitted_on": _iso(submitted[0].saved_on) if submitted else None,
                "last_submitted_on": _iso(submitted[-1].saved_on) if submitted else None,
                "late": bool(submitted and submitted[0].late),
                "overdue": overdue,
                "reviews": state["reviews"],
                "resubmit_due": _iso(state["due"]) if state["status"] == "returned" else None,
            }
        )
        if overdue or (submitted and submitted[0].late):
            late.append(s.unit)
    open_escalations = session.exec(
        select(Escalation).where(*_open_in(period, as_of)).order_by(col(Escalation.cause_key), col(Escalation.level))
    )
    highest: dict[str, Escalation] = {}
    for escalation in open_escalations if escalations else ():
        highest[escalation.cause_key] = escalation  # ordered by level: the last is the highest
    return {
        "period": period,
        "opened": True,
        "opened_on": record.opened_on.isoformat(),
        "township_due": record.township_due.isoformat(),
        "department_due": record.department_due.isoformat(),
        "as_of": as_of.isoformat(),
        "submissions": rows,
        "late": late,
        "escalations": [
            {
                "cause": e.cause,
                "cause_label": CAUSE_LABELS[e.cause],
                "key": e.cause_key,
                "unit": e.unit,
                "item_code": e.item_code,
                "level": e.level,
                "level_label": LEVEL_LABELS[e.level],
                "raised_on": e.raised_on.isoformat(),
                "missed_due": e.missed_due.isoformat(),
                "key_difficult": e.key_difficult,
                "must_finish_by": _iso(e.must_finish_by),
            }
            for e in highest.values()
        ],
    }


def escalation_counts(session: Session, period: str, as_of: date) -> list[tuple[str, str, int, int]]:
    """(unit, cause, level, causes) of the open escalations at their highest level: the round's escalations
    counted in SQL, for a summary (the Prefect UI's artifact) that need not hold thousands of rows."""
    highest = (
        select(Escalation.unit, Escalation.cause, func.max(Escalation.level).label("level"))
        .where(*_open_in(period, as_of))
        .group_by(col(Escalation.cause_key), col(Escalation.unit), col(Escalation.cause))
        .subquery()
    )
    query = (
        select(highest.c.unit, highest.c.cause, highest.c.level, func.count())
        .group_by(highest.c.unit, highest.c.cause, highest.c.level)
        .order_by(highest.c.unit, highest.c.cause, highest.c.level)
    )
    return [tuple(row) for row in session.exec(query)]


def _open_in(period: str, as_of: date) -> tuple:
    """Escalations open on `as_of`; a missing report's only for this round."""
    return (
        Escalation.raised_on <= as_of,
        or_(col(Escalation.resolved_on).is_(None), col(Escalation.resolved_on) > as_of),
        or_(Escalation.cause != "missing_submission", Escalation.period == period),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _state_on(
    plan: Plan,
    calendar: WorkingCalendar,
    submission: Submission,
    versions: list[SubmissionVersion],
    reviews: list[Review],
    reopened: set[int],
) -> dict:
    """A report's status on a day, from the versions saved, the reviews made and the corrections allowed
    by then."""
    submitted = [v for v in versions if v.state == "submitted"]
    if not submitted:
        return {"status": "draft" if versions else "requested", "due": submission.due_on, "reviews": {}}
    latest = submitted[-1].version
    decisions = {r.department: r for r in reviews if r.version == latest}
    returned = [r for r in decisions.values() if r.decision == "returned"]
    if returned:
        due = add_working_days(calendar, returned[-1].decided_on, plan.reporting.resubmit_within_working_days)
        status = "returned"
    else:
        due = submission.due_on
        accepted = {d for d, r in decisions.items() if r.decision == "accepted"}
        status = "accepted" if submission.kind == "township" and accepted >= set(submission.reviewers) else "submitted"
        if status == "accepted" and latest in reopened:
            status = "correcting"
    return {"status": status, "due": due, "reviews": {d: r.decision for d, r in decisions.items()}}
