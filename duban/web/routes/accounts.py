"""The system administrator's accounts page: the same functions as `duban user ...`. Every action answers
303; a one-time password travels to the next page once (`flash.back`), so a refresh repeats nothing. The
three administrators' own accounts are kept at the server (`duban user`), not here: none can take over
another's duty from the portal."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban import audit, config
from duban.db import session_scope
from duban.signin import accounts
from duban.signin.accounts import DUTIES, ROLE_LABELS, ROLES_BY_KIND, AccountError
from duban.stored_plan import current_plan
from duban.web.deps import Posted, Signed, need, render, today
from duban.web.flash import back
from duban.web.scope import hidden
from duban.web.threads import hashing
from duban.wecom import people
from models import Account

router = APIRouter()
FIELDS = ("unit", "role", "login", "name", "mobile")
DONE = {"disable": "已停用账号", "enable": "已启用账号"}
AT_THE_SERVER = "三类管理员账号须由运维人员在服务器上用 duban user 命令办理"


@router.get("/accounts")
def accounts_page(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",), roles=("sysadmin",))
    moment = accounts.now()
    with session_scope() as session:
        plan = current_plan(session)
        rows = [(a, _state(a, moment)) for a in accounts.listed(session)]
    units = [(kind, unit.name) for kind, unit in plan.units() if kind in ROLES_BY_KIND]
    roles = {key: label for key, label in ROLE_LABELS.items() if key not in DUTIES}
    return render(request, "accounts.html", rows=rows, units=units, roles=roles, duties=DUTIES)


@router.post("/accounts")
@hashing
def add_account(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",), roles=("sysadmin",))
    typed = {key: str(form.get(key) or "") for key in FIELDS}
    if typed["role"] in DUTIES:
        return back(request, "/accounts", error=AT_THE_SERVER, field="role", values=typed)
    password, generated = accounts.initial_password()
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            created = accounts.add(
                session,
                current_plan(session),
                **(typed | {"role": typed["role"] or None}),
                password=password,
                by=who.unit,
                as_of=today(request),
            )
            login = created.login
    except AccountError as exc:
        return back(request, "/accounts", error=str(exc), field=exc.field, values=typed)
    return _opened(request, login, password if generated else None, "已开通")


@router.post("/accounts/{login}/wecom")
def bind_wecom(request: Request, login: str, who: Signed, form: Posted) -> Response:
    """Bind, change or (empty) unbind a person's WeCom id; one id, one account."""
    need(who, kinds=("office",), roles=("sysadmin",))
    typed = str(form.get("wecom_userid") or "")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            if accounts.get(session, login).role in DUTIES:
                raise AccountError(AT_THE_SERVER)
            bound = people.bind(session, login, typed, by=who.unit).wecom_userid
    except AccountError as exc:
        return back(request, "/accounts", error=str(exc))
    return back(
        request, "/accounts", notice=f"{login}：已绑定企业微信账号 {bound}" if bound else f"{login}：已解除企业微信绑定"
    )


@router.post("/accounts/{login}/{action}")
@hashing
def change_account(request: Request, login: str, action: str, who: Signed, _form: Posted) -> Response:
    need(who, kinds=("office",), roles=("sysadmin",))
    if action not in (*DONE, "reset"):
        raise hidden()
    if login == who.login and action in ("disable", "reset"):  # one's own sessions would end with the page
        refusal = "不能停用自己的账号" if action == "disable" else "不能在此重置自己的密码，请通过“修改密码”修改"
        return back(request, "/accounts", error=refusal)
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            if accounts.get(session, login).role in DUTIES:
                raise AccountError(AT_THE_SERVER)
            if action == "disable":
                accounts.disable(session, login, by=who.unit)
            elif action == "enable":
                accounts.enable(session, login, by=who.unit)
            else:
                password, generated = accounts.initial_password()
                accounts.reset_password(session, current_plan(session), login, password=password, by=who.unit)
    except AccountError as exc:
        return back(request, "/accounts", error=str(exc))
    if action == "reset":
        return _opened(request, login, password if generated else None, "已重置密码")
    return back(request, "/accounts", notice=f"{DONE[action]}：{login}")


def _opened(request: Request, login: str, password: str | None, done: str) -> Response:
    """A generated password is shown once, on the next page only; a set one (DUBAN_NEW_PASSWORD) is not."""
    if password is None:
        return back(request, "/accounts", notice=f"{done}：{login}，初始密码为统一设置的密码，首次登录须修改")
    return back(request, "/accounts", notice=f"{done}：{login}", secret=password)


def _state(account: Account, moment: datetime) -> str:
    if account.disabled:
        return "已停用"
    if accounts.is_locked(account, moment):
        until = account.locked_until.astimezone(config.TZ)
        return f"已锁定（至{until:%H:%M}）"
    if account.must_change_password:
        return "待首次登录改密"
    return "正常"
