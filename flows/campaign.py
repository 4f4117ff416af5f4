"""Supervision campaigns as flows: started on demand by the Office, followed up every working morning."""

from __future__ import annotations

from datetime import date

from prefect import flow

from duban import config
from tasks.campaign import ask_unit, campaign_artifact, follow, start_campaign


@flow(name="supervision-campaign")
def supervision_campaign(
    title: str,
    due: date,
    as_of: date | None = None,
    categories: list[str] | None = None,
    facility_types: list[str] | None = None,
    townships: list[str] | None = None,
    departments: list[str] | None = None,
    stages: list[str] | None = None,
    overdue_only: bool = False,
    key_only: bool = False,
    started_by: str | None = None,
) -> dict[str, object]:
    """Select the items, then ask each unit concerned; a rerun finds the campaign and asks only who is left."""
    filters = {
        "categories": tuple(categories or ()),
        "facility_types": tuple(facility_types or ()),
        "townships": tuple(townships or ()),
        "departments": tuple(departments or ()),
        "stages": tuple(stages or ()),
        "overdue_only": overdue_only,
        "key_only": key_only,
    }
    as_of = as_of or config.today()
    started = start_campaign(title=title, due=due, as_of=as_of, by=started_by, filters=filters)
    messages = sum(ask_unit(started.campaign_id, unit) for unit in started.units)
    campaign_artifact(started.campaign_id, as_of)
    return {"campaign_id": started.campaign_id, "new": started.new, "units": len(started.units), "messages": messages}


@flow(name="follow-campaigns")
def follow_campaigns(as_of: date | None = None) -> dict[str, int]:
    """Remind before the response date, escalate non-responders after it, close with the bulletin."""
    as_of = as_of or config.today()
    done = follow(as_of)
    for campaign_id in done.closed:
        campaign_artifact(campaign_id, as_of)
    return {
        "reminders": len(done.reminders),
        "escalations": len(done.ladder.raised),
        "resolved": len(done.ladder.resolved),
        "closed": len(done.closed),
    }
