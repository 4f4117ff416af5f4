"""End to end on real parts: a Prefect server on PostgreSQL, a process work pool, a worker, the
deployments registered by `duban deploy`, flow runs that update duban's database, a campaign
started through the CLI (once), and a worker killed in the middle of a run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from conftest import PLAN, ROOT, SAMPLE, sample_rows
from prefect_servers import BIN
from processes import run, running, stop

NAMES = [
    "backup",
    "chase-submissions",
    "dispatch-outbox",
    "escalate-overdue",
    "follow-campaigns",
    "follow-projects",
    "monthly-bulletin",
    "open-period",
    "supervision-campaign",
]
READ_DEPLOYMENTS = f"""
import asyncio, json
from prefect import get_client

async def main():
    async with get_client() as client:
        found = [await client.read_deployment_by_name(f"{{n}}/{{n}}") for n in {NAMES!r}]
    print(json.dumps([[d.name, d.work_pool_name, d.global_concurrency_limit and d.global_concurrency_limit.limit,
                       [[s.schedule.cron, s.schedule.timezone] for s in d.schedules],
                       sorted(d.parameter_openapi_schema["properties"])] for d in found]))

asyncio.run(main())
"""


def _run(env: dict[str, str], *args: object) -> str:
    result = run(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_deployments_on_a_prefect_server_with_a_worker(server: dict[str, str]) -> None:
    env = server
    _run(env, BIN / "prefect", "work-pool", "create", "duban", "--type", "process")
    _run(env, BIN / "duban", "init", "--plan", PLAN, "--as-of", "2022-04-01")
    _run(env, BIN / "duban", "ledger", "import", SAMPLE, "--as-of", "2022-04-08", "--no-engine")
    out = _run(env, BIN / "duban", "deploy", "--pool", "duban", "--working-dir", ROOT)
    assert "已注册 open-period（0 8 1 * *，Asia/Shanghai）→ 工作池 duban" in out
    assert "已注册 supervision-campaign（按需发起）→ 工作池 duban" in out
    assert "已设置自动处理：90秒无心跳的运行（所在机器已停止）标记为 Crashed，释放其并发名额" in out

    listed = json.loads(_run(env, BIN / "python", "-c", READ_DEPLOYMENTS).strip().splitlines()[-1])
    assert listed == LISTING
    prefect_db = env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_query(prefect_db, SCHEDULED)) < len(LISTING) - 1:
        time.sleep(1)
    scheduled = dict(_query(prefect_db, SCHEDULED))  # the server's scheduler made the coming runs
    assert sorted(scheduled) == sorted(name for name, *_ in LISTING if name != "supervision-campaign")
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime.now(shanghai)
    first = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, 8, 0, tzinfo=shanghai)
    assert scheduled["open-period"] == first.astimezone(UTC).replace(tzinfo=None)

    with _worker(env):
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
        first = _run(env, BIN / "duban", *START_KINDERGARTENS)
        second = _run(env, BIN / "duban", *START_KINDERGARTENS)
    view = json.loads(_run(env, BIN / "duban", "period", "show", "2022-05", "--as-of", "2022-05-01", "--json"))
    assert view["opened"] and len(view["submissions"]) == 17  # 12 townships and 5 lead departments
    kindergartens = {r["问题编号"]: r["责任单位"] or r["镇办"] for r in sample_rows() if r["设施类型"] == "幼儿园"}
    units = len(set(kindergartens.values()))
    assert f"已发起专项督导第1号“城镇居住区幼儿园专项督导”：{len(kindergartens)}项问题，{units}个责任单位" in first
    assert "该专项督导此前已发起，未重复发起" in second
    assert _query(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"], FLOW_RUNS_OF, "supervision-campaign") == [(1,)]
    duban_db = env["DUBAN_DATABASE_URL"]
    assert _query(duban_db, "select count(*) from campaign") == [(1,)]
    assert _query(duban_db, "select count(*) from campaign_item") == [(len(kindergartens),)]
    requests = _query(duban_db, REQUESTS)
    assert len(requests) == units and {n for _, n in requests} == {1}


def test_a_worker_killed_mid_run_and_the_rerun(server: dict[str, str], tmp_path: Path) -> None:
    """The worker machine dies while the campaign's run is telling the units (held up, for the test, by
    a lock on the outbox); the next follow-campaigns run finishes the work, and nothing is doubled."""
    env = server
    duban_db, prefect_db = env["DUBAN_DATABASE_URL"], env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    _run(env, BIN / "prefect", "work-pool", "create", "duban", "--type", "process")
    _run(env, BIN / "duban", "init", "--plan", PLAN, "--as-of", "2022-04-01")
    _run(env, BIN / "duban", "ledger", "import", SAMPLE, "--as-of", "2022-04-08", "--no-engine")
    # This time through the prefect.yaml written from the plan, as `prefect deploy --all` reads it.
    _run(env, BIN / "duban", "deploy", "--pool", "duban", "--working-dir", ROOT, "--write", tmp_path / "prefect.yaml")
    _run(env, BIN / "prefect", "--no-prompt", "deploy", "--all", "--prefect-file", tmp_path / "prefect.yaml")
    assert "已设置自动处理：90秒无心跳的运行" in _run(env, BIN / "duban", "deploy", "--dead-runs-only")
    # A run whose process died between starting and its first heartbeat: Running, and then silence.
    silent = _run(env, BIN / "python", "-c", STARTED_THEN_SILENT, "monthly-bulletin/monthly-bulletin").split()[-1]
    not_ours = _run(env, BIN / "python", "-c", STARTED_THEN_SILENT, "-").split()[-1]  # another team's flow
    assert json.loads(_run(env, BIN / "python", "-c", READ_DEPLOYMENTS).strip().splitlines()[-1]) == LISTING
    kindergartens = {r["问题编号"]: r["责任单位"] or r["镇办"] for r in sample_rows() if r["设施类型"] == "幼儿园"}
    units = len(set(kindergartens.values()))

    lock = psycopg.connect(_libpq(duban_db), autocommit=False)
    lock.execute("lock table outbox in share row exclusive mode")  # reads pass, inserts wait
    with _worker(env) as worker:
        start = run(
            [BIN / "duban", *START_KINDERGARTENS, "--wait", "5"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        assert start.returncode == 2 and "秒内尚未完成" in start.stdout
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _query(duban_db, WAITING_ON_LOCK) == [(0,)]:
            time.sleep(0.5)
        assert _query(duban_db, WAITING_ON_LOCK) == [(1,)], "the flow run never reached the outbox"
        assert _query(duban_db, "select count(*) from campaign_item") == [(len(kindergartens),)]
        stop(worker, signal.SIGKILL)  # the worker and the flow run it started: the machine is gone
    lock.rollback()
    lock.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _query(duban_db, STILL_WORKING) != [(0,)]:
        time.sleep(0.5)
    assert _query(duban_db, "select count(*) from outbox") == [(0,)]  # its transaction died with it

    follow = ("deployment", "run", "follow-campaigns/follow-campaigns", "--param", "as_of=2022-04-12", "--watch")
    with _worker(env):
        assert "Completed" in _run(env, BIN / "prefect", *follow)
        assert "Completed" in _run(env, BIN / "prefect", *follow)  # and once more: nothing doubles
    # Nobody touches the dead run: it stopped sending heartbeats, so the server marks it Crashed, which
    # frees the deployment's only slot long before its 300 s lease would run out; the Office starts the
    # campaign again: a new run, the same campaign.
    [(dead,)] = _query(prefect_db, RUNS_OF, "supervision-campaign")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and _query(prefect_db, STATE_OF, dead) != [("CRASHED",)]:
        time.sleep(2)
    assert _query(prefect_db, STATE_OF, dead) == [("CRASHED",)]
    assert _query(prefect_db, STATE_OF, silent) == [("CRASHED",)]
    assert _query(prefect_db, STATE_OF, not_ours) == [("RUNNING",)]
    with _worker(env):
        again = _run(env, BIN / "duban", *START_KINDERGARTENS, "--wait", "120")
    assert "该专项督导此前已发起，未重复发起" in again
    assert _query(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"], FLOW_RUNS_OF, "supervision-campaign") == [(2,)]
    assert _query(duban_db, "select count(*) from campaign") == [(1,)]
    assert _query(duban_db, "select count(*) from campaign_item") == [(len(kindergartens),)]
    requests = _query(duban_db, REQUESTS)
    assert len(requests) == units and {n for _, n in requests} == {1}
    assert _query(
        duban_db, "select recipient, count(*) from outbox where kind = 'campaign_supervise' group by recipient"
    ) == [("教体局", 1)]


LISTING = [  # name, work pool, concurrency limit, schedules (cron, timezone), parameters
    ["backup", "duban", 1, [["0 2 * * *", "Asia/Shanghai"]], []],
    ["chase-submissions", "duban", 1, [["0 9 * * *", "Asia/Shanghai"]], ["as_of"]],
    ["dispatch-outbox", "duban", 1, [["*/5 8-17 * * *", "Asia/Shanghai"]], ["at", "limit"]],
    ["escalate-overdue", "duban", 1, [["30 9 * * *", "Asia/Shanghai"]], ["as_of"]],
    ["follow-campaigns", "duban", 1, [["45 9 * * *", "Asia/Shanghai"]], ["as_of"]],
    ["follow-projects", "duban", 1, [["50 9 * * *", "Asia/Shanghai"]], ["as_of"]],
    ["monthly-bulletin", "duban", 1, [["0 10 * * *", "Asia/Shanghai"]], ["as_of"]],
    ["open-period", "duban", 1, [["0 8 1 * *", "Asia/Shanghai"]], ["as_of"]],
    [
        "supervision-campaign",
        "duban",
        1,
        [],
        sorted(
            [
                "title",
                "due",
                "as_of",
                "categories",
                "facility_types",
                "townships",
                "departments",
                "stages",
                "overdue_only",
                "key_only",
                "started_by",
            ]
        ),
    ],
]
START_KINDERGARTENS = (
    "campaign",
    "start",
    "--title",
    "城镇居住区幼儿园专项督导",
    "--facility",
    "幼儿园",
    "--due",
    "2022-04-15",
    "--as-of",
    "2022-04-11",
)
SCHEDULED = (  # each deployment's earliest scheduled run (UTC)
    "select d.name, min(r.expected_start_time at time zone 'UTC') from flow_run r "
    "join deployment d on d.id = r.deployment_id where r.state_type = 'SCHEDULED' group by d.name"
)
RUNS_OF = "select r.id::text from flow_run r join deployment d on d.id = r.deployment_id where d.name = %s"
STATE_OF = "select state_type::text from flow_run where id = %s"
STARTED_THEN_SILENT = """
import asyncio, sys
from prefect import flow, get_client
from prefect.states import Running

