"""待办: what needs the person's unit today (counted as the menu's badge counts it), what it has sent and
waits on others for, the matters it is supervised on, and 签收 of a notice from its row."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import col, select
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.desk import acknowledge, supervision, todo
from duban.desk.acknowledge import AcknowledgeError
from duban.extensions.requests import awaiting
from duban.glossary import DELIVERABLE_STATE, LEVEL
from duban.glossary import REPORT_STATUS as REPORT_LABELS
from duban.mechanism import deliverables, view
from duban.reporting.corrections import pending_corrections
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web import duties
from duban.web.deps import Posted, Signed, need, render, today
from duban.web.flash import back
from models import Campaign, CampaignItem, LedgerItem, ReportingPeriod, Review, Submission

router = APIRouter()
LISTED = 50  # rows of one list on this page; the rest are a link away


@router.get("/")
def todo_page(request: Request, who: Signed) -> Response:
    if who.kind == "leader":
        return RedirectResponse("/dashboard", status_code=303)
    if (page := duties.home(who.role)) is not None:
        return RedirectResponse(page, status_code=303)
    day = today(request)
    department, office = who.kind == "department", who.kind == "office"
    with session_scope() as session:
        plan = current_plan(session)
        asks = acknowledge.unsigned(session, day, who.unit)
        reviews = todo.to_review(session, who.unit) if department else []
        held = todo.held_by_shortfalls(session, plan) if office else []
        corrections = pending_corrections(session, who.unit) if department else []
        extensions = awaiting(session, who.unit)
        known = {"unsigned": len(asks), "to_review": len(reviews), "held": len(held), "corrections": len(corrections)}
        known["extensions"] = len(extensions)
        owed = todo.counted(session, plan, who.unit, who.kind, day, known)
        gate_queue = view.queue(session, plan, who.unit, day)
        every = deliverables.deliverables(session) if office else []
        page = {
            "owed": owed,
            "asks": asks[:LISTED],
            "reports": _own_reports(session, who.unit),
            "to_review": reviews[:LISTED],
            "to_verify": _items_in(session, lead=who.unit, status="close_requested") if department else [],
            "to_close": _items_in(session, status="verified") if office else [],
            "levels": sorted(supervision.counts_by_level(session, day, who.unit).items(), reverse=True),
            "campaigns": _campaigns(session, who.unit),
            "unsigned": acknowledge.outstanding_by_unit(session, day) if office else [],
            "to_sign": gate_queue["to_sign"][:LISTED],
            "to_submit": gate_queue["to_submit"][:LISTED],
            "documents": [d for d in deliverables.deliverables(session, owner=who.unit) if d.state != "issued"],
            "filed": [d for d in every if d.state == "issued" and not d.verified_on][:LISTED],
            "held": held[:LISTED],
            "waiting": todo.waiting_on_others(session, plan, who.unit, who.kind, LISTED),
            "corrections": corrections[:LISTED],
            "extensions": extensions[:LISTED],
        }
    return render(
        request,
        "todo.html",
        **page,
        report_labels=REPORT_LABELS,
        level_labels=LEVEL,
        document_labels=DELIVERABLE_STATE,
    )


@router.get("/supervised")
def supervised_page(request: Request, who: Signed) -> Response:
    """The matters under supervision that 待办 (a unit's) or the dashboard (the district's) counts."""
    whole = who.kind in ("office", "leader")
    with session_scope() as session:
        rows = supervision.supervised(session, today(request), None if whole else who.unit)
    return render(request, "supervised.html", rows=rows, whole=whole)


@router.post("/acknowledge")
def sign_for(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    kind = str(form.get("kind") or "")
    key = str(form.get("key") or "")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            acknowledge.acknowledge(session, unit=who.unit, kind=kind, key=key, as_of=today(request), person=who.label)
    except (AcknowledgeError, TextRefused) as exc:
        return back(request, "/", error=str(exc))
    return back(request, "/", notice="已签收。")


def _own_reports(session, unit: str) -> list[tuple[Submission, str]]:  # noqa: ANN001 - a Session
    """The unit's reports still to do (requested, draft, returned, being corrected), with the reason of a return."""
    rows = session.exec(
        select(Submission)
        .options(defer(Submission.items))
        .join(ReportingPeriod)
        .where(Submission.unit == unit, col(Submission.status).in_(todo.TO_DO))
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


def _items_in(session, *, status: str, lead: str | None = None) -> list[LedgerItem]:  # noqa: ANN001 - a Session
    query = select(LedgerItem).where(LedgerItem.status == status)
    if lead:
        query = query.where(LedgerItem.lead_department == lead)
    return list(session.exec(query.order_by(col(LedgerItem.code)).limit(LISTED)))


def _campaigns(session, unit: str) -> list[tuple]:  # noqa: ANN001 - a Session
    """Open campaigns with items the unit has not answered: (id, title, due, items)."""
    return list(
        session.exec(
            select(Campaign.id, Campaign.title, Campaign.due, func.count())
            .join(CampaignItem, col(CampaignItem.campaign_id) == col(Campaign.id))
            .where(
                CampaignItem.unit == unit,
                col(Campaign.closed_on).is_(None),
                col(CampaignItem.first_responded_on).is_(None),
            )
            .group_by(Campaign.id, Campaign.title, Campaign.due)
        ).all()
    )
