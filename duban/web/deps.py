"""The signed-in person (from the session cookie only), the CSRF check of every form, page rendering."""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi import Path as InPath
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from starlette.datastructures import FormData
from starlette.responses import Response

from duban import config, glossary
from duban.assessment.pages import points
from duban.db import session_scope
from duban.desk import todo
from duban.signin import second_factor
from duban.signin.accounts import ROLE_LABELS
from duban.stored_plan import current_plan
from duban.textgate import shown
from duban.web import duties, flash, sessions
from duban.web.security import BodyTooLarge

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TEMPLATES.env.filters["cn_date"] = glossary.cn_date
TEMPLATES.env.filters["cn_period"] = glossary.cn_period
TEMPLATES.env.filters["size"] = glossary.file_size
TEMPLATES.env.filters["pct"] = glossary.percent
TEMPLATES.env.filters["points"] = points  # 考核 scores and points: 98.5, -0.5
TEMPLATES.env.globals["glossary"] = glossary
TEMPLATES.env.filters["fromjson"] = json.loads  # what a refusal kept as JSON (a file's problems)
MAX_FIELDS = 20_000  # a page of a report is page_rows x 7 fields; a whole form beyond this goes by xlsx
MAX_FILES = 10
BUSY_TRIES = 3
CODE_PATHS = ("/login/otp", "/logout")
ENROLMENT_PATHS = ("/account/second-factor", "/account/second-factor/qr.svg", "/account/password", "/logout")
T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """Who is signed in: everything a route may know about identity comes from here."""

    account_id: int
    login: str
    name: str
    unit: str
    kind: str  # township department office leader
    role: str
    csrf: str
    must_change: bool
    awaiting_code: bool = False  # the password given, the one-time code not yet

    @property
    def label(self) -> str:
        return f"{self.name}（{self.unit}）"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def acts(self) -> bool:
        """Leaders read; everyone else acts for their unit."""
        return self.kind != "leader"


class SignInNeeded(Exception):
    """No live session: a page leads to the sign-in, an action is refused."""


class PasswordChangeNeeded(Exception):
    pass


class CodeNeeded(Exception):
    """Signed in with the password; the one-time code is still to be given (/login/otp)."""


class WecomNeeded(Exception):
    """Signed in with the password; the plan asks this role for the WeCom identity too (/auth/wecom)."""


class EnrolmentNeeded(Exception):
    """A role the plan names must enrol a second factor before anything else (/account/second-factor)."""


def today(request: Request) -> date:
    """The portal's day: fixed with `duban portal --as-of` (a replayed programme), else today."""
    return request.app.state.as_of or config.today()


def https(request: Request) -> bool:
    return request.app.state.https


def cookie_name(request: Request) -> str:
    return sessions.SECURE_COOKIE if https(request) else sessions.COOKIE


def person(request: Request) -> Person:
    """The dependency every signed-in route takes."""
    token = request.cookies.get(cookie_name(request))
    with session_scope() as session:
        plan = current_plan(session)
        found = sessions.find(session, plan, token)
        if found is not None:
            row, account = found
            who = Person(
                account.id,
                account.login,
                account.name,
                account.unit,
                plan.unit_kind(account.unit) or "",
                account.role,
                row.csrf_token,
                account.must_change_password,
                row.awaiting_code,
            )
            request.state.flash = row.flash
            enrol = account.role in plan.portal.second_factor_roles and not second_factor.enrolled(account)
    if found is None:  # raised after the block: find's removal of an ended session is committed, not rolled back
        raise SignInNeeded
    if row.awaiting_wecom:
        if request.url.path == "/logout":
            return who
        raise WecomNeeded
    if row.awaiting_code:
        if request.url.path in CODE_PATHS:
            return who
        raise CodeNeeded
    if who.must_change and request.url.path not in ("/account/password", "/logout"):
        raise PasswordChangeNeeded
    if enrol and request.url.path not in ENROLMENT_PATHS:
        raise EnrolmentNeeded
    request.state.person = who  # the refusal below is a page with the person's own menu
    if not duties.allowed(who.role, request.url.path):
        raise HTTPException(403, "你的账号无权进行此操作")
    return who


Signed = Annotated[Person, Depends(person)]
RowId = Annotated[int, InPath(ge=1, le=2**63 - 1)]  # a row's id in an address: what the database can hold


def need(who: Person, *, kinds: tuple[str, ...] = (), roles: tuple[str, ...] = ()) -> None:
    """Refuse (403) a person whose unit kind or role may not do this."""
    if (kinds and who.kind not in kinds) or (roles and who.role not in roles):
        raise HTTPException(403, "你的账号无权进行此操作")


async def posted(request: Request, who: Signed) -> AsyncIterator[FormData]:
    """The form of a POST, parsed within limits, after its CSRF token matched the session's; once the
    route has acted, the menu's counts are asked again.

    A dependency, so that the route itself is a plain function and runs in the thread pool: the
    database work and password hashing never hold up the event loop."""
    form = await _form(request)
    _same_token(form.get("csrf_token"), who.csrf)
    try:
        yield form
    finally:
        todo.changed()


Posted = Annotated[FormData, Depends(posted)]


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except BodyTooLarge:
        raise HTTPException(413, "上传内容过大，已拒绝") from None
    except HTTPException:
        raise
    except Exception:  # a malformed multipart body: refused, not a server error
        raise HTTPException(400, "提交内容格式有误，已拒绝") from None


async def login_form(request: Request) -> FormData:
    """The sign-in form's token is the one in the pre-session cookie (double submit)."""
    form = await _form(request)
    _same_token(form.get("csrf_token"), request.cookies.get("duban_login"))
    return form


LoginForm = Annotated[FormData, Depends(login_form)]


def _same_token(sent: object, expected: str | None) -> None:
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "表单已失效（安全校验未通过），请刷新页面后重新提交")


def locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc)


def retried(work: Callable[[], T]) -> T:
    """A unit of work done again when SQLite refused its write: in WAL mode a transaction that read
    before another's commit cannot write (its snapshot is stale) and is refused at once, whole. The
    domain's own checks (a report's version) decide on the second try."""
    for attempt in range(BUSY_TRIES):
        try:
            return work()
        except OperationalError as exc:
            if not locked(exc) or attempt == BUSY_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def render(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    """The page, with what the POST before it had to say (`flash.back`): error, notice, the field named,
    what was typed (`kept`), a one-time secret; the route's own words win."""
    who = getattr(request.state, "person", None)
    expired: list[str] = []
    said = flash.take(request, expired)
    if said is not None:
        for key in ("error", "notice", "field", "secret"):
            if context.get(key) is None:
                context[key] = getattr(said, key)
    context.setdefault("kept", said.kept if said is not None else {})
    for key in ("error", "message", "notice"):  # a refusal may quote what was typed: invisible characters shown
        if isinstance(context.get(key), str):
            context[key] = shown(context[key])
    if who is not None and not who.must_change and "owed" not in context:
        context["owed"] = todo.badge(who.unit, who.kind, today(request))  # the menu's count of what is owed
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {"person": who, "today": today(request), **context},
        status_code=status_code,
    )
    flash.forget(response, expired)
    if said is not None and said.secret:
        response.headers["cache-control"] = "no-store"
    return response


def login_url(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"


def wecom_url(path: str) -> str:
    """Sign-in by WeCom identity, then `path`: what a card in WeCom links to (through DUBAN_PORTAL_URL)."""
    return f"/auth/wecom?next={quote(path, safe='/')}"


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //): a link is never a way out."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
