"""Close-out (问题销号) as a state machine: who may move an item from which state to which.

The chain decides: the responsible unit works and asks for close-out, the lead department
verifies or returns, the Office closes, returns or cancels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from sqlmodel import Session, func, select

from duban import audit, textgate
from duban.files.paths import under
from duban.glossary import CHAIN_ROLE as ROLE_LABELS
from duban.glossary import ITEM_STATUS as STATUS_LABELS
from duban.glossary import TERMINAL
from duban.items.evidence import checked_bytes, kind_of
from duban.plan import Plan
from models import AuditEntry, Evidence, LedgerItem, RectificationPlan

Role = Literal["responsible", "lead", "office"]


class ClosureError(Exception):
    """A transition the chain does not allow; the message says why, in Chinese."""


@dataclass(frozen=True)
class Rule:
    source: str
    target: str
    roles: frozenset[Role]
    action: str
    needs_note: bool = False
    needs_evidence: bool = False


def _rules() -> list[Rule]:
    rules = [
        Rule("open", "planned", frozenset({"responsible", "lead", "office"}), "制定整治方案"),
        Rule("planned", "in_progress", frozenset({"responsible", "lead"}), "开始整改"),
        Rule("in_progress", "close_requested", frozenset({"responsible"}), "申请销号", True, True),
        Rule("close_requested", "verified", frozenset({"lead"}), "核验通过"),
        Rule("close_requested", "in_progress", frozenset({"lead"}), "退回整改", needs_note=True),
        Rule("verified", "closed", frozenset({"office"}), "销号"),
        Rule("verified", "in_progress", frozenset({"office"}), "退回整改", needs_note=True),
    ]
    rules += [
        Rule(state, "cancelled", frozenset({"office"}), "撤销", needs_note=True)
        for state in STATUS_LABELS
        if state not in TERMINAL
    ]
    return rules


RULES = _rules()


def roles_of(plan: Plan, item: LedgerItem, unit: str) -> set[Role]:
    roles: set[Role] = set()
    if unit == item.responsible_unit:
        roles.add("responsible")
    if unit == item.lead_department:
        roles.add("lead")
    if unit == plan.office.name:
        roles.add("office")
    return roles


def allowed_moves(plan: Plan, item: LedgerItem) -> list[str]:
    """What can happen next, as a clerk would read it."""
    moves = []
    for rule in RULES:
        if rule.source == item.status:
            who = "、".join(_holder(plan, item, role) for role in sorted(rule.roles))
            moves.append(f"{rule.action}→{STATUS_LABELS[rule.target]}（{who}）")
    return moves


def _holder(plan: Plan, item: LedgerItem, role: Role) -> str:
    unit = {"responsible": item.responsible_unit, "lead": item.lead_department, "office": plan.office.name}[role]
    return f"{ROLE_LABELS[role]}{unit}"


def get_item(session: Session, code: str) -> LedgerItem:
    item = session.exec(select(LedgerItem).where(LedgerItem.code == code)).first()
    if item is None:
        raise ClosureError(f"台账中没有编号为“{code}”的问题")
    return item


def last_change_on(session: Session, code: str) -> date | None:
    query = select(func.max(AuditEntry.effective_on)).where(
        AuditEntry.subject == "item", AuditEntry.subject_key == code
    )
    return session.exec(query).one()


def ensure_in_order(session: Session, item: LedgerItem, as_of: date) -> None:
    """History is told in date order: nothing is recorded before the item's last change."""
    last = last_change_on(session, item.code)
    if last is not None and as_of < last:
        raise ClosureError(
            f"问题{item.code}最近一次变更日期为{last.isoformat()}，不能登记更早日期（{as_of.isoformat()}）的变更"
        )


