"""The long-term mechanism (长效机制) in the bulletin, as things stood on `as_of`: each owner's document
against its due date, and the joint reviews of new residential projects within the bulletin's period.

The rows keep today's state. A bulletin for an earlier day counts only what is dated by then (issued,
verified, signed, passed, waived); a document's progress short of issue, and a project's households and
commitments, are taken back to that day from their few audit entries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, or_, select

from duban.calendar import WorkingCalendar
from duban.glossary import DELIVERABLE_STATE as STATES
from duban.mechanism.provision import all_waivers, provisions
from duban.plan import Milestone, Plan
from models import AuditEntry, Deliverable, Project, ProjectGate, Signature, Waiver

RESULTS = {"on_time": "按时完成", "late_met": "逾期完成", "late_open": "逾期未完成"}
SHOWN_FIRST = ("late_open", "late_met", "on_time")  # the body's cut keeps the late ones
PROGRESS = ("issued", "under_review", "drafting", "not_started")  # most advanced first


@dataclass(frozen=True)
class Standing:
    """One owner's document on `as_of`; `verified_on` only when the Office confirmed it by then."""

    milestone: str
    owner: str
    title: str
    due: date
    state: str = "not_started"
    issued_on: date | None = None
    document_no: str = ""
    verified_on: date | None = None

    @property
    def issued_late(self) -> bool:
        return bool(self.issued_on and self.issued_on > self.due)

    def result(self, as_of: date) -> str | None:
        """按时完成 / 逾期完成 once verified (by the date of issue), 逾期未完成 past the due date; else None."""
        if self.verified_on is None:  # filed in time and awaiting the Office is not the owner's lateness
            on_time = self.state == "issued" and not self.issued_late
            return "late_open" if self.due < as_of and not on_time else None
        return "late_met" if self.issued_late else "on_time"


def standings(session: Session, as_of: date) -> dict[tuple[str, str], Standing]:
    """Every deliverable row as it stood on `as_of`, keyed by (milestone, owner)."""
    key = AuditEntry.subject_key
    later = set(session.exec(select(key).where(AuditEntry.subject == "deliverable", AuditEntry.effective_on > as_of)))
    then: dict[str, tuple[str, date | None, str]] = {}
    if later:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.subject == "deliverable", col(key).in_(later), AuditEntry.effective_on <= as_of)
            .order_by(col(AuditEntry.effective_on), col(AuditEntry.id))
        )
        for entry in entries:
            state, issued_on, number = then.get(entry.subject_key, ("not_started", None, ""))
            after = entry.after or {}
            if entry.action == "deliverable_state":
                state, issued_on = after["state"], None
            elif entry.action == "deliverable_issued":
                state, issued_on, number = "issued", date.fromisoformat(after["issued_on"]), after["document_no"]
            elif entry.action == "deliverable_returned":
                state, issued_on = "under_review", None
            then[entry.subject_key] = (state, issued_on, number)
    held = {}
    for row in session.exec(select(Deliverable)):
        verified = row.verified_on if row.verified_on and row.verified_on <= as_of else None
        state, issued_on, number = row.state, row.issued_on, row.document_no
        if verified is None and f"{row.milestone}:{row.owner}" in later:
            state, issued_on, number = then.get(f"{row.milestone}:{row.owner}", ("not_started", None, ""))
        held[(row.milestone, row.owner)] = Standing(
            row.milestone, row.owner, row.title, row.due, state, issued_on, number, verified
        )
    return held


def owners_of(milestone: Milestone, held: dict[tuple[str, str], Standing]) -> list[Standing] | None:
    """The milestone's owners' documents, in the plan's order; None when duban holds none of them (an
    owner the plan added since counts as not started)."""
    if not any(m == milestone.code for m, _ in held):
        return None
    title = next((s.title for (m, _), s in held.items() if m == milestone.code), milestone.title)
    return [
        held.get((milestone.code, o)) or Standing(milestone.code, o, title, milestone.due) for o in milestone.owners
    ]


def milestone_verdict(milestone: Milestone, rows: list[Standing], as_of: date) -> tuple[str, str]:
    """状态 and 说明 of a document milestone in the milestone table."""
    met = [s for s in rows if s.verified_on]
    awaiting = [s.owner for s in rows if s.state == "issued" and not s.verified_on]
    if len(met) == len(rows):
        return "已完成", _met(met)
    if as_of <= milestone.due:
        counts = Counter(s.state for s in rows)
        issued = f"已印发{counts['issued']}个" + (f"（其中待核验{len(awaiting)}个）" if awaiting else "")
        rest = "，".join(f"{STATES[state]}{counts[state]}个" for state in PROGRESS[1:])
        return ("未到期" if counts["not_started"] == len(rows) else "进行中"), f"{issued}，{rest}"
    parts = [_met(met)] if met else []
    unissued = [s for s in rows if s.state != "issued"]
    if unissued:
        groups = "；".join(
            f"{STATES[state]}：{'、'.join(s.owner for s in unissued if s.state == state)}"
            for state in PROGRESS[1:]
            if any(s.state == state for s in unissued)
        )
        parts.append(f"未印发{len(unissued)}个（{groups}）")
    if awaiting:
        parts.append("待核验：" + "、".join(awaiting))
    return "已逾期", "；".join(parts)


