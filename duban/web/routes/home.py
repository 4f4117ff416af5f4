"""待办: what needs the person's unit today, and 签收 of the requests it received."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlmodel import col, select
from starlette.responses import Response

from duban import acknowledge, audit
from duban.acknowledge import AcknowledgeError
from duban.db import session_scope
from duban.glossary import DELIVERABLE_STATE
from duban.glossary import REPORT_STATUS as REPORT_LABELS
from duban.mechanism import deliverables, gates, view
from duban.mechanism.follow import ready_to_settle
from duban.plan import Plan
from duban.programme import current_plan
from duban.reporting.reports import latest_version
from duban.reporting.view import LEVEL_LABELS
from duban.textgate import TextRefused
from duban.web.deps import Posted, Signed, need, render, today
from models import Campaign, CampaignItem, Escalation, LedgerItem, Project, ReportingPeriod, Review, Submission

router = APIRouter()
LISTED = 50  # rows of one list on this page; the rest are a link away


@router.get("/")
def todo(request: Request, who: Signed, changed: str = "") -> Response:
    if who.kind == "leader":
        return RedirectResponse("/dashboard", status_code=303)
    day = today(request)
    with session_scope() as session:
        asks = [r for r in acknowledge.requests(session, day, who.unit) if r.acknowledged_on is None]
        reports = _own_reports(session, who.unit)
        to_review = _to_review(session, who.unit) if who.kind == "department" else []
        to_verify = _items_in(session, lead=who.unit, status="close_requested") if who.kind == "department" else []
        to_close = _items_in(session, status="verified") if who.kind == "office" else []
        escalations = session.exec(
            select(Escalation.level, func.count())
            .where(Escalation.unit == who.unit, col(Escalation.resolved_on).is_(None))
            .group_by(Escalation.level)
        ).all()
        campaigns = session.exec(
            select(Campaign.id, Campaign.title, Campaign.due, func.count())
            .join(CampaignItem, col(CampaignItem.campaign_id) == col(Campaign.id))
            .where(
                CampaignItem.unit == who.unit,
                col(Campaign.closed_on).is_(None),
                col(CampaignItem.first_responded_on).is_(None),
            )
            .group_by(Campaign.id, Campaign.title, Campaign.due)
        ).all()
        unsigned = acknowledge.outstanding_by_unit(session, day) if who.kind == "office" else []
        plan = current_plan(session)
        gate_queue = view.queue(session, plan, who.unit, day) if who.kind == "department" else {}
        documents = [d for d in deliverables.deliverables(session, owner=who.unit) if d.state != "issued"]
        office = who.kind == "office"
        every = deliverables.deliverables(session) if office else []
        filed = [d for d in every if d.state == "issued" and not d.verified_on]
        held = _held_by_shortfalls(session, plan) if office else []
    return render(
        request,
        "todo.html",
        asks=asks,
        reports=reports,
        report_labels=REPORT_LABELS,
        to_review=to_review,
        to_verify=to_verify,
        to_close=to_close,
        escalations=[(LEVEL_LABELS[level], n) for level, n in sorted(escalations)],
        campaigns=campaigns,
        unsigned=unsigned,
        to_sign=gate_queue.get("to_sign", [])[:LISTED],
        to_submit=gate_queue.get("to_submit", [])[:LISTED],
        documents=documents,
        document_labels=DELIVERABLE_STATE,
        filed=filed[:LISTED],
        held=held,
        notice="密码已修改。" if changed else None,
    )


@router.post("/acknowledge")
def sign_for(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    kind = str(form.get("kind") or "")
    key = str(form.get("key") or "")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            acknowledge.acknowledge(session, unit=who.unit, kind=kind, key=key, as_of=today(request), person=who.label)
    except (AcknowledgeError, TextRefused) as exc:
        return render(request, "error.html", 404, message=str(exc))
    return RedirectResponse("/", status_code=303)


def _own_reports(session, unit: str) -> list[tuple[Submission, str]]:  # noqa: ANN001 - a Session
    """The unit's reports still to do (requested, draft, returned), with the reason of a return."""
    rows = session.exec(
        select(Submission)
        .join(ReportingPeriod)
        .where(Submission.unit == unit, col(Submission.status).in_(("requested", "draft", "returned")))
        .order_by(col(Submission.period).desc())
        .limit(LISTED)
    ).all()
    shown = []
    for submission in rows:
        reason = ""
        if submission.status == "returned":
            reason = (
                session.exec(
                    select(Review.reason)
                    .where(Review.submission_id == submission.id, Review.decision == "returned")
                    .order_by(col(Review.id).desc())
                ).first()
                or ""
            )
        shown.append((submission, reason))
    return shown


def _to_review(session, department: str) -> list[Submission]:  # noqa: ANN001 - a Session
    """Townships' submitted reports this department has not yet decided on (their latest version)."""
    waiting = []
    for submission in session.exec(
        select(Submission).where(Submission.kind == "township", Submission.status == "submitted")
    ):
        if department not in submission.reviewers:
            continue
        version = latest_version(session, submission, submitted_only=True)
        decided = session.exec(
            select(Review.id).where(
                Review.submission_id == submission.id,
                Review.version == version.version,
                Review.department == department,
            )
        ).first()
        if decided is None:
            waiting.append(submission)
    return waiting


def _items_in(session, *, status: str, lead: str | None = None) -> list[LedgerItem]:  # noqa: ANN001 - a Session
    query = select(LedgerItem).where(LedgerItem.status == status)
    if lead:
        query = query.where(LedgerItem.lead_department == lead)
    return list(session.exec(query.order_by(col(LedgerItem.code)).limit(LISTED)))


def _held_by_shortfalls(session, plan: Plan) -> list[tuple[Project, str, str]]:  # noqa: ANN001 - a Session
    """Gates every signer approved that an unwaived shortfall holds: the Office's to waive or not (found
    among the gates whose round is all approved, not by reading every project in review)."""
    held = []
    for project in ready_to_settle(session):
        gate = gates.current_gate(session, project)
        if gate is not None and (shortfalls := gates.blocked(session, plan, project, gate)):
            held.append((project, gates.rule_of(plan, gate).name, shortfalls))
    return sorted(held, key=lambda h: h[0].code)[:LISTED]
