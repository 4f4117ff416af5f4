"""待办 as counts and lists: what a unit owes today, and what it has sent and waits on others for.

`owed` is what the menu's badge and the 待办 page both show, so they never disagree: a handful of
indexed counts, cheap enough to run on every page a signed-in person opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from time import monotonic

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from duban.db import engine, session_scope
from duban.desk import acknowledge
from duban.extensions.requests import awaiting as extension_queue
from duban.extensions.requests import listed as extension_requests
from duban.glossary import CORRECTION_STATE, EXTENSION_STATE, GATE_STATE, ITEM_STATUS, REPORT_STATUS, cn_period
from duban.mechanism import gates
from duban.mechanism.follow import ready_to_settle
from duban.plan import Plan
from duban.reporting.corrections import deciders, pending_corrections
from duban.reporting.reports import latest_version
from duban.stored_plan import current_plan
from models import (
    AssessmentAppeal,
    Campaign,
    CampaignItem,
    Deliverable,
    LedgerItem,
    Project,
    ProjectGate,
    Reassignment,
    ReportCorrection,
    ReportingPeriod,
    Review,
    Signature,
    Submission,
)

BADGE_SECONDS = 15  # how old the menu's count may be when another process made the change
BADGES_KEPT = 1_000
_badges: dict[tuple[str, str, str, date], tuple[float, Owed]] = {}
TO_DO = ("requested", "draft", "returned", "correcting")  # a report the unit still has to send (or send again)
WAITING = ("close_requested", "verified")  # a close-out asked for and not yet signed off


@dataclass(frozen=True)
class Owed:
    """How many things of each kind the unit owes; `total` is the menu's badge."""

    unsigned: int = 0
    reports: int = 0
    to_review: int = 0
    to_verify: int = 0
    to_close: int = 0
    to_sign: int = 0
    to_submit: int = 0
    campaigns: int = 0
    documents: int = 0
    filed: int = 0
    held: int = 0
    corrections: int = 0
    reassignments: int = 0  # proposals for the Office to decide
    extensions: int = 0  # extension requests awaiting this unit's decision
    appeals: int = 0  # 考核 appeals (申诉) for the Office to decide

    @property
    def total(self) -> int:
        return sum(self.__dict__.values())


def owed(session: Session, plan: Plan, unit: str, kind: str, as_of: date, known: dict[str, int] | None = None) -> Owed:
    """What the unit owes on `as_of`; a leader's unit owes nothing (it reads). `known`: counts the
    caller has from the lists it shows (待办), not counted again."""
    if kind not in ("township", "department", "office"):
        return Owed()
    known = known or {}

    def count(query) -> int:  # noqa: ANN001 - a select of one count
        return session.exec(query).one()

    def given(name: str, counting: Callable[[], int]) -> int:
        return known[name] if name in known else counting()

    department, office = kind == "department", kind == "office"
    items = select(func.count()).select_from(LedgerItem)
    return Owed(
        unsigned=given("unsigned", lambda: acknowledge.count_unsigned(session, as_of, unit)),
        reports=count(
            select(func.count())
            .select_from(Submission)
            .join(ReportingPeriod)
            .where(Submission.unit == unit, col(Submission.status).in_(TO_DO))
        ),
        to_review=given("to_review", lambda: len(to_review(session, unit))) if department else 0,
        to_verify=count(items.where(LedgerItem.lead_department == unit, LedgerItem.status == "close_requested"))
        if department
        else 0,
        to_close=count(items.where(LedgerItem.status == "verified")) if office else 0,
        to_sign=count(_signatures_awaited(unit).with_only_columns(func.count())),
        to_submit=count(_gates_to_submit(plan, unit).with_only_columns(func.count())),
        campaigns=count(
            select(func.count(func.distinct(Campaign.id)))
            .join(CampaignItem, col(CampaignItem.campaign_id) == col(Campaign.id))
            .where(
                CampaignItem.unit == unit,
                col(Campaign.closed_on).is_(None),
                col(CampaignItem.first_responded_on).is_(None),
            )
        ),
        documents=count(
            select(func.count())
            .select_from(Deliverable)
            .where(Deliverable.owner == unit, Deliverable.state != "issued")
        ),
        filed=count(
            select(func.count())
            .select_from(Deliverable)
            .where(Deliverable.state == "issued", col(Deliverable.verified_on).is_(None))
        )
        if office
        else 0,
        held=given("held", lambda: len(held_by_shortfalls(session, plan))) if office else 0,
        corrections=given("corrections", lambda: len(pending_corrections(session, unit))) if department else 0,
        reassignments=count(select(func.count()).select_from(Reassignment).where(Reassignment.state == "pending"))
        if office
        else 0,
        extensions=given("extensions", lambda: len(extension_queue(session, unit))),
        appeals=count(select(func.count()).select_from(AssessmentAppeal).where(AssessmentAppeal.state == "pending"))
        if office
        else 0,
    )


