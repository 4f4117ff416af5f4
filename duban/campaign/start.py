"""Starting a campaign: the items it covers, frozen once, and the request to each unit concerned.

The campaign's natural key is the hash of its title, scope and response date, so starting the same
campaign twice (a double click, a rerun after a crash) finds the first one and adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import or_
from sqlmodel import Session, col, select

from duban import audit, config, textgate
from duban.calendar import WorkingCalendar
from duban.campaign.scope import CampaignError, Scope, select_items
from duban.db import insert_once
from duban.files.paths import under
from duban.glossary import cn_date
from duban.plan import Plan
from duban.reporting.periods import add_working_days
from models import Campaign, CampaignItem, LedgerItem, OutboxMessage
from notifications.outbox import notify


@dataclass(frozen=True)
class Started:
    campaign_id: int
    new: bool
    units: list[str]  # every unit to be told: responsible units, then lead departments


def campaign_key(title: str, scope: Scope, due: date) -> str:
    raw = json.dumps({"title": title.strip(), "scope": scope.as_json(), "due": due.isoformat()}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def check(*, plan: Plan, title: str, due: date, as_of: date) -> None:
    """What can be said wrong before anything is started (the CLI asks before it submits a flow run)."""
    if not textgate.clean(title, limit=textgate.TITLE_LIMIT, field="督导名称"):
        raise CampaignError("督导名称不能为空")
    calendar = WorkingCalendar(plan.calendar)
    if refusal := calendar.outside(due, "反馈截止日期"):
        raise CampaignError(refusal)
    if due <= as_of:
        raise CampaignError(f"反馈截止日期（{cn_date(due)}）须晚于发起日期（{cn_date(as_of)}）")
    if not calendar.is_working_day(due):
        raise CampaignError(f"反馈截止日期（{cn_date(due)}）不是工作日，请改为工作日")


def start(session: Session, plan: Plan, *, title: str, scope: Scope, due: date, as_of: date, by: str) -> Started:
    check(plan=plan, title=title, due=due, as_of=as_of)
    title = title.strip()
    calendar = WorkingCalendar(plan.calendar)
    key = campaign_key(title, scope, due)
    existing = session.exec(select(Campaign).where(Campaign.key == key)).first()
    if existing is not None:
        return Started(existing.id, False, units_of(session, existing.id))
    states = select_items(session, plan, scope, as_of)
    if not states:
        raise CampaignError(f"没有符合条件的未销号问题（{scope.describe(plan)}），未发起督导")
    values = {
        "key": key,
        "title": title,
        "scope": scope.as_json(),
        "started_on": as_of,
        "started_by": by,
        "due": due,
        "closes_on": add_working_days(calendar, due, plan.campaigns.close_after_working_days),
        "created_at": datetime.now(UTC),
    }
    new = insert_once(session, Campaign, values, key=["key"])
    campaign = session.exec(select(Campaign).where(Campaign.key == key)).one()
    if new:
        for state in states:
            item = {
                "campaign_id": campaign.id,
                "item_code": state.code,
                "unit": state.responsible_unit,
                "lead_department": state.lead_department,
                "status_at_start": state.status,
                "deadline_at_start": state.deadline,
                "progress": "",
                "measures": "",
            }
            insert_once(session, CampaignItem, item, key=["campaign_id", "item_code"])
        audit.record(
            session,
            actor=by,
            subject="campaign",
            key=str(campaign.id),
            action="start",
            effective_on=as_of,
            after={**values, "created_at": None, "items": [s.code for s in states]},
        )
    session.flush()
    return Started(campaign.id, new, units_of(session, campaign.id))


def units_of(session: Session, campaign_id: int) -> list[str]:
    return units_in(items_of(session, campaign_id))


def units_in(rows: list[CampaignItem]) -> list[str]:
    """Everyone a campaign tells: the responsible units, then the lead departments over them."""
    responsible = [r.unit for r in rows]
    supervising = [r.lead_department for r in rows if r.lead_department != r.unit]
    return list(dict.fromkeys(responsible + supervising))


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"没有编号为{campaign_id}的专项督导")
    return campaign


def items_of(session: Session, campaign_id: int, unit: str | None = None) -> list[CampaignItem]:
    query = select(CampaignItem).where(CampaignItem.campaign_id == campaign_id)
    if unit is not None:
        query = query.where(CampaignItem.unit == unit)
    return list(session.exec(query.order_by(col(CampaignItem.item_code))))


def form_path(campaign: Campaign, unit: str) -> Path:
    """Where the unit's response form is kept (and attached to its request)."""
    return under(config.home(), "campaigns", str(campaign.id), f"{unit}-督导反馈表.xlsx")


def ask(session: Session, plan: Plan, campaign_id: int, unit: str) -> int:
    """Tell one unit: the items it must answer on (with its form), or those it supervises; once each."""
    from duban.campaign.forms import write_response_form

    campaign = get_campaign(session, campaign_id)
    if unit in told(session, campaign_id):
        return 0
    own = items_of(session, campaign_id, unit)
    supervised = [
        i
        for i in session.exec(
            select(CampaignItem).where(CampaignItem.campaign_id == campaign_id, CampaignItem.lead_department == unit)
        )
        if i.unit != unit
    ]
    codes = [i.item_code for i in own + supervised]
    ledger = {i.code: i for i in session.exec(select(LedgerItem).where(col(LedgerItem.code).in_(codes)))}
    common = {"title": campaign.title, "due": campaign.due, "campaign_id": campaign.id}
    added = 0
    if own:
        path = form_path(campaign, unit)
        write_response_form(session, plan, campaign, unit, path)
        added += notify(
            session,
            plan,
            key=f"campaign:{campaign.id}:ask:{unit}",
            kind="campaign_request",
            recipient=unit,
            as_of=campaign.started_on,
            attachments=[str(path)],
            items=[_brief(ledger[i.item_code]) for i in own],
            page=f"/campaigns/{campaign.id}",
            **common,
        )
    if supervised:
        added += notify(
            session,
            plan,
            key=f"campaign:{campaign.id}:supervise:{unit}",
            kind="campaign_supervise",
            recipient=unit,
            as_of=campaign.started_on,
            units=sorted({i.unit for i in supervised}),
            items=[_brief(ledger[i.item_code]) for i in supervised],
            page=f"/campaigns/{campaign.id}",
            **common,
        )
    return added


def told(session: Session, campaign_id: int) -> set[str]:
    """The units whose request (or notice) is in the outbox: the record that they were told."""
    prefixes = (f"campaign:{campaign_id}:ask:", f"campaign:{campaign_id}:supervise:")
    query = select(OutboxMessage.idempotency_key).where(
        or_(*(col(OutboxMessage.idempotency_key).startswith(p) for p in prefixes))
    )
    return {key.split("|", 1)[0].rsplit(":", 1)[1] for key in session.exec(query)}


def _brief(item: LedgerItem) -> dict:
    return {"code": item.code, "township": item.township, "community": item.community, "unit": item.responsible_unit}
