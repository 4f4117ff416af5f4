"""Signing in and out, and changing one's password (forced after someone else set it)."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.plan import Plan
from duban.signin import accounts, second_factor
from duban.signin.accounts import AccountError
from duban.stored_plan import current_plan
from duban.web import flash, sessions
from duban.web.deps import (
    LoginForm,
    Posted,
    Signed,
    cookie_name,
    https,
    login_url,
    render,
    safe_next,
    wecom_url,
)
from duban.web.flash import back
from duban.web.routes.errors import error_page
from duban.web.scope import hidden
from duban.web.threads import hashing
from duban.wecom.sign_in import offered as wecom_offered
from models import Account

router = APIRouter()
LOGIN_COOKIE = "duban_login"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query's name
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    _left_on_session(request)
    response = render(request, "login.html", csrf=token, next=safe_next(next), wecom=wecom_offered())
    set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
@hashing
def login(request: Request, form: LoginForm) -> Response:
    login_name = str(form.get("login") or "")[:64]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else ""
    throttle = request.app.state.throttle
    if not throttle.take(address):
        # too many from this address: 429 (a script should slow down), the page in the layout, the way back
        return error_page(request, 429, "登录失败次数过多，请稍后再试", back=login_url(target), back_label="返回登录页")
    with session_scope() as session:
        plan = current_plan(session)
    result = accounts.sign_in(plan, login_name, password, request.app.state.names, address=address)
    if result.account is None:  # answered after the transaction: the flash takes a connection of its own
        # the login is kept, never the password
        return back(request, login_url(target), error=result.refusal, values={"login": login_name})
    throttle.give_back(address)
    return admitted(request, plan, result.account, target)


def admitted(request: Request, plan: Plan, account: Account, target: str, *, wecom_confirmed: bool = False) -> Response:
    """A person just signed in, by password or by WeCom identity: whatever session the browser had ends
    here and a new one starts (same limits), then the step still owed: the WeCom identity for the plan's
    `wecom_and_password_roles` (unless just `wecom_confirmed`), the one-time code, a forced password
    change; then `target`."""
    owes_wecom = account.role in plan.portal.wecom_and_password_roles and not wecom_confirmed
    awaiting = not owes_wecom and second_factor.enrolled(account)
    with session_scope() as session:
        sessions.end(session, request.cookies.get(cookie_name(request)))
        new = sessions.start(session, plan, account, awaiting_code=awaiting, awaiting_wecom=owes_wecom)
    if owes_wecom:
        url = wecom_url(target)
    elif awaiting:
        url = _code_url(target)
    else:
        url = _password_url(target) if account.must_change_password else target
    response = RedirectResponse(url, status_code=303)
    set_cookie(request, response, cookie_name(request), new, max_age=plan.portal.session_hours * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.get("/login/otp")
def code_page(request: Request, who: Signed, next: str = "/") -> Response:  # noqa: A002 - the query's name
    if not who.awaiting_code:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "otp.html", csrf=who.csrf, next=safe_next(next))


@router.post("/login/otp")
def give_code(request: Request, who: Signed, form: Posted) -> Response:
    """The second step: a code from the app or a recovery code, counted like a password (guessing.py)."""
    target = safe_next(str(form.get("next") or "/"))
    if not who.awaiting_code:
        return back(request, target, error="已登录，无需输入动态口令")
    code = str(form.get("otp") or "")[:32]
    token = request.cookies.get(cookie_name(request))
    with session_scope() as session, audit.entered_by(who.name, "portal"):
        plan = current_plan(session)
        account = accounts.get(session, who.login)
        refusal = second_factor.second_step(session, plan, account, code)
        if refusal is None:
            sessions.end(session, token)
            new = sessions.start(session, plan, account)
    if refusal is not None:
        return back(request, _code_url(target), error=refusal, field="otp")
    response = RedirectResponse(_password_url(target) if who.must_change else target, status_code=303)
    set_cookie(request, response, cookie_name(request), new, max_age=plan.portal.session_hours * 3600)
    return response


@router.get("/account/second-factor")
def second_factor_page(request: Request, who: Signed) -> Response:
    """Enrolment: a QR code for the authenticator app, then the first code confirms it."""
    with session_scope() as session:
        account = accounts.get(session, who.login)
        enrolled = second_factor.enrolled(account)
        uri = None if enrolled else second_factor.pending(session, account)
    key = second_factor.key_of(uri) if uri else ""
    return render(request, "second_factor.html", enrolled=enrolled, key=key)


@router.get("/account/second-factor/qr.svg")
def second_factor_qr(who: Signed) -> Response:
    """The pending secret's QR code, as an image (an SVG shown by <img> runs nothing)."""
    with session_scope() as session:
        account = accounts.get(session, who.login)
        if second_factor.enrolled(account):
            raise hidden()
        uri = second_factor.pending(session, account)
    return Response(second_factor.qr_svg(uri), media_type="image/svg+xml", headers={"cache-control": "no-store"})


