"""Filing and deciding extension requests (延期申请).

A request names the item, optionally one milestone of its plan in force, the date wanted, the reason and
the progress so far. It is filed on or before the deadline it wants moved. The approvers the plan names
decide in turn (a unit never decides its own request); the final approval makes a new revision of the
item's plan (一事一案), so the escalation ladder counts from the new date. A refusal changes nothing. A
pending request does not stop the clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlmodel import Session, col, func, select

from duban import audit, textgate
from duban.db import insert_once
from duban.extensions import ExtensionError
from duban.glossary import EXTENSION_ROLE, EXTENSION_STATE, cn_date
from duban.items.closeout import TERMINAL, ensure_in_order, get_item, roles_of
from duban.items.rectification import PlanInput, in_force, revise
from duban.plan import Plan
from models import ExtensionDecision, ExtensionRequest, LedgerItem


def target_label(code: str, milestone: str) -> str:
    """问题X的完成时限, or 问题X的时间节点“…”: what a request moves, as messages name it."""
    return f"问题{code}的完成时限" if not milestone else f"问题{code}的时间节点“{milestone}”"


def _plan_of(session: Session, item: LedgerItem) -> PlanInput:
    found = in_force(session, [item.id]).get(item.id)
    if found is None:
        raise ExtensionError(
            f"问题{item.code}尚未制定整治方案，没有可以延期的完成时限：请先制定整治方案（一事一案），完成时限以方案为准"
        )
    return found


def _milestone(item: LedgerItem, plan_in: PlanInput, asked: str) -> tuple[str, date]:
    """The milestone named by its title or its number in the plan (1, 2, ...), and its date."""
    steps = plan_in.milestones
    if asked.isascii() and asked.isdigit() and 1 <= int(asked) <= len(steps):
        due, title = steps[int(asked) - 1]
        return title, due
    for due, title in steps:
        if title == asked:
            return title, due
    listed = "；".join(f"{n}. {title}（{cn_date(due)}）" for n, (due, title) in enumerate(steps, start=1))
    raise ExtensionError(
        f"问题{item.code}的现行整治方案中没有时间节点“{asked}”。"
        + (f"现有时间节点：{listed}" if listed else "该方案没有时间节点")
    )


def approvers(plan: Plan, item: LedgerItem, unit: str, milestone: str) -> tuple[list[dict], bool]:
    """The steps of the request in order ({role, unit}), and whether it goes to the leadership group.

    A unit does not decide its own request (a lead department asking skips its own step); the final date
    of a protected scope is decided last by the Office, recording the leadership group's decision."""
    steps = []
    for role in plan.extensions.approvers:
        who = item.lead_department if role == "lead_department" else plan.office.name
        if who != unit and all(s["unit"] != who for s in steps):
            steps.append({"role": role, "unit": who})
    protected = not milestone and plan.extensions.protected(item.category, item.facility_type)
    if protected:
        steps = [s for s in steps if s["unit"] != plan.office.name]
    if protected or not steps:
        steps.append({"role": "leadership_group" if protected else "office", "unit": plan.office.name})
    return steps, protected