def badge(unit: str, kind: str, as_of: date) -> Owed:
    """The menu's count on every page: a dozen indexed counts, kept for `BADGE_SECONDS` per unit and day
    by this process (at 30,000 items they were a quarter of a page's work) and forgotten at any change
    made through it (`changed`); 待办 itself always counts afresh."""
    kept = _badges.get(_key(unit, kind, as_of))
    if kept is not None and monotonic() - kept[0] < BADGE_SECONDS:
        return kept[1]
    with session_scope() as session:
        return counted(session, current_plan(session), unit, kind, as_of)


def counted(
    session: Session, plan: Plan, unit: str, kind: str, as_of: date, known: dict[str, int] | None = None
) -> Owed:
    """`owed`, counted afresh (待办 itself), and kept as the menu's count from now on."""
    found = owed(session, plan, unit, kind, as_of, known)
    if len(_badges) >= BADGES_KEPT:
        _badges.clear()
    _badges[_key(unit, kind, as_of)] = (monotonic(), found)
    return found


def _key(unit: str, kind: str, as_of: date) -> tuple[str, str, str, date]:
    return str(engine().url), unit, kind, as_of  # one process may serve several homes (the tests)


def changed() -> None:
    """A change was made through this process: every unit's count is asked again."""
    _badges.clear()


def _signatures_awaited(unit: str):  # noqa: ANN202 - a select
    return (
        select(Signature.id)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .where(
            col(Signature.decision).is_(None),
            Signature.signer == unit,
            ProjectGate.state == "in_review",
            Signature.round == ProjectGate.round,
        )
    )


def _gates_to_submit(plan: Plan, unit: str):  # noqa: ANN202 - a select
    leads = [g.code for g in plan.mechanism.gates if g.lead == unit]
    return select(ProjectGate.id).where(
        col(ProjectGate.state).in_(("open", "returned")), col(ProjectGate.gate).in_(leads)
    )


def to_review(session: Session, department: str) -> list[Submission]:
    """Townships' submitted reports this department has not yet decided on (their latest version)."""
    waiting = []
    for submission in session.exec(
        select(Submission)
        .options(defer(Submission.items))  # thousands of codes a count never reads
        .where(Submission.kind == "township", Submission.status == "submitted")
    ):
        if department not in submission.reviewers:
            continue
        if department in undecided(session, submission):
            waiting.append(submission)
    return waiting


def undecided(session: Session, submission: Submission) -> list[str]:
    """The reviewers that have not yet decided on the submission's latest submitted version."""
    version = latest_version(session, submission, submitted_only=True)
    decided = set(
        session.exec(
            select(Review.department).where(Review.submission_id == submission.id, Review.version == version.version)
        )
    )
    return [r for r in submission.reviewers if r not in decided]


def held_by_shortfalls(session: Session, plan: Plan) -> list[tuple[Project, str, str]]:
    """Gates every signer approved that an unwaived shortfall holds: the Office's to waive or not (found
    among the gates whose round is all approved, not by reading every project in review)."""
    held = []
    for project in ready_to_settle(session):
        gate = gates.current_gate(session, project)
        if gate is not None and (shortfalls := gates.blocked(session, plan, project, gate)):
            held.append((project, gates.rule_of(plan, gate).name, shortfalls))
    return sorted(held, key=lambda h: h[0].code)


