"""Where a round stands: who reported when, who is late, and what is escalated at which level."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from duban.plan import Plan
from duban.reporting.periods import parse_period
from duban.reporting.reports import STATUS_LABELS, effective_due
from models import Escalation, ReportingPeriod, Review, Submission

CAUSE_LABELS = {"missing_submission": "逾期未报送", "overdue_item": "问题逾期", "overdue_milestone": "时间节点逾期"}
LEVEL_LABELS = {1: "督办", 2: "挂牌督办", 3: "分管副区长督办"}


def period_view(session: Session, plan: Plan, period: str, as_of: date) -> dict:
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
    reviews: dict[int, dict[str, str]] = {}
    for review in session.exec(
        select(Review).where(col(Review.submission_id).in_([s.id for s in submissions])).order_by(col(Review.id))
    ):
        reviews.setdefault(review.submission_id, {})[review.department] = review.decision
    rows, late = [], []
    for s in submissions:
        outstanding = s.status in ("requested", "draft", "returned")
        overdue = outstanding and as_of > effective_due(s)
        rows.append(
            {
                "unit": s.unit,
                "kind": s.kind,
                "due_on": s.due_on.isoformat(),
                "status": s.status,
                "status_label": STATUS_LABELS[s.status],
                "items": len(s.items),
                "version": s.version,
                "first_submitted_on": _iso(s.first_submitted_on),
                "last_submitted_on": _iso(s.last_submitted_on),
                "late": s.late,
                "overdue": overdue,
                "reviews": reviews.get(s.id, {}),
                "resubmit_due": _iso(s.resubmit_due) if s.status == "returned" else None,
            }
        )
        if overdue or s.late:
            late.append(s.unit)
    open_escalations = session.exec(
        select(Escalation)
        .where(col(Escalation.resolved_on).is_(None), Escalation.raised_on <= as_of)
        .order_by(col(Escalation.cause_key), col(Escalation.level))
    )
    highest: dict[str, Escalation] = {}
    for escalation in open_escalations:
        if escalation.cause == "missing_submission" and escalation.period != period:
            continue
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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
