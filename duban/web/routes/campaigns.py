"""Supervision campaigns on the web: a unit answers on its items; the Office starts one with a scope
form that says how many items it takes, by the same code (or deployment) as `duban campaign start`."""

from __future__ import annotations

import os
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import or_
from sqlmodel import col, select
from starlette.responses import Response

from duban import audit
from duban.campaign.forms import COLUMNS, ResponseRefused, form_rows, respond_online
from duban.campaign.run import run_campaign, start_on_server
from duban.campaign.scope import CampaignError, Scope, select_items
from duban.campaign.start import campaign_key, check, get_campaign, items_of
from duban.campaign.view import figures
from duban.db import session_scope
from duban.plan import Plan
from duban.stored_plan import current_plan
from duban.textgate import TITLE_LIMIT, TextRefused, clean
from duban.web.deps import Person, Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.scope import hidden
from models import Campaign, CampaignItem

router = APIRouter()
SCOPE_FIELDS = ("categories", "facility_types", "townships", "departments", "stages")
ANSWER_FIELDS = {"progress": "g", "measures": "m", "promised_by": "d"}  # the answer form's field prefixes


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
    as_of = today(request)
    try:
        filters = {key: tuple(str(v) for v in values[key]) for key in SCOPE_FIELDS} | flags
        with session_scope() as session:
            plan = current_plan(session)
            title, due = _validated(plan, typed["title"], typed["due"], as_of)
            scope = Scope.checked(plan, **filters)
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
    except (CampaignError, FieldRefused, TextRefused) as exc:
        kept = typed | {k: "1" for k, on in flags.items() if on}
        kept_in_url = [*kept.items(), *((k, v) for k in SCOPE_FIELDS for v in values[k])]  # the flash keeps the rest
        query = urlencode([(k, v) for k, v in kept_in_url if len(v) <= TITLE_LIMIT])
        return back(request, f"/campaigns/new?{query}", error=str(exc), field=getattr(exc, "field", None), values=kept)
    return back(request, f"/campaigns/{started}", notice="专项督导已发起，已通知相关单位。")


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: RowId, who: Signed) -> Response:
    return _page(request, who, campaign_id)


@router.post("/campaigns/{campaign_id}")
def answer(request: Request, campaign_id: RowId, who: Signed, form: Posted) -> Response:
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
    rows: list[str] = []
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            campaign = _campaign_of(session, who, campaign_id)
            rows = [row["code"] for row in form_rows(session, plan, campaign, who.unit)]
            answers = respond_online(
                session, plan, campaign_id=campaign_id, unit=who.unit, entered=entered, as_of=today(request)
            )
    except (CampaignError, ResponseRefused, TextRefused) as exc:
        typed = {
            f"{ANSWER_FIELDS[key]}.{code}": value for code, cells in entered.items() for key, value in cells.items()
        }
        field = _answer_field(exc, rows) if isinstance(exc, ResponseRefused) else None
        return back(request, f"/campaigns/{campaign_id}", error=str(exc), field=field, values=typed)
    return back(request, f"/campaigns/{campaign_id}", notice=f"已提交{len(answers)}项问题的反馈。")


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


def _page(request: Request, who: Person, campaign_id: int) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        campaign = _campaign_of(session, who, campaign_id)
        rows = form_rows(session, plan, campaign, who.unit) if who.kind in ("township", "department") else []
        supervised = (
            [i for i in items_of(session, campaign_id) if i.lead_department == who.unit and i.unit != who.unit]
            if who.kind == "department"
            else []
        )
        summary = _dated(figures(session, plan, campaign, today(request))) if who.kind in ("office", "leader") else None
        scope = Scope.from_json(campaign.scope).describe(plan)
    return render(
        request,
        "campaign.html",
        campaign=campaign,
        rows=rows,
        supervised=supervised,
        summary=summary,
        scope=scope,
        open=campaign.closed_on is None or today(request) < campaign.closed_on,
    )


def _scope_page(request: Request, values: dict, *, preview: bool = False) -> Response:
    """The scope form; a preview checks the title and the due date first, then counts the items it takes."""
    error, field = None, None
    with session_scope() as session:
        plan = current_plan(session)
        count, described = None, None
        if preview:
            try:
                _validated(plan, str(values.get("title") or ""), str(values.get("due") or ""), today(request))
                filters = {key: tuple(_list(values, key)) for key in SCOPE_FIELDS}
                scope = Scope.checked(
                    plan,
                    **filters,
                    overdue_only=bool(values.get("overdue_only")),
                    key_only=bool(values.get("key_only")),
                )
                count = len(select_items(session, plan, scope, today(request)))
                described = scope.describe(plan)
            except (CampaignError, FieldRefused) as exc:
                error, field = str(exc), getattr(exc, "field", None)
    return render(
        request,
        "campaign_new.html",
        plan=plan,
        values=values,
        chosen={key: set(_list(values, key)) for key in SCOPE_FIELDS},
        count=count,
        described=described,
        error=error,
        field=field,
        facility_types=sorted({t for c in plan.categories for t in c.facility_types}),
    )


def _dated(summary: dict) -> dict:
    """The answers' dates as dates (the figures hold them as ISO text, for JSON): the page writes them in Chinese."""
    for item in summary["items"]:
        for key in ("responded_on", "promised_by"):
            item[key] = date.fromisoformat(item[key]) if item[key] else None
    return summary


def _list(values: dict, key: str) -> list[str]:
    value = values.get(key) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


class FieldRefused(ValueError):
    """The form's title or due date refused: the message says why, `field` which one."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _validated(plan: Plan, title: str, due: str, as_of: date) -> tuple[str, date]:
    """The title and the due date, checked before anything is counted or started."""
    try:
        cleaned = clean(title, limit=TITLE_LIMIT, field="督导名称")
    except TextRefused as exc:
        raise FieldRefused(str(exc), "title") from None
    if not cleaned:
        raise FieldRefused("请填写督导名称", "title")
    try:
        day = date.fromisoformat(due.strip())
    except ValueError:
        raise FieldRefused("请填写反馈截止日期（年-月-日）" if not due.strip() else "反馈截止日期无效", "due") from None
    try:
        check(plan=plan, title=cleaned, due=day, as_of=as_of)
    except CampaignError as exc:  # the title passed above: what remains is the due date (after today, a working day)
        raise FieldRefused(str(exc), "due") from None
    return cleaned, day


def _answer_field(refused: ResponseRefused, codes: list[str]) -> str | None:
    """The first refused cell of the answer form, as its field's name (g.PT2022-0012)."""
    keys = {f"“{column.title}”": column.key for column in COLUMNS if column.key in ANSWER_FIELDS}
    for problem in refused.problems:
        if problem.row and problem.row <= len(codes) and problem.column in keys:
            return f"{ANSWER_FIELDS[keys[problem.column]]}.{codes[problem.row - 1]}"
    return None