def request(
    session: Session,
    plan: Plan,
    *,
    code: str,
    until: date,
    reason: str,
    progress: str,
    by: str,
    as_of: date,
    milestone: str = "",
) -> tuple[ExtensionRequest, bool]:
    """File a request; (the request, True) when this call filed it, (the same request, False) when the
    same unit asked the same thing on the same day before."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="延期理由")
    progress = textgate.clean(progress, multiline=True, limit=textgate.NOTE_LIMIT, field="目前进展")
    asked = textgate.clean(milestone, limit=textgate.TITLE_LIMIT, field="时间节点")
    if plan.unit_kind(by) is None:
        raise ExtensionError(f"未知单位“{by}”：不在实施方案的组织体系中")
    item = get_item(session, code)
    if not roles_of(plan, item, by) & {"responsible", "lead"}:
        raise ExtensionError(
            f"“{by}”不能为问题{code}申请延期：只有责任单位{item.responsible_unit}或牵头部门{item.lead_department}可以申请"
        )
    if item.status in TERMINAL:
        raise ExtensionError(f"问题{code}已{'销号' if item.status == 'closed' else '撤销'}，不能申请延期")
    plan_in = _plan_of(session, item)
    title, due = _milestone(item, plan_in, asked) if asked else ("", plan_in.deadline)
    what = target_label(code, title)
    same = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.item_code == item.code,
            ExtensionRequest.milestone == title,
            ExtensionRequest.requested_on == as_of,
            ExtensionRequest.until == until,
        )
    ).first()
    if same is not None:
        if (same.unit, same.reason, same.progress) == (by, reason, progress):
            return same, False
        raise ExtensionError(f"{what}已有{cn_date(as_of)}提出的延期至{cn_date(until)}的申请（第{same.id}号）")
    if not reason:
        raise ExtensionError("须填写延期理由")
    if not progress:
        raise ExtensionError("须说明目前整改进展")
    if as_of > due:
        raise ExtensionError(
            f"{what}为{cn_date(due)}，已过期限，不能再申请延期：延期申请须在期限届满前（最迟于期限当日）提出"
        )
    if until <= due:
        raise ExtensionError(f"申请延期至的日期（{cn_date(until)}）须晚于{what}（{cn_date(due)}）")
    if title and until > plan_in.deadline:
        raise ExtensionError(
            f"时间节点不能晚于问题{code}的完成时限（{cn_date(plan_in.deadline)}）：如需推迟完成时限，请申请延长问题的完成时限"
        )
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.item_code == item.code,
            ExtensionRequest.milestone == title,
            ExtensionRequest.state == "pending",
        )
    ).first()
    if pending is not None:
        raise ExtensionError(
            f"{what}已有一项延期申请正在审批（第{pending.id}号，{pending.unit}于{cn_date(pending.requested_on)}提出），"
            "审批完成前不能再次申请"
        )
    filed = session.exec(
        select(func.count()).select_from(ExtensionRequest).where(ExtensionRequest.item_code == item.code)
    ).one()
    limit = plan.extensions.max_per_item
    if filed >= limit:
        raise ExtensionError(f"问题{code}已申请延期{filed}次，已达实施方案规定的上限（每项问题最多申请{limit}次）")
    steps, protected = approvers(plan, item, by, title)
    values = {
        "item_code": item.code,
        "number": filed + 1,
        "milestone": title,
        "current_due": due,
        "until": until,
        "reason": reason,
        "progress": progress,
        "unit": by,
        "person": audit.acting(by),
        "requested_on": as_of,
        "steps": steps,
        "step": 0,
        "protected": protected,
        "state": "pending",
        "created_at": datetime.now(UTC),
    }
    added = insert_once(session, ExtensionRequest, values, key=["item_code", "milestone", "requested_on", "until"])
    row = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.item_code == item.code,
            ExtensionRequest.milestone == title,
            ExtensionRequest.requested_on == as_of,
            ExtensionRequest.until == until,
        )
    ).one()
    if not added:
        return row, False
    _audit(session, row, by, "request", as_of, until=until, note=reason, extra={"progress": progress, "old": due})
    from duban.extensions.messages import tell

    tell(session, plan, item, row)
    return row, True


def decisions(session: Session, row: ExtensionRequest) -> list[ExtensionDecision]:
    query = select(ExtensionDecision).where(ExtensionDecision.request_id == row.id)
    return list(session.exec(query.order_by(col(ExtensionDecision.step))))


def proposed(row: ExtensionRequest, made: list[ExtensionDecision]) -> date:
    """The date on the table: the one asked for, or the earlier one an approver has approved since."""
    return made[-1].until if made and made[-1].until else row.until


def decide(
    session: Session,
    plan: Plan,
    *,
    request_id: int,
    by: str,
    approve: bool,
    as_of: date,
    until: date | None = None,
    reason: str = "",
) -> tuple[ExtensionRequest, bool]:
    """One approver's decision; (the request, True) when recorded now, (it, False) when this unit had
    already decided so (a second run changes nothing)."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="理由")
    row = session.get(ExtensionRequest, request_id)
    if row is None:
        raise ExtensionError(f"没有编号为{request_id}的延期申请")
    made = decisions(session, row)
    for d in made:
        same = (approve and until in (None, d.until)) or (not approve and reason == d.reason)
        if d.unit == by and (d.decision == "approved") == approve and same:
            return row, False
    if row.state != "pending":
        raise ExtensionError(f"第{row.id}号延期申请已{EXTENSION_STATE[row.state]}，不能再审批")
    step = row.steps[row.step]
    if by != step["unit"]:
        raise ExtensionError(
            f"第{row.id}号延期申请当前由{step['unit']}（{EXTENSION_ROLE[step['role']]}）审批，“{by}”不能审批"
        )
    since = made[-1].decided_on if made else row.requested_on
    if as_of < since:
        raise ExtensionError(f"审批日期（{cn_date(as_of)}）不能早于申请或上一步审批的日期（{cn_date(since)}）")
    on_table = proposed(row, made)
    chosen = None
    if approve:
        chosen = until or on_table
        if chosen > on_table:
            asked = "申请延期至的日期" if not made else "上一步审批同意的日期"
            raise ExtensionError(f"批准的日期（{cn_date(chosen)}）不能晚于{asked}（{cn_date(on_table)}）")
        if chosen <= row.current_due:
            raise ExtensionError(f"批准的日期（{cn_date(chosen)}）须晚于原定期限（{cn_date(row.current_due)}）")
        if chosen < as_of:
            raise ExtensionError(f"批准的日期（{cn_date(chosen)}）不能早于审批当日（{cn_date(as_of)}）")
    elif not reason:
        raise ExtensionError("不同意延期须说明理由")
    values = {
        "request_id": row.id,
        "step": row.step,
        "role": step["role"],
        "unit": by,
        "person": audit.acting(by),
        "decision": "approved" if approve else "refused",
        "until": chosen,
        "reason": reason,
        "decided_on": as_of,
    }
    last = row.step == len(row.steps) - 1
    if approve and last:
        _grant(session, plan, row, by, chosen, as_of, reason)  # refused as a whole when the plan cannot take it
    if not insert_once(session, ExtensionDecision, values, key=["request_id", "step"]):
        raise ExtensionError(f"第{row.id}号延期申请的这一步已有审批结果，请刷新后查看")
    decided = row.step
    if not approve:
        row.state, row.decided_on, row.step = "refused", as_of, len(row.steps)
    elif last:
        row.state, row.decided_on, row.granted_until, row.step = "granted", as_of, chosen, len(row.steps)
    else:
        row.step += 1
    session.add(row)
    action = "approve" if approve else "refuse"
    _audit(session, row, by, action, as_of, until=chosen or on_table, note=reason, extra={"step": decided})
    if row.state != "pending":
        _audit(session, row, by, row.state, as_of, until=row.granted_until or on_table, note=reason)
    from duban.extensions.messages import tell

    tell(session, plan, get_item(session, row.item_code), row, by=by, note=reason)
    return row, True


