"""The deployments carry the plan's schedules in Beijing time, with stable names and one run at a time."""

from __future__ import annotations

from conftest import PLAN, ROOT

from deployments.build import build
from deployments.prefect_yaml import render
from duban.plan import load_plan

SCHEDULED = {
    "open-period": "0 8 1 * *",
    "chase-submissions": "0 9 * * *",
    "escalate-overdue": "30 9 * * *",
    "follow-campaigns": "45 9 * * *",
    "follow-projects": "50 9 * * *",
    "monthly-bulletin": "0 10 * * *",
    "dispatch-outbox": "*/5 8-17 * * *",
    "backup": "0 2 * * *",
}


def test_deployments_from_the_plan() -> None:
    plan, _ = load_plan(PLAN)
    deployments = {d.name: d for d in build(plan)}
    assert sorted(deployments) == sorted([*SCHEDULED, "supervision-campaign"])
    for name, cron in SCHEDULED.items():
        deployment = deployments[name]
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "Asia/Shanghai")
        assert schedule.slug == f"{name}-schedule"
        assert deployment.concurrency_limit == 1
        assert "community-facilities-2022" in deployment.tags
    assert deployments["open-period"].entrypoint == "flows.reporting.open_period"
    assert deployments["dispatch-outbox"].entrypoint == "flows.delivery.dispatch_outbox"
    assert deployments["monthly-bulletin"].entrypoint == "flows.bulletin.monthly_bulletin"
    assert deployments["backup"].entrypoint == "flows.backup.backup"
    campaign = deployments["supervision-campaign"]
    assert campaign.schedules == [] and campaign.concurrency_limit == 1
    assert campaign.entrypoint == "flows.campaign.supervision_campaign"
    assert campaign._parameter_openapi_schema.required == ["title", "due"]


def test_the_committed_prefect_yaml_is_what_the_plan_gives() -> None:
    plan, _ = load_plan(PLAN)
    committed = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert committed == render(plan, work_pool="duban", working_dir="/opt/duban")
    assert "cron: 0 10 * * *" in committed and "timezone: Asia/Shanghai" in committed
