"""The WeCom self-built app channel: one `textcard` to one person (an outbox row per person, see `outbox`).

The row's address is the person's login; the WeCom id is read at send time, so a person unbound or
disabled since the message was queued is not reached (the row is dead, saying why). Each card first
takes a slot in the person's minute and hour (`person_limits`); `invaliduser` makes that person's row
dead; a configuration error (企业可信IP, the secret, the ids) makes every row of the dispatch dead at once,
after one call, with a reason naming what to fix, never the secret or the token.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import select

from duban.db import session_scope
from duban.wecom.client import AppClient, Busy, Misconfigured, OutcomeUnknown, Refused
from duban.wecom.config import NOT_CONFIGURED, WecomConfigError, configured, is_configured
from models import Account
from notifications.links import portal_link
from notifications.message import ConfigurationError, Outgoing, SendError

TITLE_LIMIT, DESCRIPTION_LIMIT = 128, 512  # bytes, WeCom's textcard limits
BUTTON = "详情"
SEND_PATH = "/cgi-bin/message/send"


def cut(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, never inside a character."""
    return text.encode()[:limit].decode("utf-8", errors="ignore")


def description(body: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """The first lines of the message that fit (blank lines dropped); a first line too long is cut."""
    lines = [line.strip() for line in body.replace("<", "＜").replace(">", "＞").splitlines() if line.strip()]
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line]).encode()) > limit:
            if not kept:
                kept.append(cut(line, limit))
            break
        kept.append(line)
    return "\n".join(kept)


def card_link(page: str | None) -> str | None:
    """The card's link: through WeCom sign-in (`/auth/wecom?next=`) when the app is configured."""
    if not is_configured():
        return portal_link(page or "/")
    base = portal_link("/auth/wecom")
    return base and f"{base}?next={quote(page or '/', safe='')}"


def card(message: Outgoing, userid: str, agent_id: int | None) -> dict[str, Any]:
    """The JSON body of message/send for one person."""
    url = card_link(message.page)
    if url is None:
        raise ConfigurationError("未配置督办平台地址（环境变量 DUBAN_PORTAL_URL），企业微信卡片须附详情链接")
    return {
        "touser": userid,
        "msgtype": "textcard",
        "agentid": agent_id,
        "textcard": {
            "title": cut(message.subject.replace("\n", " "), TITLE_LIMIT),
            "description": description(message.body),
            "url": url,
            "btntxt": BUTTON,
        },
    }


def person(login: str) -> str:
    """The WeCom id of the account `login` may be reached at now; SendError (dead) when it may not."""
    if not login:
        raise SendError(
            "该单位没有绑定企业微信的在岗人员，企业微信应用消息无人可收（请绑定人员的企业微信账号）", retry=False
        )
    with session_scope() as session:
        account = session.exec(select(Account).where(Account.login == login)).first()
    if account is None or account.disabled:
        raise SendError(f"账号 {login} 已停用或已删除，未发送", retry=False)
    if not account.wecom_userid:
        raise SendError(f"账号 {login} 已解除企业微信绑定，未发送", retry=False)
    return account.wecom_userid


class WecomAppTransport:
    def __init__(self, reserve: Callable[[str], float | None], clock: Callable[[], datetime], timeout: float) -> None:
        self.reserve = reserve  # takes a slot in the person's minute and hour; seconds to wait when full
        self.clock, self.timeout = clock, timeout
        self._client: AppClient | None = None
        self._broken: str | None = None  # a configuration error met in this dispatch: the rest die without a call

    def send(self, message: Outgoing) -> None:
        if self._broken:
            raise ConfigurationError(self._broken)
        userid = person(message.address)
        client = self._app_client()
        body = card(message, userid, client.app.agent_id)
        wait = self.reserve(userid)
        if wait is not None:
            raise SendError(
                "该人员本分钟或本小时的企业微信消息已达上限，稍后发送", retry=True, wait_seconds=wait, defer=True
            )
        try:
            answer = client.call("POST", SEND_PATH, json=body)
        except Misconfigured as exc:
            self._broken = exc.reason
            raise ConfigurationError(exc.reason) from None
        except Busy as exc:
            raise SendError(exc.reason, retry=True, wait_seconds=exc.wait_seconds) from None
        except OutcomeUnknown as exc:
            raise SendError(f"{exc.reason}，为免重复不再重试", retry=False) from None
        except Refused as exc:
            if exc.errcode == 81013:
                raise SendError(_invalid(userid), retry=False) from None
            raise SendError(exc.reason, retry=False) from None
        if userid in str(answer.get("invaliduser") or "").lower().split("|"):
            raise SendError(_invalid(userid), retry=False)

    def _app_client(self) -> AppClient:
        if self._client is None:
            try:
                app = configured()
            except WecomConfigError as exc:
                self._broken = str(exc)
                raise ConfigurationError(self._broken) from None
            if app is None:
                self._broken = NOT_CONFIGURED
                raise ConfigurationError(self._broken)
            self._client = AppClient(app, timeout=self.timeout, clock=self.clock)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _invalid(userid: str) -> str:
    return f"企业微信账号 {userid} 无效或不在应用可见范围内（invaliduser），该人员未收到"


def file_payload(message: Outgoing) -> dict[str, Any]:
    """What file delivery writes: the exact call, the token shown as ***; a person not reachable is said so."""
    try:
        userid = person(message.address)
        agent = os.environ.get("DUBAN_WECOM_AGENT_ID", "").strip()
        call: dict[str, Any] = {
            "method": "POST",
            "path": SEND_PATH,
            "params": {"access_token": "***"},
            "json": card(message, userid, int(agent) if agent.isdigit() else None),
        }
    except SendError as exc:
        call = {"not_sent": exc.reason}
    return {"recipient": message.recipient, "account": message.address, **call, "outbox_ids": list(message.ids)}
