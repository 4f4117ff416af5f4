"""The monthly round as scheduled flows. Each takes `as_of` and is safe to run again that day."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow

from duban import config
from tasks.reporting import chase, escalate, open_round, round_artifact


@flow(name="open-period")
def open_period(as_of: date | None = None) -> list[str]:
    """Open the month's round: requests for every unit with open items, and the notices."""
    as_of = as_of or config.today()
    opened = open_round(as_of)
    round_artifact(as_of)
    return opened.requests if opened else []


@flow(name="chase-submissions")
def chase_submissions(as_of: date | None = None) -> dict[str, int]:
    """Remind units before their due dates; raise the first escalation once a date has passed."""
    as_of = as_of or config.today()
    reminders, ladder = chase(as_of)
    round_artifact(as_of)
    return {"reminders": len(reminders.sent), "escalations": len(ladder.raised), "resolved": len(ladder.resolved)}


@flow(name="escalate-overdue")
def escalate_overdue(as_of: date | None = None) -> dict[str, int]:
    """Climb the ladder for missing reports, overdue items and overdue milestones; stop what cleared."""
    as_of = as_of or config.today()
    ladder = escalate(as_of)
    round_artifact(as_of)
    return {"escalations": len(ladder.raised), "resolved": len(ladder.resolved)}


@flow(name="tick")
def tick(as_of: date | None = None) -> list[str]:
    """Run, for one date, every flow the schedules would run that day, in order.

    The day's flows run inside this one flow run (their bodies, `.fn`), their tasks as its task runs: each
    flow run costs the engine about a second whatever its work, and a day of seven was most of a replay.
    Scheduled as deployments, each flow still runs on its own.
    """
    from deployments.schedules import due_on, end_of_office_day
    from duban.stored_plan import plan_in_force

    as_of = as_of or config.today()
    from flows.bulletin import monthly_bulletin
    from flows.campaign import follow_campaigns
    from flows.delivery import dispatch_outbox
    from flows.mechanism import follow_projects

    flows = {
        "open-period": open_period,
        "chase-submissions": chase_submissions,
        "escalate-overdue": escalate_overdue,
        "follow-campaigns": follow_campaigns,
        "follow-projects": follow_projects,
        "monthly-bulletin": monthly_bulletin,
    }
    ran = []
    plan = plan_in_force()
    for schedule in due_on(plan, as_of):
        if schedule.slug == "dispatch-outbox":
            dispatch_outbox.fn(at=end_of_office_day(plan, as_of))
        else:
            flows[schedule.slug].fn(as_of)
        ran.append(schedule.slug)
    return ran


@flow(name="replay")
def replay(start: date, end: date) -> list[list[str]]:
    """Every day from `start` to `end` as `tick` runs it, in one flow run: a replay pays the engine's cost
    of a flow run once, not once a day."""
    return [tick.fn(start + timedelta(days=n)) for n in range((end - start).days + 1)]
