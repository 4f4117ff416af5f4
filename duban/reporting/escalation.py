"""The escalation ladder (督办): what is late, how far up the chain it has gone, and when it stops.

Level 1 goes to the unit and its lead department (督办), level 2 to the Office (挂牌督办), level 3 to
the deputy district head in charge. Each cause is raised once per level; when the cause clears
(the report comes in, the item is closed, the milestone is done, the deadline is revised) its open
escalations are resolved and nothing further is raised for it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, literal, text, union_all
from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.db import insert_once
from duban.glossary import cn_period
from duban.items.closeout import TERMINAL
from duban.plan import Ladder, Plan
from duban.reassign.keys import suffix, times_moved
from duban.state.status import item_states, kept_state_answers, must_finish_lookup
from models import (
    Escalation,
    LedgerItem,
    MilestoneDone,
    PlanMilestone,
    RectificationPlan,
    ReportingPeriod,
    Submission,
)
from notifications.outbox import notify

OUTSTANDING = ("requested", "draft", "returned")
WORK_CAUSES = (
    "overdue_item",
    "overdue_milestone",
    "overdue_deliverable",
)  # the others (a report, a campaign response) are answers due


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


@dataclass(frozen=True)
class Raised:
    """An escalation raised in this run, with what its message says about it."""

    escalation: Escalation
    cause: Cause
    days_late: int


@dataclass
class LadderRun:
    raised: list[Escalation] = field(default_factory=list)
    resolved: list[Escalation] = field(default_factory=list)
    messages: int = 0
    # one run's digests share a key: unique, so a later run the same day queues its own, never merges into this
    batch: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    untold: list[Raised] = field(default_factory=list)  # raised, their messages not yet queued


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
    """Items past their deadline and milestones past their date, as things stood on `as_of`.

    Today's sweep is two indexed queries over the kept state; only an earlier day replays the log.
    """
    late = _late_today(session, as_of) if kept_state_answers(session, as_of) else _late_then(session, plan, as_of)
    must = must_finish_lookup(plan)
    names = {c.code: c.name for c in plan.categories}
    moved = times_moved(session, as_of)  # a moved item is chased afresh for its new units
    causes = []
    for code, community, category, facility_type, unit, lead, key, due, title in late:
        cause = "overdue_milestone" if title is not None else "overdue_item"
        context = {"community": community, "category": names[category]}
        if title is not None:
            context["milestone"] = title
        causes.append(
            Cause(
                cause=cause,
                key=(
                    f"item:{code}@{due}"
                    if title is None
                    else f"milestone:{code}@{due}:{hashlib.sha1(title.encode()).hexdigest()[:8]}"
                )
                + suffix(moved.get(code, 0)),
                unit=unit,
                superiors=(lead,) if lead != unit else (),
                missed_due=due,
                headline=f"问题{code}逾期未完成整改" if title is None else f"问题{code}时间节点逾期未完成",
                item_code=code,
                key_difficult=key,
                must_finish_by=must(category, facility_type),
                context=context,
            )
        )
    return causes


def _late_today(session: Session, as_of: date) -> list[tuple]:
    """Overdue items, then per item its overdue milestones not reported done, from the kept state."""
    item = LedgerItem.__table__.c
    columns = (item.code, item.community, item.category, item.facility_type)
    columns += (item.responsible_unit, item.lead_department, item.key_difficult)
    live = item.status.not_in(TERMINAL)
    overdue = select(*columns, item.deadline, literal(None), literal(0)).where(live, item.deadline < as_of)
    step, plan_row, done = PlanMilestone.__table__.c, RectificationPlan.__table__.c, MilestoneDone.__table__.c
    reported = (
        select(done.id)
        .where(done.item_code == item.code, done.due == step.due, done.title == step.title, done.done_on <= as_of)
        .exists()
    )
    steps = (
        select(*columns, step.due, step.title, step.seq)
        .join_from(
            LedgerItem, RectificationPlan, and_(plan_row.item_id == item.id, plan_row.revision == item.plan_revision)
        )
        .join(PlanMilestone, step.plan_id == plan_row.id)
        .where(live, step.due < as_of, ~reported)
    )
    rows = session.exec(union_all(overdue, steps).order_by(text("1"), text("10")))  # by code, item first
    return [row[:9] for row in rows]


def _late_then(session: Session, plan: Plan, as_of: date) -> list[tuple]:
    """The same rows as `_late_today`, for an earlier day: the item states replayed from the log."""
    done = {
        (m.item_code, m.due, m.title) for m in session.exec(select(MilestoneDone).where(MilestoneDone.done_on <= as_of))
    }
    rows = []
    for s in item_states(session, plan, as_of, open_only=True):
        if s.deadline is None:
            continue
        who = (s.code, s.community, s.category, s.facility_type, s.responsible_unit, s.lead_department, s.key_difficult)
        if s.deadline < as_of:
            rows.append((*who, s.deadline, None))
        rows += [(*who, due, title) for due, title in s.milestones if due < as_of and (s.code, due, title) not in done]
    return rows


def run_ladder(
    session: Session,
    plan: Plan,
    causes: list[Cause],
    as_of: date,
    *,
    max_level: int = 3,
    scope: tuple[str, ...] = ("missing_submission", "overdue_item", "overdue_milestone"),
    into: LadderRun | None = None,
    tell: bool = True,
) -> LadderRun:
    """Resolve what has cleared; on working days raise each cause to the level its lateness reaches.

    With `tell` the raised are told at once (`tell_raised`); without it they wait in `untold`, so that a
    caller running the ladder over several scopes (`into` the same run) sends one digest for them all.
    """
    run = into if into is not None else LadderRun()
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
    highest = _highest_levels(session, scope)
    for cause in causes:
        days_late = calendar.working_days_after(cause.missed_due, as_of)
        ladder = plan.escalation.overdue_item if cause.cause in WORK_CAUSES else plan.escalation.missing_submission
        level = _level(ladder, days_late)
        if level and cause.key_difficult:
            level = max(level, plan.escalation.key_items_start_level)
        level = min(level, max_level)
        if level == 0 or highest.get(cause.key, 0) >= level:
            continue
        escalation = _raise(session, plan, cause, level, as_of, notice_key(as_of, level, run.batch))
        if escalation is None:
            continue
        run.raised.append(escalation)
        run.untold.append(Raised(escalation, cause, days_late))
    if tell:
        tell_raised(session, plan, run, as_of)
    return run


def notice_key(as_of: date, level: int, batch: str) -> str:
    """The key of one run's digest at one level: the same for every recipient (the outbox adds who and how)."""
    return f"escalate:{as_of.isoformat()}:L{level}:{batch}"


