"""The portal application: its routes by area, its guards, and how refusals are shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from duban.db import session_scope
from duban.signin.accounts import NameFailures
from duban.stored_plan import current_plan
from duban.web.deps import (
    CodeNeeded,
    EnrolmentNeeded,
    PasswordChangeNeeded,
    SignInNeeded,
    WecomNeeded,
    locked,
    login_url,
    wecom_url,
)
from duban.web.proxies import Proxies, trusted_proxies
from duban.web.routes import (
    accounts,
    assessment,
    audit,
    auth,
    campaigns,
    deliverables,
    errors,
    exports,
    extensions,
    home,
    items,
    notices,
    office,
    projects,
    reassignments,
    reports,
    security,
    wecom,
)
from duban.web.routes import help as help_routes
from duban.web.routes.errors import TOO_LARGE, error_page
from duban.web.security import AddressThrottle, Guard
from duban.web.threads import PAGE_THREADS, limit_pages

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权进行此操作",
    404: "页面不存在，或你的账号无权查看",
    405: "不支持的请求方式",
    413: "上传内容过大，已拒绝",
    422: "提交的内容不完整或格式有误",
}


def create_app(*, as_of: date | None = None, https: bool = False, threads: int | None = None) -> Guard:
    """`as_of` pins the portal's day (a replayed programme); `https` when served behind TLS; `threads`:
    the pages' threads (threads.py), when served."""

    @asynccontextmanager
    async def started(_app: FastAPI) -> AsyncIterator[None]:
        limit_pages(threads or PAGE_THREADS)
        yield

    # No redirect to the address with or without a trailing slash: Starlette builds it from the Host
    # header (and //host/ would leave the site); the portal's links have none, so a slash answers 404.
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=started, redirect_slashes=False)
    with session_scope() as session:
        plan = current_plan(session)
        rules = plan.portal
    app.state.as_of = as_of
    app.state.https = https
    app.state.throttle = AddressThrottle(rules.failures_per_address, rules.lockout_minutes * 60)
    app.state.names = NameFailures(plan)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    for module in (
        auth,
        exports,
        home,
        items,
        reports,
        campaigns,
        projects,
        deliverables,
        extensions,
        office,
        accounts,
        audit,
        notices,
        reassignments,
        assessment,
        security,
        wecom,
        help_routes,
        errors,
    ):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    def _sign_in(request: Request, _exc: SignInNeeded):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(login_url(target), status_code=303)
        return error_page(request, 401, "登录已失效，请重新登录后再操作", back=login_url("/"), back_label="重新登录")

    @app.exception_handler(PasswordChangeNeeded)
    async def _password(_request: Request, _exc: PasswordChangeNeeded):
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(CodeNeeded)
    async def _code(_request: Request, _exc: CodeNeeded):
        return RedirectResponse("/login/otp", status_code=303)

    @app.exception_handler(WecomNeeded)
    async def _wecom(request: Request, _exc: WecomNeeded):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(wecom_url(target if request.method == "GET" else "/"), status_code=303)

    @app.exception_handler(EnrolmentNeeded)
    async def _enrol(_request: Request, _exc: EnrolmentNeeded):
        return RedirectResponse("/account/second-factor", status_code=303)

    @app.exception_handler(HTTPException)
    def _refused(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return error_page(request, exc.status_code, message or MESSAGES.get(exc.status_code, "出错了"))

    @app.exception_handler(OperationalError)
    def _busy(request: Request, exc: OperationalError):
        if not locked(exc):
            raise exc
        return error_page(request, 503, "系统繁忙，本次提交未保存，请稍后重新提交")

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, _exc: RequestValidationError):
        return error_page(request, 422, MESSAGES[422])

    return Guard(
        app, max_body=rules.upload_max_bytes, https=https, too_large=TOO_LARGE, proxies=Proxies(trusted_proxies())
    )
