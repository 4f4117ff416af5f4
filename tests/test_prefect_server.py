"""End to end on real parts: a Prefect server on PostgreSQL, a process work pool, a worker, the
deployments registered by `duban deploy`, and a scheduled flow run that updates duban's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import PLAN, ROOT, SAMPLE
from fakes import free_port
from pgcluster import PostgresCluster

BIN = Path(sys.executable).parent
NAMES = ["chase-submissions", "dispatch-outbox", "escalate-overdue", "open-period"]
READ_DEPLOYMENTS = f"""
import asyncio, json
from prefect import get_client

async def main():
    async with get_client() as client:
        found = [await client.read_deployment_by_name(f"{{n}}/{{n}}") for n in {NAMES!r}]
    print(json.dumps([[d.name, d.work_pool_name, d.global_concurrency_limit and d.global_concurrency_limit.limit,
                       [[s.schedule.cron, s.schedule.timezone] for s in d.schedules]] for d in found]))

asyncio.run(main())
"""


@pytest.fixture
def server(pg_cluster: PostgresCluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    prefect_db = pg_cluster.create_database(f"prefect_{port}")
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
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
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the Prefect server did not start within 90 s")
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)


def _run(env: dict[str, str], *args: object) -> str:
    result = subprocess.run([str(a) for a in args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_deployments_on_a_prefect_server_with_a_worker(server: dict[str, str]) -> None:
    env = server
    _run(env, BIN / "prefect", "work-pool", "create", "duban", "--type", "process")
    _run(env, BIN / "duban", "init", "--plan", PLAN, "--as-of", "2022-04-01")
    _run(env, BIN / "duban", "ledger", "import", SAMPLE, "--as-of", "2022-04-08", "--no-engine")
    out = _run(env, BIN / "duban", "deploy", "--pool", "duban", "--working-dir", ROOT)
    assert "已注册 open-period（0 8 1 * *，Asia/Shanghai）→ 工作池 duban" in out

    listed = json.loads(_run(env, BIN / "python", "-c", READ_DEPLOYMENTS).strip().splitlines()[-1])
    assert listed == [
        ["chase-submissions", "duban", 1, [["0 9 * * *", "Asia/Shanghai"]]],
        ["dispatch-outbox", "duban", 1, [["*/5 8-17 * * *", "Asia/Shanghai"]]],
        ["escalate-overdue", "duban", 1, [["30 9 * * *", "Asia/Shanghai"]]],
        ["open-period", "duban", 1, [["0 8 1 * *", "Asia/Shanghai"]]],
    ]

    worker = subprocess.Popen(
        [BIN / "prefect", "worker", "start", "--pool", "duban"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out = _run(
            env,
            BIN / "prefect",
            "deployment",
            "run",
            "open-period/open-period",
            "--param",
            "as_of=2022-05-01",
            "--watch",
        )
        assert "Completed" in out
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    view = json.loads(_run(env, BIN / "duban", "period", "show", "2022-05", "--as-of", "2022-05-01", "--json"))
    assert view["opened"] and len(view["submissions"]) == 17  # 12 townships and 5 lead departments
