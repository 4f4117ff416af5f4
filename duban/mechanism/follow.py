"""The daily follow-up of the mechanism (follow-projects): the deliverables the plan asks for made,
gates whose signers all approved passed and the next opened, signers and owners reminded before
their dates, and the late escalated up the same ladder. Safe to run again for the same day: passing
is by state, every message and escalation is keyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.glossary import DELIVERABLE_STATE
from duban.mechanism import deliverables, gates
from duban.plan import Plan
from duban.reporting.escalation import Cause, LadderRun, run_ladder
from duban.reporting.periods import working_days_before
from models import Deliverable, Project, ProjectGate, Signature
from notifications.outbox import notify

SCOPE = ("late_countersign", "late_resubmission", "overdue_deliverable")


@dataclass
class ProjectFollowUp:
    made: int = 0  # deliverables made from the plan
    passed: list[str] = field(default_factory=list)  # project:gate
    reminders: int = 0
    ladder: LadderRun = field(default_factory=LadderRun)


def follow(session: Session, plan: Plan, as_of: date) -> ProjectFollowUp:
    result = ProjectFollowUp(made=deliverables.ensure(session, plan, as_of))
    for project in ready_to_settle(session):
        result.passed += [f"{project.code}:{g}" for g in gates.settle(session, plan, project, as_of)]
    waiting = pending_signatures(session, as_of)
    calendar = WorkingCalendar(plan.calendar)
    if calendar.is_working_day(as_of):
        result.reminders = _remind_signers(session, plan, calendar, waiting, as_of)
        result.reminders += _remind_owners(session, plan, calendar, as_of)
    causes = late_signers(plan, waiting, as_of) + late_resubmissions(session, plan, as_of)
    causes += late_deliverables(session, plan, as_of)
    result.ladder = run_ladder(session, plan, causes, as_of, scope=SCOPE)
    session.flush()
    return result


def ready_to_settle(session: Session) -> list[Project]:
    """Projects whose gate in review has every opinion of its round approved (to pass, or held by a
    shortfall): the only ones settle can move, found through the open gates' index rather than by
    settling, a few queries each, every project in review."""
    unapproved = select(Signature.id).where(
        Signature.gate_id == ProjectGate.id,
        Signature.round == ProjectGate.round,
        or_(col(Signature.decision).is_(None), Signature.decision != "approved"),
    )
    query = (
        select(Project)
        .join(ProjectGate, ProjectGate.project_id == Project.id)
        .where(ProjectGate.state == "in_review", ~unapproved.exists())
        .order_by(col(Project.id))
    )
    return list(session.exec(query))


def pending_signatures(
    session: Session, as_of: date, signer: str | None = None
) -> list[tuple[Signature, ProjectGate, Project]]:
    """Opinions still awaited in open rounds (of one signer, or all): bounded by today's open work, not by
    history. The daily sweep reminds and escalates them; 待签收 lists them."""
    query = (
        select(Signature, ProjectGate, Project)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .join(Project, ProjectGate.project_id == Project.id)
        .where(
            col(Signature.decision).is_(None),
            ProjectGate.state == "in_review",
            Signature.round == ProjectGate.round,
            ProjectGate.submitted_on <= as_of,
        )
        .order_by(col(Project.id), col(Signature.id))
    )
    if signer:
        query = query.where(Signature.signer == signer)
    return list(session.exec(query))


def _remind_signers(session: Session, plan: Plan, calendar: WorkingCalendar, waiting: list, as_of: date) -> int:
    sent = 0
    for signature, gate, project in waiting:
        if as_of > signature.due_on:
            continue
        stage = _stage(
            calendar, plan.mechanism.signers_reminded_working_days_before, gate.submitted_on, signature.due_on, as_of
        )
        if stage is None:
            continue
        rule = gates.rule_of(plan, gate)
        sent += notify(
            session,
            plan,
            key=f"gate:{project.code}:{gate.gate}:r{gate.round}:remind:{signature.signer}:{stage}",
            kind="gate_reminder",
            recipient=signature.signer,
            as_of=as_of,
            page=f"/projects/{project.code}",
            project=project.name,
            code=project.code,
            gate=rule.name,
            due=signature.due_on,
            days_left=calendar.working_days_after(as_of, signature.due_on),
        )
    return sent


def _remind_owners(session: Session, plan: Plan, calendar: WorkingCalendar, as_of: date) -> int:
    sent = 0
    query = select(Deliverable).where(col(Deliverable.state).in_(deliverables.WORKING_STATES), Deliverable.due >= as_of)
    asked = deliverables.asked_for(plan)
    for row in session.exec(query.order_by(col(Deliverable.id))):
        if (row.milestone, row.owner) not in asked:
            continue
        stage = _stage(calendar, plan.mechanism.reminders_working_days_before, plan.programme.start, row.due, as_of)
        if stage is None:
            continue
        sent += notify(
            session,
            plan,
            key=f"deliverable:{row.milestone}:{row.owner}:remind:{row.due}:{stage}",
            kind="deliverable_reminder",
            recipient=row.owner,
            as_of=as_of,
            page="/deliverables",
            title=row.title,
            due=row.due,
            state=DELIVERABLE_STATE[row.state],
            days_left=calendar.working_days_after(as_of, row.due),
        )
    return sent


def _stage(calendar: WorkingCalendar, days: tuple[int, ...], start: date, due: date, as_of: date) -> int | None:
    """The nearest reminder reached by `as_of` (one message per stage, none for stages before `start`),
    counted from the last working day on or before `due` (a plan's date may fall on a holiday)."""
    last = due if calendar.is_working_day(due) else working_days_before(calendar, due, 1)
    reached = [n for n in days if start < working_days_before(calendar, last, n) <= as_of]
    return min(reached) if reached else None


def late_signers(plan: Plan, waiting: list, as_of: date) -> list[Cause]:
    causes = []
    for signature, gate, project in waiting:
        if as_of <= signature.due_on:
            continue
        rule = gates.rule_of(plan, gate)
        title = f"{project.name}（{project.code}）{rule.name}"
        causes.append(
            Cause(
                cause="late_countersign",
                key=f"countersign:{project.code}:{gate.gate}:r{gate.round}:{signature.signer}@{signature.due_on}",
                unit=signature.signer,
                superiors=(rule.lead,) if rule.lead != signature.signer else (),
                missed_due=signature.due_on,
                headline=f"{signature.signer}逾期未签署{title}会签意见",
                context={"title": title, "page": f"/projects/{project.code}"},
            )
        )
    return causes


def late_resubmissions(session: Session, plan: Plan, as_of: date) -> list[Cause]:
    causes = []
    query = (
        select(ProjectGate, Project)
        .join(Project, ProjectGate.project_id == Project.id)
        .where(ProjectGate.state == "returned", ProjectGate.resubmit_due < as_of)
    )
    for gate, project in session.exec(query.order_by(col(ProjectGate.id))):
        rule = gates.rule_of(plan, gate)
        title = f"{project.name}（{project.code}）{rule.name}"
        causes.append(
            Cause(
                cause="late_resubmission",
                key=f"resubmit:{project.code}:{gate.gate}:r{gate.round}@{gate.resubmit_due}",
                unit=rule.lead,
                superiors=(),
                missed_due=gate.resubmit_due,
                headline=f"{rule.lead}逾期未重新提交{title}",
                context={"title": title, "page": f"/projects/{project.code}"},
            )
        )
    return causes


def late_deliverables(session: Session, plan: Plan, as_of: date) -> list[Cause]:
    """Documents past their date and not filed, of those the plan in force still asks for."""
    query = select(Deliverable).where(col(Deliverable.state).in_(deliverables.WORKING_STATES), Deliverable.due < as_of)
    asked = deliverables.asked_for(plan)
    return [
        Cause(
            cause="overdue_deliverable",
            key=f"deliverable:{row.milestone}:{row.owner}@{row.due}",
            unit=row.owner,
            superiors=(),
            missed_due=row.due,
            headline=f"{row.owner}{row.title}逾期未印发",
            context={"title": row.title, "page": "/deliverables"},
        )
        for row in session.exec(query.order_by(col(Deliverable.id)))
        if (row.milestone, row.owner) in asked
    ]
