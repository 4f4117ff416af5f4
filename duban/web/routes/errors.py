"""Refusals as pages in the layout: the menu when the person is known, what went wrong, the way back.

A request whose body is past the limit is refused by the guard before the app reads it; the guard
hands it here (as a GET of TOO_LARGE, its cookies and Referer kept) so that it too gets the layout."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from duban.db import session_scope
from duban.stored_plan import current_plan
from duban.web.deps import (
    CodeNeeded,
    EnrolmentNeeded,
    PasswordChangeNeeded,
    SignInNeeded,
    WecomNeeded,
    person,
    render,
    safe_next,
)

router = APIRouter()
TOO_LARGE = "/refused/too-large"
HEADINGS = {
    400: "请求有误",
    401: "请先登录",
    403: "无权进行此操作",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "上传内容过大",
    422: "提交的内容有误",
    429: "操作过于频繁",
    503: "系统繁忙",
}


@router.get(TOO_LARGE)
def too_large(request: Request) -> Response:
    return error_page(request, 413, "上传内容过大，已拒绝")


def error_page(
    request: Request, status: int, message: str, *, back: str | None = None, back_label: str = "返回上一页"
) -> Response:
    """The page of a refusal; `back` where the person should go (else the page they came from)."""
    known(request)  # the menu, when someone is signed in; an error page never asks to sign in
    limit = None
    if status == 413:
        with session_scope() as session:
            limit = current_plan(session).portal.upload_max_bytes
    came_from = came_from_here(request)
    return render(
        request,
        "error.html",
        status,
        heading=HEADINGS.get(status, "出错了"),
        message=message,
        limit=limit,
        back=back or came_from or "/",
        back_label=back_label if (back or came_from) else "返回待办",
    )


def known(request: Request) -> None:
    """The person, when a live session comes with a page anyone may open (and what a POST left for them)."""
    if getattr(request.state, "person", None) is None:
        with suppress(SignInNeeded, PasswordChangeNeeded, CodeNeeded, EnrolmentNeeded, WecomNeeded, HTTPException):
            person(request)


def came_from_here(request: Request) -> str | None:
    """The Referer's path when it is a page of this site (the same host), else None."""
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.netloc or referer.netloc != request.headers.get("host") or referer.path == request.url.path:
        return None
    target = safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    return None if target.startswith(TOO_LARGE) else target