def tell_raised(session: Session, plan: Plan, run: LadderRun, as_of: date) -> int:
    """Queue one message per recipient and level for what this run raised, listing the items.

    Exactly once: an escalation is raised once (`_raise`), in the same transaction as its message, and a
    run's digest key is its own, so a second run the same day raises and queues nothing, and a run that
    raises more later that day (a second sweep; the chase, then the ladder) queues a further digest listing
    only what it raised. One item is told in the single escalation's own words.
    """
    groups: dict[tuple[str, int], list[Raised]] = {}
    for raised in run.untold:
        for recipient in raised.escalation.recipients:
            groups.setdefault((recipient, raised.escalation.level), []).append(raised)
    queued = 0
    for (recipient, level), told in groups.items():
        common = {"key": notice_key(as_of, level, run.batch), "kind": "escalation", "recipient": recipient}
        common |= {"as_of": as_of, "urgent": level >= 2, "level": level}
        if len(told) == 1:
            queued += notify(session, plan, **common, **_facts(told[0]), page=page_of(told[0].cause))
        else:
            items = [_facts(raised) | {"page": page_of(raised.cause)} for raised in told]
            overdue = sum(1 for item in items if item["cause"] == "overdue_item")
            queued += notify(
                session, plan, **common, template="escalation_digest", items=items, overdue=overdue, page="/supervised"
            )
    run.untold.clear()
    run.messages += queued
    return queued


def _facts(raised: Raised) -> dict[str, object]:
    """What the escalation templates say about one raised cause."""
    cause = raised.cause
    return {
        "cause": cause.cause,
        "headline": cause.headline,
        "unit": cause.unit,
        "item_code": cause.item_code,
        "period": cause.period,
        "missed_due": cause.missed_due,
        "days_late": raised.days_late,
        "key_difficult": cause.key_difficult,
        "must_finish_by": cause.must_finish_by,
        "community": cause.context.get("community", ""),
        "category": cause.context.get("category", ""),
        "milestone": cause.context.get("milestone", ""),
        "title": cause.context.get("title", ""),
        "codes": cause.context.get("codes", ""),
    }


def resolve_item(session: Session, code: str, as_of: date) -> list[Escalation]:
    """An item closed or cancelled: its escalations (and those for not signing for them) are resolved at
    once, not at the next morning's sweep, so no page or count shows them in between."""
    query = select(Escalation).where(
        Escalation.item_code == code, col(Escalation.resolved_on).is_(None), col(Escalation.cause).in_(WORK_CAUSES)
    )
    return _resolve(session, list(session.exec(query)), as_of)


def resolve_cause(session: Session, key: str, as_of: date) -> list[Escalation]:
    """What was late is done (a campaign answered, an opinion signed, a gate submitted again, a document
    issued, a notice signed): the escalations of the cause whose key starts with `key` are resolved at
    once, as the next morning's sweep would, so that no page or count shows them in between."""
    query = select(Escalation).where(
        col(Escalation.resolved_on).is_(None), col(Escalation.cause_key).startswith(key, autoescape=True)
    )
    return _resolve(session, list(session.exec(query)), as_of)


def _resolve(session: Session, resolved: list[Escalation], as_of: date) -> list[Escalation]:
    """These escalations, and those for not signing for them."""
    for key in [f"ack:escalation:{e.id}:" for e in resolved]:
        unsigned = select(Escalation).where(
            Escalation.cause == "unacknowledged",
            col(Escalation.resolved_on).is_(None),
            col(Escalation.cause_key).startswith(key, autoescape=True),
        )
        resolved += list(session.exec(unsigned))
    for escalation in resolved:
        escalation.resolved_on = as_of
        session.add(escalation)
    return resolved


def page_of(cause: Cause) -> str:
    """The portal page where the late unit answers: the item, the round's report, the campaign."""
    if cause.item_code:
        return f"/items/{cause.item_code}"
    if cause.period:
        return f"/reports/{cause.period}"
    if cause.context.get("page"):
        return cause.context["page"]
    return "/"


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


def _highest_levels(session: Session, scope: tuple[str, ...]) -> dict[str, int]:
    """The level each open escalation reached: today's state, not the ladder's whole history (a
    cleared cause that comes back raises again only where `insert_once` finds no row)."""
    query = (
        select(Escalation.cause_key, func.max(Escalation.level))
        .where(col(Escalation.resolved_on).is_(None), col(Escalation.cause).in_(scope))
        .group_by(Escalation.cause_key)
    )
    return dict(session.exec(query).all())


def _raise(session: Session, plan: Plan, cause: Cause, level: int, as_of: date, notice: str) -> Escalation | None:
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
        "notice_key": notice,
    }
    return Escalation(**values) if insert_once(session, Escalation, values, key=["cause_key", "level"]) else None
