"""Proposing a reassignment and the Office's decision on it; the move itself on approval."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.db import insert_once
from duban.glossary import REASSIGNED_ROLE, cn_date
from duban.items import rectification
from duban.items.closeout import TERMINAL, ensure_in_order, get_item
from duban.plan import Plan
from duban.reassign import ReassignError
from duban.reporting.escalation import resolve_item
from models import ExtensionRequest, LedgerItem, Reassignment
from notifications.outbox import notify

ROLES = ("township", "responsible", "lead")


@dataclass(frozen=True)
class Units:
    """An item's three units: where it is (镇办), who fixes it (责任单位), who leads (牵头部门)."""

    township: str
    responsible: str
    lead: str

    @classmethod
    def of(cls, item: LedgerItem) -> Units:
        return cls(item.township, item.responsible_unit, item.lead_department)

    def as_fields(self) -> dict[str, str]:
        """As the item's audit entries name them (duban/items/log.py replays these)."""
        return {"township": self.township, "responsible_unit": self.responsible, "lead_department": self.lead}


def before(r: Reassignment) -> Units:
    return Units(r.from_township, r.from_responsible, r.from_lead)


def after(r: Reassignment) -> Units:
    return Units(r.to_township, r.to_responsible, r.to_lead)


def gained(r: Reassignment) -> list[str]:
    """The units the move gives the item to: each gets a notice to sign for and a message."""
    old = set(before(r).__dict__.values())
    return [unit for unit in dict.fromkeys(after(r).__dict__.values()) if unit not in old]


def changes(r: Reassignment) -> list[tuple[str, str, str]]:
    """(role label, from, to) of each unit the proposal changes."""
    old, new = before(r), after(r)
    return [
        (REASSIGNED_ROLE[role], getattr(old, role), getattr(new, role))
        for role in ROLES
        if getattr(old, role) != getattr(new, role)
    ]


def described(r: Reassignment) -> tuple[str, str]:
    """调整前 and 调整后 as a clerk reads them: only the units that change."""
    moved = changes(r)
    return "；".join(f"{role}{old}" for role, old, _ in moved), "；".join(f"{role}{new}" for role, _, new in moved)


def proposers(plan: Plan, item: LedgerItem) -> set[str]:
    """Who may propose: the units concerned with the item, and the Office."""
    return {item.township, item.responsible_unit, item.lead_department, plan.office.name}


def targets(plan: Plan, item: LedgerItem, township: str | None, responsible: str | None, lead: str | None) -> Units:
    """The units asked for, checked against the plan; the responsible unit follows a new township when
    the item's township was its responsible unit and no other is named (the common case after a 摸排)."""
    township = (township or "").strip() or None
    responsible = (responsible or "").strip() or None
    lead = (lead or "").strip() or None
    if township is not None and plan.unit_kind(township) != "township":
        raise ReassignError(f"“{township}”不是实施方案中的镇办（街道）")
    if responsible is not None and plan.unit_kind(responsible) not in ("township", "department"):
        raise ReassignError(f"“{responsible}”不是实施方案中的镇办或部门，不能作为责任单位")
    if lead is not None and plan.unit_kind(lead) != "department":
        raise ReassignError(f"“{lead}”不是实施方案中的牵头部门")
    old = Units.of(item)
    if responsible is None and township is not None and old.responsible == old.township:
        responsible = township
    new = Units(township or old.township, responsible or old.responsible, lead or old.lead)
    if new == old:
        raise ReassignError(
            f"问题{item.code}的镇办、责任单位和牵头部门已是所填单位，无需调整：请填写要调整到的镇办、责任单位或牵头部门"
        )
    return new


def pending(session: Session, code: str) -> Reassignment | None:
    return session.exec(select(Reassignment).where(Reassignment.open_key == code)).first()


