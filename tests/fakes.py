"""Real local servers standing in for the mail relay and the WeCom group-bot API (test fixtures).

Standard library plus aiosmtpd only; nothing here imports duban, so the fakes judge duban from
the outside.  Both servers listen on 127.0.0.1 on a free port, record what they receive under a
lock (clients in several processes may talk to them at once) and can simulate the failures seen
in production: SMTP outages and temporary errors, WeCom error codes, HTTP 500 and slow answers.

The WeCom behaviour follows /work/shared/STACK.md ("Notifications").  Error codes the brief did
not fix are stand-ins: 40035 (body not a JSON object), 40008 (unknown msgtype), 44004 (empty
content).
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"

# aiosmtpd 1.4 logs "Session.login_data is deprecated" on every successful AUTH: noise, drop it.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """A settable monotonic clock: pass it as ``WecomServer(clock=...)`` and ``advance()`` it."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


# --------------------------------------------------------------------------------------------
# SMTP


SmtpMessage = tuple[str, list[str], EmailMessage]


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that keeps every message; AUTH accepts any login."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._cond = threading.Condition()
        self._messages: list[SmtpMessage] = []
        self._logins: list[str] = []
        self._fail_left = 0
        self._fail_code = 451
        self._rcpt_fail_left = 0
        self._rcpt_fail_code = 450
        self._data_delay = 0.0
        self._controller: Controller | None = None

    # -- lifecycle
    def start(self) -> Self:
        """Start listening (again on the same port)."""
        if self._controller is None:
            controller = Controller(
                self,
                hostname=HOST,
                port=self.port,
                auth_require_tls=False,
                authenticator=self._authenticate,
                enable_SMTPUTF8=True,
            )
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; a no-op when already stopped."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def down(self) -> None:
        """Simulate an outage: connections are refused until ``up()``."""
        self.stop()

    def up(self) -> None:
        """End an outage: listen again on the same port."""
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults
    def fail_next(self, n: int, code: int = 451) -> None:
        """The next ``n`` DATA commands answer ``code`` (the client sees SMTPDataError)."""
        with self._cond:
            self._fail_left = n
            self._fail_code = code

    def fail_rcpt_next(self, n: int, code: int = 450) -> None:
        """The next ``n`` RCPT commands answer ``code`` (450 greylisting or a busy mailbox; 550 no such user)."""
        with self._cond:
            self._rcpt_fail_left = n
            self._rcpt_fail_code = code

    def answer_data_after(self, seconds: float) -> None:
        """The next DATA is kept (delivered) but answered only after ``seconds``: a client may time out first."""
        with self._cond:
            self._data_delay = seconds

    # -- what arrived
    @property
    def messages(self) -> list[SmtpMessage]:
        """A snapshot of ``(envelope_from, rcpt_tos, EmailMessage)`` in arrival order."""
        with self._cond:
            return list(self._messages)

    @property
    def logins(self) -> list[str]:
        """User names of successful AUTH commands, in order."""
        with self._cond:
            return list(self._logins)

    def wait_for(self, n: int, timeout: float = 10) -> bool:
        """True once at least ``n`` messages have arrived, False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._messages) >= n, timeout)

    # -- aiosmtpd hooks
    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            with self._cond:
                self._logins.append(auth_data.login.decode("utf-8", "replace"))
        return AuthResult(success=True)

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self._cond:
            if self._rcpt_fail_left > 0:
                self._rcpt_fail_left -= 1
                temporary = self._rcpt_fail_code < 500
                detail = "4.2.0 Mailbox busy, try again later" if temporary else "5.1.1 No such user"
                return f"{self._rcpt_fail_code} {detail} (scripted)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        with self._cond:
            if self._fail_left > 0:
                self._fail_left -= 1
                return f"{self._fail_code} 4.3.0 Temporary failure, try again later (scripted)"
            raw = envelope.original_content or envelope.content or b""
            if isinstance(raw, str):
                raw = raw.encode("utf-8", "surrogateescape")
            message = BytesParser(policy=email.policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            self._messages.append((envelope.mail_from or "", list(envelope.rcpt_tos), message))
            self._cond.notify_all()
            delay, self._data_delay = self._data_delay, 0.0
        if delay:  # outside the lock: other sessions go on meanwhile
            await asyncio.sleep(delay)
        return "250 Message accepted for delivery"


class SilentServer:
    """A TCP port on 127.0.0.1 that takes connections and never says a word (a hung mail relay).

    Nothing accepts them: the kernel completes the handshake into the backlog, so a client connects
    and then waits for a greeting that never comes.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A started SMTP server, stopped after the test."""
    with SmtpServer() as server:
        yield server


# --------------------------------------------------------------------------------------------
# WeCom group bot


TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
RATE_LIMIT = 20  # messages per key ...
RATE_WINDOW = 60.0  # ... per rolling window of this many seconds
MEDIA_TTL = 3 * 24 * 3600.0

ERRMSG = {
    0: "ok",
    -1: "system busy",
    40007: "invalid media_id",
    40008: "invalid message type",
    40035: "invalid parameter",
    40058: "content exceed max length",
    44004: "empty content",
    45009: "api freq out of limit",
    93000: "invalid webhook url",
}

ScriptEntry = dict[str, Any] | str | tuple[str, float]


def _multipart_parts(body: bytes, content_type: str) -> list[tuple[Message, bytes]]:
    """Split a multipart/form-data body into (headers, payload); headers are read as UTF-8."""
    outer = Message()
    outer["Content-Type"] = content_type
    boundary = outer.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        return []
    parts = []
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, payload = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip()] = value.strip()
        parts.append((headers, payload.removesuffix(b"\r\n")))
    return parts


def _form_filename(headers: Message) -> str | None:
    """The filename of a form part: RFC 5987/2231 ``filename*=`` first, then plain ``filename=``."""
    plain = None
    for name, value in headers.get_params(header="content-disposition", failobj=[]):
        if name.lower() != "filename":
            continue
        if isinstance(value, tuple):  # decoded from filename*=charset''percent-encoded
            charset, _lang, text = value
            return text.encode("latin-1", "surrogateescape").decode(charset or "utf-8", "replace")
        plain = plain if plain is not None else str(value).strip('"')
    if plain is None:
        return None
    # HTML5 form encoding (httpx, browsers) percent-escapes only these three.
    return plain.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


class WecomServer:
    """An HTTP server on 127.0.0.1 that behaves like ``qyapi.weixin.qq.com``'s group-bot webhook."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._keys: set[str] = set()
        self._scripts: dict[str, deque[ScriptEntry]] = defaultdict(deque)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._media: dict[str, dict[str, Any]] = {}
        self._delivered: list[dict[str, Any]] = []
        self._requests: list[dict[str, Any]] = []
        self._uploads: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle
    def start(self) -> Self:
        if self._httpd is None:
            httpd = _HTTPServer((HOST, self.port), _make_handler(self))
            self.port = int(httpd.server_address[1])
            self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="wecom-fake", daemon=True)
            self._httpd = httpd
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def webhook_url(self, key: str) -> str:
        """The send URL for ``key``, as WeCom shows it to the group owner."""
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    # -- set-up
    def add_bot(self, key: str | None = None) -> str:
        """Register a valid webhook key (a new UUID when none is given) and return it."""
        key = key or str(uuid.uuid4())
        with self._cond:
            self._keys.add(key)
        return key

    def remove_bot(self, key: str) -> None:
        """Remove a bot from its group: later sends answer 93000."""
        with self._cond:
            self._keys.discard(key)

    def script(self, key: str, entries: list[ScriptEntry]) -> None:
        """Queue faults consumed one per send request for ``key`` before normal behaviour.

        Entries: ``{"errcode": N}`` (HTTP 200 with that errcode), ``"http500"``, ``("delay", s)``
        (sleep, then process normally) or ``("delay_drop", s)`` (sleep, then close the connection
        without answering; the message is not delivered).
        """
        with self._cond:
            self._scripts[key].extend(entries)

    # -- what arrived
    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Accepted messages: ``{"key", "msgtype", "content", "mentioned_mobile_list", "at"}``."""
        with self._cond:
            return [dict(d) for d in self._delivered]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request: ``{"endpoint", "key", "body", "status", "errcode", "at"}``.

        ``status`` is the HTTP status (None when the connection was dropped), ``errcode`` the
        WeCom code answered (None for HTTP 500, a dropped connection or a 404).
        """
        with self._cond:
            return [dict(r) for r in self._requests]

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Uploaded files: ``{"key", "filename", "data", "media_id"}``."""
        with self._cond:
            return [dict(u) for u in self._uploads]

    def wait_for(self, n: int, timeout: float = 10) -> bool:
        """True once at least ``n`` messages are delivered, False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._delivered) >= n, timeout)

    # -- behaviour (called from handler threads)
    def _record(self, endpoint: str, key: str, body: Any, status: int | None, errcode: int | None) -> None:
        with self._cond:
            self._requests.append(
                {
                    "endpoint": endpoint,
                    "key": key,
                    "body": body,
                    "status": status,
                    "errcode": errcode,
                    "at": self.clock(),
                }
            )

    def _next_script(self, key: str) -> ScriptEntry | None:
        with self._cond:
            queue = self._scripts.get(key)
            return queue.popleft() if queue else None

    def _send(self, key: str, body: Any) -> int:
        """Validate and deliver one message; returns the errcode to answer."""
        with self._cond:
            if key not in self._keys:
                return 93000
            if not isinstance(body, dict):
                return 40035
            msgtype = body.get("msgtype")
            if msgtype not in ("text", "markdown", "file"):
                return 40008
            section = body.get(msgtype)
            if not isinstance(section, dict):
                return 40035
            mentions: list[str] = []
            if msgtype == "file":
                media = self._media.get(str(section.get("media_id")))
                if media is None or media["key"] != key or self.clock() - media["created"] > MEDIA_TTL:
                    return 40007
                content = media["filename"]
            else:
                content = section.get("content")
                if not isinstance(content, str) or not content:
                    return 44004
                limit = TEXT_MAX_BYTES if msgtype == "text" else MARKDOWN_MAX_BYTES
                if len(content.encode("utf-8")) > limit:
                    return 40058
                if msgtype == "text":
                    mentions = list(section.get("mentioned_mobile_list") or [])
            now = self.clock()
            sent = self._sent[key]
            while sent and now - sent[0] >= RATE_WINDOW:
                sent.popleft()
            if len(sent) >= RATE_LIMIT:
                return 45009
            sent.append(now)
            self._delivered.append(
                {"key": key, "msgtype": msgtype, "content": content, "mentioned_mobile_list": mentions, "at": now}
            )
            self._cond.notify_all()
        return 0

    def _upload(self, key: str, filename: str, data: bytes) -> dict[str, Any]:
        media_id = str(uuid.uuid4())
        with self._cond:
            self._media[media_id] = {"key": key, "filename": filename, "created": self.clock()}
            self._uploads.append({"key": key, "filename": filename, "data": data, "media_id": media_id})
        created_at = str(int(datetime.now(UTC).timestamp()))
        return {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id, "created_at": created_at}

    def _known(self, key: str) -> bool:
        with self._cond:
            return key in self._keys


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client gave up (timeout) before we answered."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _make_handler(fake: WecomServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else every answer waits ~40 ms for a delayed ACK
        server_version = "wecom-fake/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, obj: dict[str, Any]) -> None:
            self._answer(200, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=UTF-8")

        def _error(self, errcode: int) -> None:
            self._json({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})

        def do_GET(self) -> None:  # noqa: N802
            self._answer(404, b"not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            key = (query.get("key") or [""])[0]
            raw = self._body()
            if parts.path == "/cgi-bin/webhook/send":
                self._do_send(key, raw)
            elif parts.path == "/cgi-bin/webhook/upload_media":
                self._do_upload(key, raw, (query.get("type") or [""])[0])
            else:
                fake._record(parts.path, key, None, 404, None)
                self._answer(404, b"not found", "text/plain")

        def _do_send(self, key: str, raw: bytes) -> None:
            try:
                body: Any = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            entry = fake._next_script(key)
            if isinstance(entry, dict):
                errcode = int(entry.get("errcode", -1))
                fake._record("send", key, body, 200, errcode)
                self._json({"errcode": errcode, "errmsg": entry.get("errmsg", ERRMSG.get(errcode, "error"))})
                return
            if entry == "http500":
                fake._record("send", key, body, 500, None)
                self._answer(500, b"Internal Server Error (scripted)", "text/plain")
                return
            if isinstance(entry, tuple):
                action, seconds = entry
                time.sleep(seconds)
                if action == "delay_drop":
                    fake._record("send", key, body, None, None)
                    self.close_connection = True
                    return
            elif entry is not None:
                raise ValueError(f"unknown script entry {entry!r}")
            errcode = fake._send(key, body)
            fake._record("send", key, body, 200, errcode)
            self._error(errcode)

        def _do_upload(self, key: str, raw: bytes, media_type: str) -> None:
            if not fake._known(key):
                fake._record("upload_media", key, None, 200, 93000)
                return self._error(93000)
            media = [
                (headers, data)
                for headers, data in _multipart_parts(raw, self.headers.get("Content-Type", ""))
                if headers.get_param("name", header="content-disposition") == "media"
            ]
            filename = _form_filename(media[0][0]) if media else None
            if media_type != "file" or not filename:
                fake._record("upload_media", key, None, 200, 40035)
                return self._error(40035)
            answer = fake._upload(key, filename, media[0][1])
            fake._record("upload_media", key, {"filename": filename, "size": len(media[0][1])}, 200, 0)
            self._json(answer)

    return Handler


@pytest.fixture
def wecom_server() -> Iterator[WecomServer]:
    """A started WeCom fake (real clock, no bots yet: call ``add_bot()``), stopped after the test."""
    with WecomServer() as server:
        yield server
