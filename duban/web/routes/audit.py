"""The auditor's page: the audit log filtered by person, unit, kind and date (kept in the URL), a page at
a time, and its .xlsx export; for the Office's audit administrator alone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.audit import view as audit_view
from duban.audit.view import AuditFilterRefused, AuditFilters
from duban.db import session_scope
from duban.glossary import AUDIT_ACTION, AUDIT_SUBJECT
from duban.items import search as item_search
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web import export
from duban.web.deps import Signed, need, render, today

router = APIRouter()


@router.get("/audit")
def audit_log(request: Request, who: Signed, page: int = 1) -> Response:
    need(who, kinds=("office",), roles=("auditor",))
    with session_scope() as session:
        plan = current_plan(session)
        units = [unit.name for _, unit in plan.units()]
        try:
            filters = AuditFilters.parse(request.query_params, plan)
        except (AuditFilterRefused, TextRefused) as exc:
            return _page(request, units, AuditFilters(), error=str(exc), status_code=400)
        per_page = plan.portal.page_rows
        total = audit_view.count(session, filters)
        page = item_search.clamped(page, total, per_page)
        rows = audit_view.rows(session, plan, filters, offset=(page - 1) * per_page, limit=per_page)
    pages = item_search.pages(total, per_page)
    return _page(request, units, filters, rows=rows, total=total, page=page, pages=pages)


@router.get("/audit/export.xlsx")
def audit_export(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",), roles=("auditor",))
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        try:
            filters = AuditFilters.parse(request.query_params, plan)
        except (AuditFilterRefused, TextRefused) as exc:
            units = [unit.name for _, unit in plan.units()]
            return _page(request, units, AuditFilters(), error=str(exc), status_code=400)
        limit = plan.limits.max_rows
        total = audit_view.count(session, filters)
        rows = [audit_view.cells(r) for r in audit_view.rows(session, plan, filters, offset=0, limit=limit)]
        export.on_record(session, request, who, "audit", "审计日志", day)
    return export.xlsx("审计日志", audit_view.HEADER, rows, total=total, limit=limit, day=day)


def _page(request: Request, units: list[str], filters: AuditFilters, status_code: int = 200, **context) -> Response:  # noqa: ANN003
    return render(
        request,
        "audit.html",
        status_code,
        filters=filters,
        units=units,
        subjects=AUDIT_SUBJECT,
        actions=AUDIT_ACTION,
        **({"rows": [], "total": 0, "page": 1, "pages": 1} | context),
    )
