"""Notices (通知): each request a unit signs for, read as the document it is before it is signed; 签收
of one, and 全部签收 of those listed after a confirmation. A unit sees only its own notices."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.desk import acknowledge, notices
from duban.desk.acknowledge import AcknowledgeError
from duban.glossary import NOTICE_KIND
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Posted, Signed, need, render, today
from duban.web.flash import back

router = APIRouter()
SEP = "|"  # between a notice's kind and key in 全部签收's form


@router.get("/notices")
def notice_list(request: Request, who: Signed) -> Response:
    """The unit's notices still asked for: those to sign first, then those signed."""
    with session_scope() as session:
        asked = acknowledge.requests(session, today(request), who.unit)
    asked.sort(key=lambda r: (r.acknowledged_on is not None, r.raised_on, r.kind, r.key))
    return render(request, "notices.html", asked=asked, labels=NOTICE_KIND)


@router.get("/notices/sign-all")
def sign_all_confirm(request: Request, who: Signed) -> Response:
    """全部签收, step one: the notices it would sign, listed, with the button that signs exactly these."""
    need(who, kinds=("township", "department", "office"))
    with session_scope() as session:
        listed = acknowledge.unsigned(session, today(request), who.unit)
    return render(request, "notices_sign_all.html", listed=listed, sep=SEP, labels=NOTICE_KIND)


@router.post("/notices/sign-all")
def sign_all(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department", "office"))
    keys = [tuple(str(v).split(SEP, 1)) for v in form.getlist("n") if SEP in str(v)]
    if not keys:
        return back(request, "/notices/sign-all", error="没有选中要签收的通知")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            signed = acknowledge.acknowledge_many(
                session, unit=who.unit, keys=keys, as_of=today(request), person=who.label
            )
    except TextRefused as exc:
        return back(request, "/notices/sign-all", error=str(exc))
    return back(request, "/", notice=f"已签收{signed}件通知。" if signed else "所列通知均已签收，本次未重复签收。")


@router.get("/notices/{kind}/{key}")
def notice_page(request: Request, kind: str, key: str, who: Signed) -> Response:
    with session_scope() as session:
        found = notices.notice(session, current_plan(session), who.unit, kind, key, today(request))
    if found is None:
        raise HTTPException(404)
    return render(request, "notice.html", n=found)


@router.post("/notices/{kind}/{key}/sign")
def sign_notice(request: Request, kind: str, key: str, who: Signed, form: Posted) -> Response:  # noqa: ARG001 - CSRF
    need(who, kinds=("township", "department", "office"))
    page = f"/notices/{kind}/{key}"
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            if notices.notice(session, current_plan(session), who.unit, kind, key, today(request)) is None:
                raise HTTPException(404)
            acknowledge.acknowledge(session, unit=who.unit, kind=kind, key=key, as_of=today(request), person=who.label)
    except (AcknowledgeError, TextRefused) as exc:
        return back(request, page, error=str(exc))
    return back(request, page, notice="已签收。")
