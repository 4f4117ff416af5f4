"""The mechanism as people read it: one project in full, the register at a glance, a unit's queue."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from duban.mechanism import gates
from duban.mechanism.gates import DECISIONS, GATE_STATES
from duban.mechanism.provision import all_waivers, provisions
from duban.plan import Plan
from models import Project, ProjectGate, Signature


def project_view(session: Session, plan: Plan, project: Project, as_of: date) -> dict:
    rows = provisions(session, plan, project)
    gate_rows = []
    for gate in gates.gates_of(session, project):
        rule = plan.mechanism.gate(gate.gate)
        signatures = gates.signatures_of(session, gate)
        gate_rows.append(
            {
                "code": gate.gate,
                "name": rule.name if rule else gate.gate,
                "lead": rule.lead if rule else "",
                "countersigners": list(rule.countersigners) if rule else [],
                "checks": rule.checks if rule else "",
                "state": gate.state,
                "state_label": GATE_STATES[gate.state],
                "round": gate.round,
                "submitted_on": gate.submitted_on,
                "due_on": gate.due_on,
                "returned_on": gate.returned_on,
                "resubmit_due": gate.resubmit_due,
                "passed_on": gate.passed_on,
                "blocked": gates.blocked(session, plan, project, gate) if rule else "",
                "signatures": [_signature(s, gate, as_of) for s in signatures],
            }
        )
    return {
        "code": project.code,
        "name": project.name,
        "developer": project.developer,
        "township": project.township,
        "parcel": project.parcel,
        "households": project.households,
        "floor_area": project.floor_area,
        "land_supply_on": project.land_supply_on,
        "presale_on": project.presale_on,
        "completion_on": project.completion_on,
        "registered_on": project.registered_on,
        "gate": project.gate,
        "gate_state": project.gate_state,
        "provisions": [
            {
                "standard": p.standard.code,
                "facility": p.standard.facility,
                "measure": p.standard.measure,
                "unit": p.standard.unit,
                "required": p.required,
                "committed": p.committed,
                "shortfall": p.shortfall,
                "waived": p.waiver is not None and not p.blocking,
                "waiver_reason": p.waiver.reason if p.waiver else "",
                "waiver_by": p.waiver.granted_by if p.waiver else "",
                "waiver_on": p.waiver.granted_on if p.waiver else None,
            }
            for p in rows
        ],
        "gates": gate_rows,
    }


def _signature(signature: Signature, gate: ProjectGate, as_of: date) -> dict:
    waiting = signature.decision is None and gate.state == "in_review" and signature.round == gate.round
    return {
        "round": signature.round,
        "signer": signature.signer,
        "due_on": signature.due_on,
        "decision": signature.decision,
        "decision_label": DECISIONS.get(signature.decision or "", "待签署"),
        "reasons": signature.reasons,
        "conditions": signature.conditions,
        "signed_on": signature.signed_on,
        "signed_by": signature.signed_by,
        "waiting": waiting,
        "late": (waiting and as_of > signature.due_on)
        or (signature.signed_on is not None and signature.signed_on > signature.due_on),
    }


def register_count(session: Session, *, township: str | None = None) -> int:
    query = select(func.count()).select_from(Project)
    if township:
        query = query.where(Project.township == township)
    return session.exec(query).one()


def register_rows(
    session: Session,
    plan: Plan,
    as_of: date,
    *,
    township: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """The projects (one township's; a page of them) with their open gate and who is late on it: a few
    indexed queries over the projects shown, none per project."""
    shown = select(Project.id).order_by(col(Project.code)).offset(offset).limit(limit)
    if township:
        shown = shown.where(Project.township == township)
    shown = shown.subquery()
    projects = list(session.exec(select(Project).where(col(Project.id).in_(select(shown.c.id))).order_by("code")))
    open_state = col(ProjectGate.state).in_(("open", "in_review", "returned"))
    among = col(ProjectGate.project_id).in_(select(shown.c.id))
    open_gates = {g.project_id: g for g in session.exec(select(ProjectGate).where(open_state, among))}
    waiting: dict[int, list[Signature]] = {}
    for s in session.exec(
        select(Signature)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .where(open_state, among, Signature.round == ProjectGate.round, col(Signature.decision).is_(None))
        .order_by(col(Signature.id))
    ):
        waiting.setdefault(s.gate_id, []).append(s)
    waivers = all_waivers(session, among=select(shown.c.id))
    rows = []
    for project in projects:
        gate = open_gates.get(project.id)
        rule = plan.mechanism.gate(gate.gate) if gate else None
        pending = waiting.get(gate.id, []) if gate else []
        shortfalls = [p for p in provisions(session, plan, project, waivers.get(project.id, {})) if p.shortfall]
        rows.append(
            {
                "code": project.code,
                "name": project.name,
                "township": project.township,
                "developer": project.developer,
                "households": project.households,
                "gate": rule.name if rule else "全部环节已通过",
                "state": gate.state if gate else "done",
                "state_label": GATE_STATES[gate.state] if gate else "已完成",
                "due_on": (gate.resubmit_due if gate.state == "returned" else gate.due_on) if gate else None,
                "waiting": [s.signer for s in pending],
                "late": [s.signer for s in pending if as_of > s.due_on]
                + ([rule.lead] if gate and gate.state == "returned" and as_of > gate.resubmit_due else []),
                "shortfalls": sum(1 for p in shortfalls if p.blocking),
                "waived": sum(1 for p in shortfalls if not p.blocking),
            }
        )
    return rows


def queue(session: Session, plan: Plan, unit: str, as_of: date) -> dict[str, list[dict]]:
    """What a unit owes: opinions awaited from it, and gates it leads that are open or returned to it."""
    query = (
        select(Signature, ProjectGate, Project)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .join(Project, ProjectGate.project_id == Project.id)
        .where(
            col(Signature.decision).is_(None),
            Signature.signer == unit,
            ProjectGate.state == "in_review",
            Signature.round == ProjectGate.round,
        )
        .order_by(col(Signature.due_on), col(Project.code))
    )
    to_sign = [
        {
            "code": project.code,
            "name": project.name,
            "township": project.township,
            "gate": gates.rule_of(plan, gate).name,
            "gate_code": gate.gate,
            "round": gate.round,
            "due_on": signature.due_on,
            "late": as_of > signature.due_on,
        }
        for signature, gate, project in session.exec(query)
    ]
    leads = [g.code for g in plan.mechanism.gates if g.lead == unit]
    to_submit = []
    if leads:
        query = (
            select(ProjectGate, Project)
            .join(Project, ProjectGate.project_id == Project.id)
            .where(col(ProjectGate.state).in_(("open", "returned")), col(ProjectGate.gate).in_(leads))
            .order_by(col(ProjectGate.state).desc(), col(ProjectGate.resubmit_due), col(Project.code))
        )
        to_submit = [
            {
                "code": project.code,
                "name": project.name,
                "township": project.township,
                "gate": gates.rule_of(plan, gate).name,
                "gate_code": gate.gate,
                "round": gate.round,
                "state": gate.state,
                "due_on": gate.resubmit_due,
                "late": gate.resubmit_due is not None and as_of > gate.resubmit_due,
            }
            for gate, project in session.exec(query)
        ]
    return {"to_sign": to_sign, "to_submit": to_submit}