def transition(
    session: Session,
    plan: Plan,
    *,
    code: str,
    target: str,
    by: str,
    as_of: date,
    note: str = "",
    evidence: list[Path] | None = None,
    evidence_dir: Path | None = None,
) -> LedgerItem:
    note = textgate.clean(note, multiline=True, limit=textgate.NOTE_LIMIT, field="说明")
    item = get_item(session, code)
    if plan.unit_kind(by) is None:
        raise ClosureError(f"未知单位“{by}”：不在实施方案的组织体系中")
    if target not in STATUS_LABELS:
        raise ClosureError(f"未知状态“{target}”，可用状态：{'、'.join(STATUS_LABELS)}")
    rule = next((r for r in RULES if r.source == item.status and r.target == target), None)
    if rule is None:
        moves = "；".join(allowed_moves(plan, item)) or "无（已是最终状态）"
        raise ClosureError(
            f"问题{code}当前状态为“{STATUS_LABELS[item.status]}”，不能变更为“{STATUS_LABELS[target]}”。"
            f"当前可进行的操作：{moves}"
        )
    if not rule.roles & roles_of(plan, item, by):
        who = "、".join(_holder(plan, item, role) for role in sorted(rule.roles))
        raise ClosureError(f"“{by}”无权对问题{code}进行“{rule.action}”：该操作只能由{who}进行")
    if rule.needs_note and not note:
        raise ClosureError(f"“{rule.action}”须说明理由或情况")
    if rule.needs_evidence and not evidence:
        raise ClosureError("申请销号须附佐证材料")
    if target == "planned" and _current_plan_id(session, item) is None:
        raise ClosureError(f"问题{code}尚未制定整治方案，请先用 duban item plan 录入整治措施和完成时限")
    ensure_in_order(session, item, as_of)
    files = [attach(session, plan, item, path, by, evidence_dir) for path in evidence or []]
    set_status(
        session,
        item,
        target,
        actor=by,
        as_of=as_of,
        note=note,
        action=rule.action,
        files=[f.filename for f in files],
    )
    _tell_next(session, plan, item, rule, by=by, as_of=as_of, note=note)
    if target in TERMINAL:
        from duban.reporting.escalation import resolve_item  # it reads TERMINAL from here

        resolve_item(session, item.code, as_of)
    return item


def _tell_next(session: Session, plan: Plan, item: LedgerItem, rule: Rule, *, by: str, as_of: date, note: str) -> None:
    """Whoever acts next hears of it, with a link to the item: the lead department verifies a request,
    the Office signs off a verification, the responsible unit works on after a return."""
    from notifications.outbox import notify

    if rule.target == "close_requested":
        step, recipient = "close_requested", item.lead_department
    elif rule.target == "verified":
        step, recipient = "verified", plan.office.name
    elif rule.target == "in_progress" and rule.source in ("close_requested", "verified"):
        step, recipient = "returned", item.responsible_unit
    else:
        return
    revision = session.exec(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.subject == "item", AuditEntry.subject_key == item.code)
    ).one()
    notify(
        session,
        plan,
        key=f"closeout:{item.code}:{step}:{revision}",
        kind="closeout",
        recipient=recipient,
        as_of=as_of,
        step=step,
        unit=by,
        item_code=item.code,
        community=item.community,
        category=plan.category(item.category).name,
        note=note,
        page=f"/items/{item.code}",
    )


def set_status(
    session: Session,
    item: LedgerItem,
    target: str,
    *,
    actor: str,
    as_of: date,
    note: str,
    action: str,
    files: list[str] | None = None,
) -> None:
    audit.record(
        session, **status_change(item, target, actor=actor, as_of=as_of, note=note, action=action, files=files)
    )
    session.add(item)


def status_change(
    item: LedgerItem,
    target: str,
    *,
    actor: str,
    as_of: date,
    note: str,
    action: str,
    files: list[str] | None = None,
) -> dict:
    """Move the item's kept state and return the audit entry that says so (the caller writes both)."""
    before: dict = {"status": item.status}
    after: dict = {"status": target, "action": action}
    if target == "closed" and item.progress != 100:
        before["progress"], after["progress"] = item.progress, 100
        item.progress = 100
    item.status = target
    if target in TERMINAL:
        item.closed_on = as_of
    if files:
        after["evidence"] = files
    return {
        "actor": actor,
        "subject": "item",
        "key": item.code,
        "action": "transition",
        "effective_on": as_of,
        "before": before,
        "after": after,
        "note": note,
    }


def attach(session: Session, plan: Plan, item: LedgerItem, path: Path, by: str, evidence_dir: Path | None) -> Evidence:
    """Keep a copy of an evidence file under DUBAN_HOME, content-addressed, once per item.

    Stored by its digest and the type its content shows; the clerk's file name is kept only as data.
    """
    if evidence_dir is None:
        raise ClosureError("未配置佐证材料存放目录")
    rules = plan.evidence
    data = checked_bytes(path, max_bytes=rules.max_bytes, types=rules.types)
    filename = textgate.clean(path.name, limit=textgate.FILENAME_LIMIT, field="佐证材料文件名")
    digest = hashlib.sha256(data).hexdigest()
    existing = session.exec(select(Evidence).where(Evidence.item_id == item.id, Evidence.sha256 == digest)).first()
    if existing is not None:
        return existing
    target = under(evidence_dir, item.code, f"{digest[:16]}.{kind_of(data)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    record = Evidence(
        item_id=item.id,
        sha256=digest,
        filename=filename,
        size=len(data),
        stored_as=str(target.relative_to(evidence_dir.parent)),
        uploaded_by=by,
        uploaded_at=datetime.now(UTC),
    )
    session.add(record)
    return record


def _current_plan_id(session: Session, item: LedgerItem) -> int | None:
    query = select(RectificationPlan.id).where(RectificationPlan.item_id == item.id)
    return session.exec(query.limit(1)).first()