@flow(name="another-teams-flow")
def another_team():
    pass

async def main():
    async with get_client() as client:
        if sys.argv[1] == "-":
            run = await client.create_flow_run(another_team, tags=["another-team"])
        else:
            deployment = await client.read_deployment_by_name(sys.argv[1])
            run = await client.create_flow_run_from_deployment(deployment.id)
        await client.set_flow_run_state(run.id, Running(), force=True)
        print(run.id)

asyncio.run(main())
"""
FLOW_RUNS_OF = "select count(*) from flow_run r join deployment d on d.id = r.deployment_id where d.name = %s"
REQUESTS = "select recipient, count(*) from outbox where kind = 'campaign_request' group by recipient order by 1"
STILL_WORKING = (  # the killed run's backend, until it finds its client gone and ends
    "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
    "and state <> 'idle'"
)
WAITING_ON_LOCK = (
    "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
    "and wait_event_type = 'Lock'"
)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgresql+asyncpg://", "postgresql://")


def _query(url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        return [tuple(row) for row in connection.execute(sql, params or None).fetchall()]


def _worker(env: dict[str, str]) -> AbstractContextManager[subprocess.Popen]:
    """A process worker for the block, stopped as its machine's service manager would (SIGTERM, then SIGKILL)."""
    command = [BIN / "prefect", "worker", "start", "--pool", "duban"]
    return running(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
