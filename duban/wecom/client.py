"""One client for the self-built app's API: the shared access token, typed errors, sign-in and the address book.

The access token lives in the database (`WecomToken`) for every process: it is fetched once per validity,
by one process at a time (the fetcher holds the row's write lock while it asks WeCom; the others wait and
then read what it stored), and refreshed once when WeCom answers 40014/42001. The secret and the token
never appear in an error: errors carry a Chinese reason naming the variable or the setting to fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import update

from duban.db import insert_once, session_scope
from duban.wecom.config import AGENT_ID, APP_SECRET, CORP_ID, App, WecomConfigError
from models import WecomToken
from notifications.secrets import scrub

TOKEN_CODES = {40014, 42001}  # the token is invalid / expired: refresh once
MARGIN = timedelta(minutes=5)  # a token this close to its end is not handed out
BUSY = {-1: "企业微信系统繁忙", 45009: "企业微信接口调用超过频率限制", 45033: "企业微信接口并发调用超过限制"}
MISCONFIGURED = {
    60020: "服务器出口IP不在企业微信应用的企业可信IP中，请在应用管理中将其加入“企业可信IP”",
    40001: f"企业微信应用Secret无效（环境变量 {APP_SECRET}）",
    40013: f"企业ID无效（环境变量 {CORP_ID}）",
    40056: f"企业微信应用AgentId无效（环境变量 {AGENT_ID}）",
    48002: "企业微信应用没有调用该接口的权限（应用管理中的接口权限）",
    50001: "跳转域名不是企业微信应用的可信域名",
}


class WecomApiError(Exception):
    """A call that did not succeed; `reason` is Chinese, safe to log and store (no secret, no token)."""

    def __init__(self, reason: str, errcode: int | None = None, wait_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errcode = errcode
        self.wait_seconds = wait_seconds


class Misconfigured(WecomApiError, WecomConfigError):
    """WeCom refused the app's setup (可信IP, secret, ids, permissions): no retry can help."""


class Busy(WecomApiError):
    """WeCom is busy or out of reach before anything was done: try again later."""


class Refused(WecomApiError):
    """WeCom refused this request for good (a bad code, a bad argument)."""


class OutcomeUnknown(WecomApiError):
    """The request left but no answer came: it may have been done, so it must not be repeated blindly."""


def app_key(app: App) -> str:
    """The token row's name: one-way over the corp id and the secret, so the table never holds the secret."""
    return hashlib.sha256(f"duban-wecom-app:{app.corp_id}:{app.secret}".encode()).hexdigest()


class AppClient:
    """The app's API over one httpx client; `clock` (aware datetimes) decides when a stored token expired."""

    def __init__(self, app: App, *, timeout: float = 10, clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.http = httpx.Client(base_url=app.api, timeout=timeout)
        self.clock = clock or (lambda: datetime.now(UTC))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the access token
    def access_token(self, stale: str | None = None) -> str:
        """A valid token from the database, fetched from WeCom only when none is (or when it is `stale`)."""
        key, now = app_key(self.app), self.clock()
        with session_scope() as session:
            row = session.get(WecomToken, key)
            if row is not None and _usable(row, stale, now):
                return row.token
        with session_scope() as session:
            insert_once(session, WecomToken, {"app": key, "token": "", "expires_at": now}, key=["app"])
        with session_scope() as session:
            # the write lock: PostgreSQL locks the row, SQLite the database; other fetchers wait here
            session.exec(update(WecomToken).where(WecomToken.app == key).values(locked_at=now))
            row = session.get(WecomToken, key)
            session.refresh(row)
            if _usable(row, stale, now):
                return row.token
            answer = self._request(
                "GET", "/cgi-bin/gettoken", params={"corpid": self.app.corp_id, "corpsecret": self.app.secret}
            )
            token, seconds = str(answer.get("access_token") or ""), int(answer.get("expires_in") or 0)
            if not token or seconds <= 0:
                raise Refused("企业微信未返回有效的access_token")
            row.token, row.expires_at, row.fetched_at = token, now + timedelta(seconds=seconds), now
            session.add(row)
            return token

    # -- calls
    def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The answer of one API call with the token; refreshed and asked again once on 40014/42001.

        Raises Misconfigured, Busy, Refused or OutcomeUnknown (see each).
        """
        token = self.access_token()
        try:
            return self._request(method, path, params={**(params or {}), "access_token": token}, json=json)
        except Refused as exc:
            if exc.errcode not in TOKEN_CODES:
                raise
        token = self.access_token(stale=token)
        return self._request(method, path, params={**(params or {}), "access_token": token}, json=json)

    def user_id_for_code(self, code: str) -> str | None:
        """The WeCom UserID of the member who signed in with `code` (single use, 5 minutes); None when the
        visitor is not a member of the enterprise. An invalid or used code raises Refused (errcode 40029)."""
        answer = self.call("GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
        userid = answer.get("userid") or answer.get("UserId")
        return str(userid) if userid else None

    def address_book(self) -> list[dict[str, Any]]:
        """Every member the app may see, once each: `userid`, `name`, `mobile` ("" when WeCom withholds it)."""
        departments = self.call("GET", "/cgi-bin/department/list").get("department") or []
        members: dict[str, dict[str, Any]] = {}
        for department in sorted(departments, key=lambda d: int(d.get("id", 0))):
            answer = self.call("GET", "/cgi-bin/user/list", params={"department_id": department["id"]})
            for member in answer.get("userlist") or []:
                userid = str(member.get("userid") or "")
                if userid and userid not in members:
                    members[userid] = {
                        "userid": userid,
                        "name": str(member.get("name") or ""),
                        "mobile": str(member.get("mobile") or ""),
                    }
        return list(members.values())

    def _request(
        self, method: str, path: str, *, params: dict[str, Any], json: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        secrets = (self.app.secret, params.get("access_token"))
        try:
            response = self.http.request(method, path, params=params, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Busy(f"无法连接企业微信接口（{type(exc).__name__}）") from None
        except httpx.TransportError as exc:
            raise OutcomeUnknown(f"企业微信接口未应答，结果未知（{type(exc).__name__}）") from None
        if response.status_code >= 500:
            raise Busy(f"企业微信接口服务器错误（HTTP {response.status_code}）")
        if response.status_code != 200:
            raise Refused(f"企业微信接口拒绝请求（HTTP {response.status_code}）")
        try:
            answer = response.json()
        except ValueError:
            raise Busy("企业微信接口返回内容无法解析") from None
        code = answer.get("errcode", 0) if isinstance(answer, dict) else None
        if code == 0:
            return answer
        message = scrub(str(answer.get("errmsg", "")) if isinstance(answer, dict) else "", *secrets)
        if code in MISCONFIGURED:
            raise Misconfigured(f"{MISCONFIGURED[code]}（errcode {code}）", code)
        if code in BUSY:
            raise Busy(f"{BUSY[code]}（errcode {code}：{message}）", code, wait_seconds=60 if code != -1 else None)
        raise Refused(f"企业微信接口返回错误（errcode {code}：{message}）", code)


def _usable(row: WecomToken, stale: str | None, now: datetime) -> bool:
    return bool(row.token) and row.token != stale and row.expires_at - MARGIN > now
