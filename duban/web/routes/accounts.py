"""The Office admin's accounts page: the same functions as `duban user ...`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban import accounts, audit
from duban.accounts import ROLE_LABELS, ROLES_BY_KIND, AccountError
from duban.db import session_scope
from duban.programme import current_plan
from duban.textgate import TextRefused
from duban.web.deps import Posted, Signed, need, render, today

router = APIRouter()


@router.get("/accounts")
def accounts_page(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",), roles=("admin",))
    return _page(request)


@router.post("/accounts")
def add_account(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",), roles=("admin",))
    password, generated = accounts.initial_password()
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            created = accounts.add(
                session,
                current_plan(session),
                unit=str(form.get("unit") or ""),
                login=str(form.get("login") or ""),
                name=str(form.get("name") or ""),
                role=str(form.get("role") or "") or None,
                mobile=str(form.get("mobile") or ""),
                password=password,
                by=who.unit,
                as_of=today(request),
            )
    except (AccountError, TextRefused) as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request, created=(created.login, password if generated else None))


@router.post("/accounts/{login}/{action}")
def change_account(request: Request, login: str, action: str, who: Signed, _form: Posted) -> Response:
    need(who, kinds=("office",), roles=("admin",))
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            if action == "disable":
                if login == who.login:
                    raise AccountError("不能停用自己的账号")
                accounts.disable(session, login, by=who.unit)
            elif action == "enable":
                accounts.enable(session, login, by=who.unit)
            elif action == "reset":
                password, generated = accounts.initial_password()
                accounts.reset_password(session, current_plan(session), login, password=password, by=who.unit)
                return _page(request, created=(login, password if generated else None))
            else:
                return render(request, "error.html", 404, message="页面不存在")
    except AccountError as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request, notice="已停用。" if action == "disable" else "已启用。")


def _page(
    request: Request, *, status_code: int = 200, created: tuple[str, str | None] | None = None, **message: str
) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        rows = accounts.listed(session)
    units = [(kind, unit.name) for kind, unit in plan.units() if kind in ROLES_BY_KIND]
    return render(
        request,
        "accounts.html",
        status_code,
        rows=rows,
        units=units,
        roles=ROLE_LABELS,
        created=created,
        **message,
    )
