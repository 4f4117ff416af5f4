"""签收: a unit acknowledges each request it receives on the portal (the round's report, a campaign,
an escalation, a gate to countersign, a document the plan asks of it). A round, campaign or escalation
not acknowledged within the plan's working days is reminded on that day, then climbs the same ladder
as a missing report (a gate or a document is chased by its own ladder already). Only units with a
portal account are asked: a unit that cannot sign in cannot acknowledge. A request whose cause has
gone (the report sent, the campaign answered, the item closed) is no longer asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import String, cast
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from duban import audit, textgate
from duban.calendar import WorkingCalendar
from duban.db import insert_once
from duban.desk import supervision
from duban.glossary import cn_period
from duban.mechanism.deliverables import WORKING_STATES
from duban.plan import Plan
from duban.reassign import notices as reassignment_notices
from duban.reporting.escalation import OUTSTANDING, Cause, resolve_cause
from duban.reporting.periods import add_working_days
from duban.reporting.view import LEVEL_LABELS
from models import (
    Account,
    Acknowledgement,
    Campaign,
    CampaignItem,
    Deliverable,
    Escalation,
    OutboxMessage,
    ReportingPeriod,
    Submission,
)
from notifications.outbox import notify

RECENT_ROUNDS = 2  # a round older than the two latest is answered or escalated already
SIGNED_BATCH = 500  # keys per IN (...) list
KINDS = ("round", "campaign", "escalation", "gate", "deliverable", "reassignment", "extension")
LADDERED = ("round", "campaign", "escalation")  # a gate or a document late is escalated as such


class AcknowledgeError(ValueError):
    """The request is not this unit's to acknowledge; the message says why, in Chinese."""


@dataclass(frozen=True)
class Request:
    kind: str  # round | campaign | escalation | gate | deliverable
    key: str
    unit: str
    title: str
    raised_on: date
    page: str
    superiors: tuple[str, ...] = ()
    acknowledged_on: date | None = None
    acknowledged_by: str = ""
    due: date | None = None  # by when the thing asked is to be done (None: at once)

    @property
    def notice(self) -> str:
        """The notice's own page, where it is read before it is signed."""
        return f"/notices/{self.kind}/{self.key}"


def requests(session: Session, as_of: date, unit: str | None = None) -> list[Request]:
    """The requests open on `as_of` (for one unit, or every unit), with their acknowledgements."""
    found = _rounds(session, as_of, unit) + _campaigns(session, as_of, unit) + _escalations(session, as_of, unit)
    found += _gates(session, as_of, unit) + _deliverables(session, as_of, unit)
    found += reassignment_notices.requests(session, as_of, unit)
    found += _extensions(session, as_of, unit)
    done = _signed(session, found)
    shown = []
    for request in found:
        ack = done.get((request.kind, request.key, request.unit))
        if ack is not None:
            request = replace(request, acknowledged_on=ack.acknowledged_on, acknowledged_by=ack.person)
        shown.append(request)
    return shown


def _signed(session: Session, found: list[Request]) -> dict[tuple[str, str, str], Acknowledgement]:
    """The acknowledgements of these requests only: what was signed long ago for requests since closed
    is history, and a page does not read it."""
    keys: dict[str, set[str]] = {}
    for request in found:
        keys.setdefault(request.kind, set()).add(request.key)
    done = {}
    for kind, wanted in keys.items():
        ordered = sorted(wanted)
        for start in range(0, len(ordered), SIGNED_BATCH):
            query = select(Acknowledgement).where(
                Acknowledgement.request_kind == kind,
                col(Acknowledgement.request_key).in_(ordered[start : start + SIGNED_BATCH]),
            )
            for a in session.exec(query):
                done[(a.request_kind, a.request_key, a.unit)] = a
    return done


def unsigned(session: Session, as_of: date, unit: str) -> list[Request]:
    """The unit's open requests not yet signed for, oldest first: its 待签收."""
    return sorted(
        (r for r in requests(session, as_of, unit) if r.acknowledged_on is None),
        key=lambda r: (r.raised_on, KINDS.index(r.kind), r.key),
    )


def count_unsigned(session: Session, as_of: date, unit: str) -> int:
    """len(unsigned(...)), cheaply: the escalations (a township may have hundreds) are counted in SQL."""
    signed = (
        select(Acknowledgement.id)
        .where(
            Acknowledgement.request_kind == "escalation",
            Acknowledgement.request_key == cast(Escalation.id, String),
            Acknowledgement.unit == unit,
        )
        .exists()
    )
    query = select(func.count()).select_from(Escalation).where(*_escalation_terms(as_of), Escalation.unit == unit)
    escalations = session.exec(query.where(~signed)).one()
    others = _rounds(session, as_of, unit) + _campaigns(session, as_of, unit)
    others += _gates(session, as_of, unit) + _deliverables(session, as_of, unit)
    others += reassignment_notices.requests(session, as_of, unit)
    others += _extensions(session, as_of, unit)
    if not others:
        return escalations
    done = set(
        session.exec(
            select(Acknowledgement.request_kind, Acknowledgement.request_key).where(
                Acknowledgement.unit == unit, Acknowledgement.request_kind != "escalation"
            )
        ).all()
    )
    return escalations + sum(1 for r in others if (r.kind, r.key) not in done)


