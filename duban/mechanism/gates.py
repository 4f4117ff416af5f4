"""A project's joint-review gates (联合审查/审核): opened in the plan's order, submitted by the gate's
lead department when the project reaches that stage (the developer's materials are ready), signed by
the lead and the countersigners within the gate's working days, returned on a rejection for the lead
to submit again, passed when all approve and no shortfall stands unwaived. Each step is one
transaction with its audit entry and its messages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.calendar import WorkingCalendar
from duban.glossary import DECISION as DECISIONS
from duban.glossary import GATE_STATE as GATE_STATES
from duban.mechanism import MechanismError
from duban.mechanism.provision import provisions, shortfalls_said
from duban.plan import Gate, Plan
from duban.reporting.escalation import resolve_cause
from duban.reporting.periods import add_working_days
from models import Project, ProjectGate, Signature, Waiver
from notifications.outbox import notify


def get_project(session: Session, code: str, *, lock: bool = False) -> Project:
    """`lock` for a step that changes the project's gates: two people signing at once, or a signature
    and the daily follow-up, then take turns on PostgreSQL (SQLite lets one writer in at a time), so a
    gate passes once and no opinion is overwritten."""
    query = select(Project).where(Project.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    project = session.exec(query).first()
    if project is None:
        raise MechanismError(f"项目库中没有编号为“{code}”的项目")
    return project


def gates_of(session: Session, project: Project) -> list[ProjectGate]:
    return list(session.exec(select(ProjectGate).where(ProjectGate.project_id == project.id).order_by("seq")))


def signatures_of(session: Session, gate: ProjectGate) -> list[Signature]:
    query = select(Signature).where(Signature.gate_id == gate.id).order_by(col(Signature.round), col(Signature.id))
    return list(session.exec(query))


def current_gate(session: Session, project: Project) -> ProjectGate | None:
    if project.gate is None:
        return None
    query = select(ProjectGate).where(ProjectGate.project_id == project.id, ProjectGate.gate == project.gate)
    return session.exec(query).one()


def rule_of(plan: Plan, gate: ProjectGate) -> Gate:
    rule = plan.mechanism.gate(gate.gate)
    if rule is None:
        raise MechanismError(f"实施方案中已没有环节“{gate.gate}”")
    return rule


def applies(rule: Gate, project: Project) -> bool:
    """Pre-sale consultation is held only when pre-sale comes before completion."""
    if rule.only_when == "presale_before_completion":
        return bool(
            project.presale_on and (project.completion_on is None or project.presale_on < project.completion_on)
        )
    return True


def register(session: Session, plan: Plan, project: Project, as_of: date) -> None:
    """A project newly in the register: all its gates, the first one opened for its lead to submit."""
    session.add(project)
    session.flush()
    for seq, rule in enumerate(plan.mechanism.gates, start=1):
        session.add(ProjectGate(project_id=project.id, gate=rule.code, seq=seq))
    session.flush()
    open_next(session, plan, project, as_of)


def open_next(session: Session, plan: Plan, project: Project, as_of: date) -> ProjectGate | None:
    """Open the first gate of the plan still waiting (skipping those that do not apply) for its lead
    department to submit; None when all have passed. A gate the plan added since is made as it is reached."""
    rows = {g.gate: g for g in gates_of(session, project)}
    for seq, rule in enumerate(plan.mechanism.gates, start=1):
        gate = rows.get(rule.code)
        if gate is None:
            gate = ProjectGate(project_id=project.id, gate=rule.code, seq=seq)
            session.add(gate)
            session.flush()
        if gate.state in ("passed", "skipped"):
            continue
        if gate.state != "waiting":
            return gate
        if not applies(rule, project):
            gate.state = "skipped"
            session.add(gate)
            _log(session, project, gate, rule.lead, "gate_skipped", as_of, note="预售晚于竣工或无预售，不适用")
            continue
        gate.state = "open"
        project.gate, project.gate_state = gate.gate, "open"
        session.add_all([gate, project])
        _log(session, project, gate, rule.lead, "gate_opened", as_of)
        notify(
            session,
            plan,
            key=f"gate:{project.code}:{gate.gate}:open",
            kind="gate_open",
            recipient=rule.lead,
            as_of=as_of,
            page=f"/projects/{project.code}",
            **_facts(project, rule),
        )
        return gate
    project.gate, project.gate_state = None, "done"
    session.add(project)
    return None


def _submit(session: Session, plan: Plan, project: Project, gate: ProjectGate, rule: Gate, as_of: date) -> None:
    """A new round: every signer is asked again, with the gate's working days from today."""
    calendar = WorkingCalendar(plan.calendar)
    resolve_cause(session, f"resubmit:{project.code}:{gate.gate}:r{gate.round}@", as_of)
    gate.round += 1
    gate.state, gate.submitted_on = "in_review", as_of
    gate.due_on = add_working_days(calendar, as_of, rule.within_working_days)
    gate.returned_on = gate.resubmit_due = None
    project.gate, project.gate_state = gate.gate, "in_review"
    session.add_all([gate, project])
    session.flush()
    shortfalls = shortfalls_said(provisions(session, plan, project)) if rule.shortfall_blocks else ""
    for signer in rule.signers:
        session.add(Signature(gate_id=gate.id, round=gate.round, signer=signer, due_on=gate.due_on))
        notify(
            session,
            plan,
            key=f"gate:{project.code}:{gate.gate}:r{gate.round}:ask",
            kind="gate_review",
            recipient=signer,
            as_of=as_of,
            page=f"/projects/{project.code}",
            round=gate.round,
            due=gate.due_on,
            shortfalls=shortfalls,
            **_facts(project, rule),
        )
    _log(session, project, gate, rule.lead, "gate_submitted", as_of, after={"round": gate.round, "due_on": gate.due_on})


