"""A campaign's steps as the engine sees them: one task to start it, one per unit told, one to follow up."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.campaign import run
from duban.campaign.follow import FollowUp
from duban.campaign.start import Started


@task(name="start-campaign", cache_policy=NO_CACHE)
def start_campaign(*, title: str, due: date, as_of: date, by: str | None, filters: dict) -> Started:
    return run.start_campaign(title=title, due=due, as_of=as_of, by=by, **filters)


@task(name="ask-unit", cache_policy=NO_CACHE, task_run_name="ask-{unit}")
def ask_unit(campaign_id: int, unit: str) -> int:
    return run.ask_unit(campaign_id, unit)


@task(name="follow-campaigns", cache_policy=NO_CACHE)
def follow(as_of: date) -> FollowUp:
    return run.follow_campaigns(as_of)


@task(name="campaign-artifact", cache_policy=NO_CACHE)
def campaign_artifact(campaign_id: int, as_of: date) -> None:
    """Mirror the campaign's answers in the Prefect UI (the database remains the record)."""
    from prefect.artifacts import create_table_artifact

    from duban.campaign.start import get_campaign
    from duban.campaign.view import ANSWERS, figures
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        data = figures(session, current_plan(session), get_campaign(session, campaign_id), as_of)
    create_table_artifact(
        key=f"campaign-{campaign_id}",
        table=[
            {"责任单位": u["unit"], "问题数": u["items"], **{ANSWERS[k]: u[k] for k in ANSWERS}} for u in data["units"]
        ],
        description=f"专项督导第{campaign_id}号“{data['campaign']['title']}”（截至 {as_of.isoformat()}）",
    )
