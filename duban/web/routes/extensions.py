"""Extension requests (延期申请) on the portal: asked from the item's page; `/extensions` lists the unit's own
requests and those it decides, with the approve and refuse forms. The Office sees every request, a unit
only its own and those it decides (another's reads as not there)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.extensions import ExtensionError
from duban.extensions.requests import as_dict, awaiting, decide, decisions, listed
from duban.extensions.requests import request as file_request
from duban.items.closeout import ClosureError
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.routes.items import _visible
from duban.web.scope import hidden
from models import ExtensionRequest

router = APIRouter()
ACTING = ("township", "department", "office")


def may_see(who: Person, row: ExtensionRequest) -> bool:
    return who.kind in ("office", "leader") or who.unit == row.unit or any(s["unit"] == who.unit for s in row.steps)


@router.get("/extensions")
def extension_list(request: Request, who: Signed) -> Response:
    """待本单位审批, then the unit's own requests (the Office and leaders: every request)."""
    with session_scope() as session:
        whole = who.kind in ("office", "leader")
        mine = awaiting(session, who.unit) if who.acts else []
        rows = listed(session, unit=None if whole else who.unit, as_of=today(request))
        to_decide = [as_dict(r, decisions(session, r)) for r in mine]
        shown = [as_dict(r, decisions(session, r)) for r in rows if r not in mine]
    return render(request, "extensions.html", to_decide=to_decide, rows=shown, whole=whole)


@router.get("/extensions/{request_id}")
def extension_page(request: Request, request_id: RowId, who: Signed) -> Response:
    with session_scope() as session:
        row = session.get(ExtensionRequest, request_id)
        if row is None or not may_see(who, row) or row.requested_on > today(request):
            raise hidden()
        shown = as_dict(row, decisions(session, row))
    decides = who.acts and shown["next"] is not None and shown["next"]["unit"] == who.unit
    return render(request, "extension.html", r=shown, decides=decides)


@router.post("/extensions/{request_id}/decide")
def extension_decide(request: Request, request_id: RowId, who: Signed, form: Posted) -> Response:
    need(who, kinds=ACTING)
    page = f"/extensions/{request_id}"
    approve = str(form.get("decision") or "") == "approve"
    reason = str(form.get("reason") or "")
    until_text = str(form.get("until") or "").strip()
    kept = {"reason": reason, "until": until_text, "decision": "approve" if approve else "refuse"}
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            row = session.get(ExtensionRequest, request_id)
            if row is None or not may_see(who, row):
                raise hidden()
            until = _date(until_text, "批准延期至") if approve and until_text else None
            row, new = decide(
                session,
                current_plan(session),
                request_id=row.id,
                by=who.unit,
                approve=approve,
                as_of=today(request),
                until=until,
                reason=reason,
            )
    except (ClosureError, TextRefused) as exc:
        field = "until" if "日期" in str(exc) and approve else "reason"
        return back(request, page, error=str(exc), field=field, values=kept)
    if not new:
        return back(request, page, notice="本单位已审批该申请，本次未重复登记。")
    said = {"granted": "已批准延期，整治方案已修订。", "refused": "已审批：不同意延期。"}
    return back(request, page, notice=said.get(row.state, "已同意，转下一审批单位审批。"))


@router.post("/items/{code}/extension")
def extension_ask(request: Request, code: str, who: Signed, form: Posted) -> Response:
    """申请延期 from the item's page; a refusal goes back to the form with what was typed."""
    need(who, kinds=("township", "department"))
    page = f"/items/{quote(code[:40])}"
    values = {k: str(form.get(k) or "") for k in ("until", "reason", "progress", "milestone")}
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            item = _visible(session, who, code)
            if not who.acts:
                raise ExtensionError("你的账号不能申请延期")
            row, new = file_request(
                session,
                current_plan(session),
                code=item.code,
                until=_date(values["until"], "申请延期至"),
                reason=values["reason"],
                progress=values["progress"],
                by=who.unit,
                as_of=today(request),
                milestone=values["milestone"],
            )
    except (ClosureError, TextRefused) as exc:
        field = next((f for f, word in FIELDS.items() if word in str(exc)), "until")
        return back(request, page + "#extension", error=str(exc), field=f"ext-{field}", values=values)
    if not new:
        return back(request, f"/extensions/{row.id}", notice="该延期申请已提出，本次未重复申请。")
    return back(request, f"/extensions/{row.id}", notice=f"已提出延期申请，待{row.steps[0]['unit']}审批。")


FIELDS = {"reason": "理由", "progress": "进展", "milestone": "时间节点"}


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ExtensionError(f"“{field}”须为有效日期（YYYY-MM-DD）") from None
