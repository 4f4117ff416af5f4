"""A notice as a document: what a unit is asked to sign for (签收), read before it is signed.

Each request of `duban.desk.acknowledge` has one: its text as the outbox sent it to that unit (with the
reminders that followed), who issued it and how to reach them, what it asks and by when, what it is
about, and who signed for it and when. A notice stays readable after its cause has gone (the report
sent, the item closed, the escalation resolved): it is history, no longer asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session, col, select

from duban.calendar import WorkingCalendar
from duban.desk import acknowledge, supervision
from duban.glossary import ESCALATION_CAUSE, LEVEL, NOTICE_KIND, cn_date, cn_period
from duban.plan import Plan
from duban.reassign import notices as reassignment_notices
from duban.reporting.periods import add_working_days
from models import (
    Acknowledgement,
    Campaign,
    CampaignItem,
    Deliverable,
    Escalation,
    OutboxMessage,
    Project,
    ProjectGate,
    ReportingPeriod,
    Signature,
    Submission,
)

TEXT_FIRST = ("email", "file", "wecom")  # the plain text a clerk reads, before WeCom's markdown


@dataclass(frozen=True)
class Sent:
    """One message of the notice as it went to the unit."""

    label: str  # 通知, 催办提醒, 退回通知
    subject: str
    body: str
    created_on: date


@dataclass(frozen=True)
class Notice:
    kind: str
    key: str
    unit: str
    title: str
    raised_on: date
    issuer: str  # the unit that issued it (its short name)
    issuer_full: str
    issuer_contact: str
    asks: str
    due: date | None  # by when the thing asked is to be done; None: at once
    about: tuple[tuple[str, str], ...]  # (what, page)
    sent: tuple[Sent, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()  # further lines of the notice's card (label, value)
    signed_on: date | None = None
    signed_by: str = ""
    open: bool = True  # still asked for: its cause stands
    closed_because: str = ""  # why it is no longer asked for
    ack_due: date | None = None
    contacts: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # others to ask (unit, contact line)

    @property
    def kind_label(self) -> str:
        return NOTICE_KIND[self.kind]

    @property
    def page(self) -> str:
        return f"/notices/{self.kind}/{self.key}"

    @property
    def state(self) -> str:
        if self.signed_on is not None:
            return "已签收"
        return "待签收" if self.open else "无需签收"


def notice(session: Session, plan: Plan, unit: str, kind: str, key: str, as_of: date) -> Notice | None:
    """The unit's notice `kind`/`key`, or None when there is no such notice for this unit."""
    build = BUILDERS.get(kind)
    if build is None or len(key) > 160:
        return None
    found = build(session, plan, unit, key, as_of)
    if found is None:
        return None
    requested = {(r.kind, r.key): r for r in acknowledge.requests(session, as_of, unit)}
    request = requested.get((kind, key))
    ack = session.exec(
        select(Acknowledgement).where(
            Acknowledgement.request_kind == kind, Acknowledgement.request_key == key, Acknowledgement.unit == unit
        )
    ).first()
    calendar = WorkingCalendar(plan.calendar)
    return replace(
        found,
        open=request is not None,
        signed_on=ack.acknowledged_on if ack else None,
        signed_by=ack.person if ack else "",
        ack_due=add_working_days(calendar, found.raised_on, plan.portal.acknowledge_within_working_days),
        closed_because="" if request is not None else found.closed_because or "事由已消除，无需再签收",
    )


def sent(session: Session, unit: str, prefixes: list[tuple[str, str]]) -> tuple[Sent, ...]:
    """The messages to `unit` whose keys start as given (label, key prefix), one per message (the text
    channel's copy), oldest first."""
    chosen: dict[str, tuple[int, OutboxMessage, str]] = {}
    for label, prefix in prefixes:
        query = select(OutboxMessage).where(
            OutboxMessage.recipient == unit, col(OutboxMessage.idempotency_key).startswith(prefix, autoescape=True)
        )
        for row in session.exec(query):
            key = row.idempotency_key.split("|", 1)[0]
            rank = TEXT_FIRST.index(row.channel) if row.channel in TEXT_FIRST else len(TEXT_FIRST)
            if key not in chosen or rank < chosen[key][0]:
                chosen[key] = (rank, row, label)
    rows = sorted(chosen.values(), key=lambda c: (c[1].created_on, c[1].id))
    return tuple(Sent(label, row.subject, row.body, row.created_on) for _, row, label in rows)