def sign(
    session: Session,
    plan: Plan,
    code: str,
    *,
    signer: str,
    approve: bool,
    reasons: str = "",
    conditions: str = "",
    as_of: date,
    gate_code: str | None = None,
    round_seen: int | None = None,
) -> ProjectGate:
    """The signer's opinion on the project's open gate; a rejection returns it to the lead department.
    `gate_code` and `round_seen`: the gate and round the signer read, refused when they have moved on."""
    project = get_project(session, code, lock=True)
    gate = current_gate(session, project)
    if gate is None or (gate_code and gate.gate != gate_code):
        raise MechanismError(f"项目{code}当前没有待会签的{_gate_name(plan, gate_code)}")
    rule = rule_of(plan, gate)
    if round_seen is not None and round_seen != gate.round:
        raise MechanismError(f"项目{code}{rule.name}已重新提交（第{gate.round}轮），请刷新页面查看后重新签署")
    if gate.state != "in_review":
        raise MechanismError(f"项目{code}{rule.name}尚未提交会签（{GATE_STATES[gate.state]}），待牵头部门提交后再签署")
    if as_of < gate.submitted_on:
        raise MechanismError(f"签署日期{as_of}早于本轮提交日期{gate.submitted_on}")
    query = select(Signature).where(
        Signature.gate_id == gate.id, Signature.round == gate.round, Signature.signer == signer
    )
    signature = session.exec(query).first()
    if signature is None:
        raise MechanismError(f"{signer}不是项目{code}{rule.name}的会签单位")
    if signature.decision is not None:
        raise MechanismError(f"{signer}已于{signature.signed_on}签署本轮意见（{DECISIONS[signature.decision]}）")
    reasons = textgate.clean(reasons, multiline=True, limit=textgate.NOTE_LIMIT, field="理由")
    conditions = textgate.clean(conditions, multiline=True, limit=textgate.NOTE_LIMIT, field="整改要求或附加条件")
    if not approve and not reasons:
        raise MechanismError("不同意的，须写明理由")
    signature.decision = "approved" if approve else "rejected"
    signature.reasons, signature.conditions = reasons, conditions
    signature.signed_on, signature.signed_by, signature.signed_at = as_of, audit.acting(signer), datetime.now(UTC)
    session.add(signature)
    resolve_cause(session, f"countersign:{project.code}:{gate.gate}:r{gate.round}:{signer}@", as_of)
    _log(
        session,
        project,
        gate,
        signer,
        "signed" if approve else "rejected",
        as_of,
        after={"round": gate.round, "decision": signature.decision, "conditions": conditions},
        note=reasons,
    )
    if not approve:
        _return(session, plan, project, gate, rule, signature, as_of)
    else:
        settle(session, plan, project, as_of)
    return gate


