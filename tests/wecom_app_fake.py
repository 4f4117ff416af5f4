"""A real HTTP server on 127.0.0.1 that behaves like the WeCom self-built app's API and sign-in pages.

Standard library only; nothing here imports duban, so the fake judges duban from the outside. One server
stands for all three hosts: point DUBAN_WECOM_API, DUBAN_WECOM_OAUTH_URL and DUBAN_WECOM_SSO_URL at
``url`` (``env()`` gives every variable, the ids and the secret included).

Use::

    with WecomAppServer() as wecom:                 # corp "wwduban", agent 1000002, a random secret
        wecom.add_member("zhangsan", "张三", "13800000001")   # in department 1 unless told
        monkeypatch.setenv(...) for each of wecom.env().items()
        ...
        wecom.cards          # delivered, one per member reached: {"userid", "msgtype", "textcard", "at"}
        wecom.token_fetches  # successful gettoken calls
        wecom.requests       # every API request: {"path", "params", "body", "errcode", "status", "at"}

API endpoints (JSON, errors as HTTP 200 with a non-zero errcode, like WeCom):
- ``GET /cgi-bin/gettoken?corpid=&corpsecret=``: a new token valid ``token_ttl`` seconds (7,200);
  40013 for another corp id, 40001 for another secret.
- ``POST /cgi-bin/message/send?access_token=``: ``touser`` ids joined by ``|``, ``msgtype`` ``textcard``
  (title <= 128 bytes, description <= 512 bytes, ``url`` required, ``btntxt`` optional) or ``markdown``;
  ``agentid`` must be the app's (40056). Unknown ids come back in ``invaliduser`` (81013 when no id is
  valid). Per member at most 30 a minute and 1,000 an hour: the excess is dropped silently, as WeCom
  does (``dropped`` lists them). Token errors: 40014 (unknown), 42001 (expired).
- ``GET /cgi-bin/auth/getuserinfo?access_token=&code=``: ``{"userid"}`` for a member's code,
  ``{"openid"}`` for a non-member's; a code works once and for 5 minutes (else 40029).
- ``GET /cgi-bin/department/list`` and ``GET /cgi-bin/user/list?department_id=``: the address book,
  members with ``mobile`` (``hide_mobiles = True`` withholds it, as WeCom does for newer apps).

Browser pages (what WeCom's browser or the QR login does; ``signed_in`` is the member using it):
- ``GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=&state=&agentid=``:
  302 to ``redirect_uri`` with ``code`` and ``state`` added.
- ``GET /wwlogin/sso/login?login_type=CorpApp&appid=&agentid=&redirect_uri=&state=``: a page with the
  "QR code" and a link ``a#scan`` (the scan confirmed on the phone) to ``/wwlogin/sso/scan?ticket=``, which
  302s to ``redirect_uri`` with ``code`` and ``state``; ``sso_auto = True`` skips the page and redirects at once.
  Both answer 400 with a Chinese page for another app id, or a ``redirect_uri`` outside ``trusted_domain``
  (when set), or when no member is ``signed_in``.

Modes: ``refuse_ip = True`` (every API call answers 60020), ``expire_tokens()`` (issued tokens answer
42001), ``script([...])`` (entries consumed one per message/send: ``{"errcode": N}`` or ``"http500"``),
``issue_code(userid)`` (a code without the browser), ``clock`` (seconds; pass a fake one to move time).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

HOST = "127.0.0.1"
TITLE_MAX, DESCRIPTION_MAX = 128, 512
PER_MINUTE, PER_HOUR = 30, 1000
CODE_TTL = 300


class WecomAppServer:
    def __init__(
        self,
        corp_id: str = "wwduban",
        agent_id: int = 1000002,
        secret: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corp_id, self.agent_id = corp_id, agent_id
        self.secret = secret or secrets.token_urlsafe(32)
        self.clock = clock
        self.token_ttl = 7200
        self.refuse_ip = False
        self.hide_mobiles = False
        self.sso_auto = False
        self.trusted_domain: str | None = None
        self.signed_in: str | None = None  # the member using WeCom's browser / scanning the QR code
        self._cond = threading.Condition()
        self._tokens: dict[str, float] = {}  # token -> expiry
        self._members: dict[str, dict[str, Any]] = {}
        self._departments: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "XX区", "parentid": 0, "order": 1}}
        self._codes: dict[str, tuple[str | None, float]] = {}  # code -> (userid or None for a non-member, expiry)
        self._tickets: dict[str, tuple[str, str]] = {}  # QR ticket -> (redirect_uri, state)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._script: deque[Any] = deque()
        self._cards: list[dict[str, Any]] = []
        self._dropped: list[dict[str, Any]] = []
        self._requests: list[dict[str, Any]] = []
        self.token_fetches = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle
    def start(self) -> Self:
        httpd = ThreadingHTTPServer((HOST, 0), _handler(self))
        httpd.daemon_threads = True
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="wecom-app-fake", daemon=True)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """Every variable duban reads for the app, pointing at this server."""
        return {
            "DUBAN_WECOM_CORP_ID": self.corp_id,
            "DUBAN_WECOM_AGENT_ID": str(self.agent_id),
            "DUBAN_WECOM_APP_SECRET": self.secret,
            "DUBAN_WECOM_API": self.url,
            "DUBAN_WECOM_OAUTH_URL": self.url,
            "DUBAN_WECOM_SSO_URL": self.url,
        }

    # -- set-up
    def add_member(self, userid: str, name: str, mobile: str = "", departments: tuple[int, ...] = (1,)) -> None:
        with self._cond:
            self._members[userid] = {"userid": userid, "name": name, "mobile": mobile, "department": list(departments)}

    def remove_member(self, userid: str) -> None:
        with self._cond:
            self._members.pop(userid, None)

    def add_department(self, dept_id: int, name: str, parent: int = 1) -> None:
        with self._cond:
            self._departments[dept_id] = {"id": dept_id, "name": name, "parentid": parent, "order": dept_id}

    def expire_tokens(self) -> None:
        """Every token issued so far answers 42001 from now on."""
        with self._cond:
            for token in self._tokens:
                self._tokens[token] = self.clock() - 1

    def script(self, entries: list[Any]) -> None:
        with self._cond:
            self._script.extend(entries)

    def issue_code(self, userid: str | None) -> str:
        """A sign-in code for `userid` (None: a visitor who is not a member), as the authorize page gives."""
        code = secrets.token_urlsafe(24)
        with self._cond:
            self._codes[code] = (userid, self.clock() + CODE_TTL)
        return code

    # -- what arrived
    @property
    def cards(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(c) for c in self._cards]

    @property
    def dropped(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(c) for c in self._dropped]

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(r) for r in self._requests]

    # -- behaviour (handler threads)
    def _record(self, path: str, params: dict, body: Any, status: int, errcode: int | None) -> None:
        with self._cond:
            self._requests.append(
                {"path": path, "params": params, "body": body, "status": status, "errcode": errcode, "at": self.clock()}
            )

    def _token_error(self, token: str) -> int:
        with self._cond:
            expiry = self._tokens.get(token)
        if expiry is None:
            return 40014
        return 42001 if self.clock() >= expiry else 0

    def _gettoken(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("corpid") != self.corp_id:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if params.get("corpsecret") != self.secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = secrets.token_urlsafe(48)
        with self._cond:
            self._tokens[token] = self.clock() + self.token_ttl
            self.token_fetches += 1
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}

    def _send(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {"errcode": 40035, "errmsg": "invalid body"}
        if body.get("agentid") != self.agent_id:
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        msgtype = body.get("msgtype")
        section = body.get(msgtype) if msgtype in ("textcard", "markdown") else None
        if not isinstance(section, dict):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if msgtype == "textcard":
            title, description = str(section.get("title") or ""), str(section.get("description") or "")
            if not title or len(title.encode()) > TITLE_MAX:
                return {"errcode": 44003, "errmsg": "invalid title"}
            if not description or len(description.encode()) > DESCRIPTION_MAX:
                return {"errcode": 44004, "errmsg": "invalid description"}
            if not str(section.get("url") or "").startswith(("http://", "https://")):
                return {"errcode": 40062, "errmsg": "invalid url"}
        ids = [u for u in str(body.get("touser") or "").split("|") if u]
        if not ids or len(ids) > 1000:
            return {"errcode": 40031, "errmsg": "invalid user list"}
        with self._cond:
            invalid = [u for u in ids if u not in self._members]
            if len(invalid) == len(ids):
                return {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(invalid)}
            now = self.clock()
            for userid in ids:
                if userid in invalid:
                    continue
                card = {"userid": userid, "msgtype": msgtype, msgtype: dict(section), "at": now}
                sent = self._sent[userid]
                while sent and now - sent[0] >= 3600:
                    sent.popleft()
                in_minute = sum(1 for at in sent if now - at < 60)
                if in_minute >= PER_MINUTE or len(sent) >= PER_HOUR:
                    self._dropped.append(card)  # WeCom drops the excess without saying so
                    continue
                sent.append(now)
                self._cards.append(card)
            self._cond.notify_all()
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": uuid.uuid4().hex}

    def _getuserinfo(self, code: str) -> dict[str, Any]:
        with self._cond:
            found = self._codes.pop(code, None)  # single use, whatever the outcome
        if found is None or self.clock() >= found[1]:
            return {"errcode": 40029, "errmsg": "invalid code"}
        if found[0] is None:
            return {"errcode": 0, "errmsg": "ok", "openid": "o" + secrets.token_hex(8)}
        return {"errcode": 0, "errmsg": "ok", "userid": found[0]}

    def _user_list(self, department: str) -> dict[str, Any]:
        if not department.isdigit() or int(department) not in self._departments:
            return {"errcode": 60003, "errmsg": "department not found"}
        with self._cond:
            members = [
                {**m, "mobile": "" if self.hide_mobiles else m["mobile"]}
                for m in self._members.values()
                if int(department) in m["department"]
            ]
        if self.hide_mobiles:
            members = [{k: v for k, v in m.items() if k != "mobile"} for m in members]
        return {"errcode": 0, "errmsg": "ok", "userlist": members}

    def _redirect_target(self, params: dict[str, str]) -> str | None:
        """Why the sign-in page refuses (Chinese), or None when it may go on."""
        if params.get("appid") != self.corp_id:
            return "参数错误：appid 无效"
        if str(params.get("agentid", self.agent_id)) != str(self.agent_id):
            return "参数错误：agentid 无效"
        target = urlsplit(params.get("redirect_uri", ""))
        if target.scheme not in ("http", "https"):
            return "参数错误：redirect_uri 无效"
        if self.trusted_domain and target.hostname != self.trusted_domain:
            return "redirect_uri 需与应用的可信域名一致"
        if self.signed_in is None:
            return "未登录企业微信"
        return None


def with_query(url: str, **extra: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query.update({k: [v] for k, v in extra.items()})
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def _handler(fake: WecomAppServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _answer(self, status: int, payload: bytes, content_type: str, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, path: str, params: dict, body: Any, obj: dict[str, Any]) -> None:
            fake._record(path, params, body, 200, obj.get("errcode"))
            self._answer(200, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=UTF-8")

        def _page(self, status: int, text: str) -> None:
            doc = f"<!doctype html><meta charset=utf-8><title>企业微信</title><p>{html.escape(text)}</p>"
            self._answer(status, doc.encode(), "text/html; charset=UTF-8")

        def _redirect(self, location: str) -> None:
            self._answer(302, b"", "text/plain", {"Location": location})

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            path = parts.path
            if path == "/connect/oauth2/authorize":
                return self._authorize(params)
            if path == "/wwlogin/sso/login":
                return self._sso(params)
            if path == "/wwlogin/sso/scan":
                found = fake._tickets.pop(params.get("ticket", ""), None)
                if found is None or fake.signed_in is None:
                    return self._page(400, "二维码已失效，请刷新重试")
                return self._redirect(with_query(found[0], code=fake.issue_code(fake.signed_in), state=found[1]))
            self._api(path, params, None)

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            self._api(parts.path, params, body)

        def _api(self, path: str, params: dict[str, str], body: Any) -> None:
            if path not in ("/cgi-bin/gettoken", "/cgi-bin/message/send", "/cgi-bin/auth/getuserinfo",
                            "/cgi-bin/department/list", "/cgi-bin/user/list"):  # fmt: skip
                fake._record(path, params, body, 404, None)
                return self._answer(404, b"not found", "text/plain")
            if fake.refuse_ip:
                return self._json(path, params, body, {"errcode": 60020, "errmsg": "not allow to access from your ip"})
            if path == "/cgi-bin/gettoken":
                return self._json(path, params, body, fake._gettoken(params))
            code = fake._token_error(params.get("access_token", ""))
            if code:
                return self._json(path, params, body, {"errcode": code, "errmsg": "access_token invalid or expired"})
            if path == "/cgi-bin/message/send":
                with fake._cond:
                    entry = fake._script.popleft() if fake._script else None
                if entry == "http500":
                    fake._record(path, params, body, 500, None)
                    return self._answer(500, b"Internal Server Error (scripted)", "text/plain")
                if isinstance(entry, dict):
                    return self._json(path, params, body, {"errmsg": "scripted", **entry})
                return self._json(path, params, body, fake._send(body))
            if path == "/cgi-bin/auth/getuserinfo":
                return self._json(path, params, body, fake._getuserinfo(params.get("code", "")))
            if path == "/cgi-bin/department/list":
                with fake._cond:
                    departments = sorted(fake._departments.values(), key=lambda d: d["id"])
                return self._json(path, params, body, {"errcode": 0, "errmsg": "ok", "department": departments})
            return self._json(path, params, body, fake._user_list(params.get("department_id", "")))

        def _authorize(self, params: dict[str, str]) -> None:
            refused = fake._redirect_target(params)
            if refused is None and (params.get("response_type") != "code" or not params.get("scope")):
                refused = "参数错误：response_type 或 scope 无效"
            if refused:
                return self._page(400, refused)
            code = fake.issue_code(fake.signed_in)
            self._redirect(with_query(params["redirect_uri"], code=code, state=params.get("state", "")))

        def _sso(self, params: dict[str, str]) -> None:
            refused = fake._redirect_target(params)
            if refused is None and params.get("login_type") != "CorpApp":
                refused = "参数错误：login_type 无效"
            if refused:
                return self._page(400, refused)
            if fake.sso_auto:
                code = fake.issue_code(fake.signed_in)
                return self._redirect(with_query(params["redirect_uri"], code=code, state=params.get("state", "")))
            ticket = secrets.token_urlsafe(16)
            with fake._cond:
                fake._tickets[ticket] = (params["redirect_uri"], params.get("state", ""))
            doc = (
                "<!doctype html><meta charset=utf-8><title>企业微信登录</title>"
                "<h1>请使用企业微信扫描二维码登录</h1>"
                f'<a id="scan" href="/wwlogin/sso/scan?ticket={ticket}">模拟扫码并确认登录</a>'
            )
            self._answer(200, doc.encode(), "text/html; charset=UTF-8")

    return Handler


@pytest.fixture
def wecom_app() -> Iterator[WecomAppServer]:
    """A started WeCom app look-alike (real clock, no members yet), stopped after the test."""
    with WecomAppServer() as server:
        yield server