def _met(met: list[Standing]) -> str:
    late = [s.owner for s in met if s.issued_late]
    return f"已印发并经核验{len(met)}个" + (f"（其中逾期印发：{'、'.join(late)}）" if late else "")


def window(kind: str, days: tuple[date, date], previous: dict | None) -> tuple[date, date]:
    """The days a bulletin's 本期 covers here: its period; for a monthly bulletin, from the day after the
    last one's, as each is issued some days into its month (the month alone would leave the end of the
    month before unsaid)."""
    covered = (previous or {}).get("mechanism") if kind == "monthly" else None
    if not covered:
        return days
    return date.fromisoformat(covered["window"][1]) + timedelta(days=1), days[1]


def figures(
    session: Session, plan: Plan, held: dict[tuple[str, str], Standing], window: tuple[date, date], as_of: date
) -> dict | None:
    """The section's figures for the days of `window` up to `as_of` (`held`: the `standings` then); None
    for a plan without a mechanism."""
    if not plan.mechanism.deliverables and not plan.mechanism.gates:
        return None
    start, end = window[0], min(window[1], as_of)
    return {
        "window": [start.isoformat(), end.isoformat()],
        "deliverables": _deliverables(plan, held, start, end, as_of),
        **_reviews(session, plan, start, end, as_of),
        **_provision(session, plan, start, end, as_of),
    }


def _deliverables(plan: Plan, held: dict[tuple[str, str], Standing], start: date, end: date, as_of: date) -> dict:
    rows = [row for m in plan.milestones for row in owners_of(m, held) or []]
    results = {s: s.result(as_of) for s in rows}
    order = {s: n for n, s in enumerate(rows)}
    listed = sorted((s for s in rows if results[s]), key=lambda s: (SHOWN_FIRST.index(results[s]), s.due, order[s]))
    counts = Counter(results.values())
    return {
        "total": len(rows),
        **{result: counts[result] for result in RESULTS},
        "pending": counts[None],
        "verified": sum(bool(s.verified_on and start <= s.verified_on <= end) for s in rows),
        "rows": [
            {
                "title": s.title,
                "owner": s.owner,
                "due": s.due.isoformat(),
                "result": results[s],
                "state": s.state,
                "verified": s.verified_on is not None,
                "issued_on": _iso(s.issued_on),
                "document_no": s.document_no,
            }
            for s in listed
        ],
    }


def _gate_name(plan: Plan, code: str) -> str:
    rule = plan.mechanism.gate(code)
    return rule.name if rule else code


def _reviews(session: Session, plan: Plan, start: date, end: date, as_of: date) -> dict:
    """Opinions signed in the window, gates passed in it, and the signers late in it or still at `as_of`."""
    projects = {p.id: p for p in session.exec(select(Project))}
    signed = session.exec(
        select(Signature, ProjectGate)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .where(col(Signature.signed_on) >= start, col(Signature.signed_on) <= end)
        .order_by(col(Signature.signed_on), col(Signature.id))
    ).all()
    reviewed: dict[int, dict] = {}
    for signature, gate in signed:
        project = projects[gate.project_id]
        row = reviewed.setdefault(
            project.id,
            {"code": project.code, "name": project.name, "township": project.township, "gates": []}
            | {"approved": 0, "rejected": 0},
        )
        name = _gate_name(plan, gate.gate)
        if name not in row["gates"]:
            row["gates"].append(name)
        row[signature.decision] += 1
    rejections = [
        {
            "code": projects[gate.project_id].code,
            "name": projects[gate.project_id].name,
            "gate": _gate_name(plan, gate.gate),
            "signer": signature.signer,
            "signed_on": signature.signed_on.isoformat(),
            "reasons": signature.reasons,
            "conditions": signature.conditions,
        }
        for signature, gate in signed
        if signature.decision == "rejected"
    ]
    passed = session.exec(
        select(ProjectGate)
        .where(col(ProjectGate.passed_on) >= start, col(ProjectGate.passed_on) <= end)
        .order_by(col(ProjectGate.passed_on), col(ProjectGate.id))
    ).all()
    return {
        "reviewed": sorted(reviewed.values(), key=lambda r: r["code"]),
        "passed": [
            {
                "code": projects[g.project_id].code,
                "name": projects[g.project_id].name,
                "gate": _gate_name(plan, g.gate),
                "lead": rule.lead if (rule := plan.mechanism.gate(g.gate)) else "",
                "passed_on": g.passed_on.isoformat(),
            }
            for g in passed
        ],
        "rejections": rejections,
        "late_signers": _late_signers(session, plan, projects, signed, as_of),
    }