def _return(
    session: Session, plan: Plan, project: Project, gate: ProjectGate, rule: Gate, signature: Signature, as_of: date
) -> None:
    calendar = WorkingCalendar(plan.calendar)
    for other in session.exec(
        select(Signature).where(
            Signature.gate_id == gate.id, Signature.round == gate.round, col(Signature.decision).is_(None)
        )
    ):
        other.decision = "void"  # asked no further in this round; the resubmission asks everyone again
        session.add(other)
    gate.state, gate.returned_on = "returned", as_of
    gate.resubmit_due = add_working_days(calendar, as_of, plan.reporting.resubmit_within_working_days)
    project.gate_state = "returned"
    session.add_all([gate, project])
    notify(
        session,
        plan,
        key=f"gate:{project.code}:{gate.gate}:r{gate.round}:returned",
        kind="gate_returned",
        recipient=rule.lead,
        as_of=as_of,
        page=f"/projects/{project.code}",
        signer=signature.signer,
        reasons=signature.reasons,
        conditions=signature.conditions,
        resubmit_due=gate.resubmit_due,
        **_facts(project, rule),
    )


def submit(
    session: Session, plan: Plan, code: str, *, by: str, note: str = "", as_of: date, gate_code: str | None = None
) -> ProjectGate:
    """The lead department puts the open gate, or a returned one, to the signers (a new round)."""
    project = get_project(session, code, lock=True)
    gate = current_gate(session, project)
    if gate is None or gate.state not in ("open", "returned") or (gate_code and gate.gate != gate_code):
        raise MechanismError(f"项目{code}当前没有待提交会签的{_gate_name(plan, gate_code)}")
    rule = rule_of(plan, gate)
    if by != rule.lead:
        raise MechanismError(f"{rule.name}由{rule.lead}牵头，{by}不能提交")
    since = gate.returned_on or _opened_on(session, project, gate)
    if as_of < since:
        raise MechanismError(f"提交日期{as_of}早于{since}")
    note = textgate.clean(note, multiline=True, limit=textgate.NOTE_LIMIT, field="说明")
    if note:
        _log(session, project, gate, by, "submission_note", as_of, note=note)
    _submit(session, plan, project, gate, rule, as_of)
    return gate


def _opened_on(session: Session, project: Project, gate: ProjectGate) -> date:
    """The day a gate opened: when the gate before it passed, or when the project was registered."""
    passed = [g.passed_on for g in gates_of(session, project) if g.seq < gate.seq and g.passed_on]
    return max(passed, default=project.registered_on)


