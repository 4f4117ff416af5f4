"""The Prefect server `duban serve` runs itself on one machine: SQLite under DUBAN_HOME, no telemetry.

Every flow run the runner starts is a separate process; each must talk to this one server. Without
it, each would start a temporary server of its own and lose the deployment's concurrency slot.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from duban.lifetime import die_with_parent

STARTUP_SECONDS = 120  # a cold start on SQLite takes 10-20 s on 2 cores; migrations on first use take longer
STOP_SECONDS = 30


class ServerError(Exception):
    """The local Prefect server could not be started; the message is for the operator."""


@dataclass
class LocalServer:
    process: subprocess.Popen
    api_url: str
    ui_url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def server_environment(folder: Path) -> dict[str, str]:
    """The server's own settings: its SQLite database in `folder`, analytics off, quiet logs."""
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env.update(
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    return env


def start(folder: Path, *, host: str, port: int) -> LocalServer:
    """Start `prefect server start` on host:port and return once its API answers."""
    _check_port_free(host, port)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    connect = _reachable(host)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
            env=server_environment(folder),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_detach_but_die_with_parent,  # noqa: PLW1509 - Linux only, set before exec
        )
    server = LocalServer(process, f"http://{connect}:{port}/api", f"http://{connect}:{port}", log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"Prefect 服务器未能启动（退出码 {process.returncode}），详见 {log}")
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise ServerError(f"Prefect 服务器在 {STARTUP_SECONDS} 秒内未就绪，详见 {log}")


def _reachable(host: str) -> str:
    """The host as this machine reaches it, in a URL (an IPv6 address in brackets)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closed port is free
        try:
            probe.bind((host, port))
        except (socket.gaierror, UnicodeError):
            raise ServerError(f"“{host}”不是本机可用的地址，请用 --host 给出本机地址（如 127.0.0.1）") from None
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ServerError(f"“{host}”不是本机的地址，请用 --host 给出本机地址（如 127.0.0.1）") from None
            raise ServerError(f"端口 {port} 已被占用，请用 --port 指定另一个端口") from None


def _detach_but_die_with_parent() -> None:
    """Ctrl+C in the terminal reaches duban serve alone (it stops the runs first, then this server);
    if duban serve is killed outright, the kernel ends the server with it."""
    os.setsid()
    die_with_parent(signal.SIGTERM)
