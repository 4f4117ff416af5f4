"""The schedules as data (from the plan file): the one source for `duban tick` and for deployments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cronsim import CronSim

from duban.config import TZ
from duban.plan import Plan

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Schedule:
    slug: str  # the deployment's stable name
    flow: str  # the flow's entry point, "module:function"
    cron: str


def schedules(plan: Plan) -> list[Schedule]:
    """In the order a day's work must happen: open the round, chase, escalate, campaigns, bulletin, deliver."""
    crons = plan.schedules
    return [
        Schedule("open-period", "flows.reporting:open_period", crons.open_period),
        Schedule("chase-submissions", "flows.reporting:chase_submissions", crons.chase_submissions),
        Schedule("escalate-overdue", "flows.reporting:escalate_overdue", crons.escalate_overdue),
        Schedule("follow-campaigns", "flows.campaign:follow_campaigns", crons.follow_campaigns),
        Schedule("follow-projects", "flows.mechanism:follow_projects", crons.follow_projects),
        Schedule("monthly-bulletin", "flows.bulletin:monthly_bulletin", crons.monthly_bulletin),
        Schedule("dispatch-outbox", "flows.delivery:dispatch_outbox", crons.dispatch_outbox),
    ]


def deployed(plan: Plan) -> list[Schedule]:
    """Every scheduled deployment: the programme's days, then the machine's backup (never part of a tick
    or replay, which re-run the programme's work, not the machine's)."""
    return [*schedules(plan), Schedule("backup", "flows.backup:backup", plan.schedules.backup)]


def fires_on(schedule: Schedule, day: date) -> bool:
    """Whether the cron fires at some time of `day` (Asia/Shanghai)."""
    start = datetime.combine(day, time.min, tzinfo=TZ) - timedelta(seconds=1)
    return next(iter(CronSim(schedule.cron, start))).date() == day


def due_on(plan: Plan, day: date) -> list[Schedule]:
    return [s for s in schedules(plan) if fires_on(s, day)]


def run_day(plan: Plan, day: date) -> list[tuple[str, object]]:
    """Without the engine: run, in order, the steps whose schedules fire on `day`."""
    from duban.bulletin.monthly import assemble_monthly
    from duban.campaign.run import follow_campaigns
    from duban.mechanism.run import follow_projects
    from duban.reporting import cycle
    from notifications.dispatch import dispatch

    steps = {
        "open-period": cycle.open_period,
        "chase-submissions": cycle.chase_submissions,
        "escalate-overdue": cycle.escalate_overdue,
        "follow-campaigns": follow_campaigns,
        "follow-projects": follow_projects,
        "monthly-bulletin": assemble_monthly,
        "dispatch-outbox": lambda d: dispatch(clock=lambda: end_of_office_day(plan, d)),
    }
    return [(schedule.slug, steps[schedule.slug](day)) for schedule in due_on(plan, day)]


def end_of_office_day(plan: Plan, day: date) -> datetime:
    """When a day's last dispatch runs: what a replay of that day delivers."""
    return datetime.combine(day, time.fromisoformat(plan.notifications.office_hours[1]), tzinfo=TZ)