def _grant(
    session: Session, plan: Plan, row: ExtensionRequest, by: str, chosen: date, as_of: date, reason: str
) -> None:
    """The new revision of the item's plan (一事一案), the deadline or the milestone moved; the old date's
    open escalations resolved at once, as the next sweep would."""
    from duban.reporting.escalation import resolve_cause

    item = get_item(session, row.item_code)
    if item.status in TERMINAL:
        raise ExtensionError(
            f"问题{item.code}已{'销号' if item.status == 'closed' else '撤销'}，无需延期，请不同意该申请"
        )
    base = _plan_of(session, item)
    what = target_label(item.code, row.milestone)
    if not row.milestone:
        current, new = base.deadline, replace(base, deadline=chosen)
        cause = f"item:{item.code}@{base.deadline.isoformat()}"
    else:
        current = next((due for due, title in base.milestones if title == row.milestone), None)
        if current is None:
            raise ExtensionError(f"{what}已不在现行整治方案中，无法延期，请不同意该申请")
        if chosen > base.deadline:
            raise ExtensionError(f"时间节点不能晚于问题的完成时限（{cn_date(base.deadline)}）")
        steps = tuple((chosen if title == row.milestone else due, title) for due, title in base.milestones)
        new = replace(base, milestones=steps)
        digest = hashlib.sha1(row.milestone.encode()).hexdigest()[:8]
        cause = f"milestone:{item.code}@{current.isoformat()}:{digest}"
    if chosen <= current:
        raise ExtensionError(f"现行整治方案中{what}已是{cn_date(current)}，批准的日期须晚于此")
    ensure_in_order(session, item, as_of)
    note = f"第{row.id}号延期申请经批准，{what}由{cn_date(current)}延至{cn_date(chosen)}"
    revision = revise(session, item, new, actor=by, as_of=as_of, note=note + (f"。{reason}" if reason else ""))
    row.plan_revision = revision.revision if revision else item.plan_revision
    resolve_cause(session, cause, as_of)