@router.post("/account/second-factor")
def confirm_second_factor(request: Request, who: Signed, form: Posted) -> Response:
    code = str(form.get("otp") or "")[:32]
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            account = accounts.get(session, who.login)
            codes = second_factor.confirm(session, account, code, accounts.now())
    except AccountError as exc:
        return back(request, "/account/second-factor", error=str(exc), field=exc.field)
    return back(
        request,
        "/account/second-factor",
        notice="动态口令已绑定，以后每次登录都须输入。下面的恢复码每个可代替动态口令使用一次，请抄下妥善保管。",
        secret="  ".join(codes),
    )


@router.post("/logout")
def logout(request: Request, who: Signed, _form: Posted) -> Response:
    with session_scope() as session:
        sessions.end(session, request.cookies.get(cookie_name(request)))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(request), path="/", secure=https(request), httponly=True, samesite="lax")
    return response


@router.get("/account/password")
def password_page(request: Request, who: Signed, next: str = "/") -> Response:  # noqa: A002 - the query's name
    with session_scope() as session:
        minimum = current_plan(session).portal.password_min_length
    return render(request, "password.html", csrf=who.csrf, next=safe_next(next), min_length=minimum)


@router.post("/account/password")
@hashing
def change_password(request: Request, who: Signed, form: Posted) -> Response:
    target = safe_next(str(form.get("next") or "/"))
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            account = accounts.get(session, who.login)
            accounts.change_password(
                session,
                plan,
                account,
                current=str(form.get("current_password") or ""),
                new=str(form.get("new_password") or ""),
                confirm=str(form.get("new_password_confirm") or ""),
            )
            accounts.end_sessions(session, account)  # every other browser signed in as this person
            token = sessions.start(session, plan, account)
            flash.leave(session, token, notice="密码已修改。")
    except AccountError as exc:  # nothing typed is kept: they are passwords
        return back(request, _password_url(target), error=str(exc), field=exc.field)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, cookie_name(request), token, max_age=plan.portal.session_hours * 3600)
    return response


def _left_on_session(request: Request) -> None:
    """A browser still signed in keeps a refused sign-in's message on its session (`flash.back`): the page
    reads it from there, and otherwise reads the same as for anyone (no menu, its own form's token)."""
    with session_scope() as session:
        found = sessions.find(session, current_plan(session), request.cookies.get(cookie_name(request)))
        if found is not None:
            request.state.flash = found[0].flash


def _code_url(target: str) -> str:
    return "/login/otp" if target == "/" else f"/login/otp?next={quote(target, safe='/')}"


def _password_url(target: str) -> str:
    """The forced change first, then the page the person was going to (a deep link from a message)."""
    return "/account/password" if target == "/" else f"/account/password?next={quote(target, safe='/')}"


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=https(request), httponly=True, samesite="lax")
