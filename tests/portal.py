"""A real portal on loopback for tests: uvicorn serving `create_app` in a thread, and signed-in clients.

The server runs in the test's process (so it sees the test's DUBAN_HOME); clients speak HTTP to it over
a real socket, as a browser does.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher

from duban.signin import accounts
from duban.web.app import create_app
from duban.web.security import Guard

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "Initial-pass-2022"  # what the tests give DUBAN_NEW_PASSWORD
CHANGED = "Changed-pass-2022!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal(str):
    """The portal's base URL (a plain str to every caller), the app behind it, and its business day."""

    guard: Guard

    def __new__(cls, url: str, guard: Guard) -> Portal:
        made = super().__new__(cls, url)
        made.guard = guard
        return made

    @property
    def url(self) -> str:
        return str(self)

    def set_day(self, day: date | None) -> None:
        """Move the portal's pinned day (`duban portal --as-of`), as a walk through a month does."""
        self.guard.app.state.as_of = day


@contextmanager
def running_portal(as_of: date | None, *, https: bool = False) -> Iterator[Portal]:
    """The portal's base URL while the block runs (a `Portal`: also `.url` and `.set_day(day)`)."""
    port = free_port()
    guard = create_app(as_of=as_of, https=https)
    config = uvicorn.Config(  # proxy_headers as `duban portal`: the app decides whom it believes
        guard, host="127.0.0.1", port=port, log_level="warning", access_log=False, server_header=False,
        proxy_headers=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the portal did not start")
        time.sleep(0.02)
    try:
        yield Portal(f"http://127.0.0.1:{port}", guard)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def sign_in(base: str, login: str, password: str = PASSWORD, *, change_to: str | None = CHANGED) -> httpx.Client:
    """A client signed in as `login`; a first sign-in changes the initial password to `change_to`."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login")
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/account/password" and change_to:
        form = client.get("/account/password")
        changed = client.post(
            "/account/password",
            data={
                "current_password": password,
                "new_password": change_to,
                "new_password_confirm": change_to,
                "csrf_token": csrf_of(form.text),
            },
        )
        assert changed.status_code == 303, changed.text
    return client


def token(client: httpx.Client, path: str = "/items") -> str:
    """The session's CSRF token, as any page's form carries it."""
    return csrf_of(client.get(path).text)


@contextmanager
def quick_home(home: Path) -> Iterator[None]:
    """A module's own DUBAN_HOME for its portal: no database URL, server or portal link from outside, the
    initial password PASSWORD, and argon2id at a few milliseconds a hash instead of 0.2 s (1 s on a
    loaded machine). The rules these tests check (lockout, throttle, sessions, who may do what) do not
    depend on the cost."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUBAN_HOME", str(home))
        mp.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
        for name in ("DUBAN_DATABASE_URL", "PREFECT_API_URL", "DUBAN_PORTAL_URL"):
            mp.delenv(name, raising=False)
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        accounts._dummy.cache_clear()
        yield
