"""The plan's documents as deliverables (专项规划, 联合审查机制, 工作专班): one per owner of a milestone,
moved on by the owner (未启动 → 起草中 → 报审中 → 已印发, with the issued document filed) and verified
by the Office. Rows are made from the plan, so a changed plan adds what it asks for and keeps the rest.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.calendar import WorkingCalendar
from duban.files.paths import under
from duban.items.evidence import checked_bytes, kind_of
from duban.mechanism import MechanismError
from duban.plan import Plan
from duban.reporting.escalation import resolve_cause
from models import Deliverable
from notifications.outbox import notify

WORKING_STATES = ("not_started", "drafting", "under_review")


def ensure(session: Session, plan: Plan, as_of: date) -> int:
    """The deliverables the plan asks for, made once each; returns how many were made. A changed due
    date in the plan moves the row's due date."""
    have = {(d.milestone, d.owner): d for d in session.exec(select(Deliverable))}
    made = 0
    for (milestone, owner), (title, due) in asked_for(plan).items():
        row = have.get((milestone, owner))
        if row is None:
            session.add(Deliverable(milestone=milestone, owner=owner, title=title, due=due, updated_on=as_of))
            made += 1
        elif (row.due, row.title) != (due, title):
            row.due, row.title = due, title
            session.add(row)
    session.flush()
    return made


def asked_for(plan: Plan) -> dict[tuple[str, str], tuple[str, date]]:
    """(milestone, owner) -> (title, due) of every document the plan in force asks for, in the plan's
    order; a row the plan has since dropped is kept (it is history) but no longer chased."""
    milestones = {m.code: m for m in plan.milestones}
    return {
        (rule.milestone, owner): (rule.title, milestones[rule.milestone].due)
        for rule in plan.mechanism.deliverables
        for owner in milestones[rule.milestone].owners
    }


def get(session: Session, plan: Plan, milestone: str, owner: str, *, lock: bool = False) -> Deliverable:
    """`lock` for a change: the owner's step and the Office's verification take turns on PostgreSQL."""
    query = select(Deliverable).where(Deliverable.milestone == milestone, Deliverable.owner == owner)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.exec(query).first()
    if row is None:
        title = next((r.title for r in plan.mechanism.deliverables if r.milestone == milestone), milestone)
        raise MechanismError(f"{owner}没有需要报送的“{title}”")
    return row


def deliverables(session: Session, *, owner: str | None = None) -> list[Deliverable]:
    query = select(Deliverable).order_by(col(Deliverable.due), col(Deliverable.milestone), col(Deliverable.id))
    if owner:
        query = query.where(Deliverable.owner == owner)
    return list(session.exec(query))


def set_state(
    session: Session, plan: Plan, milestone: str, owner: str, state: str, *, as_of: date, note: str = ""
) -> Deliverable:
    """The owner's progress short of issuing: 未启动, 起草中, 报审中."""
    row = get(session, plan, milestone, owner, lock=True)
    if state not in WORKING_STATES:
        raise MechanismError("状态只能为未启动、起草中或报审中；已印发须上传印发文件")
    if row.verified_on is not None:
        raise MechanismError(f"{row.title}已于{row.verified_on}经办公室核验确认印发，不能再改状态")
    note = textgate.clean(note, multiline=True, limit=textgate.NOTE_LIMIT, field="说明")
    before = row.state
    row.state, row.updated_on = state, as_of
    if before == "issued":
        row.issued_on = None
    session.add(row)
    _log(session, row, owner, "deliverable_state", as_of, {"state": before}, {"state": state}, note)
    return row


