"""Real Prefect servers as separate processes (a fixture plugin), and the process-tree helpers the
end-to-end tests use to start, watch and kill what `prefect` and `duban serve` start."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakes import free_port
from pgcluster import PostgresCluster

BIN = Path(sys.executable).parent


def wait_for_health(api_url: str, *, process: subprocess.Popen | None = None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process serving {api_url} ended with status {process.returncode}")
        try:
            if httpx.get(f"{api_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no Prefect server answered at {api_url} within {seconds} s")


@pytest.fixture
def server(pg_cluster: PostgresCluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A Prefect server on PostgreSQL, and the environment (duban's database on the same cluster) that
    points the CLI, `prefect` and workers at it."""
    port = free_port()
    prefect_db = pg_cluster.create_database(f"prefect_{port}")
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db.replace("+psycopg", "+asyncpg"),
        "DUBAN_DATABASE_URL": pg_cluster.create_database(f"duban_{port}"),
        "DUBAN_HOME": str(tmp_path / "home"),
    }
    process = subprocess.Popen(
        [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=default_signals,
    )
    try:
        wait_for_health(env["PREFECT_API_URL"], process=process)
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and those they started (a flow run may run in a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    family, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        family.append(current)
        todo += children.get(current, [])
    return family


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def default_signals() -> None:
    """For a started server or worker: SIGINT as a terminal's Ctrl+C means it, even when the suite runs
    from `nohup make test &` (a background job inherits SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kill_tree(pid: int, sig: signal.Signals, grace: float = 15) -> None:
    """The process and every process it started: `sig`, then SIGKILL for whatever is left after `grace`
    seconds (a worker started from `nohup make test &` inherits SIGINT ignored, and Prefect's worker
    answers SIGTERM by sending itself SIGINT), and the process reaped."""
    members = [pid, *descendants(pid)]
    for member in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(m) for m in members):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                members.remove(pid)
        time.sleep(0.1)
    for member in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
