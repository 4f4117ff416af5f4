"""`duban serve`: every deployment served from one process, against one Prefect server.

With no PREFECT_API_URL it starts that server itself (deployments/local_server.py) and points this
process, and so every flow run it starts, at it. One `duban serve` per DUBAN_HOME: a second would
run every schedule twice. SIGINT and SIGTERM cancel the runs in progress, then stop the server.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cronsim import CronSim

from deployments import local_server
from deployments.dead_runs import HEARTBEAT_ENV
from deployments.schedules import deployed
from duban.config import TZ
from duban.lifetime import SERVE_PID
from duban.plan import Plan

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


class AlreadyServing(Exception):
    """Another `duban serve` holds this DUBAN_HOME; the message says which."""


@dataclass(frozen=True)
class Started:
    api_url: str
    ui_url: str | None  # None when serving against a server duban did not start
    server_log: Path | None
    left_behind: list[str]  # runs a previous serve left unfinished, now marked Crashed


@contextmanager
def only_one(home: Path) -> Iterator[IO[str]]:
    """Hold `serve.lock` in DUBAN_HOME for as long as this serve runs; the kernel frees it if we die."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "serve.lock"
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "未知"
        handle.close()
        raise AlreadyServing(
            f"此 DUBAN_HOME（{home}）已有一个 duban serve 在运行（{holder}），未重复启动；如需重启，请先停止它"
        ) from None
    try:
        yield handle
    finally:
        handle.close()


def next_runs(plan: Plan, now: datetime) -> list[tuple[str, str, datetime]]:
    """Each schedule's next run after `now`, in Beijing time."""
    start = now.astimezone(TZ)
    return [(s.slug, s.cron, next(iter(CronSim(s.cron, start)))) for s in deployed(plan)]


def serve(
    plan: Plan,
    home: Path,
    *,
    host: str,
    port: int,
    announce: Callable[[Started], None],
) -> None:
    """Serve until SIGINT or SIGTERM."""
    with only_one(home) as lock:
        server = None
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            server = local_server.start(home / "prefect", host=host, port=port)
            api_url = server.api_url
            os.environ["PREFECT_API_URL"] = api_url  # read by Prefect below and by every run's process
        try:
            lock.seek(0)
            lock.truncate()
            lock.write(f"进程 {os.getpid()}，Prefect 服务器 {api_url}")
            lock.flush()
            for key, value in HEARTBEAT_ENV.items():
                os.environ.setdefault(key, value)
            os.environ["DUBAN_HOME"] = str(home)  # runs may start in another folder
            os.environ[SERVE_PID] = str(os.getpid())  # each run's process ends with this one
            from deployments.build import build  # Prefect reads PREFECT_API_URL when first imported

            asyncio.run(_run(build(plan), server, announce))
        finally:
            if server is not None:
                server.stop()


async def _run(
    deployments: list[RunnerDeployment], server: local_server.LocalServer | None, announce: Callable[[Started], None]
) -> None:
    """Start the runner, wait for a signal, then cancel the runs in progress and stop polling."""
    from prefect.runner import Runner

    from deployments.dead_runs import crash_unfinished, ensure_automation

    await asyncio.to_thread(ensure_automation)
    left_behind = await crash_unfinished([d.name for d in deployments]) if server else []
    started = Started(os.environ["PREFECT_API_URL"], server and server.ui_url, server and server.log, left_behind)
    runner = Runner(name="duban-serve", pause_on_shutdown=False)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    serving = asyncio.create_task(runner.start())
    while not runner.started and not serving.done():  # start() installs its own SIGTERM handler first
        await asyncio.sleep(0.05)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    announce(started)
    done, _ = await asyncio.wait({serving, asyncio.create_task(stopping.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if serving in done:
        serving.result()  # the runner ended on its own: say why
        return
    await runner.astop()
    await serving