def file_issued(
    session: Session,
    plan: Plan,
    milestone: str,
    owner: str,
    *,
    document_no: str,
    issued_on: date,
    path: Path,
    filename: str | None = None,
    store: Path,
    as_of: date,
) -> Deliverable:
    """已印发: the document number, the date of issue and the document itself, for the Office to verify."""
    row = get(session, plan, milestone, owner, lock=True)
    if row.verified_on is not None:
        raise MechanismError(f"{row.title}已于{row.verified_on}经办公室核验确认印发")
    document_no = textgate.clean(document_no, limit=60, field="文号")
    if not document_no:
        raise MechanismError("请填写印发文件的文号")
    if refusal := WorkingCalendar(plan.calendar).outside(issued_on, "印发日期"):
        raise MechanismError(refusal)
    if issued_on > as_of:
        raise MechanismError(f"印发日期{issued_on}晚于今天（{as_of}）")
    rules = plan.evidence
    data = checked_bytes(path, max_bytes=rules.max_bytes, types=rules.types)
    name = textgate.clean(filename or path.name, limit=textgate.FILENAME_LIMIT, field="文件名")
    digest = hashlib.sha256(data).hexdigest()
    target = under(store, milestone, owner, f"{digest[:16]}.{kind_of(data)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    before = {"state": row.state}
    row.state, row.document_no, row.issued_on = "issued", document_no, issued_on
    row.filename, row.sha256, row.stored_as = name, digest, str(target.relative_to(store.parent))
    row.returned_reason, row.updated_on = "", as_of
    session.add(row)
    resolve_cause(session, f"deliverable:{milestone}:{owner}@", as_of)
    after = {"state": "issued", "document_no": document_no, "issued_on": issued_on, "file": name}
    _log(session, row, owner, "deliverable_issued", as_of, before, after, "")
    notify(
        session,
        plan,
        key=f"deliverable:{milestone}:{owner}:filed:{_steps(session, row)}",
        kind="deliverable_filed",
        recipient=plan.office.name,
        as_of=as_of,
        page="/deliverables",
        owner=owner,
        title=row.title,
        document_no=document_no,
        issued_on=issued_on,
    )
    return row


def verify(
    session: Session,
    plan: Plan,
    milestone: str,
    owner: str,
    *,
    by: str,
    accept: bool,
    reason: str = "",
    as_of: date,
    document_seen: str = "",
) -> Deliverable:
    """The Office confirms the filed document, or returns it (报审中 again) with its reason;
    `document_seen`: the digest of the file the Office opened, refused if the owner filed another since."""
    if plan.unit_kind(by) != "office":
        raise MechanismError(f"印发文件由{plan.office.name}核验，{by}无此权限")
    row = get(session, plan, milestone, owner, lock=True)
    if row.state != "issued" or row.verified_on is not None:
        raise MechanismError(f"{owner}的{row.title}尚未报送印发文件，或已核验")
    if document_seen and document_seen != row.sha256:
        raise MechanismError(f"{owner}已重新报送{row.title}的印发文件（{row.document_no}），请刷新页面查看后再核验")
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="理由")
    if not accept and not reason:
        raise MechanismError("退回须写明理由")
    if accept:
        row.verified_on, row.verified_by = as_of, audit.acting(by)
    else:
        row.state, row.issued_on, row.returned_reason = "under_review", None, reason
    row.updated_on = as_of
    session.add(row)
    action = "deliverable_verified" if accept else "deliverable_returned"
    _log(session, row, by, action, as_of, None, {"owner": owner, "document_no": row.document_no}, reason)
    notify(
        session,
        plan,
        key=f"deliverable:{milestone}:{owner}:{action}:{_steps(session, row)}",
        kind="deliverable_verdict",
        recipient=owner,
        as_of=as_of,
        page="/deliverables",
        title=row.title,
        document_no=row.document_no,
        accepted=accept,
        reason=reason,
    )
    return row


def _steps(session: Session, row: Deliverable) -> int:
    """The deliverable's audit entries so far: one message per filing and per verdict, even when the same
    document is filed again after a return."""
    return len(audit.history(session, "deliverable", f"{row.milestone}:{row.owner}"))


def _log(
    session: Session,
    row: Deliverable,
    actor: str,
    action: str,
    as_of: date,
    before: dict | None,
    after: dict,
    note: str,
) -> None:
    audit.record(
        session,
        actor=actor,
        subject="deliverable",
        key=f"{row.milestone}:{row.owner}",
        action=action,
        effective_on=as_of,
        before=before,
        after=after,
        note=note,
    )