def acknowledge(session: Session, *, unit: str, kind: str, key: str, as_of: date, person: str) -> bool:
    """Record the unit's 签收 of one of its open requests; True when this call recorded it."""
    return acknowledge_many(session, unit=unit, keys=[(kind, key)], as_of=as_of, person=person, strict=True) == 1


def acknowledge_many(
    session: Session, *, unit: str, keys: list[tuple[str, str]], as_of: date, person: str, strict: bool = False
) -> int:
    """Record the unit's 签收 of each of the requests named (全部签收 names those it listed); returns how
    many this call recorded. One no longer open (its cause gone meanwhile) is passed over, or refused
    when `strict`; one already signed is not signed again."""
    cleaned = [(kind, textgate.clean(key, limit=160, field="签收事项")) for kind, key in keys]
    open_keys = {(r.kind, r.key) for r in requests(session, as_of, unit)}
    if strict and any(pair not in open_keys for pair in cleaned):
        raise AcknowledgeError("该事项不是本单位待签收的事项")
    return sum(
        _record(session, unit, kind, key, as_of, person)
        for kind, key in dict.fromkeys(cleaned)
        if (kind, key) in open_keys
    )


def _record(session: Session, unit: str, kind: str, key: str, as_of: date, person: str) -> bool:
    values = {
        "request_kind": kind,
        "request_key": key,
        "unit": unit,
        "acknowledged_on": as_of,
        "person": person,
        "at": datetime.now(UTC),
    }
    added = insert_once(session, Acknowledgement, values, key=["request_kind", "request_key", "unit"])
    if added:
        audit.record(
            session,
            actor=unit,
            subject="acknowledgement",
            key=f"{kind}:{key}",
            action="acknowledge",
            effective_on=as_of,
            after={"person": person},
        )
        resolve_cause(session, f"ack:{kind}:{key}:{unit}@", as_of)  # signed now: late in signing no more
    return added


def signed_up(session: Session) -> dict[str, date]:
    """The units with an account that works (only they are asked to acknowledge), and the day the
    first was opened: a request older than that is counted from that day, not from when it was sent."""
    query = (
        select(Account.unit, func.min(Account.opened_on)).where(col(Account.disabled).is_(False)).group_by(Account.unit)
    )
    return dict(session.exec(query).all())


