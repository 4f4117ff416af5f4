"""The campaign's steps as plain functions, one transaction each: what the flows and the CLI call."""

from __future__ import annotations

from datetime import date

from duban import config
from duban.campaign.follow import FollowUp, follow
from duban.campaign.scope import CampaignError, Scope
from duban.campaign.start import Started, ask, start
from duban.db import session_scope
from duban.stored_plan import current_plan

DEPLOYMENT = "supervision-campaign/supervision-campaign"


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


def start_on_server(*, title: str, due: date, as_of: date, by: str | None, scope: Scope, key: str, wait: int) -> None:
    """Run the deployment; the idempotency key makes a second start return the first flow run.

    A run that had failed before this start (crashed, cancelled) does not block the campaign: the
    next key is derived from that run's id, so two starts after the same failure still make one run.
    """
    from prefect.deployments import run_deployment

    parameters = {
        "title": title,
        "due": due.isoformat(),
        "as_of": as_of.isoformat(),
        **scope.as_json(),
        "started_by": by,
    }
    idempotency_key = f"campaign-{key}"
    for _ in range(20):  # a run just made is never final: one found final and failed is an earlier one
        run = run_deployment(DEPLOYMENT, parameters=parameters, idempotency_key=idempotency_key, timeout=0)
        if not (run.state and run.state.is_final() and not run.state.is_completed()):
            break
        idempotency_key = f"campaign-{key}-after-{run.id}"
    run = run_deployment(DEPLOYMENT, parameters=parameters, idempotency_key=idempotency_key, timeout=wait)
    state = run.state
    if state is None or not state.is_final():
        raise CampaignError(
            f"流程运行 {run.name}（{run.id}）已提交，{wait}秒内尚未完成，请确认工作进程（worker）在运行"
        )
    if not state.is_completed():
        raise CampaignError(f"流程运行 {run.name}（{run.id}）未成功：{state.name}，{state.message or ''}")