def _audit(
    session: Session,
    row: ExtensionRequest,
    actor: str,
    action: str,
    as_of: date,
    *,
    until: date,
    note: str = "",
    extra: dict | None = None,
) -> None:
    after = {
        "item": row.item_code,
        "unit": row.unit,
        "milestone": row.milestone,
        "until": until,
        "state": row.state if action in ("request", "approve", "refuse") else action,
        "step": row.step,
        **(extra or {}),
    }
    audit.record(
        session,
        actor=actor,
        subject="extension",
        key=str(row.id),
        action=action,
        effective_on=as_of,
        after=after,
        note=note,
    )


def listed(
    session: Session, *, unit: str | None = None, state: str | None = None, as_of: date | None = None
) -> list[ExtensionRequest]:
    """Requests filed by `as_of`, newest first; with `unit`, those it asked and those it decides or decided."""
    query = select(ExtensionRequest)
    if as_of is not None:
        query = query.where(ExtensionRequest.requested_on <= as_of)
    if state:
        query = query.where(ExtensionRequest.state == state)
    rows = list(session.exec(query.order_by(col(ExtensionRequest.id).desc())))
    if unit is None:
        return rows
    return [r for r in rows if r.unit == unit or any(s["unit"] == unit for s in r.steps)]


def awaiting(session: Session, unit: str) -> list[ExtensionRequest]:
    """Pending requests whose current step is this unit's to decide, oldest first."""
    query = select(ExtensionRequest).where(ExtensionRequest.state == "pending").order_by(col(ExtensionRequest.id))
    return [r for r in session.exec(query) if r.steps[r.step]["unit"] == unit]


def left_for(session: Session, plan: Plan, item: LedgerItem) -> int:
    """How many more requests the item may have."""
    filed = session.exec(
        select(func.count()).select_from(ExtensionRequest).where(ExtensionRequest.item_code == item.code)
    ).one()
    return max(0, plan.extensions.max_per_item - filed)


def as_dict(row: ExtensionRequest, made: list[ExtensionDecision]) -> dict:
    """A request as plain data (the CLI's JSON, the pages), with its decisions."""
    return {
        "id": row.id,
        "item": row.item_code,
        "number": row.number,
        "milestone": row.milestone or None,
        "old": row.current_due.isoformat(),
        "until": row.until.isoformat(),
        "reason": row.reason,
        "progress": row.progress,
        "unit": row.unit,
        "person": row.person,
        "requested_on": row.requested_on.isoformat(),
        "protected": row.protected,
        "state": row.state,
        "state_label": EXTENSION_STATE[row.state],
        "granted_until": row.granted_until.isoformat() if row.granted_until else None,
        "proposed": proposed(row, made).isoformat(),
        "decided_on": row.decided_on.isoformat() if row.decided_on else None,
        "plan_revision": row.plan_revision,
        "next": None if row.state != "pending" else row.steps[row.step],
        "steps": [
            {
                "role": s["role"],
                "unit": s["unit"],
                "decision": made[n].decision if n < len(made) else None,
                "until": made[n].until.isoformat() if n < len(made) and made[n].until else None,
                "reason": made[n].reason if n < len(made) else "",
                "person": made[n].person if n < len(made) else "",
                "decided_on": made[n].decided_on.isoformat() if n < len(made) else None,
            }
            for n, s in enumerate(row.steps)
        ],
    }


def item_panel(session: Session, plan: Plan, item: LedgerItem, unit: str | None) -> dict:
    """What the item's page shows: its requests, and whether `unit` (None: a reader) may ask, with the
    rule as a clerk reads it."""
    query = select(ExtensionRequest).where(ExtensionRequest.item_code == item.code)
    rows = list(session.exec(query.order_by(col(ExtensionRequest.id))))
    plan_in = in_force(session, [item.id]).get(item.id)
    may = (
        unit is not None
        and bool(roles_of(plan, item, unit) & {"responsible", "lead"})
        and item.status not in TERMINAL
        and plan_in is not None
    )
    left = max(0, plan.extensions.max_per_item - len(rows))
    return {
        "requests": [as_dict(r, []) for r in rows],
        "may_ask": may and left > 0,
        "left": left,
        "max": plan.extensions.max_per_item,
        "deadline": plan_in.deadline if plan_in else None,
        "milestones": [{"seq": n, "title": t, "due": d} for n, (d, t) in enumerate(plan_in.milestones, 1)]
        if plan_in
        else [],
        "protected": plan.extensions.protected(item.category, item.facility_type),
    }