def outstanding_by_unit(session: Session, as_of: date) -> list[tuple[str, int]]:
    """Who has not acknowledged, and how many requests, most first (what the Office watches)."""
    units = signed_up(session)
    counts: dict[str, int] = {}
    if units:
        for request in requests(session, as_of):
            if request.unit in units and request.acknowledged_on is None:
                counts[request.unit] = counts.get(request.unit, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def unacknowledged(session: Session, plan: Plan, as_of: date) -> list[Cause]:
    """Requests of units with a portal account, past their acknowledgement day and not acknowledged;
    each reminded once on that day (returned as causes for the ladder only once it has passed)."""
    calendar = WorkingCalendar(plan.calendar)
    within = plan.portal.acknowledge_within_working_days
    units = signed_up(session)
    if not units:
        return []
    causes = []
    for request in requests(session, as_of):
        if request.unit not in units or request.acknowledged_on is not None or request.kind not in LADDERED:
            continue
        due = add_working_days(calendar, max(request.raised_on, units[request.unit]), within)
        if as_of < due:
            continue
        if as_of == due or calendar.working_days_after(due, as_of) == 0:
            notify(
                session,
                plan,
                key=f"ack-remind:{request.kind}:{request.key}:{request.unit}",
                kind="acknowledge_reminder",
                recipient=request.unit,
                as_of=as_of,
                what=request.title,
                due=due,
                page="/",
            )
            continue
        causes.append(
            Cause(
                cause="unacknowledged",
                key=f"ack:{request.kind}:{request.key}:{request.unit}@{due}",
                unit=request.unit,
                superiors=request.superiors,
                missed_due=due,
                headline=f"{request.unit}逾期未签收{request.title}",
                context={"page": "/", "title": request.title},
            )
        )
    return causes


def _rounds(session: Session, as_of: date, unit: str | None) -> list[Request]:
    periods = session.exec(
        select(ReportingPeriod)
        .where(ReportingPeriod.opened_on <= as_of)
        .order_by(col(ReportingPeriod.period).desc())
        .limit(RECENT_ROUNDS)
    ).all()
    if not periods:
        return []
    opened = {p.period: p.opened_on for p in periods}
    # a report already sent has been received: only those still to send are asked for a 签收
    query = (
        select(Submission)
        .options(defer(Submission.items))
        .where(col(Submission.period).in_(opened), col(Submission.status).in_(OUTSTANDING))
    )
    if unit:
        query = query.where(Submission.unit == unit)
    return [
        Request(
            "round",
            s.period,
            s.unit,
            f"{cn_period(s.period)}整治进度报送通知",
            opened[s.period],
            f"/reports/{s.period}",
            tuple(s.reviewers),
            due=s.resubmit_due if s.status == "returned" and s.resubmit_due else s.due_on,
        )
        for s in session.exec(query.order_by(col(Submission.period), col(Submission.unit)))
    ]


def _campaigns(session: Session, as_of: date, unit: str | None) -> list[Request]:
    query = (
        select(
            Campaign.id,
            Campaign.title,
            Campaign.started_on,
            Campaign.due,
            CampaignItem.unit,
            CampaignItem.lead_department,
        )
        .join(CampaignItem, col(CampaignItem.campaign_id) == col(Campaign.id))
        .where(
            col(Campaign.closed_on).is_(None),
            Campaign.started_on <= as_of,
            col(CampaignItem.first_responded_on).is_(None),  # a unit that answered has received it
        )
        .distinct()
    )
    if unit:
        query = query.where(CampaignItem.unit == unit)
    superiors: dict[tuple[int, str], set[str]] = {}
    heads: dict[tuple[int, str], tuple[str, date, date]] = {}
    for campaign_id, title, started, due, who, lead in session.exec(query):
        heads[(campaign_id, who)] = (title, started, due)
        if lead != who:
            superiors.setdefault((campaign_id, who), set()).add(lead)
    return [
        Request(
            "campaign",
            str(campaign_id),
            who,
            f"“{title}”专项督导通知",
            started,
            f"/campaigns/{campaign_id}",
            tuple(sorted(superiors.get((campaign_id, who), ()))),
            due=due,
        )
        for (campaign_id, who), (title, started, due) in sorted(heads.items())
    ]


def _escalation_terms(as_of: date) -> tuple:
    """Open escalations whose cause still stands, but not those about acknowledging (they would ask to
    acknowledge themselves)."""
    return (supervision.live(as_of), Escalation.cause != "unacknowledged")


def _escalations(session: Session, as_of: date, unit: str | None) -> list[Request]:
    query = select(Escalation).where(*_escalation_terms(as_of))
    if unit:
        query = query.where(Escalation.unit == unit)
    found = []
    for e in session.exec(query.order_by(col(Escalation.id))):
        title = f"{LEVEL_LABELS[e.level]}通知（{supervision.title_of(e)}）"
        found.append(Request("escalation", str(e.id), e.unit, title, e.raised_on, supervision.page_of(e)))
    return found


def _gates(session: Session, as_of: date, unit: str | None) -> list[Request]:
    """Gates in review awaiting the unit's opinion in their current round (asked by the gate_review message)."""
    from duban.mechanism.follow import pending_signatures

    rows = sorted(pending_signatures(session, as_of, unit), key=lambda row: (row[2].code, row[0].id))
    if not rows:
        return []
    from duban.mechanism.gates import rule_of
    from duban.stored_plan import current_plan

    plan = current_plan(session)
    return [
        Request(
            "gate",
            f"{project.code}:{gate.gate}:r{gate.round}",
            signature.signer,
            f"“{project.name}”{rule_of(plan, gate).name}会签通知",
            gate.submitted_on,
            f"/projects/{project.code}",
            due=signature.due_on,
        )
        for signature, gate, project in rows
    ]


def _deliverables(session: Session, as_of: date, unit: str | None) -> list[Request]:
    """Documents not yet issued whose owner has been reminded of them (a deliverable_reminder message)."""
    query = select(OutboxMessage.idempotency_key, OutboxMessage.recipient, OutboxMessage.created_on).where(
        OutboxMessage.kind == "deliverable_reminder", OutboxMessage.created_on <= as_of
    )
    if unit:
        query = query.where(OutboxMessage.recipient == unit)
    first: dict[tuple[str, str], date] = {}
    for key, recipient, created in session.exec(query):
        milestone = key.split(":")[1]  # deliverable:{milestone}:{owner}:remind:{due}:{stage}|...
        first[(milestone, recipient)] = min(created, first.get((milestone, recipient), created))
    if not first:
        return []
    rows = select(Deliverable).where(col(Deliverable.state).in_(WORKING_STATES))
    if unit:
        rows = rows.where(Deliverable.owner == unit)
    return [
        Request(
            "deliverable",
            row.milestone,
            row.owner,
            f"{row.title}印发提醒",
            first[(row.milestone, row.owner)],
            "/deliverables",
            due=row.due,
        )
        for row in session.exec(rows.order_by(col(Deliverable.due), col(Deliverable.milestone)))
        if (row.milestone, row.owner) in first
    ]


def _extensions(session: Session, as_of: date, unit: str | None) -> list[Request]:
    """Extension requests awaiting the unit's decision, and their answers to the asking unit."""
    from duban.extensions.messages import requests as extension_requests

    return extension_requests(session, as_of, unit)