def _office(plan: Plan) -> dict:
    office = plan.office
    return {
        "issuer": office.name,
        "issuer_full": office.full_name or office.name,
        "issuer_contact": plan.contact_line(office.name),
    }


def _leads(plan: Plan, names: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, plan.contact_line(n)) for n in dict.fromkeys(names) if plan.contact_line(n))


def _round(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    submission = session.exec(select(Submission).where(Submission.period == key, Submission.unit == unit)).first()
    period = session.get(ReportingPeriod, key)
    if submission is None or period is None or period.opened_on > as_of:
        return None
    if submission.kind == "township":
        asks = f"逐项填报{len(submission.items)}项问题的整治进度，报送{'、'.join(submission.reviewers)}审核"
    else:
        asks = f"审核各镇办报送的整治进度，汇总本部门牵头的{len(submission.items)}项问题报送{plan.office.name}"
    returned = submission.status == "returned" and submission.resubmit_due
    return Notice(
        "round",
        key,
        unit,
        f"{cn_period(key)}整治进度报送通知",
        period.opened_on,
        asks=asks,
        due=submission.resubmit_due if returned else submission.due_on,
        about=((f"{cn_period(key)}整治进度报送", f"/reports/{key}"),),
        sent=sent(
            session,
            unit,
            [
                ("通知", f"open:{key}:{unit}|"),
                ("催报提醒", f"remind:{key}:{unit}:"),
                ("退回通知", f"returned:{key}:{unit}:"),
            ],
        ),
        closed_because="本期报表已报送",
        contacts=_leads(plan, submission.reviewers),
        **_office(plan),
    )


def row_id(text: str) -> int | None:
    """A number as an address holds it: ASCII digits only (not ² or ①), small enough for a database id."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _campaign(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    if (number := row_id(key)) is None:
        return None
    campaign = session.get(Campaign, number)
    rows = list(
        session.exec(select(CampaignItem).where(CampaignItem.campaign_id == int(key), CampaignItem.unit == unit))
    )
    if campaign is None or not rows or campaign.started_on > as_of:
        return None
    return Notice(
        "campaign",
        key,
        unit,
        f"“{campaign.title}”专项督导通知",
        campaign.started_on,
        asks=f"逐项反馈{len(rows)}项问题的整改进展、下一步整改措施和承诺完成时限",
        due=campaign.due,
        about=((campaign.title, f"/campaigns/{campaign.id}"),),
        sent=sent(
            session,
            unit,
            [("通知", f"campaign:{campaign.id}:ask:{unit}|"), ("催办提醒", f"campaign:{campaign.id}:remind:{unit}:")],
        ),
        facts=(("涉及问题", "、".join(r.item_code for r in rows)),),
        closed_because="已反馈" if any(r.first_responded_on for r in rows) else "专项督导已结束",
        contacts=_leads(plan, sorted({r.lead_department for r in rows if r.lead_department != unit})),
        **_office(plan),
    )


ASKS = {
    "missing_submission": "立即报送逾期未报的整治进度",
    "overdue_item": "立即整改落实，加快推进，完成后申请销号，并将情况报领导小组办公室",
    "overdue_milestone": "立即完成逾期的时间节点并在月度报送中报告，并将情况报领导小组办公室",
    "campaign_response": "立即反馈专项督导问题的整改情况",
    "late_countersign": "立即在督办平台签署会签意见",
    "late_resubmission": "立即组织修改后重新提交联合审查",
    "overdue_deliverable": "立即印发并在督办平台上传印发文件",
}


def _escalation(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    e = session.get(Escalation, number) if (number := row_id(key)) is not None else None
    if e is None or e.unit != unit or e.cause == "unacknowledged" or e.raised_on > as_of:
        return None
    if e.item_code:
        subject = f"问题{e.item_code}"
    elif e.period:
        subject = f"{cn_period(e.period)}整治进度报送"
    elif e.cause == "campaign_response":
        subject = "专项督导"
    elif e.cause in ("late_countersign", "late_resubmission"):
        subject = f"项目{e.cause_key.split(':')[1]}"
    else:
        subject = "长效机制文件"
    about = ((subject, supervision.page_of(e)),)  # the page where the matter is answered, as 被督办事项 links it
    facts = [
        ("督办级别", f"{LEVEL[e.level]}（第{e.level}级）"),
        ("督办事由", ESCALATION_CAUSE.get(e.cause, "（未知）")),
        ("原定期限", cn_date(e.missed_due)),
    ]
    if e.level >= 3:
        facts.append(("督办领导", "分管副区长"))
    if e.resolved_on:
        facts.append(("解除督办", cn_date(e.resolved_on)))
    return Notice(
        "escalation",
        key,
        unit,
        f"{LEVEL[e.level]}通知（{about[0][0]}）",
        e.raised_on,
        asks=ASKS.get(e.cause, "立即办理"),
        due=None,
        about=about,
        sent=sent(session, unit, [("督办通知", f"{e.notice_key}|{unit}|")] if e.notice_key else []),
        facts=tuple(facts),
        closed_because="已解除督办" if e.resolved_on else "督办事由已消除",
        contacts=_leads(plan, [r for r in e.recipients if plan.unit_kind(r) == "department" and r != unit]),
        **_office(plan),
    )


def _gate(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    parts = key.split(":")
    if len(parts) != 3 or not parts[2].startswith("r") or (round_no := row_id(parts[2][1:])) is None:
        return None
    code, gate_code = parts[0], parts[1]
    row = session.exec(
        select(Signature, ProjectGate, Project)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .join(Project, ProjectGate.project_id == Project.id)
        .where(
            Project.code == code, ProjectGate.gate == gate_code, Signature.round == round_no, Signature.signer == unit
        )
    ).first()
    if row is None:
        return None
    signature, gate, project = row
    rule = plan.mechanism.gate(gate_code)
    name = rule.name if rule else "联合审查"
    raised = gate.submitted_on or as_of
    return Notice(
        "gate",
        key,
        unit,
        f"“{project.name}”{name}会签通知",
        raised,
        asks=f"对{project.name}（{project.code}）{name}签署会签意见：同意，或不同意并写明理由和整改要求",
        due=signature.due_on,
        about=((f"{project.code} {project.name}", f"/projects/{project.code}"),),
        sent=sent(
            session,
            unit,
            [
                ("通知", f"gate:{code}:{gate_code}:r{round_no}:ask|"),
                ("催办提醒", f"gate:{code}:{gate_code}:r{round_no}:remind:"),
            ],
        ),
        facts=(("提交轮次", f"第{round_no}轮"),),
        closed_because="已签署会签意见" if signature.decision else "本轮会签已结束",
        contacts=_leads(plan, [rule.lead] if rule and rule.lead != unit else []),
        **_office(plan),
    )


def _deliverable(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    row = session.exec(select(Deliverable).where(Deliverable.milestone == key, Deliverable.owner == unit)).first()
    if row is None:
        return None
    messages = sent(session, unit, [("催办提醒", f"deliverable:{key}:{unit}:remind:")])
    messages = tuple(m for m in messages if m.created_on <= as_of)
    if not messages:
        return None
    return Notice(
        "deliverable",
        key,
        unit,
        f"{row.title}印发提醒",
        messages[0].created_on,
        asks=f"按期印发{row.title}，印发后在督办平台上传印发文件，由领导小组办公室核验",
        due=row.due,
        about=((row.title, f"/deliverables#d-{row.milestone}"),),
        sent=messages,
        closed_because="文件已印发",
        **_office(plan),
    )


def _extension(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    from duban.extensions.messages import notice as extension_notice  # it builds on this module

    return extension_notice(session, plan, unit, key, as_of)


BUILDERS: dict[str, Callable[[Session, Plan, str, str, date], Notice | None]] = {
    "round": _round,
    "campaign": _campaign,
    "escalation": _escalation,
    "gate": _gate,
    "deliverable": _deliverable,
    "reassignment": reassignment_notices.notice,
    "extension": _extension,
}