@dataclass(frozen=True)
class Waiting:
    """One thing the unit has sent that another unit has still to act on."""

    what: str
    page: str
    since: date | None
    by: str  # who acts next
    state: str


def waiting_on_others(session: Session, plan: Plan, unit: str, kind: str, limit: int) -> list[Waiting]:
    """本单位已提交、等待他方办理: close-outs awaiting verification or sign-off, reports awaiting review,
    gates awaiting signatures, corrections (申请更正) awaiting an answer."""
    found: list[Waiting] = []
    items = select(LedgerItem).where(col(LedgerItem.status).in_(WAITING))
    mine = LedgerItem.responsible_unit == unit
    if kind == "department":
        mine = mine | ((LedgerItem.lead_department == unit) & (LedgerItem.status == "verified"))
    for item in session.exec(items.where(mine).order_by(col(LedgerItem.code)).limit(limit)):
        by = item.lead_department if item.status == "close_requested" else plan.office.name
        step = "核验" if item.status == "close_requested" else "销号"
        found.append(
            Waiting(
                f"问题{item.code}销号申请（{item.community}）",
                f"/items/{item.code}",
                None,
                f"{by}{step}",
                ITEM_STATUS[item.status],
            )
        )
    reports = (
        select(Submission)
        .options(defer(Submission.items))
        .where(Submission.unit == unit, Submission.kind == "township", Submission.status == "submitted")
    )
    for submission in session.exec(reports.order_by(col(Submission.period)).limit(limit)):
        found.append(
            Waiting(
                f"{cn_period(submission.period)}整治进度报表（第{submission.version}版）",
                f"/reports/{submission.period}",
                submission.last_submitted_on,
                "、".join(undecided(session, submission)) + "审核",
                REPORT_STATUS["submitted"],
            )
        )
    asked = (
        select(ReportCorrection, Submission)
        .join(Submission, col(Submission.id) == ReportCorrection.submission_id)
        .where(Submission.unit == unit, ReportCorrection.state == "pending")
        .order_by(col(ReportCorrection.id))
        .limit(limit)
    )
    for correction, submission in session.exec(asked):
        found.append(
            Waiting(
                f"{cn_period(submission.period)}整治进度报表更正申请",
                f"/reports/{submission.period}",
                correction.requested_on,
                "、".join(deciders(submission)) + "答复",
                CORRECTION_STATE["pending"],
            )
        )
    for row in extension_requests(session, unit=unit, state="pending")[:limit]:
        if row.unit == unit:
            step = row.steps[row.step]
            found.append(
                Waiting(
                    f"问题{row.item_code}延期申请（第{row.id}号，申请延至{row.until.isoformat()}）",
                    f"/extensions/{row.id}",
                    row.requested_on,
                    f"{step['unit']}审批",
                    EXTENSION_STATE["pending"],
                )
            )
    leads = [g.code for g in plan.mechanism.gates if g.lead == unit]
    if leads:
        query = (
            select(ProjectGate, Project)
            .join(Project, ProjectGate.project_id == Project.id)
            .where(ProjectGate.state == "in_review", col(ProjectGate.gate).in_(leads))
            .order_by(col(Project.code))
            .limit(limit)
        )
        for gate, project in session.exec(query):
            pending = session.exec(
                select(Signature.signer).where(
                    Signature.gate_id == gate.id, Signature.round == gate.round, col(Signature.decision).is_(None)
                )
            ).all()
            name = gates.rule_of(plan, gate).name
            found.append(
                Waiting(
                    f"{project.code} {project.name} {name}（第{gate.round}轮）",
                    f"/projects/{project.code}",
                    gate.submitted_on,
                    ("、".join(pending) + "会签") if pending else "办公室确认配建缺口",
                    GATE_STATE["in_review"],
                )
            )
    return found
