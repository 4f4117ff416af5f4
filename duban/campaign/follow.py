"""The daily follow-up of open campaigns: remind before the response date, escalate after it, close.

Run every working morning by the follow-campaigns schedule; safe to run again for the same day
(reminders and escalations are keyed, the bulletin is issued once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.campaign.start import ask, items_of, told, units_in
from duban.plan import Plan
from duban.reporting.escalation import Cause, LadderRun, run_ladder
from duban.reporting.periods import working_days_before
from models import Campaign, CampaignItem
from notifications.outbox import notify


@dataclass
class FollowUp:
    reminders: list[tuple[int, str, int]] = field(default_factory=list)  # (campaign, unit, working days before)
    ladder: LadderRun = field(default_factory=LadderRun)
    closed: list[int] = field(default_factory=list)
    asked: int = 0  # requests queued for units a crashed start had not reached


def follow(session: Session, plan: Plan, as_of: date, out_dir: Path) -> FollowUp:
    from duban.campaign.bulletin import issue_campaign_bulletin

    result = FollowUp()
    started = list(session.exec(select(Campaign).where(Campaign.started_on <= as_of).order_by(col(Campaign.id))))
    for campaign in started:
        if campaign.closed_on is None and campaign.closes_on <= as_of:
            issue_campaign_bulletin(session, plan, campaign, as_of, out_dir)
            campaign.closed_on = as_of
            session.add(campaign)
            result.closed.append(campaign.id)
    live = {c.id: (c, items_of(session, c.id)) for c in started if c.closed_on is None or c.closed_on > as_of}
    for campaign, rows in live.values():  # a start whose run died after selecting the items is finished here
        already = told(session, campaign.id)
        for unit in (u for u in units_in(rows) if u not in already):
            result.asked += ask(session, plan, campaign.id, unit)
    result.reminders = remind(session, plan, list(live.values()), as_of)
    causes = late_responses(list(live.values()), as_of)
    result.ladder = run_ladder(session, plan, causes, as_of, scope=("campaign_response",))
    session.flush()
    return result


def outstanding(rows: list[CampaignItem], as_of: date) -> dict[str, list[str]]:
    """Each unit's items with no response by `as_of`."""
    units: dict[str, list[str]] = {}
    for row in rows:
        if row.first_responded_on is None or row.first_responded_on > as_of:
            units.setdefault(row.unit, []).append(row.item_code)
    return units


def remind(
    session: Session, plan: Plan, campaigns: list[tuple[Campaign, list[CampaignItem]]], as_of: date
) -> list[tuple[int, str, int]]:
    calendar = WorkingCalendar(plan.calendar)
    sent: list[tuple[int, str, int]] = []
    if not calendar.is_working_day(as_of):
        return sent
    for campaign, rows in campaigns:
        if as_of > campaign.due:
            continue
        reached = [
            n
            for n in plan.campaigns.reminders_working_days_before
            if campaign.started_on < working_days_before(calendar, campaign.due, n) <= as_of
        ]
        if not reached:
            continue
        stage = min(reached)
        for unit, codes in outstanding(rows, as_of).items():
            if notify(
                session,
                plan,
                key=f"campaign:{campaign.id}:remind:{unit}:{stage}",
                kind="campaign_reminder",
                recipient=unit,
                as_of=as_of,
                title=campaign.title,
                due=campaign.due,
                codes=codes,
                days_left=calendar.working_days_after(as_of, campaign.due),
                page=f"/campaigns/{campaign.id}",
            ):
                sent.append((campaign.id, unit, stage))
    return sent


def late_responses(campaigns: list[tuple[Campaign, list[CampaignItem]]], as_of: date) -> list[Cause]:
    causes = []
    for campaign, rows in campaigns:
        if as_of <= campaign.due:
            continue
        for unit, codes in outstanding(rows, as_of).items():
            superiors = tuple(
                dict.fromkeys(r.lead_department for r in rows if r.unit == unit and r.lead_department != unit)
            )
            causes.append(
                Cause(
                    cause="campaign_response",
                    key=f"campaign:{campaign.id}:{unit}@{campaign.due}",
                    unit=unit,
                    superiors=superiors,
                    missed_due=campaign.due,
                    headline=f"{unit}未按期反馈“{campaign.title}”督导问题整改情况",
                    context={"title": campaign.title, "codes": "、".join(codes), "page": f"/campaigns/{campaign.id}"},
                )
            )
    return causes
