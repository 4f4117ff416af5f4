"""`duban serve` as the Office runs it on one machine: started as a user would (its own DUBAN_HOME, no
PREFECT_API_URL), runs created through Prefect's CLI (now, and a few seconds ahead as a schedule
would) that change duban's database, one serve per DUBAN_HOME, and Ctrl+C / SIGTERM leaving nothing
behind; then against a server the test started, where serve starts none."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import PLAN, ROOT, SAMPLE
from fakes import free_port
from prefect_servers import BIN, QUICK
from processes import alive, command_line, descendants, finish, run, start, stop

READY = "正在运行，按 Ctrl+C 停止"
OPEN_MAY = "as_of=2022-05-01"
UNITS_ASKED = 17  # the sample's 12 townships and the 5 lead departments of its categories


def _cli(env: dict[str, str], *args: object) -> str:
    result = run(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _loaded(env: dict[str, str]) -> None:
    _cli(env, BIN / "duban", "init", "--plan", PLAN, "--as-of", "2022-04-01")
    _cli(env, BIN / "duban", "ledger", "import", SAMPLE, "--as-of", "2022-04-08", "--no-engine")


def _start_serve(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Started from another folder than the checkout, as a service manager would."""
    with log.open("w") as sink:
        process = start([BIN / "duban", "serve", *args], env=env, cwd=log.parent, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while READY not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process, signal.SIGKILL)
            pytest.fail(f"duban serve did not get ready:\n{log.read_text()}")
        time.sleep(0.5)
    return process


def _stop(process: subprocess.Popen, sig: signal.Signals) -> list[int]:
    """Signal serve as Ctrl+C or a service manager would; return what it had started."""
    family = descendants(process.pid)
    process.send_signal(sig)
    assert finish(process, 120) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [command_line(pid) for pid in family if alive(pid)] == []
    return family


def _opened(env: dict[str, str], period: str, as_of: str) -> int:
    view = json.loads(_cli(env, BIN / "duban", "period", "show", period, "--as-of", as_of, "--json"))
    assert view["opened"]
    return len(view["submissions"])


def test_serve_runs_its_own_server_and_every_run_reaches_duban(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    env |= {"DUBAN_HOME": str(home), "PREFECT_HOME": str(tmp_path / "prefect-home"), **QUICK}
    _loaded(env)

    serve = _start_serve(env, tmp_path / "serve.log", "--port", str(port))
    try:
        said = (tmp_path / "serve.log").read_text()
        assert f"Prefect 界面：http://127.0.0.1:{port}" in said
        shanghai = ZoneInfo("Asia/Shanghai")
        now = datetime.now(shanghai).replace(tzinfo=None)
        next_first = datetime(now.year, now.month, 1, 8, 0)
        if next_first <= now:
            next_first = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, 8, 0)
        assert f"open-period        {next_first:%Y-%m-%d %H:%M}（0 8 1 * *）" in said
        assert (home / "prefect" / "prefect.db").exists()  # the server's SQLite, under DUBAN_HOME
        assert httpx.get(f"{api}/health", timeout=5).status_code == 200

        second = run(
            [BIN / "duban", "serve", "--port", str(free_port())],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"此 DUBAN_HOME（{home}）已有一个 duban serve 在运行（进程 {serve.pid}" in second.stderr

        client_env = env | {"PREFECT_API_URL": api}
        prefect = BIN / "prefect"
        now_run = _cli(client_env, prefect, "deployment", "run", "open-period/open-period", "--param", OPEN_MAY)
        asked_at = datetime.now(UTC)
        ahead = _cli(
            client_env,
            prefect,
            "deployment",
            "run",
            "open-period/open-period",
            "--param",
            "as_of=2022-06-01",
            "--start-in",
            "in 5 seconds",
        )
        runs = [_run_id(now_run), _run_id(ahead)]
        scheduled = httpx.get(f"{api}/flow_runs/{runs[1]}").json()
        assert scheduled["state"]["type"] == "SCHEDULED"
        due = _parse(scheduled["next_scheduled_start_time"])
        assert due >= asked_at + timedelta(seconds=5)
        assert [_wait_for(api, run, {"COMPLETED"}) for run in runs] == ["COMPLETED", "COMPLETED"]
        started_at = _parse(httpx.get(f"{api}/flow_runs/{runs[1]}").json()["start_time"])
        assert started_at >= due - timedelta(seconds=1)  # at its time (the runner may be a few ms early), not at once
        assert _opened(env, "2022-05", "2022-05-01") == UNITS_ASKED
        assert _opened(env, "2022-06", "2022-06-01") == UNITS_ASKED

        # A run in progress when the Office presses Ctrl+C: held up by a lock on duban's database.
        lock = sqlite3.connect(home / "duban.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            busy = _run_id(
                _cli(client_env, prefect, "deployment", "run", "escalate-overdue/escalate-overdue", "--param",
                     "as_of=2022-05-09")
            )  # fmt: skip
            _wait_for(api, busy, {"RUNNING"})
            time.sleep(2)  # inside its first task, waiting on the lock
            started = [command_line(pid) for pid in descendants(serve.pid)]
            assert any("prefect server start" in c and f"--port {port}" in c for c in started)
            assert len(started) >= 2  # the server and the run's process
            _stop(serve, signal.SIGINT)
        finally:
            lock.rollback()
            lock.close()
    finally:
        stop(serve, signal.SIGKILL)  # whatever a failed assertion left running, its server and runs too
    with sqlite3.connect(home / "prefect" / "prefect.db") as prefect_db:
        [(state,)] = prefect_db.execute("select state_type from flow_run where id = ?", (busy,)).fetchall()
    assert state == "CANCELLED"
    with sqlite3.connect(home / "duban.db") as duban_db:
        assert duban_db.execute("select count(*) from escalation").fetchone() == (0,)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=2)


