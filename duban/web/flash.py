"""Post/redirect/get: what a POST has to tell the page it redirects to, kept for exactly one page view.

A refusal with the field it names and what was typed, a confirmation, or a one-time secret (a password
reset) travels from the POST to the next page, so that every POST answers 303 and a refresh repeats
nothing. Signed in, it waits on the session's row; before sign-in, in a cookie. Either way it is
encrypted with a key derived from the browser's own cookie token, which the database never holds: a
reader of the database sees neither typed text nor a one-time password, and nobody can put words in
the portal's mouth with a link.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session, update
from starlette.responses import Response

from duban.db import session_scope
from duban.web import sessions
from models import WebSession

LOGIN_COOKIE = "duban_login"  # the pre-session token of the sign-in form (double-submit CSRF)
FLASH_COOKIE = "duban_flash"
MESSAGE_MAX = 2_000
VALUE_MAX = 100_000  # one kept value (a typed field, or a refused file's listed problems)
KEPT_MAX = 200_000  # all typed fields together (a report's changed lines)
COOKIE_MAX = 3_000  # a cookie carries only the sign-in page's message and login name


@dataclasses.dataclass(frozen=True)
class Flash:
    error: str | None = None
    notice: str | None = None
    field: str | None = None
    kept: dict[str, str] = dataclasses.field(default_factory=dict)
    secret: str | None = None


def back(
    request: Request,
    url: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    field: str | None = None,
    values: dict[str, object] | None = None,
    secret: str | None = None,
) -> RedirectResponse:
    """303 to `url` (a path of this site), carrying the message to the page there."""
    target = url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"
    kept = {str(k)[:100]: str(v)[:VALUE_MAX] for k, v in (values or {}).items()}
    while kept and sum(len(k) + len(v) for k, v in kept.items()) > KEPT_MAX:
        kept.popitem()
    payload = {"error": error, "notice": notice, "field": field, "kept": kept, "secret": secret}
    for key in ("error", "notice", "secret"):
        if isinstance(payload[key], str):
            payload[key] = payload[key][:MESSAGE_MAX]
    response = RedirectResponse(target, status_code=303)
    token = request.cookies.get(_session_cookie(request))
    if token and _store(token, payload):
        return response
    pre = request.cookies.get(LOGIN_COOKIE)
    if pre:
        sealed = _seal(pre, payload)
        if len(sealed) <= COOKIE_MAX:
            response.set_cookie(
                FLASH_COOKIE, sealed, httponly=True, samesite="strict", secure=_https(request), path="/"
            )
    return response


def leave(session: Session, token: str, *, notice: str) -> None:
    """A message for the first page of a session this request has just started (a password changed)."""
    session.flush()
    payload = {"error": None, "notice": notice[:MESSAGE_MAX], "field": None, "kept": {}, "secret": None}
    session.exec(
        update(WebSession).where(WebSession.token_hash == sessions.digest(token)).values(flash=_seal(token, payload))
    )


def take(request: Request, response_cookies: list[str]) -> Flash | None:
    """The message waiting for this page, removed as it is read; `response_cookies` collects the names of
    cookies the page's response must delete."""
    sealed = getattr(request.state, "flash", None)
    token = request.cookies.get(_session_cookie(request))
    if sealed and token:
        with session_scope() as session:
            session.exec(update(WebSession).where(WebSession.token_hash == sessions.digest(token)).values(flash=None))
        return _open(token, sealed)
    cookie, pre = request.cookies.get(FLASH_COOKIE), request.cookies.get(LOGIN_COOKIE)
    if cookie:
        response_cookies.append(FLASH_COOKIE)
        return _open(pre, cookie) if pre else None
    return None


def _store(token: str, payload: dict) -> bool:
    with session_scope() as session:
        done = session.exec(
            update(WebSession)
            .where(WebSession.token_hash == sessions.digest(token))
            .values(flash=_seal(token, payload))
        )
        return bool(done.rowcount)


def _key(token: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"duban-flash\0" + token.encode()).digest()))


def _seal(token: str, payload: dict) -> str:
    return _key(token).encrypt(json.dumps(payload, ensure_ascii=False).encode()).decode()


def _open(token: str, sealed: str) -> Flash | None:
    try:
        data = json.loads(_key(token).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None  # sealed for another token (a new session since): nothing to say
    kept = data.get("kept") if isinstance(data.get("kept"), dict) else {}
    return Flash(
        error=_text(data.get("error")),
        notice=_text(data.get("notice")),
        field=_text(data.get("field")),
        kept={str(k): str(v) for k, v in kept.items()},
        secret=_text(data.get("secret")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _session_cookie(request: Request) -> str:
    return sessions.SECURE_COOKIE if _https(request) else sessions.COOKIE


def _https(request: Request) -> bool:
    return bool(request.app.state.https)


def forget(response: Response, names: list[str]) -> None:
    for name in names:
        response.delete_cookie(name, path="/")
