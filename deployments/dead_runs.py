"""Runs whose machine died: marked Crashed within minutes, so they stop holding their deployment's slot.

Every deployment runs one at a time (`concurrency_limit=1`). A run whose worker machine dies keeps its
slot until its lease runs out, and Prefect 3.8's engine renews that lease for 300 s at a time: a run
started by hand meanwhile waits in AwaitingConcurrencySlot. So every duban flow run sends a heartbeat
every HEARTBEAT_SECONDS (the shortest Prefect allows), and an automation on the server marks a
flow run Crashed when, after it started (or sent a heartbeat), no heartbeat and no end has come for
SILENT_SECONDS. A Crashed run frees its slot at once, and every duban flow is safe to run again.
Only runs of duban's deployments are watched; flows run by `duban tick` in-process send no
heartbeats and are not.

`duban serve` owns its server: when it starts, no run of a previous serve can still be working, so
the runs that one left unfinished (a power cut, a kill) are marked Crashed at once.
"""

from __future__ import annotations

from datetime import timedelta

HEARTBEAT_SECONDS = 30
SILENT_SECONDS = 90  # three heartbeats missed: a machine gone, not a slow network
AUTOMATION = "duban: crash flow runs that stopped sending heartbeats"
TAG = "prefect.tag.duban"  # deployments/build.py tags every deployment, and so every run of it, "duban"
HEARTBEAT_ENV = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}


def ensure_automation() -> bool:
    """Create the automation on the server in PREFECT_API_URL, or bring an older one up to date; True
    when it was created or changed."""
    from prefect.automations import Automation

    wanted = _automation()
    try:
        existing = Automation.read(name=AUTOMATION)
    except ValueError:  # not found
        wanted.create()
        return True
    if _essence(existing) == _essence(wanted):
        return False
    existing.trigger, existing.actions, existing.description = wanted.trigger, wanted.actions, wanted.description
    existing.update()
    return True


async def crash_unfinished(deployment_names: list[str]) -> list[str]:
    """Mark Crashed the runs of these deployments still pending, running or cancelling; their names."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    unfinished = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=deployment_names)),
        )
        for run in runs:
            await client.set_flow_run_state(run.id, Crashed(message=LEFT_BEHIND), force=True)
    return [run.name for run in runs]


def _essence(automation) -> tuple:  # noqa: ANN001 - a prefect Automation
    return automation.trigger.model_dump(exclude={"id"}), automation.actions, automation.description


LEFT_BEHIND = "duban serve 重新启动：上次运行时此流程未正常结束（进程已不存在）"


def _automation():  # noqa: ANN202 - a prefect Automation
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=AUTOMATION,
        description="duban 的流程每30秒发出心跳；开始运行或上次心跳后90秒无心跳、也未结束的运行（其所在机器已停止）"
        "标记为 Crashed，释放并发名额。",
        trigger=EventTrigger(
            after={"prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.Running",
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            # duban's runs only (its deployments' tag): another team's runs on a shared server are theirs
            match_related=ResourceSpecification({"prefect.resource.role": "tag", "prefect.resource.id": TAG}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=SILENT_SECONDS),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"{SILENT_SECONDS}秒未收到心跳：运行所在的机器或进程已停止",
            )
        ],
    )
