"""Whoever acts next on an extension request hears of it: a message through the outbox, and a notice to
sign (签收). The approver of the current step is asked to decide; at the end the asking unit gets the
answer. A notice's cause is gone once its step is decided (the approver's) or once it is signed (the answer).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, cast
from sqlmodel import Session, col, select

from duban.desk.acknowledge import Request
from duban.desk.notices import Notice, sent
from duban.extensions.requests import decisions, target_label
from duban.glossary import EXTENSION_DECISION, EXTENSION_ROLE, EXTENSION_STATE, cn_date
from duban.plan import Plan
from models import Acknowledgement, ExtensionRequest, LedgerItem
from notifications.outbox import notify

ANSWER = "answer"


def tell(session: Session, plan: Plan, item: LedgerItem, row: ExtensionRequest, *, by: str = "", note: str = "") -> int:
    """The message of the request's present state: to the approver of its step, or the answer to the asker."""
    made = decisions(session, row)
    if row.state == "pending":
        step = row.steps[row.step]
        key, recipient, stage = f"s{row.step}", step["unit"], "asked"
    else:
        key, recipient, stage = ANSWER, row.unit, row.state
    earlier = made[-1] if made and row.state == "pending" else None
    return notify(
        session,
        plan,
        key=f"extension:{row.id}:{key}",
        kind="extension",
        recipient=recipient,
        as_of=made[-1].decided_on if made else row.requested_on,
        stage=stage,
        number=row.id,
        item_code=item.code,
        community=item.community,
        category=plan.category(item.category).name,
        what=target_label(item.code, row.milestone),
        unit=row.unit,
        old=row.current_due,
        until=row.until,
        granted=row.granted_until,
        reason=row.reason,
        progress=row.progress,
        protected=row.protected and row.state == "pending" and row.steps[row.step]["role"] == "leadership_group",
        earlier=f"{earlier.unit}已同意延期至{cn_date(earlier.until)}" if earlier and earlier.until else "",
        decider="领导小组" if made and row.state != "pending" and made[-1].role == "leadership_group" else by,
        note=note,
        issuer=by or row.unit,
        page=f"/extensions/{row.id}",
    )


def requests(session: Session, as_of: date, unit: str | None) -> list[Request]:
    """The notices asked for: each pending request's current step (to its approver), and each answer not
    yet signed by the asking unit."""
    found = []
    pending = select(ExtensionRequest).where(
        ExtensionRequest.state == "pending", ExtensionRequest.requested_on <= as_of
    )
    for row in session.exec(pending.order_by(col(ExtensionRequest.id))):
        step = row.steps[row.step]
        if unit is not None and step["unit"] != unit:
            continue
        made = decisions(session, row) if row.step else []
        raised = made[-1].decided_on if made else row.requested_on
        if raised <= as_of:
            found.append(_request(row, f"s{row.step}", step["unit"], "审批通知", raised))
    signed = (
        select(Acknowledgement.id)
        .where(
            Acknowledgement.request_kind == "extension",
            Acknowledgement.request_key == cast(ExtensionRequest.id, String) + f":{ANSWER}",
            Acknowledgement.unit == ExtensionRequest.unit,
        )
        .exists()
    )
    answered = select(ExtensionRequest).where(
        ExtensionRequest.state != "pending", col(ExtensionRequest.decided_on) <= as_of, ~signed
    )
    if unit is not None:
        answered = answered.where(ExtensionRequest.unit == unit)
    for row in session.exec(answered.order_by(col(ExtensionRequest.id))):
        found.append(_request(row, ANSWER, row.unit, "审批结果通知", row.decided_on))
    return found


def _request(row: ExtensionRequest, step: str, unit: str, what: str, raised: date) -> Request:
    return Request(
        "extension", f"{row.id}:{step}", unit, f"问题{row.item_code}延期申请{what}", raised, f"/extensions/{row.id}"
    )


def notice(session: Session, plan: Plan, unit: str, key: str, as_of: date) -> Notice | None:
    """The notice `key` ("{id}:s{step}" for an approver, "{id}:answer" for the asking unit) of `unit`."""
    number, _, step = key.partition(":")
    row = (
        session.get(ExtensionRequest, int(number))
        if number.isascii() and number.isdigit() and len(number) < 18
        else None
    )
    if row is None or row.requested_on > as_of:
        return None
    made = decisions(session, row)
    if step == ANSWER:
        if unit != row.unit or row.decided_on is None or row.decided_on > as_of:
            return None
        issuer, raised, title = made[-1].unit, row.decided_on, f"问题{row.item_code}延期申请审批结果通知"
        if row.state == "granted":
            asks = f"按批准的期限（{cn_date(row.granted_until)}）完成整改"
        else:
            asks = f"按原定期限（{cn_date(row.current_due)}）完成整改"
        closed = "已知悉"
    else:
        index = int(step[1:]) if step[:1] == "s" and step[1:].isascii() and step[1:].isdigit() else -1
        if not 0 <= index < len(row.steps) or row.steps[index]["unit"] != unit or index > row.step:
            return None
        raised = made[index - 1].decided_on if index else row.requested_on
        if raised > as_of:
            return None
        issuer, title = row.unit, f"问题{row.item_code}延期申请审批通知"
        asks = f"审批{row.unit}提出的延期申请：同意（可批准早于申请的日期），或不同意并说明理由"
        if row.steps[index]["role"] == "leadership_group":
            asks += "。该事项须报领导小组决定，请报领导小组后登记领导小组的决定"
        closed = "本步骤已审批"
    facts = [
        ("延期事项", target_label(row.item_code, row.milestone)),
        ("原定期限", cn_date(row.current_due)),
        ("申请延期至", cn_date(row.until)),
        ("申请单位", row.person),
        ("延期理由", row.reason),
        ("目前进展", row.progress),
        ("审批状态", EXTENSION_STATE[row.state]),
    ]
    facts += [
        (
            f"{EXTENSION_ROLE[d.role]}审批",
            f"{d.unit}{EXTENSION_DECISION[d.decision]}"
            + (f"，延期至{cn_date(d.until)}" if d.until else "")
            + (f"（{d.reason}）" if d.reason else ""),
        )
        for d in made
        if d.decided_on <= as_of
    ]
    full = next((u.full_name or u.name for _, u in plan.units() if u.name == issuer), issuer)
    return Notice(
        "extension",
        key,
        unit,
        title,
        raised,
        issuer=issuer,
        issuer_full=full,
        issuer_contact=plan.contact_line(issuer),
        asks=asks,
        due=None,
        about=((f"第{row.id}号延期申请（问题{row.item_code}）", f"/extensions/{row.id}"),),
        sent=sent(session, unit, [("通知", f"extension:{row.id}:{step}|")]),
        facts=tuple(facts),
        closed_because=closed,
    )
