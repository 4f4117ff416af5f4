"""The portal at its edges. Whose address it believes: `X-Forwarded-For` only from the proxies
DUBAN_TRUSTED_PROXIES names (none by default), so a client cannot choose the address the sign-in
throttle counts. Where it redirects: never to a host taken from the request's `Host` header. How long
`duban portal` keeps an idle connection: uvicorn's keep-alive timeout (slow clients are nginx's to absorb).

The throttle is observed as a person meets it: after the plan's `failures_per_address` wrong sign-ins
counted for one address, the next sign-in from that address answers 429."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import PLAN, Cli
from portal import csrf_of, free_port, quick_home, running_portal
from processes import start, stop

from duban.plan import load_plan
from duban.signin import accounts

LIMIT = load_plan(PLAN)[0].portal.failures_per_address


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("proxies") / "home"
    with quick_home(path):
        Cli()("init", "--plan", PLAN, "--as-of", "2022-04-01")
        try:
            yield path
        finally:
            accounts._dummy.cache_clear()


def attempt(base: str, forwarded: str | None) -> int:
    """One wrong sign-in (a name nobody has), with `X-Forwarded-For` as given; its status."""
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30, headers=headers) as client:
        form = {"login": "nobody", "password": "wrong-password", "csrf_token": csrf_of(client.get("/login").text)}
        return client.post("/login", data=form).status_code


@pytest.mark.parametrize("setting", ["", "10.0.0.0/8, 192.0.2.1"], ids=["none", "other-proxies"])
def test_a_forged_forwarded_for_does_not_change_the_address_counted(
    home: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("DUBAN_TRUSTED_PROXIES", setting)
    with running_portal(None) as base:
        for n in range(LIMIT):  # each from "another address": all are the socket's, 127.0.0.1
            assert attempt(base, f"203.0.113.{n + 1}") == 303
        assert attempt(base, "198.51.100.200") == 429
        assert attempt(base, None) == 429


def test_a_trusted_proxy_names_the_client(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_TRUSTED_PROXIES", "192.0.2.0/24, 127.0.0.1")
    with running_portal(None) as base:
        for _ in range(LIMIT):
            assert attempt(base, "203.0.113.7") == 303
        assert attempt(base, "203.0.113.7") == 429
        assert attempt(base, "203.0.113.8") == 303  # another client behind the proxy
        # the proxy appends the address it saw: what the client wrote before it proves nothing
        assert attempt(base, "203.0.113.8, 203.0.113.7") == 429
        assert attempt(base, "203.0.113.7, 203.0.113.9") == 303
        assert attempt(base, "203.0.113.7, 203.0.113.9, 192.0.2.5") == 303  # through two trusted proxies
        assert attempt(base, "203.0.113.9, 203.0.113.7, 192.0.2.5") == 429
        assert attempt(base, "not-an-address") == 303  # the socket's (127.0.0.1): nothing counted there yet


def test_a_malformed_setting_is_refused_by_duban_portal(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/33")
    out = Cli()("portal", status=2).output
    assert "环境变量 DUBAN_TRUSTED_PROXIES 中的“10.0.0.0/33”不是有效的IP地址或网段" in out


@pytest.mark.parametrize("path", ["/items/", "/login/", "/reports/2022-05/"])
def test_no_redirect_takes_its_host_from_the_request(home: Path, path: str) -> None:
    """A trailing slash answers 404 (the portal's links have none) rather than a redirect built from Host."""
    with running_portal(None) as base, httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        response = client.get(path, headers={"host": "duban.example.net"})
        assert response.status_code == 404
        assert "location" not in response.headers
        assert "duban.example.net" not in response.text
        signed_out = client.get("/items", headers={"host": "duban.example.net"})
        assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/login?next=/items")


def test_duban_portal_closes_an_idle_connection(home: Path, tmp_path: Path) -> None:
    """`duban portal`'s own uvicorn options: a kept-alive connection left idle is closed after the
    keep-alive timeout (a few seconds), not held for as long as the client likes."""
    port = free_port()
    log = tmp_path / "portal.log"
    with log.open("wb") as out:
        process = start(
            [sys.executable, "-m", "duban.cli", "portal", "--port", str(port)],
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        with connection:
            connection.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
            answered = b""
            while b"</html>" not in answered:
                chunk = connection.recv(65536)
                assert chunk, answered[:300]
                answered += chunk
            assert answered.startswith(b"HTTP/1.1 200 ")
            idle = time.monotonic()
            assert connection.recv(1) == b""  # closed by the server (the socket's own timeout is 30 s)
            waited = time.monotonic() - idle
        assert 4 < waited < 10  # the README's five seconds
    finally:
        stop(process, grace=15)
