"""The security administrator's page: locked accounts (解锁), signed-in sessions (结束会话), second factors
(重置动态口令), and the sign-in rules in force (read from the plan). Nothing else of the Office's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func
from sqlmodel import select
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.signin import accounts, second_factor
from duban.signin.accounts import AccountError
from duban.stored_plan import current_plan
from duban.web.deps import Posted, Signed, need, render
from duban.web.flash import back
from duban.web.scope import hidden
from models import WebSession

router = APIRouter()
DONE = {
    "unlock": "已解锁账号",
    "sessions": "已结束该账号的全部会话",
    "second-factor": "已重置动态口令，本人下次登录时重新绑定",
}


@router.get("/security")
def security_page(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",), roles=("secadmin",))
    moment = accounts.now()
    with session_scope() as session:
        plan = current_plan(session)
        signed_in = dict(
            session.exec(
                select(WebSession.account_id, func.count())
                .where(WebSession.expires_at > moment)
                .group_by(WebSession.account_id)
            ).all()
        )
        rows = [
            (a, accounts.is_locked(a, moment), signed_in.get(a.id, 0), second_factor.enrolled(a))
            for a in accounts.listed(session)
        ]
    return render(request, "security.html", rows=rows, rules=plan.portal)


@router.post("/security/{login}/{action}")
def act(request: Request, login: str, action: str, who: Signed, _form: Posted) -> Response:
    need(who, kinds=("office",), roles=("secadmin",))
    if action not in DONE:
        raise hidden()
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            if action == "unlock":
                accounts.unlock(session, login, by=who.unit)
            elif action == "sessions":
                accounts.end_all_sessions(session, login, by=who.unit)
            else:
                second_factor.reset(session, login, by=who.unit)
    except AccountError as exc:
        return back(request, "/security", error=str(exc))
    return back(request, "/security", notice=f"{DONE[action]}：{login}")
