"""Items: the unit's list with lights, search and filters, its export; an item's page (the same address for
every role) opening with its summary card; close-out, a return confirmed on its own page."""

from __future__ import annotations

import mimetypes
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from sqlmodel import select
from starlette.datastructures import MultiDict
from starlette.responses import Response

from duban import audit, config
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.extensions.requests import item_panel
from duban.files.paths import PathRefused, under
from duban.glossary import EVIDENCE_KIND, YES_NO, file_size, percent
from duban.items import search as item_search
from duban.items.closeout import RULES, STATUS_LABELS, ClosureError, roles_of, transition
from duban.items.evidence import EvidenceRefused
from duban.items.search import FilterRefused, Filters
from duban.items.view import close_request, item_view, summary_card
from duban.reassign.view import form_context
from duban.state.status import LIGHT_LABELS, Lights
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web import export
from duban.web.deps import Person, Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.numbers import PageAsked
from duban.web.scope import hidden, may_see, visible_items
from duban.web.security import EVIDENCE_CSP
from duban.web.uploads import received, uploads_in
from models import Evidence, LedgerItem

router = APIRouter()
HISTORY_SHOWN = 5  # the latest entries an item page opens with; 展开全部 shows the rest
# Shown in the browser, sandboxed. Not a PDF: a browser's PDF viewer refuses a sandboxed document (Chromium
# never shows it), and unsandboxed a PDF's scripts would run as the portal; it is downloaded, to be opened
# by the device's own viewer, away from the portal's origin (and sandboxed all the same).
SHOWN_INLINE = {"jpg": "image/jpeg", "png": "image/png", "txt": "text/plain; charset=utf-8"}
DOWNLOADED = {"pdf": "application/pdf"}


@router.get("/items")
def items(request: Request, who: Signed, page: PageAsked) -> Response:
    """The unit's items, searched and filtered (kept in the URL), a page at a time."""
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        try:
            filters = Filters.parse(request.query_params, plan)
        except (FilterRefused, TextRefused) as exc:
            return _list_page(request, plan, Filters(), error=str(exc), status_code=400)
        lights = Lights.on(plan, WorkingCalendar(plan.calendar), day)
        within, conditions = visible_items(who), filters.conditions(lights)
        per_page = plan.portal.page_rows
        total = item_search.count(session, within, conditions)
        page = item_search.clamped(page, total, per_page)
        rows = item_search.rows(session, lights, within, conditions, offset=(page - 1) * per_page, limit=per_page)
    return _list_page(
        request, plan, filters, rows=rows, total=total, page=page, pages=item_search.pages(total, per_page)
    )


@router.get("/items/export.xlsx")
def export_items(request: Request, who: Signed) -> Response:
    """The filtered list as .xlsx (up to the plan's rows of one spreadsheet); red only: the overdue list."""
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        try:
            filters = Filters.parse(request.query_params, plan)
        except (FilterRefused, TextRefused) as exc:
            return _list_page(request, plan, Filters(), error=str(exc), status_code=400)
        calendar = WorkingCalendar(plan.calendar)
        lights = Lights.on(plan, calendar, day)
        within, conditions = visible_items(who), filters.conditions(lights)
        limit = plan.limits.max_rows
        total = item_search.count(session, within, conditions)
        rows = item_search.rows(session, lights, within, conditions, offset=0, limit=limit)
        names = {c.code: c.name for c in plan.categories}
        stages = {s.code: s.name for s in plan.stages}
        title = "逾期问题清单" if filters.light == "red" else "问题清单"
        export.on_record(session, request, who, "items", title, day)
    return export.xlsx(
        title,
        EXPORT_HEADER,
        [_exported(r, names, stages, calendar, day) for r in rows],
        total=total,
        limit=limit,
        day=day,
    )


EXPORT_HEADER = [
    "问题编号",
    "镇办",
    "社区",
    "设施类别",
    "设施类型",
    "问题描述",
    "牵头部门",
    "责任单位",
    "重点难点",
    "状态",
    "整改进度",
    "完成时限",
    "灯色",
    "逾期工作日",
]


def _exported(row, names: dict, stages: dict, calendar: WorkingCalendar, day: date) -> list:  # noqa: ANN001
    overdue = (
        -calendar.working_days_after(day, row.deadline) if row.light == "red" and row.deadline is not None else None
    )
    return [
        row.code,
        row.township,
        row.community,
        names[row.category],
        row.facility_type or "",
        row.description,
        row.lead_department,
        row.responsible_unit,
        YES_NO[bool(row.key_difficult)],
        STATUS_LABELS[row.status],
        percent(row.progress),
        row.deadline,
        LIGHT_LABELS[row.light] if row.light else "",
        overdue,
    ]


def _list_page(request: Request, plan, filters: Filters, *, status_code: int = 200, **context: object) -> Response:  # noqa: ANN001
    context = {"rows": [], "total": 0, "page": 1, "pages": 1} | context
    return render(
        request,
        "items.html",
        status_code,
        filters=filters,
        names={c.code: c.name for c in plan.categories},
        townships=plan.township_names(),
        departments=plan.department_names(),
        lights=LIGHT_LABELS,
        statuses=STATUS_LABELS,
        **context,
    )


