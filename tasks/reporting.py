"""The monthly round's steps, as the engine sees them: one task run per step over all units."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.reporting import cycle
from duban.reporting.chasing import Reminders
from duban.reporting.escalation import LadderRun
from duban.reporting.rounds import RoundOpened


@task(name="open-round", cache_policy=NO_CACHE)
def open_round(as_of: date) -> RoundOpened | None:
    return cycle.open_period(as_of)


@task(name="chase-and-first-escalation", cache_policy=NO_CACHE)
def chase(as_of: date) -> tuple[Reminders, LadderRun]:
    return cycle.chase_submissions(as_of)


@task(name="run-escalation-ladder", cache_policy=NO_CACHE)
def escalate(as_of: date) -> LadderRun:
    return cycle.escalate_overdue(as_of)


@task(name="round-artifact", cache_policy=NO_CACHE)
def round_artifact(as_of: date) -> None:
    """Mirror the round's state in the Prefect UI (the database remains the record)."""
    from prefect.artifacts import create_table_artifact

    from duban.db import session_scope
    from duban.glossary import ESCALATION_CAUSE as CAUSE_LABELS
    from duban.glossary import LEVEL as LEVEL_LABELS
    from duban.reporting.periods import period_of
    from duban.reporting.view import escalation_counts, period_view
    from duban.stored_plan import current_plan

    period = period_of(as_of)
    with session_scope() as session:
        plan = current_plan(session)
        if not plan.reporting.covers(period):
            return
        view = period_view(session, plan, period, as_of, escalations=False)
        counts = escalation_counts(session, period, as_of)
    rows = [
        {
            "单位": s["unit"],
            "截止": s["due_on"],
            "状态": s["status_label"],
            "报送日期": s["last_submitted_on"] or "",
            "迟报": "是" if s["late"] else "",
            "逾期未报": "是" if s["overdue"] else "",
        }
        for s in view["submissions"]
    ]
    rows += [  # the escalations counted by unit, cause and level: thousands of items would be thousands of rows
        {
            "单位": unit,
            "截止": "",
            "状态": f"{CAUSE_LABELS[cause]}·{LEVEL_LABELS[level]}",
            "报送日期": f"{n}项",
            "迟报": "",
            "逾期未报": "",
        }
        for unit, cause, level, n in counts
    ]
    create_table_artifact(
        key=f"round-{period}",
        table=rows or [{"单位": "", "状态": "本期无报送任务"}],
        description=f"{period} 报送情况（截至 {as_of.isoformat()}）",
    )
