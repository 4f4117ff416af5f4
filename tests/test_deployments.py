"""The deployments carry the plan's schedules in Beijing time, with stable names and one run at a time."""

from __future__ import annotations

from conftest import PLAN

from deployments.build import build
from duban.plan import load_plan


def test_deployments_from_the_plan() -> None:
    plan, _ = load_plan(PLAN)
    deployments = {d.name: d for d in build(plan)}
    assert sorted(deployments) == ["chase-submissions", "dispatch-outbox", "escalate-overdue", "open-period"]
    expected = {
        "open-period": "0 8 1 * *",
        "chase-submissions": "0 9 * * *",
        "escalate-overdue": "30 9 * * *",
        "dispatch-outbox": "*/5 8-17 * * *",
    }
    for name, cron in expected.items():
        deployment = deployments[name]
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "Asia/Shanghai")
        assert schedule.slug == f"{name}-schedule"
        assert deployment.concurrency_limit == 1
        assert "community-facilities-2022" in deployment.tags
    assert deployments["open-period"].entrypoint == "flows.reporting.open_period"
    assert deployments["dispatch-outbox"].entrypoint == "flows.delivery.dispatch_outbox"