@router.get("/items/{code}")
def item_page(request: Request, code: str, who: Signed, history: str = "") -> Response:
    return _item(request, who, code, all_history=history == "all")


@router.post("/items/{code}/transition")
def move(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    return _moved(request, who, code, form, f"/items/{quote(code[:40])}")


@router.get("/items/{code}/return")
def return_page(request: Request, code: str, who: Signed) -> Response:
    """退回整改 asks first: the request it returns, the reason, then a button that cannot be a mis-tap."""
    need(who, kinds=("department", "office"))
    with session_scope() as session:
        plan = current_plan(session)
        item = _visible(session, who, code)
        move = next((m for m in _moves(plan, item, who) if m["target"] == "in_progress"), None)
        if move is None:
            raise HTTPException(403, "该问题当前不能由你的账号退回整改")
        request_made = close_request(session, item)
        view = {"code": item.code, "community": item.community, "status_label": STATUS_LABELS[item.status]}
    return render(request, "item_return.html", item=view, asked=request_made, kinds=SHOWN_INLINE)


@router.post("/items/{code}/return")
def return_item(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("department", "office"))
    fixed = MultiDict([*((k, v) for k, v in form.multi_items() if k != "target"), ("target", "in_progress")])
    return _moved(request, who, code, fixed, f"/items/{quote(code[:40])}/return")


def _moved(request: Request, who: Person, code: str, form, refused_at: str) -> Response:  # noqa: ANN001 - form data
    """A transition by the chain's rules; a refusal goes back to the form it came from, the note kept."""
    target = str(form.get("target") or "")
    note = str(form.get("note") or "")
    kept = {"note": note, "target": target}
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
        field = "evidence" if isinstance(exc, EvidenceRefused) or "佐证材料" in str(exc) else "note"
        return back(request, refused_at, error=str(exc), field=field, values=kept)
    except HTTPException as exc:
        if exc.status_code not in (400, 413):  # 404: not this unit's item, as every route answers
            raise
        return back(request, refused_at, error=str(exc.detail), field="evidence", values=kept)
    return back(request, f"/items/{quote(code)}", notice=f"已办理：{STATUS_LABELS[target]}")


@router.get("/items/{code}/evidence/{evidence_id}")
def evidence_file(request: Request, code: str, evidence_id: RowId, who: Signed) -> Response:
    with session_scope() as session:
        item = _visible(session, who, code)
        found = session.get(Evidence, evidence_id)
        if found is None or found.item_id != item.id:
            raise hidden()
        served = kept_file(found.stored_as, found.filename)
        export.downloaded(session, request, who, "evidence", f"{item.code}/{found.id}", found.filename)
    return served


def kept_file(stored_as: str, filename: str) -> FileResponse:
    """A file kept under DUBAN_HOME, shown as it is: nothing in it may run (the evidence policy)."""
    try:
        path = under(config.home(), *stored_as.split("/"))
    except PathRefused:
        raise hidden() from None
    kind = path.suffix.lstrip(".")
    media = (SHOWN_INLINE | DOWNLOADED).get(kind) or mimetypes.types_map.get(f".{kind}", "application/octet-stream")
    disposition = "inline" if kind in SHOWN_INLINE else "attachment"
    return FileResponse(
        path,
        media_type=media,
        headers={
            "content-disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "content-security-policy": EVIDENCE_CSP,
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


def _item(request: Request, who: Person, code: str, *, all_history: bool = False, **message: str | None) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        item = _visible(session, who, code)
        view = item_view(session, plan, item.code)
        card = summary_card(session, plan, item, today(request))
        asked = close_request(session, item)
        evidence = session.exec(select(Evidence).where(Evidence.item_id == item.id)).all()
        moves = _moves(plan, item, who)
        reassign = form_context(session, plan, item, who.unit, who.acts)
        extensions = item_panel(session, plan, item, who.unit if who.acts else None)
    history = list(reversed(view["history"]))
    return render(
        request,
        "item.html",
        item=view,
        card=card,
        asked=asked,
        evidence=evidence,
        moves=moves,
        reassign=reassign,
        kinds=SHOWN_INLINE,
        history=history if all_history else history[:HISTORY_SHOWN],
        history_total=len(history),
        upload_hint=upload_hint(plan),
        extensions=extensions,
        **message,
    )


def upload_hint(plan) -> str:  # noqa: ANN001 - a Plan
    """The evidence rules as a clerk reads them before choosing a file."""
    kinds = list(dict.fromkeys(EVIDENCE_KIND[t] for t in plan.evidence.types))
    listed = "、".join(kinds[:-1]) + "或" + kinds[-1] if len(kinds) > 1 else kinds[0]
    return f"单个文件不超过{file_size(plan.evidence.max_bytes)}，可上传{listed}"
