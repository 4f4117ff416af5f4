"""New residential projects on the web: the register, a project in full, and its joint review (会签):
the lead department's submission, a signer department's opinion, the Office's waiver of a shortfall."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.mechanism import MechanismError, gates, view
from duban.plan import Gate, Plan
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, Signed, need, render, retried, today
from duban.web.flash import back
from duban.web.numbers import PageAsked, whole
from duban.web.scope import hidden
from models import Project, Signature

router = APIRouter()
REFUSALS = (MechanismError, TextRefused)
DONE = {"signed": "会签意见已提交。", "submitted": "已提交各单位会签。", "waived": "已记录配建缺口豁免。"}
# The words a refusal uses for each text field of the forms here, the more specific first.
FIELDS = {"conditions": "整改要求或附加条件", "reasons": "理由", "reason": "理由", "note": "说明"}


@router.get("/projects")
def projects(request: Request, who: Signed, page: PageAsked) -> Response:
    """Townships see their own projects; everyone else the whole register, a department its queue first;
    a page of `portal.page_rows` projects at a time."""
    day = today(request)
    township = who.unit if who.kind == "township" else None
    with session_scope() as session:
        plan = current_plan(session)
        per_page = plan.portal.page_rows
        total = view.register_count(session, township=township)
        pages = max(1, -(-total // per_page))
        page = max(1, min(page, pages))
        rows = view.register_rows(session, plan, day, township=township, offset=(page - 1) * per_page, limit=per_page)
        queue = view.queue(session, plan, who.unit, day) if who.kind == "department" else None
    return render(request, "projects.html", rows=rows, queue=queue, total=total, page=page, pages=pages)


@router.get("/projects/{code}")
def project_page(request: Request, code: str, who: Signed) -> Response:
    return _page(request, who, code)


@router.post("/projects/{code}/sign")
def sign(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("department",), roles=("reviewer",))
    gate_code = str(form.get("gate") or "")
    decision = form.get("decision")
    typed = _typed(form, "reasons", "conditions")
    if decision not in ("approve", "reject"):
        kept = _kept("sign", typed)
        return back(request, _at(code, "sign"), error="请选择“同意”或“不同意”", field="decision", values=kept)

    def work(session: Session, plan: Plan, project: Project) -> None:
        _acting_for(plan, gate_code, lambda rule: who.unit in rule.signers)
        gates.sign(
            session,
            plan,
            project.code,
            signer=who.unit,
            approve=decision == "approve",
            reasons=str(form.get("reasons") or ""),
            conditions=str(form.get("conditions") or ""),
            as_of=today(request),
            gate_code=gate_code,
            round_seen=_seen(form, "round"),
        )

    return _write(request, who, code, work, "signed", typed)


@router.post("/projects/{code}/submit")
def submit(request: Request, code: str, who: Signed, form: Posted) -> Response:
    """The lead department puts an open gate, or one returned to it, to the signers."""
    need(who, kinds=("department",))
    gate_code = str(form.get("gate") or "")

    def work(session: Session, plan: Plan, project: Project) -> None:
        _acting_for(plan, gate_code, lambda rule: rule.lead == who.unit)
        gates.submit(
            session,
            plan,
            project.code,
            by=who.unit,
            note=str(form.get("note") or ""),
            as_of=today(request),
            gate_code=gate_code,
        )

    return _write(request, who, code, work, "submitted", _typed(form, "note"))


@router.post("/projects/{code}/waive")
def waive(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))

    def work(session: Session, plan: Plan, project: Project) -> None:
        gates.waive(
            session,
            plan,
            project.code,
            standard=str(form.get("standard") or ""),
            reason=str(form.get("reason") or ""),
            by=who.unit,
            as_of=today(request),
            shortfall_seen=_seen(form, "shortfall"),
        )

    return _write(request, who, code, work, "waived", _typed(form, "reason", "standard"))


def _seen(form: FormData, name: str) -> int | None:
    """A number the page showed (the round signed, the shortfall waived), so that a page read before a
    colleague's change is refused rather than applied to what the person never saw."""
    return whole(form.get(name))


def _field_named(message: str, typed: dict[str, str]) -> str | None:
    """The field of this form a refusal speaks of (its words in the message), so the page marks it."""
    return next((name for name, words in FIELDS.items() if name in typed and words in message), None)


def _typed(form: FormData, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in names}


def _at(code: str, form: str) -> str:
    """The project's page at the form a refusal names (`form-sign`, `form-submit`, `form-waive-<standard>`)."""
    return f"/projects/{quote(code[:40])}#form-{form}"


def _kept(form: str, typed: dict[str, str]) -> dict[str, str]:
    """What was typed, and which form it was typed in (the page shows it there, and only there)."""
    return typed | {"form": f"form-{form}"}


def _write(
    request: Request,
    who: Person,
    code: str,
    work: Callable[[Session, Plan, Project], None],
    done: str,
    typed: dict[str, str],
) -> Response:
    """One step on a project the person may see, entered as them, tried again if SQLite was busy; a refusal
    goes back to the form it came from, what was typed kept and the text field it concerns named."""

    def step() -> None:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            work(session, current_plan(session), _visible(session, who, code))

    try:
        retried(step)
    except REFUSALS as exc:
        form = {"signed": "sign", "submitted": "submit"}.get(done) or f"waive-{typed.get('standard', '')}"
        field = _field_named(str(exc), typed)
        return back(request, _at(code, form), error=str(exc), field=field, values=_kept(form, typed))
    return back(request, f"/projects/{quote(code[:40])}", notice=DONE[done])


def _acting_for(plan: Plan, gate_code: str, allowed: Callable[[Gate], bool]) -> None:
    """The gate the page showed, if this unit has a part in it; any other unit is refused outright."""
    rule = plan.mechanism.gate(gate_code)
    if rule is None or not allowed(rule):
        raise HTTPException(403, "你的账号无权进行此操作")


def _visible(session: Session, who: Person, code: str) -> Project:
    """A township reads only the projects in its area; departments sign across the district."""
    project = session.exec(select(Project).where(Project.code == code[:40])).first()
    if project is None or (who.kind == "township" and project.township != who.unit):
        raise hidden()
    return project


def _page(request: Request, who: Person, code: str) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        project = _visible(session, who, code)
        shown = view.project_view(session, plan, project, today(request))
        gate = gates.current_gate(session, project)
        pending = (
            session.exec(
                select(Signature.id).where(
                    Signature.gate_id == gate.id,
                    Signature.round == gate.round,
                    Signature.signer == who.unit,
                    col(Signature.decision).is_(None),
                )
            ).first()
            if gate is not None and gate.state == "in_review"
            else None
        )
    lead = next((g["lead"] for g in shown["gates"] if g["code"] == shown["gate"]), "")
    return render(
        request,
        "project.html",
        project=shown,
        may_sign=pending is not None and who.kind == "department" and who.role == "reviewer",
        may_submit=who.kind == "department" and shown["gate_state"] in ("open", "returned") and lead == who.unit,
        may_waive=who.kind == "office",
    )
