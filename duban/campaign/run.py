"""The campaign's steps as plain functions, one transaction each: what the flows and the CLI call."""

from __future__ import annotations

from datetime import date

from duban import config
from duban.campaign.follow import FollowUp, follow
from duban.campaign.scope import Scope
from duban.campaign.start import Started, ask, start
from duban.db import session_scope
from duban.programme import current_plan


def start_campaign(*, title: str, due: date, as_of: date, by: str | None = None, **filters: object) -> Started:
    with session_scope() as session:
        plan = current_plan(session)
        scope = Scope.checked(plan, **filters)
        return start(session, plan, title=title, scope=scope, due=due, as_of=as_of, by=by or plan.office.name)


def ask_unit(campaign_id: int, unit: str) -> int:
    with session_scope() as session:
        return ask(session, current_plan(session), campaign_id, unit)


def run_campaign(*, title: str, due: date, as_of: date, by: str | None = None, **filters: object) -> Started:
    """Without the engine: start (or find) the campaign, then tell every unit concerned, one at a time."""
    started = start_campaign(title=title, due=due, as_of=as_of, by=by, **filters)
    for unit in started.units:
        ask_unit(started.campaign_id, unit)
    return started


def follow_campaigns(as_of: date) -> FollowUp:
    with session_scope() as session:
        return follow(session, current_plan(session), as_of, config.home() / "bulletins")
