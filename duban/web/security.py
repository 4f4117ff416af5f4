"""What every response carries and every request is held to, before any route sees it."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.web.numbers import whole
from duban.web.proxies import Proxies

# No inline script or style anywhere: the pages use only /static files, so CSP forbids the rest.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# Evidence and filed documents, shown or downloaded: nothing in them may run, whatever they are.
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class Guard:
    """Security headers on every response; request bodies past the limit refused with 413, by the app's
    page at `too_large` (in the layout, with the menu): the request goes there as a GET, its body unread;
    the client's address as the trusted proxies say (duban/web/proxies.py), else the socket's."""

    def __init__(self, app: ASGIApp, *, max_body: int, https: bool, too_large: str, proxies: Proxies) -> None:
        self.app, self.max_body, self.https, self.too_large = app, max_body, https, too_large
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.proxies.believe(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        size = whole(declared.decode("latin-1")) if declared is not None else 0
        refused = size is None or size > self.max_body
        seen, started = 0, False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if self.https:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        if not refused:
            try:
                await self.app(scope, limited, with_headers)
                return
            except BodyTooLarge:
                if started:
                    return
        await self.app(self._refusal(scope), _nothing, with_headers)

    def _refusal(self, scope: Scope) -> Scope:
        """The refused request as a GET of the 413 page: its headers (session cookie, Referer) kept."""
        path = self.too_large.encode()
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type")]
        return {
            **scope,
            "method": "GET",
            "path": self.too_large,
            "raw_path": path,
            "query_string": b"",
            "headers": headers,
        }


class BodyTooLarge(Exception):
    pass


async def _nothing() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class AddressThrottle:
    """Sign-ins per client address in a sliding window (one process's memory: each portal process counts
    its own; the per-account lockout is in the database and holds across them). An attempt is counted
    before it is checked and given back when it succeeds: of two hundred sent at once, `limit` are
    checked."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit, self.window = limit, window_seconds
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.guard = threading.Lock()

    def take(self, address: str) -> bool:
        """Count one attempt; False (refused, and not counted) when the address has used its limit."""
        with self.guard:
            times = self.failures[address]
            cutoff = time.monotonic() - self.window
            while times and times[0] < cutoff:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(time.monotonic())
            return True

    def give_back(self, address: str) -> None:
        """The attempt succeeded: it is not a failure."""
        with self.guard:
            times = self.failures.get(address)
            if times:
                times.pop()
