"""Real Prefect servers as separate processes (a fixture plugin) for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakes import free_port
from pgcluster import PostgresCluster
from processes import running

BIN = Path(sys.executable).parent
# Prefect's own pace, quickened for the tests: the scheduler, a worker's and `duban serve`'s runner's
# look for due runs, and a run's wait for its deployment's only slot (10-30 s each by default). duban's
# own timings (heartbeats, the dead-run automation) stay as they are in production.
QUICK = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    "PREFECT_WORKER_QUERY_SECONDS": "2",
    "PREFECT_RUNNER_POLL_FREQUENCY": "2",
    "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "2",
}


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
        **QUICK,
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db.replace("+psycopg", "+asyncpg"),
        "DUBAN_DATABASE_URL": pg_cluster.create_database(f"duban_{port}"),
        "DUBAN_HOME": str(tmp_path / "home"),
    }
    command = [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with running(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, grace=30) as process:
        wait_for_health(env["PREFECT_API_URL"], process=process)
        yield env
