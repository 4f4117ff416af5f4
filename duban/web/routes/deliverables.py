"""The mechanism's documents on the web (长效机制文件): each unit moves its own on and files the issued
document; the Office opens what was filed and verifies it or returns it with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from duban import audit, config
from duban.db import session_scope
from duban.glossary import DELIVERABLE_STATE
from duban.items.evidence import EvidenceRefused
from duban.mechanism import MechanismError, deliverables
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web import export
from duban.web.deps import Person, Posted, Signed, need, render, retried, today
from duban.web.flash import back
from duban.web.routes.items import SHOWN_INLINE, kept_file, upload_hint
from duban.web.scope import hidden
from duban.web.uploads import received, uploads_in

router = APIRouter()
REFUSALS = (MechanismError, EvidenceRefused, TextRefused)
DONE = {"state": "状态已更新。", "issued": "印发文件已报送，待区领导小组办公室核验。", "verified": "核验意见已提交。"}
# The words a refusal uses for each field of the forms here.
FIELDS = {"document_no": "文号", "issued_on": "印发日期", "document": "文件名", "reason": "理由", "note": "说明"}


@router.get("/deliverables")
def deliverables_page(request: Request, who: Signed) -> Response:
    return _page(request, who)


@router.post("/deliverables/{milestone}/state")
def set_state(request: Request, milestone: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    typed = _typed(form, f"state-{milestone}", "note", "state")

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

    return _write(request, who, step, "state", typed)


@router.post("/deliverables/{milestone}/issue")
def file_issued(request: Request, milestone: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    typed = _typed(form, f"issue-{milestone}", "document_no", "issued_on")
    files = uploads_in(form, "document")
    if len(files) != 1:
        return _refused(request, "请选择一个印发文件（PDF、图片、Word 等）", typed, "document")
    try:
        issued_on = date.fromisoformat(str(form.get("issued_on") or "").strip())
    except ValueError:
        return _refused(request, "印发日期无效，请按 YYYY-MM-DD 填写", typed, "issued_on")
    with session_scope() as session:
        max_bytes = current_plan(session).evidence.max_bytes

    try:
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

            return _write(request, who, step, "issued", typed)
    except HTTPException as exc:
        if exc.status_code not in (400, 413):  # a refused upload (its name, its size); a 404 stays one
            raise
        return _refused(request, str(exc.detail), typed, "document")


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
    served = kept_file(row.stored_as, row.filename)
    with session_scope() as session:
        export.downloaded(session, request, who, "document", f"{milestone}:{owner}", row.filename)
    return served


@router.post("/deliverables/{milestone}/{owner}/verify")
def verify(request: Request, milestone: str, owner: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))
    decision = form.get("decision")
    typed = _typed(form, f"verify-{milestone}-{owner}", "reason")
    if decision not in ("accept", "return"):
        return _refused(request, "请选择“核验通过”或“退回”", typed, "decision")

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

    return _write(request, who, step, "verified", typed)


def _typed(form: FormData, form_id: str, *names: str) -> dict[str, str]:
    """What was typed in one of the page's forms, and which (`form`: the page shows it there only)."""
    return {name: str(form.get(name) or "") for name in names} | {"form": form_id}


def _refused(request: Request, error: str, typed: dict[str, str], field: str | None) -> Response:
    """Back to the form the refusal came from, on the page of documents, with what was typed."""
    return back(request, f"/deliverables#{quote(typed['form'])}", error=error, field=field, values=typed)


def _write(request: Request, who: Person, step: Callable[[], None], done: str, typed: dict[str, str]) -> Response:
    try:
        retried(step)
    except REFUSALS as exc:
        named = next((name for name, words in FIELDS.items() if words in str(exc)), None)
        return _refused(request, str(exc), typed, "document" if isinstance(exc, EvidenceRefused) else named)
    return back(request, "/deliverables", notice=DONE[done])


def _page(request: Request, who: Person) -> Response:
    """The unit's own documents; the Office's and the leaders' view of every unit's."""
    everyone = who.kind in ("office", "leader")
    with session_scope() as session:
        rows = deliverables.deliverables(session, owner=None if everyone else who.unit)
        hint = upload_hint(current_plan(session))
    to_verify = [r for r in rows if r.state == "issued" and r.verified_on is None] if who.kind == "office" else []
    return render(
        request,
        "deliverables.html",
        rows=rows,
        to_verify=to_verify,
        everyone=everyone,
        owns=who.kind in ("township", "department"),
        states=DELIVERABLE_STATE,
        working=deliverables.WORKING_STATES,
        kinds=SHOWN_INLINE,
        upload_hint=hint,
    )