def test_serve_killed_outright_and_started_again(tmp_path: Path) -> None:
    """A power cut in the middle of a run: the next serve marks that run Crashed, and the deployment's only
    slot is free again, so its next run completes instead of waiting."""
    home = tmp_path / "home"
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    env |= {"DUBAN_HOME": str(home), "PREFECT_HOME": str(tmp_path / "prefect-home"), **QUICK}
    client_env = env | {"PREFECT_API_URL": api}
    run = (BIN / "prefect", "deployment", "run", "escalate-overdue/escalate-overdue", "--param", "as_of=2022-05-09")
    _loaded(env)
    serve = _start_serve(env, tmp_path / "first.log", "--port", str(port))
    lock = sqlite3.connect(home / "duban.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        cut = _run_id(_cli(client_env, *run))
        _wait_for(api, cut, {"RUNNING"})
        left = descendants(serve.pid)
        assert any("prefect server start" in command_line(pid) for pid in left) and len(left) >= 2
        serve.kill()  # serve alone, as a power cut or `kill -9` would: its server and its run end with it
        finish(serve, 10)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in left) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [command_line(pid) for pid in left if alive(pid)] == []
    finally:
        lock.rollback()
        lock.close()
    with sqlite3.connect(home / "prefect" / "prefect.db") as prefect_db:
        [(name, state)] = prefect_db.execute("select name, state_type from flow_run where id = ?", (cut,)).fetchall()
    assert state == "RUNNING"

    serve = _start_serve(env, tmp_path / "second.log", "--port", str(port))
    try:
        assert f"上次未正常结束的运行已标记为 Crashed：{name}" in (tmp_path / "second.log").read_text()
        assert httpx.get(f"{api}/flow_runs/{cut}", timeout=5).json()["state"]["type"] == "CRASHED"
        again = _run_id(_cli(client_env, *run))
        assert _wait_for(api, again, {"COMPLETED"}, seconds=90) == "COMPLETED"
        _stop(serve, signal.SIGTERM)
    finally:
        stop(serve, signal.SIGKILL)  # whatever a failed assertion left running, its server and runs too


def test_serve_with_prefect_api_url_starts_no_server(server: dict[str, str], tmp_path: Path) -> None:
    env = server
    _loaded(env)
    serve = _start_serve(env, tmp_path / "serve.log")
    try:
        said = (tmp_path / "serve.log").read_text()
        assert f"使用 PREFECT_API_URL 指定的 Prefect 服务器：{env['PREFECT_API_URL']}" in said
        run = _run_id(
            _cli(env, BIN / "prefect", "deployment", "run", "open-period/open-period", "--param", "as_of=2022-05-01")
        )
        assert _wait_for(env["PREFECT_API_URL"], run, {"COMPLETED"}) == "COMPLETED"
        assert not any("prefect server" in command_line(pid) for pid in descendants(serve.pid))
        _stop(serve, signal.SIGTERM)  # as systemd stops a service
    finally:
        stop(serve, signal.SIGKILL)  # whatever a failed assertion left running, its server and runs too
    assert not (Path(env["DUBAN_HOME"]) / "prefect").exists()
    assert _opened(env, "2022-05", "2022-05-01") == UNITS_ASKED


def _run_id(output: str) -> str:
    return re.search(r"flow-run/([0-9a-f-]{36})", output).group(1)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _wait_for(api: str, run: str, states: set[str], seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = httpx.get(f"{api}/flow_runs/{run}", timeout=5).json()["state"]["type"]
        if state in states:
            return state
        assert state not in {"FAILED", "CRASHED", "CANCELLED"} - states, f"run {run} ended {state}"
        time.sleep(0.5)
    pytest.fail(f"run {run} did not reach {states} within {seconds} s")
