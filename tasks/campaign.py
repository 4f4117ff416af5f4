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