def waive(
    session: Session,
    plan: Plan,
    code: str,
    *,
    standard: str,
    reason: str,
    by: str,
    as_of: date,
    shortfall_seen: int | None = None,
) -> Waiver:
    """The Office's recorded exception to one standard of one project, up to the shortfall it saw; a gate
    it held may then pass. A shortfall grown since (a lower commitment re-filed) needs a new waiver,
    which replaces the old one (both stay in the audit log)."""
    if plan.unit_kind(by) != "office":
        raise MechanismError(f"配建缺口豁免须由{plan.office.name}记录，{by}无此权限")
    project = get_project(session, code, lock=True)
    if as_of < project.registered_on:
        raise MechanismError(f"豁免日期{as_of}早于项目入库日期{project.registered_on}")
    rule = plan.mechanism.standard(standard) or next(
        (s for s in plan.mechanism.standards if s.facility == standard), None
    )
    if rule is None:
        raise MechanismError(f"实施方案的配建标准中没有“{standard}”")
    row = next(p for p in provisions(session, plan, project) if p.standard.code == rule.code)
    if shortfall_seen is not None and shortfall_seen != row.shortfall:
        raise MechanismError(
            f"项目{code}的{rule.facility}缺口已变为{row.shortfall}{rule.unit}，请刷新页面核对后重新记录豁免"
        )
    if row.waiver is not None and not row.blocking:
        what = f"缺口{row.waiver.shortfall}{rule.unit}"
        raise MechanismError(f"项目{code}的{rule.facility}{what}已于{row.waiver.granted_on}记录豁免")
    if row.shortfall == 0:
        raise MechanismError(
            f"项目{code}的{rule.facility}没有缺口（应配建{row.required}{rule.unit}，承诺{row.committed}{rule.unit}）"
        )
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="豁免理由")
    if not reason:
        raise MechanismError("记录豁免须写明理由")
    waiver = row.waiver or Waiver(project_id=project.id, standard=rule.code, shortfall=0, reason="", granted_on=as_of)
    before = {"standard": rule.code, "shortfall": waiver.shortfall} if row.waiver else None
    waiver.shortfall, waiver.reason, waiver.granted_on = row.shortfall, reason, as_of
    waiver.granted_by = audit.acting(by)
    session.add(waiver)
    audit.record(
        session,
        actor=by,
        subject="project",
        key=project.code,
        action="shortfall_waived",
        effective_on=as_of,
        before=before,
        after={"standard": rule.code, "shortfall": row.shortfall},
        note=reason,
    )
    session.flush()
    settle(session, plan, project, as_of)
    return waiver


def settle(session: Session, plan: Plan, project: Project, as_of: date) -> list[str]:
    """Pass the open gate once every signer approved and no shortfall blocks it, and open the next;
    returns the gates passed. Safe to run again: a gate passes once."""
    project = get_project(session, project.code, lock=True)
    passed = []
    while (gate := current_gate(session, project)) is not None and gate.state == "in_review":
        rule = rule_of(plan, gate)
        decisions = [s.decision for s in _round(session, gate)]
        if not decisions or any(d != "approved" for d in decisions):
            break
        if rule.shortfall_blocks:
            blocking = shortfalls_said(provisions(session, plan, project))
            if blocking:
                notify(
                    session,
                    plan,
                    key=f"gate:{project.code}:{gate.gate}:r{gate.round}:blocked",
                    kind="gate_blocked",
                    recipient=plan.office.name,
                    as_of=as_of,
                    page=f"/projects/{project.code}",
                    shortfalls=blocking,
                    **_facts(project, rule),
                )
                break
        signed = [s.signed_on for s in _round(session, gate) if s.signed_on]
        gate.state, gate.passed_on = "passed", max([as_of, *signed])  # never before the last opinion
        session.add(gate)
        _log(session, project, gate, rule.lead, "gate_passed", as_of)
        passed.append(gate.gate)
        session.flush()
        open_next(session, plan, project, as_of)
    return passed


def blocked(session: Session, plan: Plan, project: Project, gate: ProjectGate) -> str:
    """The shortfalls holding a gate every signer approved; empty when nothing holds it."""
    rule = rule_of(plan, gate)
    if gate.state != "in_review" or not rule.shortfall_blocks:
        return ""
    if any(s.decision != "approved" for s in _round(session, gate)):
        return ""
    return shortfalls_said(provisions(session, plan, project))


def _round(session: Session, gate: ProjectGate) -> list[Signature]:
    query = select(Signature).where(Signature.gate_id == gate.id, Signature.round == gate.round)
    return list(session.exec(query))


def _facts(project: Project, rule: Gate) -> dict:
    return {
        "project": project.name,
        "code": project.code,
        "township": project.township,
        "developer": project.developer,
        "households": project.households,
        "gate": rule.name,
    }


def _gate_name(plan: Plan, code: str | None) -> str:
    rule = plan.mechanism.gate(code) if code else None
    return rule.name if rule else "环节"


def _log(
    session: Session,
    project: Project,
    gate: ProjectGate,
    actor: str,
    action: str,
    as_of: date,
    *,
    after: dict | None = None,
    note: str = "",
) -> None:
    audit.record(
        session,
        actor=actor,
        subject="project",
        key=project.code,
        action=action,
        effective_on=as_of,
        after={"gate": gate.gate, **(after or {})},
        note=note,
    )
