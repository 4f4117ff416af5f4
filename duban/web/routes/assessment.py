"""考核 on the portal: the Office and the leaders read every unit's score for a period, a unit only its own
(another's reads as not there); a unit contests (申诉) a line of its own, the Office upholds or strikes it.
The pages read the kept months (duban/assessment/kept.py: scores by period, a unit's lines by period and
unit, indexed) and assess only the month under way, whose few rows need no pass over the items."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban import audit
from duban.assessment import AssessmentError, appeals, contest, decide_appeal
from duban.assessment import kept as scores
from duban.assessment.pages import appeal_row, choices, chosen, line_month, totals
from duban.assessment.score import KINDS, rules_of
from duban.db import session_scope
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.scope import hidden
from models import AssessmentAppeal

router = APIRouter()
READERS = ("office", "leader")
DECIDED_SHOWN = 50  # decided appeals listed under the pending ones


def unit_page(unit: str, period: str) -> str:
    return f"/assessment/{quote(unit, safe='')}?period={quote(period, safe='')}"


@router.get("/assessment")
def overview(request: Request, who: Signed) -> Response:
    """Every unit's score, rank and cards for the period chosen (this month by default), townships and
    departments apart; a township or department is led to its own page."""
    period = request.query_params.get("period")
    if who.kind in KINDS:
        return RedirectResponse(unit_page(who.unit, period or ""), status_code=303)
    need(who, kinds=READERS)
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        programme = (plan.programme.start, plan.programme.end)
        try:
            span = chosen(period, day)
        except AssessmentError as exc:
            options = choices(day, chosen("", day), programme)
            return render(request, "assessment.html", 400, error=str(exc), span=None, options=options)
        ranked, _ = scores.standings(session, plan, span, day)
        pending = len(appeals(session, state="pending"))
    rows = [(s, s.totals()) for s in ranked]
    return render(
        request,
        "assessment.html",
        span=span,
        options=choices(day, span, programme),
        rules=rules_of(plan),
        townships=[r for r in rows if r[0].kind == "township"],
        departments=[r for r in rows if r[0].kind == "department"],
        pending=pending,
    )


@router.get("/assessment/appeals")
def appeal_list(request: Request, who: Signed) -> Response:
    """申诉: those awaiting the Office's decision (with its forms), then the latest decided."""
    need(who, kinds=READERS)
    with session_scope() as session:
        rows = [appeal_row(a) for a in appeals(session)]
    waiting = [a for a in rows if a["state"] == "pending"]
    decided = [a for a in rows if a["state"] != "pending"][:DECIDED_SHOWN]
    return render(request, "assessment_appeals.html", waiting=waiting, decided=decided, may_decide=who.kind == "office")


@router.post("/assessment/appeals/{appeal_id}/decide")
def appeal_decide(request: Request, appeal_id: RowId, who: Signed, form: Posted) -> Response:
    """The Office upholds the line or strikes it, with its reason; back to the list, or to the unit's page
    when decided there."""
    need(who, kinds=("office",))
    decision = str(form.get("decision") or "")
    kept = {"reason": str(form.get("reason") or ""), "id": str(appeal_id)}
    with session_scope() as session:
        found = session.get(AssessmentAppeal, appeal_id)
        if found is None:
            raise hidden()
        there = unit_page(found.unit, line_month(found.line_key)) if form.get("from") == "unit" else None
    page = there or "/assessment/appeals"
    try:
        if decision not in ("uphold", "strike"):
            raise AssessmentError("请选择维持扣分或撤销扣分")
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            before = session.get(AssessmentAppeal, appeal_id).state
            made = decide_appeal(
                session,
                current_plan(session),
                appeal_id=appeal_id,
                uphold=decision == "uphold",
                reason=kept["reason"],
                as_of=today(request),
            )
            unit, state = made.unit, made.state
    except (AssessmentError, TextRefused) as exc:
        return back(request, f"{page}#appeal-{appeal_id}", error=str(exc), field=f"decide-{appeal_id}", values=kept)
    if before != "pending":
        return back(request, page, notice=f"申诉{appeal_id}已裁定，本次未重复登记。")
    word = "撤销扣分，该项不再计分" if state == "struck" else "维持扣分"
    return back(request, page, notice=f"已裁定{unit}的申诉{appeal_id}：{word}。")


@router.get("/assessment/{unit}")
def unit_score(request: Request, unit: str, who: Signed) -> Response:
    """One unit's score, rank, cards, trend through the year and every line with its cause; its own
    unit contests a line here."""
    own = _readable(who, unit)
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        if plan.unit_kind(unit) not in KINDS:
            raise hidden()
        programme = (plan.programme.start, plan.programme.end)
        try:
            span = chosen(request.query_params.get("period"), day)
        except AssessmentError as exc:
            options = choices(day, chosen("", day), programme)
            return render(request, "assessment_unit.html", 400, error=str(exc), unit=unit, span=None, options=options)
        score, ranked, assessed = scores.unit_score(session, plan, span, unit, day)
        months = scores.trend(session, plan, unit, span.start.year, day, assessed)
        of_kind = sum(s.kind == score.kind for s in ranked)
    return render(
        request,
        "assessment_unit.html",
        unit=unit,
        span=span,
        options=choices(day, span, programme),
        rules=rules_of(plan),
        score=score,
        sums=totals(score),
        of_kind=of_kind,
        months=months,
        own=own and who.acts,
        may_decide=who.kind == "office",
    )


@router.post("/assessment/{unit}/appeal")
def appeal(request: Request, unit: str, who: Signed, form: Posted) -> Response:
    """申诉 against one line of the unit's own score; a refusal comes back with the reason kept."""
    need(who, kinds=KINDS)
    if unit != who.unit:
        raise hidden()
    key = str(form.get("key") or "")[:200]
    kept = {"key": key, "reason": str(form.get("reason") or "")}
    page = unit_page(unit, str(form.get("period") or "") or line_month(key))
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            existing = appeals(session, unit=unit)
            made = contest(session, plan, unit=unit, key=key, reason=kept["reason"], as_of=today(request))
            new = all(a.id != made.id for a in existing)
            number, office = made.id, plan.office.name
    except (AssessmentError, TextRefused) as exc:
        return back(request, f"{page}#appeal-form", error=str(exc), field="appeal", values=kept)
    if not new:
        return back(request, page, notice=f"该扣分项已提出申诉（编号{number}），本次未重复申诉。")
    return back(request, page, notice=f"已提出申诉，编号{number}，待{office}裁定。")


def _readable(who: Person, unit: str) -> bool:
    """True when the page is the person's own unit's; the Office and the leaders read any unit's, a
    township or department only its own (another's reads as not there)."""
    if who.kind in READERS:
        return False
    if who.kind in KINDS and who.unit == unit:
        return True
    if who.kind in KINDS:
        raise hidden()
    raise HTTPException(403, "你的账号无权进行此操作")
