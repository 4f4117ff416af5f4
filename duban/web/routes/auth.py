"""Signing in and out, and changing one's password (forced after someone else set it)."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban import accounts, audit
from duban.accounts import AccountError
from duban.db import session_scope
from duban.programme import current_plan
from duban.web import flash, sessions
from duban.web.deps import LoginForm, Posted, Signed, cookie_name, https, login_url, render, safe_next
from duban.web.flash import back
from duban.web.routes.errors import error_page
from duban.web.threads import hashing

router = APIRouter()
LOGIN_COOKIE = "duban_login"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query's name
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    _left_on_session(request)
    response = render(request, "login.html", csrf=token, next=safe_next(next))
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
@hashing
def login(request: Request, form: LoginForm) -> Response:
    login_name = str(form.get("login") or "")[:64]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else ""
    throttle = request.app.state.throttle
    if throttle.blocked(address):
        # too many from this address: 429 (a script should slow down), the page in the layout, the way back
        return error_page(request, 429, "登录失败次数过多，请稍后再试", back=login_url(target), back_label="返回登录页")
    with session_scope() as session:
        plan = current_plan(session)
        result = accounts.sign_in(session, plan, login_name, password, request.app.state.names)
        if result.account is not None:
            old = request.cookies.get(cookie_name(request))
            sessions.end(session, old)  # rotation: whatever session the browser had ends here
            new = sessions.start(session, plan, result.account)
            must_change = result.account.must_change_password
    if result.account is None:  # answered after the transaction: the flash takes a connection of its own
        throttle.failed(address)
        return back(
            request, login_url(target), error=result.refusal, values={"login": login_name}
        )  # never the password
    response = RedirectResponse(_password_url(target) if must_change else target, status_code=303)
    _set_cookie(request, response, cookie_name(request), new, max_age=plan.portal.session_hours * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


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
    _set_cookie(request, response, cookie_name(request), token, max_age=plan.portal.session_hours * 3600)
    return response


def _left_on_session(request: Request) -> None:
    """A browser still signed in keeps a refused sign-in's message on its session (`flash.back`): the page
    reads it from there, and otherwise reads the same as for anyone (no menu, its own form's token)."""
    with session_scope() as session:
        found = sessions.find(session, current_plan(session), request.cookies.get(cookie_name(request)))
        if found is not None:
            request.state.flash = found[0].flash


def _password_url(target: str) -> str:
    """The forced change first, then the page the person was going to (a deep link from a message)."""
    return "/account/password" if target == "/" else f"/account/password?next={quote(target, safe='/')}"


def _set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=https(request), httponly=True, samesite="lax")
