"""Supervision campaigns on the web: a unit answers on its items; the Office starts one with a scope
form that says how many items it takes, by the same code (or deployment) as `duban campaign start`."""

from __future__ import annotations

import os
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import or_
from sqlmodel import col, select
from starlette.responses import Response

from duban import audit
from duban.campaign.forms import ResponseRefused, form_rows, respond_online
from duban.campaign.run import run_campaign, start_on_server
from duban.campaign.scope import CampaignError, Scope, select_items
from duban.campaign.start import campaign_key, check, get_campaign, items_of
from duban.campaign.view import figures
from duban.db import session_scope
from duban.programme import current_plan
from duban.textgate import TextRefused, clean
from duban.web.deps import Person, Posted, Signed, need, render, today
from duban.web.scope import hidden
from models import Campaign, CampaignItem

router = APIRouter()
SCOPE_FIELDS = ("categories", "facility_types", "townships", "departments", "stages")


@router.get("/campaigns")
def campaigns(request: Request, who: Signed) -> Response:
    with session_scope() as session:
        query = select(Campaign).order_by(col(Campaign.id).desc())
        if who.kind in ("township", "department"):
            mine = select(CampaignItem.campaign_id).where(
                or_(CampaignItem.unit == who.unit, CampaignItem.lead_department == who.unit)
            )
            query = query.where(col(Campaign.id).in_(mine))
        rows = session.exec(query.limit(200)).all()
    return render(request, "campaigns.html", rows=rows)


@router.get("/campaigns/new")
def new_campaign(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",))
    query = request.query_params
    values = {key: query.getlist(key) for key in SCOPE_FIELDS}
    values |= {key: query.get(key, "") for key in ("title", "due", "overdue_only", "key_only")}
    return _scope_page(request, values, preview="preview" in query)


@router.post("/campaigns/new")
def start_campaign(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))
    values = {key: form.getlist(key) for key in SCOPE_FIELDS}
    typed = {"title": str(form.get("title") or ""), "due": str(form.get("due") or "")}
    flags = {"overdue_only": bool(form.get("overdue_only")), "key_only": bool(form.get("key_only"))}
    try:
        title = clean(typed["title"], limit=100, field="督导名称")
        due = _day(typed["due"])
        as_of = today(request)
        filters = {key: tuple(str(v) for v in values[key]) for key in SCOPE_FIELDS} | flags
        with session_scope() as session:
            plan = current_plan(session)
            scope = Scope.checked(plan, **filters)
            check(plan=plan, title=title, due=due, as_of=as_of)
            key = campaign_key(title, scope, due)
            if session.exec(select(Campaign.id).where(Campaign.key == key)).first() is None and not select_items(
                session, plan, scope, as_of
            ):
                raise CampaignError(f"没有符合条件的未销号问题（{scope.describe(plan)}），未发起督导")
        with audit.entered_by(who.name, "portal"):
            if os.environ.get("PREFECT_API_URL"):  # as `duban campaign start` does: the deployment, once
                start_on_server(title=title, due=due, as_of=as_of, by=who.unit, scope=scope, key=key, wait=120)
            else:
                run_campaign(title=title, due=due, as_of=as_of, by=who.unit, **filters)
        with session_scope() as session:
            started = session.exec(select(Campaign.id).where(Campaign.key == key)).one()
    except (CampaignError, TextRefused) as exc:
        return _scope_page(request, {**typed, **values, **flags}, error=str(exc), status_code=400)
    return RedirectResponse(f"/campaigns/{started}?started=1", status_code=303)


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int, who: Signed) -> Response:
    return _page(request, who, campaign_id)


@router.post("/campaigns/{campaign_id}")
def answer(request: Request, campaign_id: int, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    entered: dict[str, dict[str, str]] = {}
    for name in form:
        field, _, code = name.partition(".")
        if field == "g" and code:
            entered[code] = {
                "progress": str(form.get(f"g.{code}") or ""),
                "measures": str(form.get(f"m.{code}") or ""),
                "promised_by": str(form.get(f"d.{code}") or ""),
            }
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            _campaign_of(session, who, campaign_id)
            answers = respond_online(
                session, plan, campaign_id=campaign_id, unit=who.unit, entered=entered, as_of=today(request)
            )
    except (CampaignError, ResponseRefused, TextRefused) as exc:
        return _page(request, who, campaign_id, error=str(exc), entered=entered, status_code=400)
    return RedirectResponse(f"/campaigns/{campaign_id}?answered={len(answers)}", status_code=303)


def _campaign_of(session, who: Person, campaign_id: int) -> Campaign:  # noqa: ANN001 - a Session
    """A campaign is shown to the Office, the leaders and the units with items in it."""
    try:
        campaign = get_campaign(session, campaign_id)
    except CampaignError:
        raise hidden() from None
    if who.kind in ("office", "leader"):
        return campaign
    concerned = session.exec(
        select(CampaignItem.id).where(
            CampaignItem.campaign_id == campaign_id,
            or_(CampaignItem.unit == who.unit, CampaignItem.lead_department == who.unit),
        )
    ).first()
    if concerned is None:
        raise hidden()
    return campaign


def _page(
    request: Request,
    who: Person,
    campaign_id: int,
    *,
    error: str | None = None,
    entered: dict | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        campaign = _campaign_of(session, who, campaign_id)
        rows = form_rows(session, plan, campaign, who.unit) if who.kind in ("township", "department") else []
        supervised = (
            [i for i in items_of(session, campaign_id) if i.lead_department == who.unit and i.unit != who.unit]
            if who.kind == "department"
            else []
        )
        summary = figures(session, plan, campaign, today(request)) if who.kind in ("office", "leader") else None
        scope = Scope.from_json(campaign.scope).describe(plan)
    answered = request.query_params.get("answered", "")
    notice = f"已提交{answered}项问题的反馈。" if answered.isdigit() else None
    if request.query_params.get("started"):
        notice = "专项督导已发起，已通知相关单位。"
    return render(
        request,
        "campaign.html",
        status_code,
        campaign=campaign,
        rows=rows,
        supervised=supervised,
        summary=summary,
        scope=scope,
        error=error,
        notice=notice,
        entered=entered or {},
        open=campaign.closed_on is None or today(request) < campaign.closed_on,
    )


def _scope_page(
    request: Request, values: dict, *, preview: bool = False, error: str | None = None, status_code: int = 200
) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        count, described = None, None
        if preview:
            try:
                filters = {key: tuple(_list(values, key)) for key in SCOPE_FIELDS}
                scope = Scope.checked(
                    plan,
                    **filters,
                    overdue_only=bool(values.get("overdue_only")),
                    key_only=bool(values.get("key_only")),
                )
                count = len(select_items(session, plan, scope, today(request)))
                described = scope.describe(plan)
            except CampaignError as exc:
                error = str(exc)
    return render(
        request,
        "campaign_new.html",
        status_code,
        plan=plan,
        values=values,
        chosen={key: set(_list(values, key)) for key in SCOPE_FIELDS},
        count=count,
        described=described,
        error=error,
        facility_types=sorted({t for c in plan.categories for t in c.facility_types}),
    )


def _list(values: dict, key: str) -> list[str]:
    value = values.get(key) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CampaignError("反馈截止日期无效，请按 YYYY-MM-DD 填写") from None
