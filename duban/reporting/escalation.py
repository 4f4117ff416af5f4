"""The escalation ladder (督办): what is late, how far up the chain it has gone, and when it stops.

Level 1 goes to the unit and its lead department (督办), level 2 to the Office (挂牌督办), level 3 to
the deputy district head in charge. Each cause is raised once per level; when the cause clears
(the report comes in, the item is closed, the milestone is done, the deadline is revised) its open
escalations are resolved and nothing further is raised for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.closeout import TERMINAL
from duban.db import insert_once
from duban.plan import Ladder, Plan
from duban.status import item_states
from models import Escalation, MilestoneDone, ReportingPeriod, Submission
from notifications.outbox import notify
from notifications.render import cn_period

OUTSTANDING = ("requested", "draft", "returned")
WORK_CAUSES = ("overdue_item", "overdue_milestone")  # the others (a report, a campaign response) are answers due


@dataclass(frozen=True)
class Cause:
    cause: str  # missing_submission | overdue_item | overdue_milestone | campaign_response
    key: str
    unit: str
    superiors: tuple[str, ...]
    missed_due: date
    headline: str
    item_code: str | None = None
    period: str | None = None
    key_difficult: bool = False
    must_finish_by: date | None = None
    context: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class LadderRun:
    raised: list[Escalation] = field(default_factory=list)
    resolved: list[Escalation] = field(default_factory=list)
    messages: int = 0


def late_submissions(session: Session, as_of: date) -> list[Cause]:
    causes = []
    query = (
        select(Submission)
        .join(ReportingPeriod)
        .where(ReportingPeriod.opened_on <= as_of, col(Submission.status).in_(OUTSTANDING))
        .order_by(col(Submission.id))
    )
    for submission in session.exec(query):
        due = submission.resubmit_due if submission.status == "returned" else submission.due_on
        if due is None or as_of <= due:
            continue
        superiors = tuple(submission.reviewers) if submission.kind == "township" else ()
        returned = "（退回后）" if submission.status == "returned" else ""
        causes.append(
            Cause(
                cause="missing_submission",
                key=f"submission:{submission.period}:{submission.unit}@{due}",
                unit=submission.unit,
                superiors=superiors,
                missed_due=due,
                period=submission.period,
                headline=f"{submission.unit}{cn_period(submission.period)}整治进度{returned}逾期未报送",
            )
        )
    return causes


def overdue_work(session: Session, plan: Plan, as_of: date) -> list[Cause]:
    """Items past their deadline and milestones past their date, as things stood on `as_of`."""
    done = {
        (m.item_code, m.due, m.title) for m in session.exec(select(MilestoneDone).where(MilestoneDone.done_on <= as_of))
    }
    causes = []
    for state in item_states(session, plan, as_of):
        if state.status in TERMINAL or state.deadline is None:
            continue
        common = {
            "unit": state.responsible_unit,
            "superiors": tuple(u for u in (state.lead_department,) if u != state.responsible_unit),
            "item_code": state.code,
            "key_difficult": state.key_difficult,
            "must_finish_by": state.must_finish_by,
        }
        context = {"community": state.community, "category": plan.category(state.category).name}
        if state.deadline < as_of:
            causes.append(
                Cause(
                    cause="overdue_item",
                    key=f"item:{state.code}@{state.deadline}",
                    missed_due=state.deadline,
                    headline=f"问题{state.code}逾期未完成整改",
                    context=context,
                    **common,
                )
            )
        for due, title in state.milestones:
            if due < as_of and (state.code, due, title) not in done:
                tag = hashlib.sha1(title.encode()).hexdigest()[:8]
                causes.append(
                    Cause(
                        cause="overdue_milestone",
                        key=f"milestone:{state.code}@{due}:{tag}",
                        missed_due=due,
                        headline=f"问题{state.code}时间节点逾期未完成",
                        context={**context, "milestone": title},
                        **common,
                    )
                )
    return causes


def run_ladder(
    session: Session,
    plan: Plan,
    causes: list[Cause],
    as_of: date,
    *,
    max_level: int = 3,
    scope: tuple[str, ...] = ("missing_submission", "overdue_item", "overdue_milestone"),
) -> LadderRun:
    """Resolve what has cleared; on working days raise each cause to the level its lateness reaches."""
    run = LadderRun()
    live = {cause.key for cause in causes}
    query = select(Escalation).where(  # a replay of an earlier day leaves later escalations alone
        col(Escalation.resolved_on).is_(None), col(Escalation.cause).in_(scope), Escalation.raised_on <= as_of
    )
    for escalation in session.exec(query):
        if escalation.cause_key not in live:
            escalation.resolved_on = as_of
            session.add(escalation)
            run.resolved.append(escalation)
    calendar = WorkingCalendar(plan.calendar)
    if not calendar.is_working_day(as_of):
        return run
    highest = _highest_levels(session)
    for cause in causes:
        days_late = calendar.working_days_after(cause.missed_due, as_of)
        ladder = plan.escalation.overdue_item if cause.cause in WORK_CAUSES else plan.escalation.missing_submission
        level = _level(ladder, days_late)
        if level and cause.key_difficult:
            level = max(level, plan.escalation.key_items_start_level)
        level = min(level, max_level)
        if level == 0 or highest.get(cause.key, 0) >= level:
            continue
        escalation = _raise(session, plan, cause, level, as_of)
        if escalation is None:
            continue
        run.raised.append(escalation)
        for recipient in escalation.recipients:
            run.messages += notify(
                session,
                plan,
                key=f"escalate:{cause.key}:L{level}",
                kind="escalation",
                recipient=recipient,
                as_of=as_of,
                urgent=level >= 2,
                cause=cause.cause,
                level=level,
                headline=cause.headline,
                unit=cause.unit,
                item_code=cause.item_code,
                period=cause.period,
                missed_due=cause.missed_due,
                days_late=days_late,
                key_difficult=cause.key_difficult,
                must_finish_by=cause.must_finish_by,
                community=cause.context.get("community", ""),
                category=cause.context.get("category", ""),
                milestone=cause.context.get("milestone", ""),
                title=cause.context.get("title", ""),
                codes=cause.context.get("codes", ""),
            )
    return run


def recipients(plan: Plan, level: int, unit: str, superiors: tuple[str, ...]) -> list[str]:
    """Level 1: the unit and its lead department; 2 adds the Office; 3 the deputy district head."""
    chain = [unit, *superiors]
    if level >= 2:
        chain.insert(0, plan.office.name)
    if level >= 3:
        deputy = next(l.name for l in plan.chain.leadership_group.leaders if l.role == "deputy")  # noqa: E741
        chain.insert(0, deputy)
    return list(dict.fromkeys(chain))


def _level(ladder: Ladder, days_late: int) -> int:
    return max(
        (
            n
            for n, threshold in ((1, ladder.level1), (2, ladder.level2), (3, ladder.level3))
            if days_late >= threshold and days_late > 0
        ),
        default=0,
    )


def _highest_levels(session: Session) -> dict[str, int]:
    levels: dict[str, int] = {}
    for key, level in session.exec(select(Escalation.cause_key, Escalation.level)):
        levels[key] = max(level, levels.get(key, 0))
    return levels


def _raise(session: Session, plan: Plan, cause: Cause, level: int, as_of: date) -> Escalation | None:
    """Insert once per (cause, level): a concurrent run that got there first wins, silently."""
    values = {
        "cause": cause.cause,
        "cause_key": cause.key,
        "level": level,
        "unit": cause.unit,
        "item_code": cause.item_code,
        "period": cause.period,
        "missed_due": cause.missed_due,
        "raised_on": as_of,
        "key_difficult": cause.key_difficult,
        "must_finish_by": cause.must_finish_by,
        "recipients": recipients(plan, level, cause.unit, cause.superiors),
    }
    if not insert_once(session, Escalation, values, key=["cause_key", "level"]):
        return None
    return session.exec(select(Escalation).where(Escalation.cause_key == cause.key, Escalation.level == level)).one()
