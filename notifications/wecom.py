"""WeCom group bots, through duban's own httpx client (apprise's wecombot trusts HTTP 200 blindly).

Markdown is split on line boundaries so that every call stays within the byte limit; mentions go in
a short text message after it; attachments are uploaded and sent as file messages. Every call first
takes a slot in the per-bot minute window that all dispatchers share (see `ratelimit`), and each
delivered call is recorded (see `parts`), so a send stopped part-way resumes without repeating one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from duban.plan import Plan
from notifications.message import ConfigurationError, Outgoing, SendError
from notifications.parts import PartLog
from notifications.ratelimit import bot_of
from notifications.secrets import scrub

MARKDOWN_LIMIT = 4096  # bytes of markdown.content
TEXT_LIMIT = 2048  # bytes of text.content
RETRY_CODES = {-1: "企业微信系统繁忙", 45009: "企业微信接口调用超过频率限制"}
MENTION_TEXT = "请相关负责同志及时查看办理。"


def split_bytes(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` UTF-8 bytes, cut at line ends where possible, never inside a character."""
    chunks, current = [], ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:
            head = line.encode()[:limit].decode("utf-8", errors="ignore")
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
            line = line[len(head) :]
        if len((current + line).encode()) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current.strip():
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]


class WecomTransport:
    def __init__(
        self,
        base_url: str,
        key_of: Callable[[str], str | None],
        reserve: Callable[[str], float | None],
        parts: PartLog,
        timeout: float = 10,
    ) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout)
        self.key_of = key_of
        self.reserve = reserve  # takes a slot for a bot; returns seconds to wait when the minute is full
        self.parts = parts

    def send(self, message: Outgoing) -> None:
        """Every part not yet delivered, in order; each is recorded as it goes (see `parts`)."""
        key = self.key_of(message.address)
        if not key:
            raise ConfigurationError(f"未配置企业微信机器人密钥（环境变量 {message.address}）")
        calls = self._calls(message)
        done = self.parts.delivered(message.send_key)
        for index, call in enumerate(calls):
            if index in done:
                continue
            try:
                if isinstance(call, Path):
                    call = {"msgtype": "file", "file": {"media_id": self._upload(key, message.address, call)}}
                self._call(key, message.address, "/cgi-bin/webhook/send", json=call)
            except SendError as exc:
                raise exc.after_parts(len(done), len(calls)) if done else exc from None
            self.parts.record(message.send_key, index)
            done.add(index)

    @staticmethod
    def _calls(message: Outgoing) -> list[dict | Path]:
        """The message as WeCom calls: markdown chunks, the mention, then files (uploaded when their turn comes)."""
        calls: list[dict | Path] = [
            {"msgtype": "markdown", "markdown": {"content": chunk}}
            for chunk in split_bytes(message.body, MARKDOWN_LIMIT)
        ]
        if message.mentions:
            calls.append(
                {"msgtype": "text", "text": {"content": MENTION_TEXT, "mentioned_mobile_list": list(message.mentions)}}
            )
        return calls + list(message.attachments)

    def _upload(self, key: str, variable: str, path: Path) -> str:
        answer = self._call(
            key,
            variable,
            "/cgi-bin/webhook/upload_media",
            params={"type": "file"},
            files={"media": (path.name, path.read_bytes())},
            counted=False,
        )
        return answer["media_id"]

    def _call(
        self, key: str, variable: str, path: str, *, params: dict | None = None, counted: bool = True, **kwargs: object
    ) -> dict:
        """One call; `variable` (the key's name) is what error texts show, never the key."""
        if counted:
            wait = self.reserve(bot_of(key))
            if wait is not None:
                raise SendError("本分钟发送量已达上限，稍后发送", retry=True, wait_seconds=wait, defer=True)
        try:
            response = self.client.post(path, params={"key": key, **(params or {})}, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SendError(f"无法连接企业微信接口（{type(exc).__name__}）", retry=True) from None
        except httpx.TransportError as exc:
            raise SendError(
                f"企业微信接口未应答，投递结果未知（{type(exc).__name__}），为免重复不再重试", retry=False
            ) from None
        if response.status_code >= 500:
            raise SendError(f"企业微信接口服务器错误（HTTP {response.status_code}）", retry=True)
        if response.status_code != 200:
            raise SendError(f"企业微信接口拒绝请求（HTTP {response.status_code}）", retry=False)
        try:
            answer = response.json()
        except ValueError:
            raise SendError("企业微信接口返回内容无法解析", retry=True) from None
        code = answer.get("errcode")
        if code == 0:
            return answer
        message = scrub(str(answer.get("errmsg", "")), key)
        if code in RETRY_CODES:
            return self._retryable(code, message)
        if code == 93000:
            raise SendError(f"企业微信机器人地址无效或已被移除（{variable}，errcode 93000）", retry=False)
        raise SendError(f"企业微信接口返回错误（errcode {code}：{message}）", retry=False)

    @staticmethod
    def _retryable(code: int, message: str) -> dict:
        raise SendError(
            f"{RETRY_CODES[code]}（errcode {code}：{message}）", retry=True, wait_seconds=60 if code == 45009 else None
        )

    def close(self) -> None:
        self.client.close()


def mention_mobiles(plan: Plan, unit: str, key_env: str) -> tuple[str, ...]:
    for _, found in plan.units():
        if found.name == unit:
            for contact in found.contacts:
                for channel in contact.channels:
                    if getattr(channel, "key_env", None) == key_env:
                        return tuple(channel.mention_mobiles)
    return ()
