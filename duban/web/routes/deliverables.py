"""The mechanism's documents on the web (长效机制文件): each unit moves its own on and files the issued
document; the Office opens what was filed and verifies it or returns it with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban import audit, config
from duban.db import session_scope
from duban.evidence_files import EvidenceRefused
from duban.glossary import DELIVERABLE_STATE
from duban.mechanism import MechanismError, deliverables
from duban.programme import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, Signed, need, render, retried, today
from duban.web.routes.items import SHOWN_INLINE, kept_file
from duban.web.scope import hidden
from duban.web.uploads import received, uploads_in

router = APIRouter()
REFUSALS = (MechanismError, EvidenceRefused, TextRefused)
DONE = {"state": "状态已更新。", "issued": "印发文件已报送，待区领导小组办公室核验。", "verified": "核验意见已提交。"}


@router.get("/deliverables")
def deliverables_page(request: Request, who: Signed, done: str = "") -> Response:
    return _page(request, who, notice=DONE.get(done))


@router.post("/deliverables/{milestone}/state")
def set_state(request: Request, milestone: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))

    def step() -> None:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            deliverables.set_state(
                session,
                current_plan(session),
                milestone,
                who.unit,
                str(form.get("state") or ""),
                as_of=today(request),
                note=str(form.get("note") or ""),
            )

    return _write(request, who, step, "state")


@router.post("/deliverables/{milestone}/issue")
def file_issued(request: Request, milestone: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    files = uploads_in(form, "document")
    if len(files) != 1:
        return _page(request, who, error="请选择一个印发文件（PDF、图片、Word 等）", status_code=400)
    try:
        issued_on = date.fromisoformat(str(form.get("issued_on") or "").strip())
    except ValueError:
        return _page(request, who, error="印发日期无效，请按 YYYY-MM-DD 填写", status_code=400)
    with session_scope() as session:
        max_bytes = current_plan(session).evidence.max_bytes
    with received(files, max_bytes=max_bytes) as (path,):

        def step() -> None:
            with session_scope() as session, audit.entered_by(who.name, "portal"):
                deliverables.file_issued(
                    session,
                    current_plan(session),
                    milestone,
                    who.unit,
                    document_no=str(form.get("document_no") or ""),
                    issued_on=issued_on,
                    path=path,
                    store=config.home() / "deliverables",
                    as_of=today(request),
                )

        return _write(request, who, step, "issued")


@router.get("/deliverables/{milestone}/{owner}/file")
def document(request: Request, milestone: str, owner: str, who: Signed) -> Response:
    """The filed document, to its owner and the Office only; to anyone else it does not exist."""
    if who.kind != "office" and who.unit != owner:
        raise hidden()
    with session_scope() as session:
        try:
            row = deliverables.get(session, current_plan(session), milestone, owner)
        except MechanismError:
            raise hidden() from None
    if not row.stored_as:
        raise hidden()
    return kept_file(row.stored_as, row.filename)


@router.post("/deliverables/{milestone}/{owner}/verify")
def verify(request: Request, milestone: str, owner: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))
    decision = form.get("decision")
    if decision not in ("accept", "return"):
        return _page(request, who, error="请选择“核验通过”或“退回”", status_code=400)

    def step() -> None:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            deliverables.verify(
                session,
                current_plan(session),
                milestone,
                owner,
                by=who.unit,
                accept=decision == "accept",
                reason=str(form.get("reason") or ""),
                as_of=today(request),
                document_seen=str(form.get("document") or ""),
            )

    return _write(request, who, step, "verified")


def _write(request: Request, who: Person, step: Callable[[], None], done: str) -> Response:
    try:
        retried(step)
    except REFUSALS as exc:
        return _page(request, who, error=str(exc), status_code=400)
    return RedirectResponse(f"/deliverables?done={quote(done)}", status_code=303)


def _page(request: Request, who: Person, *, status_code: int = 200, **message: str | None) -> Response:
    """The unit's own documents; the Office's and the leaders' view of every unit's."""
    everyone = who.kind in ("office", "leader")
    with session_scope() as session:
        rows = deliverables.deliverables(session, owner=None if everyone else who.unit)
    to_verify = [r for r in rows if r.state == "issued" and r.verified_on is None] if who.kind == "office" else []
    return render(
        request,
        "deliverables.html",
        status_code,
        rows=rows,
        to_verify=to_verify,
        everyone=everyone,
        owns=who.kind in ("township", "department"),
        states=DELIVERABLE_STATE,
        working=deliverables.WORKING_STATES,
        kinds=SHOWN_INLINE,
        **message,
    )
