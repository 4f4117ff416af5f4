"""Runs whose machine died: marked Crashed within minutes, so they stop holding their deployment's slot.

Every deployment runs one at a time (`concurrency_limit=1`). A run whose worker machine dies keeps its
slot until its lease runs out, and Prefect 3.8's engine renews that lease for 300 s at a time: a run
started by hand meanwhile waits in AwaitingConcurrencySlot. So every duban flow run sends a heartbeat
every HEARTBEAT_SECONDS (the shortest Prefect allows), and an automation on the server marks a
running flow run Crashed when no heartbeat, and no end, has come for SILENT_SECONDS. A Crashed run
frees its slot at once, and every duban flow is safe to run again.
"""

from __future__ import annotations

from datetime import timedelta

HEARTBEAT_SECONDS = 30
SILENT_SECONDS = 90  # three heartbeats missed: a machine gone, not a slow network
AUTOMATION = "duban: crash flow runs that stopped sending heartbeats"
HEARTBEAT_ENV = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}


def ensure_automation() -> bool:
    """Create the automation on the server in PREFECT_API_URL unless it is there; True when created."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    try:
        Automation.read(name=AUTOMATION)
        return False
    except ValueError:  # not found
        pass
    Automation(
        name=AUTOMATION,
        description="duban 的流程每30秒发出心跳；90秒无心跳的运行（其所在机器已停止）标记为 Crashed，释放并发名额。",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
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
    ).create()
    return True