def _late_signers(session: Session, plan: Plan, projects: dict[int, Project], signed: list, as_of: date) -> list[dict]:
    """Opinions signed in the window after their deadline, then those awaited past it on `as_of` (a round
    returned by a rejection asks no one further from the day of that rejection)."""
    calendar = WorkingCalendar(plan.calendar)
    late = [(s, g, s.signed_on) for s, g in signed if s.decision in ("approved", "rejected") and s.signed_on > s.due_on]
    maybe = session.exec(
        select(Signature, ProjectGate)
        .join(ProjectGate, Signature.gate_id == ProjectGate.id)
        .where(
            Signature.due_on < as_of,
            or_(
                col(Signature.decision).is_(None),
                col(Signature.decision) == "void",
                col(Signature.signed_on) > as_of,
            ),
        )
        .order_by(col(Signature.due_on), col(Signature.id))
    ).all()
    rejected_on = {
        (gate_id, round_): day
        for gate_id, round_, day in session.exec(
            select(Signature.gate_id, Signature.round, Signature.signed_on).where(Signature.decision == "rejected")
        )
    }
    awaited = [(s, g, None) for s, g in maybe if s.decision != "void" or rejected_on[(s.gate_id, s.round)] > as_of]
    return [
        {
            "signer": s.signer,
            "code": projects[g.project_id].code,
            "name": projects[g.project_id].name,
            "gate": _gate_name(plan, g.gate),
            "due_on": s.due_on.isoformat(),
            "signed_on": _iso(day),
            "days": calendar.working_days_after(s.due_on, day or as_of),
        }
        for s, g, day in awaited + late
    ]


def _provision(session: Session, plan: Plan, start: date, end: date, as_of: date) -> dict:
    """Shortfalls not waived by `as_of`, with each project's households and commitments as they were then;
    and the waivers recorded in the window."""
    projects = list(session.exec(select(Project).where(Project.registered_on <= as_of).order_by(col(Project.code))))
    earlier = _as_registered_on(session, projects, as_of)
    waivers_held = all_waivers(session)
    shortfalls = []
    for project in earlier:
        for p in provisions(session, plan, project, waivers_held.get(project.id, {})):
            if p.shortfall > (p.waived if p.waiver and p.waiver.granted_on <= as_of else 0):
                shortfalls.append(
                    {
                        "code": project.code,
                        "name": project.name,
                        "township": project.township,
                        "facility": p.standard.facility,
                        "unit": p.standard.unit,
                        "required": p.required,
                        "committed": p.committed,
                        "shortfall": p.shortfall,
                    }
                )
    by_id = {p.id: p for p in projects}
    waivers = session.exec(
        select(Waiver)
        .where(Waiver.granted_on >= start, Waiver.granted_on <= end)
        .order_by(col(Waiver.granted_on), col(Waiver.id))
    )
    return {
        "projects": len(projects),
        "shortfalls": shortfalls,
        "waivers": [
            {
                "code": by_id[w.project_id].code,
                "name": by_id[w.project_id].name,
                "facility": rule.facility if (rule := plan.mechanism.standard(w.standard)) else w.standard,
                "unit": rule.unit if rule else "",
                "shortfall": w.shortfall,
                "reason": w.reason,
                "granted_on": w.granted_on.isoformat(),
            }
            for w in waivers
        ],
    }


def _as_registered_on(session: Session, projects: list[Project], as_of: date) -> list[Project]:
    """The projects with the households and commitments they had on `as_of`: a register imported later
    may have changed them (its audit entries keep what they were). Changed ones are detached copies."""
    later = session.exec(
        select(AuditEntry)
        .where(AuditEntry.subject == "project", AuditEntry.action == "updated", AuditEntry.effective_on > as_of)
        .order_by(col(AuditEntry.id).desc())
    )
    before: dict[str, dict] = {}
    for entry in later:  # newest first, so the earliest change after `as_of` is applied last
        before.setdefault(entry.subject_key, {}).update(
            {k: v for k, v in (entry.before or {}).items() if k in ("households", "commitments")}
        )
    return [Project(**(p.model_dump() | before[p.code])) if p.code in before else p for p in projects]


def matter(session: Session, plan: Plan, cause: str, cause_key: str) -> str | None:
    """What a mechanism escalation is about, read from its key (duban.mechanism.follow makes the keys):
    the project and gate, or the document; None for other causes or a key no longer understood."""
    parts = cause_key.partition("@")[0].split(":")
    if cause == "overdue_deliverable" and len(parts) == 3:
        rule = next((r for r in plan.mechanism.deliverables if r.milestone == parts[1]), None)
        return f"长效机制文件（{rule.title}）" if rule else None
    if cause in ("late_countersign", "late_resubmission") and len(parts) >= 4:
        project = session.exec(select(Project).where(Project.code == parts[1])).first()
        if project is None:
            return None
        what = "会签" if cause == "late_countersign" else "重新提交"
        return f"{project.name}{_gate_name(plan, parts[2])}{what}"
    return None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
