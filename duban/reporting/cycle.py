"""The scheduled steps of the round as plain functions: what each flow does for one `as_of` date.

Each step is one transaction and is safe to run again: a second run for the same day finds its
requests, reminders, escalations and messages already there and adds nothing.
"""

from __future__ import annotations

from datetime import date

from duban.assessment.kept import keep_closed
from duban.db import session_scope
from duban.desk.acknowledge import unacknowledged
from duban.reporting.chasing import Reminders, remind
from duban.reporting.escalation import LadderRun, late_submissions, overdue_work, run_ladder, tell_raised
from duban.reporting.periods import period_of
from duban.reporting.rounds import RoundOpened, open_round
from duban.stored_plan import current_plan


def open_period(as_of: date) -> RoundOpened | None:
    """Open the round of `as_of`'s month; None when the plan has no round that month."""
    period = period_of(as_of)
    with session_scope() as session:
        plan = current_plan(session)
        if not plan.reporting.covers(period):
            return None
        return open_round(session, plan, period, as_of)


def chase_submissions(as_of: date) -> tuple[Reminders, LadderRun]:
    """Reminders before the due dates, and the first escalation once a due date has passed."""
    with session_scope() as session:
        plan = current_plan(session)
        reminders = remind(session, plan, as_of)
        ladder = run_ladder(
            session, plan, late_submissions(session, as_of), as_of, max_level=1, scope=("missing_submission",)
        )
        return reminders, ladder


def escalate_overdue(as_of: date) -> LadderRun:
    """The whole ladder, for missing reports, overdue items and milestones, and requests not acknowledged:
    one digest per recipient and level for all of them. Then, in a transaction of its own, the closed
    months' assessment kept up to date (duban/assessment/kept.py): checked, and assessed again when
    missing or stale."""
    with session_scope() as session:
        plan = current_plan(session)
        causes = late_submissions(session, as_of) + overdue_work(session, plan, as_of)
        run = run_ladder(session, plan, causes, as_of, tell=False)
        unsigned = unacknowledged(session, plan, as_of)
        run_ladder(session, plan, unsigned, as_of, scope=("unacknowledged",), into=run, tell=False)
        tell_raised(session, plan, run, as_of)
    with session_scope() as session:
        keep_closed(session, current_plan(session), as_of)
    return run
