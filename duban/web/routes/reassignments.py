"""Reassignment on the portal: a unit concerned (or the Office) proposes on the item's page; the Office
decides on /reassignments. The same domain functions as `duban item reassign` and `reassign-decide`."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.glossary import REASSIGNMENT_STATE
from duban.reassign import ReassignError
from duban.reassign.proposals import decide as decide_proposal
from duban.reassign.proposals import described, listing
from duban.reassign.proposals import propose as file_proposal
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.routes.items import _visible

router = APIRouter()


@router.post("/items/{code}/reassign")
def propose(request: Request, code: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    page = f"/items/{quote(code[:40])}"
    kept = {k: str(form.get(k) or "") for k in ("township", "responsible", "lead", "reason")}
    try:
        with session_scope() as session:
            plan = current_plan(session)
            item = _visible(session, who, code)
            with audit.entered_by(who.name, "portal"):
                made, new = file_proposal(
                    session,
                    plan,
                    code=item.code,
                    by=who.unit,
                    as_of=today(request),
                    reason=kept["reason"],
                    township=kept["township"],
                    responsible=kept["responsible"],
                    lead=kept["lead"],
                )
            number, office = made.id, plan.office.name
    except (ReassignError, TextRefused) as exc:
        return back(request, page + "#reassign", error=str(exc), field="reassign", values=kept)
    said = f"已提交第{number}号调整责任单位申请，待{office}决定" if new else f"第{number}号调整申请已提交过，没有变化"
    return back(request, page, notice=said)


@router.get("/reassignments")
def proposals(request: Request, who: Signed) -> Response:
    """The Office's list: proposals waiting, with their decision forms, then those decided."""
    need(who, kinds=("office", "leader"))
    with session_scope() as session:
        rows = [_row(r) for r in listing(session)]
    return render(
        request,
        "reassignments.html",
        waiting=[r for r in rows if r["state"] == "pending"],
        decided=[r for r in rows if r["state"] != "pending"],
        states=REASSIGNMENT_STATE,
        may_decide=who.kind == "office",
    )


@router.post("/reassignments/{reassignment_id}/decide")
def decide(request: Request, reassignment_id: RowId, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))
    number = reassignment_id
    decision = str(form.get("decision") or "")
    kept = {"answer": str(form.get("answer") or ""), "deadline": str(form.get("deadline") or ""), "id": str(number)}
    try:
        deadline = _day(kept["deadline"])
        if decision not in ("approve", "refuse"):
            raise ReassignError("请选择同意或不同意")
        with session_scope() as session:
            plan = current_plan(session)
            with audit.entered_by(who.name, "portal"):
                r, new = decide_proposal(
                    session,
                    plan,
                    number=number,
                    approve=decision == "approve",
                    as_of=today(request),
                    answer=kept["answer"],
                    deadline=deadline,
                )
            code, state = r.item_code, r.state
    except (ReassignError, TextRefused) as exc:
        return back(request, f"/reassignments#r-{number}", error=str(exc), field=f"decide-{number}", values=kept)
    if not new:
        return back(request, "/reassignments", notice=f"第{number}号调整申请已决定，没有变化")
    word = "已同意调整" if state == "approved" else "已不同意调整"
    return back(request, "/reassignments", notice=f"第{number}号调整申请（问题{code}）：{word}")


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReassignError(f"“{text[:20]}”不是有效日期，请按 YYYY-MM-DD 填写") from None


def _row(r) -> dict:  # noqa: ANN001 - a Reassignment
    old, new = described(r)
    return {
        "id": r.id,
        "code": r.item_code,
        "state": r.state,
        "by": r.proposed_by,
        "proposer": r.proposer,
        "on": r.proposed_on,
        "old": old,
        "new": new,
        "reason": r.reason,
        "decided_on": r.decided_on,
        "decider": r.decider,
        "answer": r.answer,
        "deadline": r.new_deadline,
    }
