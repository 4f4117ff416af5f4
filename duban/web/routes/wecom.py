"""Sign-in by WeCom identity: /auth/wecom sends the browser to WeCom with a state bound to it, and
/auth/wecom/callback takes WeCom's code back, asks WeCom whose it is and signs that person in exactly as
a password sign-in does (`auth.admitted`). A card's link in WeCom goes through here, so a tap lands on
the page, signed in. Every refusal is a page saying why, with no session."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.db import session_scope
from duban.plan import Plan
from duban.signin import accounts
from duban.stored_plan import current_plan
from duban.web import sessions
from duban.web.deps import cookie_name, login_url, render, safe_next
from duban.web.flash import LOGIN_COOKIE, back
from duban.web.routes.auth import admitted, set_cookie
from duban.web.wecom_state import begin, take
from duban.wecom import sign_in as places
from duban.wecom.client import AppClient, Busy, Misconfigured, OutcomeUnknown, Refused, WecomApiError
from duban.wecom.config import WecomConfigError, configured
from models import WebSession

router = APIRouter()
HEADING = "企业微信登录未成功"
NOT_OFFERED = "本平台未启用企业微信登录，请使用登录名和密码登录"
STATE_REFUSED = "登录请求无效或已失效（已使用过、已超时，或不是从本浏览器发起），请重新登录"
CODE_REFUSED = "企业微信登录凭证无效或已过期，请重新点击企业微信中的链接或重新扫码"
NOT_MEMBER = "你不是本单位企业微信的成员，无法使用企业微信登录，请使用登录名和密码登录"
OTHER_PERSON = "企业微信身份与密码登录的账号不一致，请重新登录"
UNREACHABLE = "暂时无法连接企业微信，请稍后重试，或使用登录名和密码登录"
PASSWORD_TOO = "你的账号须同时使用密码和企业微信身份登录：请先输入登录名和密码"
CODE_MAX = 512  # WeCom: a code is at most 512 bytes


@router.get("/auth/wecom")
def wecom_sign_in(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query's name
    """To WeCom: its authorize page in WeCom's browser, the QR login elsewhere; already signed in, on."""
    target = safe_next(next)
    try:
        app = configured()
    except WecomConfigError as exc:
        return _refused(request, 503, f"企业微信应用配置有误，请联系运维人员：{exc}", target)
    portal = places.portal_base()
    if app is None or portal is None:
        return _refused(request, 404, NOT_OFFERED, target)
    row = _current(request)
    if row is not None and not (row.awaiting_code or row.awaiting_wecom):
        return RedirectResponse(target, status_code=303)  # signed in already: the card's page
    browser = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    state = begin(browser, target)
    agent = request.headers.get("user-agent", "")
    to = places.authorize_url(app, portal, state) if places.in_wecom(agent) else places.qr_url(app, portal, state)
    response = RedirectResponse(to, status_code=303)
    set_cookie(request, response, LOGIN_COOKIE, browser, max_age=3600)  # the sign-in form's token, too
    return response


@router.get("/auth/wecom/callback")
def wecom_callback(request: Request, code: str = "", state: str = "") -> Response:
    """WeCom's answer: the state first (this browser's, unused, in time), then the code (whose it is)."""
    try:
        app = configured()
    except WecomConfigError as exc:
        return _refused(request, 503, f"企业微信应用配置有误，请联系运维人员：{exc}", "/")
    if app is None or places.portal_base() is None:
        return _refused(request, 404, NOT_OFFERED, "/")
    # a refused callback counts as a failed sign-in from this address (the password form's throttle)
    address = request.client.host if request.client else ""
    throttle = request.app.state.throttle
    if not throttle.take(address):
        return _refused(request, 429, "登录失败次数过多，请稍后再试", "/")
    target = take(state[:200], request.cookies.get(LOGIN_COOKIE))
    if target is None:
        return _refused(request, 403, STATE_REFUSED, "/")
    if not code or len(code.encode()) > CODE_MAX:
        return _refused(request, 403, CODE_REFUSED, target)
    try:
        with AppClient(app) as client:
            userid = client.user_id_for_code(code)
    except Refused:
        return _refused(request, 403, CODE_REFUSED, target)
    except Misconfigured as exc:
        return _refused(request, 503, f"企业微信应用配置有误，请联系运维人员：{exc.reason}", target)
    except (Busy, OutcomeUnknown, WecomApiError):
        return _refused(request, 503, UNREACHABLE, target)
    if userid is None:
        return _refused(request, 403, NOT_MEMBER, target)
    with session_scope() as session:
        plan = current_plan(session)
    half = _current(request)
    if half is not None and half.awaiting_wecom:
        return _confirmed(request, plan, half, userid, target, address)
    result = accounts.sign_in_by_wecom(plan, userid, address=address)
    if result.password_owed:
        throttle.give_back(address)
        return back(request, login_url(target), notice=PASSWORD_TOO)
    if result.account is None:
        return _refused(request, 403, result.refusal, target)
    throttle.give_back(address)
    return admitted(request, plan, result.account, target)


def _confirmed(request: Request, plan: Plan, half: WebSession, userid: str, target: str, address: str) -> Response:
    """The WeCom step of a password sign-in: the identity must be the same person's."""
    with session_scope() as session:
        account = session.get(accounts.Account, half.account_id)
        if account is None or account.id != getattr(accounts.bound_to(session, userid), "id", None):
            sessions.end(session, request.cookies.get(cookie_name(request)))
            mismatch = True
        else:
            mismatch = False
            accounts.log_wecom_confirmed(session, account, address)
    if mismatch:
        response = _refused(request, 403, OTHER_PERSON, target)
        response.delete_cookie(cookie_name(request), path="/")
        return response
    request.app.state.throttle.give_back(address)
    return admitted(request, plan, account, target, wecom_confirmed=True)


def _current(request: Request) -> WebSession | None:
    """The browser's live session (complete or half done), if any."""
    with session_scope() as session:
        found = sessions.find(session, current_plan(session), request.cookies.get(cookie_name(request)))
        return found[0] if found is not None else None


def _refused(request: Request, status: int, message: str, target: str) -> Response:
    """A refusal as a page: why, and the way to the sign-in page (which leads on to `target`)."""
    return render(
        request,
        "error.html",
        status,
        heading=HEADING if status != 404 else "未启用企业微信登录",
        message=message,
        back=login_url(target),
        back_label="返回登录页",
    )
