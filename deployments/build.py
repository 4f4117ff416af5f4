"""The scheduled flows as Prefect deployments, built from the plan's schedules (Asia/Shanghai)."""

from __future__ import annotations

from importlib import import_module

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

from deployments.dead_runs import HEARTBEAT_ENV
from deployments.schedules import TIMEZONE, deployed
from duban.plan import Plan

ON_DEMAND = "flows.campaign:supervision_campaign"  # started by `duban campaign start`, never on a schedule


def flow_of(entrypoint: str):  # noqa: ANN201 - a Prefect Flow
    module, name = entrypoint.split(":")
    return getattr(import_module(module), name)


def job_variables(working_dir: str | None) -> dict:
    """What a worker sets for each run: the checkout to run in, and heartbeats to tell a dead run from a live one."""
    return {**({"working_dir": working_dir} if working_dir else {}), "env": dict(HEARTBEAT_ENV)}


def build(plan: Plan, *, work_pool: str | None = None, working_dir: str | None = None) -> list[RunnerDeployment]:
    """One deployment per schedule (stable name, its cron in Beijing time), and the on-demand campaign;
    each runs one at a time.

    Entry points are module paths (flows.reporting.open_period), so a worker imports the installed
    packages instead of loading a file whose folder would shadow them.
    """
    common = {
        "concurrency_limit": 1,
        "work_pool_name": work_pool,
        "job_variables": job_variables(working_dir) if work_pool else None,
        "entrypoint_type": EntrypointType.MODULE_PATH,
        "tags": ["duban", plan.programme.code],
    }
    scheduled = [
        flow_of(schedule.flow).to_deployment(
            name=schedule.slug,
            schedule=Cron(schedule.cron, timezone=TIMEZONE, slug=f"{schedule.slug}-schedule"),
            description=f"{plan.programme.title}：{schedule.slug}",
            **common,
        )
        for schedule in deployed(plan)
    ]
    on_demand = flow_of(ON_DEMAND).to_deployment(
        name="supervision-campaign", description=f"{plan.programme.title}：专项督导（由区配套办发起）", **common
    )
    return [*scheduled, on_demand]
