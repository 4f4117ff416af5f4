"""Items: the unit's list with lights, an item's page (the same address for every role), close-out."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import func
from sqlmodel import col, select
from starlette.responses import Response

from duban import audit, config, textgate
from duban.calendar import WorkingCalendar
from duban.closeout import RULES, STATUS_LABELS, ClosureError, roles_of, transition
from duban.db import session_scope
from duban.evidence_files import EvidenceRefused
from duban.item_view import item_view
from duban.paths import PathRefused, under
from duban.programme import current_plan
from duban.status import LIGHT_LABELS, Lights
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, Signed, need, render, today
from duban.web.scope import hidden, may_see, visible_items
from duban.web.security import EVIDENCE_CSP, PDF_CSP
from duban.web.uploads import received, uploads_in
from models import Evidence, LedgerItem

router = APIRouter()
SHOWN_INLINE = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "txt": "text/plain; charset=utf-8"}


@router.get("/items")
def items(
    request: Request,
    who: Signed,
    light: str = "",
    status: str = "",
    q: str = "",
    page: int = 1,
) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        lights = Lights.on(plan, WorkingCalendar(plan.calendar), today(request))
        light_col = lights.column()
        table = LedgerItem.__table__.c
        conditions = []
        where = visible_items(who)
        if where is not None:
            conditions.append(where)
        if light in LIGHT_LABELS:
            conditions.append(light_col == light)
        if status in STATUS_LABELS:
            conditions.append(table.status == status)
        if q:
            try:
                typed = textgate.clean(q, limit=40, field="问题编号")
            except TextRefused as exc:
                raise HTTPException(400, str(exc)) from None
            conditions.append(col(LedgerItem.code).contains(typed, autoescape=True))
        rows_per_page = plan.portal.page_rows
        page = max(1, min(page, 10_000))
        total = session.exec(select(func.count()).select_from(LedgerItem).where(*conditions)).one()
        query = select(
            table.code,
            table.township,
            table.community,
            table.category,
            table.lead_department,
            table.status,
            table.progress,
            table.deadline,
            light_col.label("light"),
        ).where(*conditions)
        rows = session.exec(query.order_by(table.code).offset((page - 1) * rows_per_page).limit(rows_per_page)).all()
        names = {c.code: c.name for c in plan.categories}
    return render(
        request,
        "items.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // rows_per_page)),
        names=names,
        light=light,
        status=status,
        q=q,
        lights=LIGHT_LABELS,
        statuses=STATUS_LABELS,
    )


@router.get("/items/{code}")
def item_page(request: Request, code: str, who: Signed, done: str = "") -> Response:
    return _item(request, who, code, notice=f"已办理：{done}" if done in STATUS_LABELS.values() else None)


@router.post("/items/{code}/transition")
def move(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    target = str(form.get("target") or "")
    note = str(form.get("note") or "")
    try:
        with session_scope() as session:
            plan = current_plan(session)
            item = _visible(session, who, code)
            if target not in {m["target"] for m in _moves(plan, item, who)}:
                raise ClosureError("你的账号不能对该问题进行此操作")
            with (
                received(uploads_in(form, "evidence"), max_bytes=plan.evidence.max_bytes) as files,
                audit.entered_by(who.name, "portal"),
            ):
                transition(
                    session,
                    plan,
                    code=item.code,
                    target=target,
                    by=who.unit,
                    as_of=today(request),
                    note=note,
                    evidence=files,
                    evidence_dir=config.home() / "evidence",
                )
    except (ClosureError, EvidenceRefused, TextRefused) as exc:
        return _item(request, who, code, error=str(exc), status_code=400)
    return RedirectResponse(f"/items/{quote(code)}?done={quote(STATUS_LABELS[target])}", status_code=303)


@router.get("/items/{code}/evidence/{evidence_id}")
def evidence_file(request: Request, code: str, evidence_id: int, who: Signed) -> Response:
    with session_scope() as session:
        item = _visible(session, who, code)
        found = session.get(Evidence, evidence_id)
        if found is None or found.item_id != item.id:
            raise hidden()
    return kept_file(found.stored_as, found.filename)


def kept_file(stored_as: str, filename: str) -> FileResponse:
    """A file kept under DUBAN_HOME, shown as it is: nothing in it may run (the evidence policy)."""
    try:
        path = under(config.home(), *stored_as.split("/"))
    except PathRefused:
        raise hidden() from None
    kind = path.suffix.lstrip(".")
    media = SHOWN_INLINE.get(kind) or mimetypes.types_map.get(f".{kind}", "application/octet-stream")
    disposition = "inline" if kind in SHOWN_INLINE else "attachment"
    return FileResponse(
        path,
        media_type=media,
        headers={
            "content-disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "content-security-policy": PDF_CSP if kind == "pdf" else EVIDENCE_CSP,
            "cache-control": "private, no-store",
        },
    )


def _visible(session, who: Person, code: str) -> LedgerItem:  # noqa: ANN001 - a Session
    item = session.exec(select(LedgerItem).where(LedgerItem.code == code[:40])).first()
    if item is None or not may_see(who, item):
        raise hidden()
    return item


def _moves(plan, item: LedgerItem, who: Person) -> list[dict]:  # noqa: ANN001 - a Plan
    """What this person may do to the item now: the chain's rules for their unit, and their role."""
    if not who.acts or (who.kind == "department" and who.role != "reviewer" and item.status == "close_requested"):
        return []
    held = roles_of(plan, item, who.unit)
    return [
        {"target": rule.target, "action": rule.action, "note": rule.needs_note, "evidence": rule.needs_evidence}
        for rule in RULES
        if rule.source == item.status and rule.roles & held and rule.target != "planned"
    ]


def _item(request: Request, who: Person, code: str, *, status_code: int = 200, **message: str | None) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        item = _visible(session, who, code)
        view = item_view(session, plan, item.code)
        evidence = session.exec(select(Evidence).where(Evidence.item_id == item.id)).all()
        moves = _moves(plan, item, who)
    return render(
        request, "item.html", status_code, item=view, evidence=evidence, moves=moves, kinds=SHOWN_INLINE, **message
    )