def propose(
    session: Session,
    plan: Plan,
    *,
    code: str,
    by: str,
    as_of: date,
    reason: str,
    township: str | None = None,
    responsible: str | None = None,
    lead: str | None = None,
) -> tuple[Reassignment, bool]:
    """File a proposal; (the proposal, True) when this call filed it. The same proposal again while it
    waits changes nothing; another one for the same item is refused until the first is decided."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="调整理由").strip()
    item = get_item(session, code)
    if plan.unit_kind(by) is None:
        raise ReassignError(f"未知单位“{by}”：不在实施方案的组织体系中")
    if by not in proposers(plan, item):
        raise ReassignError(
            f"“{by}”无权申请调整问题{code}的责任单位：只有镇办{item.township}、责任单位{item.responsible_unit}、"
            f"牵头部门{item.lead_department}或{plan.office.name}可以申请"
        )
    if item.status in TERMINAL:
        raise ReassignError(f"问题{code}已{'销号' if item.status == 'closed' else '撤销'}，不能再调整责任单位")
    new = targets(plan, item, township, responsible, lead)
    waiting = pending(session, item.code)
    if waiting is not None:
        if after(waiting) == new and waiting.reason == reason:
            return waiting, False
        raise ReassignError(
            f"问题{code}已有待决定的调整申请（第{waiting.id}号，{waiting.proposed_by}于{cn_date(waiting.proposed_on)}提出），"
            f"须待{plan.office.name}决定后再申请"
        )
    if not reason:
        raise ReassignError("申请调整责任单位须说明理由")
    old = Units.of(item)
    values = {
        "item_code": item.code,
        "open_key": item.code,
        "state": "pending",
        "proposed_by": by,
        "proposed_on": as_of,
        "proposer": audit.acting(by),
        "from_township": old.township,
        "from_responsible": old.responsible,
        "from_lead": old.lead,
        "to_township": new.township,
        "to_responsible": new.responsible,
        "to_lead": new.lead,
        "reason": reason,
        "decider": "",
        "answer": "",
    }
    if not insert_once(session, Reassignment, values, key=["open_key"]):  # a concurrent proposal got there first
        raise ReassignError(f"问题{code}已有待决定的调整申请，须待{plan.office.name}决定后再申请")
    made = pending(session, item.code)
    audit.record(
        session,
        actor=by,
        subject="reassignment",
        key=str(made.id),
        action="propose",
        effective_on=as_of,
        before={"item": item.code, **old.as_fields()},
        after={"item": item.code, **new.as_fields()},
        note=reason,
    )
    if by != plan.office.name:  # the Office decides: it is told (its 待办 counts the proposal too)
        _tell(session, plan, made, item, "reassign_proposed", plan.office.name, as_of, proposer=made.proposer)
    return made, True


def _tell(
    session: Session, plan: Plan, r: Reassignment, item: LedgerItem, kind: str, unit: str, as_of: date, **more: object
) -> None:
    notify(
        session,
        plan,
        key=f"reassign:{r.id}:{kind}",
        kind=kind,
        recipient=unit,
        as_of=as_of,
        number=r.id,
        item_code=item.code,
        community=item.community,
        category=plan.category(item.category).name,
        moved=changes(r),
        reason=r.reason,
        page="/reassignments" if kind == "reassign_proposed" else f"/items/{item.code}",
        **more,
    )


def decide(
    session: Session,
    plan: Plan,
    *,
    number: int,
    approve: bool,
    as_of: date,
    answer: str = "",
    deadline: date | None = None,
) -> tuple[Reassignment, bool]:
    """The Office approves (the item moves; `deadline` optionally sets a new one) or refuses with a reason;
    (the proposal, True) when this call decided it. The same decision again changes nothing."""
    answer = textgate.clean(answer, multiline=True, limit=textgate.NOTE_LIMIT, field="决定意见").strip()
    r = session.get(Reassignment, number)
    if r is None:
        raise ReassignError(f"没有第{number}号调整责任单位申请")
    if r.state != "pending":
        if r.state == ("approved" if approve else "refused") and (not approve or deadline in (None, r.new_deadline)):
            return r, False
        said = "同意" if r.state == "approved" else "不同意"
        raise ReassignError(f"第{number}号调整申请已于{cn_date(r.decided_on)}决定{said}，不能再作其他决定")
    if as_of < r.proposed_on:
        raise ReassignError(f"决定日期{cn_date(as_of)}早于申请日期{cn_date(r.proposed_on)}")
    if not approve:
        if not answer:
            raise ReassignError("不同意调整须说明理由")
        if deadline is not None:
            raise ReassignError("不同意调整时不能设定新的完成时限")
        _close(session, plan, r, "refused", as_of, answer, None)
        return r, True
    item = get_item(session, r.item_code)
    if item.status in TERMINAL:
        raise ReassignError(f"问题{item.code}已{'销号' if item.status == 'closed' else '撤销'}，不能再调整责任单位")
    if Units.of(item) != before(r):
        raise ReassignError(f"问题{item.code}的单位在申请后已有变更，请不同意本申请并重新提出")
    waiting = session.exec(
        select(ExtensionRequest.id).where(ExtensionRequest.item_code == item.code, ExtensionRequest.state == "pending")
    ).first()
    if waiting is not None:  # its approvers were the old units': decided first, by them
        raise ReassignError(f"问题{item.code}有待审批的第{waiting}号延期申请，须审批完毕后再同意调整责任单位")
    ensure_in_order(session, item, as_of)
    in_force = rectification.in_force(session, [item.id]).get(item.id)
    if deadline is not None:
        if in_force is None:
            raise ReassignError(f"问题{item.code}尚无整治方案，不能设定新的完成时限：请先制定整治方案")
        if deadline < as_of:
            raise ReassignError(f"新的完成时限{cn_date(deadline)}早于决定日期{cn_date(as_of)}")
        problems = rectification.milestone_problems(replace(in_force, deadline=deadline))
        if problems:
            raise ReassignError("；".join(problems))
    _close(session, plan, r, "approved", as_of, answer, deadline)
    _move(session, plan, r, item, in_force, as_of, deadline)
    return r, True


def _close(
    session: Session, plan: Plan, r: Reassignment, state: str, as_of: date, answer: str, deadline: date | None
) -> None:
    r.state, r.open_key, r.decided_on = state, None, as_of
    r.decider, r.answer, r.new_deadline = audit.acting(plan.office.name), answer, deadline
    session.add(r)
    audit.record(
        session,
        actor=plan.office.name,
        subject="reassignment",
        key=str(r.id),
        action="approve" if state == "approved" else "refuse",
        effective_on=as_of,
        before={"state": "pending"},
        after={"state": state, **({"deadline": deadline} if deadline else {})},
        note=answer,
    )
    if r.proposed_by != plan.office.name:  # the unit that asked hears the answer
        item = get_item(session, r.item_code)
        more = {"approved": state == "approved", "answer": answer, "proposed_on": r.proposed_on}
        _tell(session, plan, r, item, "reassign_decided", r.proposed_by, as_of, **more)


def _move(
    session: Session,
    plan: Plan,
    r: Reassignment,
    item: LedgerItem,
    in_force: rectification.PlanInput | None,
    as_of: date,
    deadline: date | None,
) -> None:
    """The item's units change (its audit entry tells the move, so the past keeps the old units), its plan
    gets a revision naming the new units, the old chase ends, and the new units are told."""
    old, new = Units.of(item), after(r)
    item.township, item.responsible_unit, item.lead_department = new.township, new.responsible, new.lead
    session.add(item)
    audit.record(
        session,
        actor=plan.office.name,
        subject="item",
        key=item.code,
        action="reassign",
        effective_on=as_of,
        before=old.as_fields(),
        after=new.as_fields(),
        note=f"第{r.id}号调整申请（{r.proposed_by}提出）：{r.reason}",
    )
    if in_force is not None:
        revised = replace(
            in_force, deadline=deadline or in_force.deadline, lead_unit=new.lead, responsible_unit=new.responsible
        )
        rectification.revise(
            session, item, revised, actor=plan.office.name, as_of=as_of, note=f"调整责任单位（第{r.id}号调整申请）"
        )
    session.flush()
    resolve_item(session, item.code, as_of)  # the old units' chase ends today; the new units' starts afresh
    for unit in gained(r):
        notify(
            session,
            plan,
            key=f"reassign:{r.id}:to",
            kind="reassigned",
            recipient=unit,
            as_of=as_of,
            item_code=item.code,
            community=item.community,
            category=plan.category(item.category).name,
            moved=changes(r),
            reason=r.reason,
            answer=r.answer,
            deadline=item.deadline,
            page=f"/items/{item.code}",
        )


def listing(session: Session, *, state: str | None = None, code: str | None = None) -> list[Reassignment]:
    """Proposals, pending first then the newest decided."""
    query = select(Reassignment)
    if state:
        query = query.where(Reassignment.state == state)
    if code:
        query = query.where(Reassignment.item_code == code)
    rows = session.exec(query.order_by(col(Reassignment.id).desc())).all()
    return sorted(rows, key=lambda r: r.state != "pending")


def as_dict(r: Reassignment) -> dict:
    """As `duban item reassignments --json` gives it."""
    return {
        "id": r.id,
        "item": r.item_code,
        "state": r.state,
        "proposed_by": r.proposed_by,
        "proposed_on": r.proposed_on.isoformat(),
        "proposer": r.proposer,
        "from": before(r).as_fields(),
        "to": after(r).as_fields(),
        "reason": r.reason,
        "decided_on": r.decided_on.isoformat() if r.decided_on else None,
        "decider": r.decider,
        "answer": r.answer,
        "deadline": r.new_deadline.isoformat() if r.new_deadline else None,
    }
