"""`make bench`: the Office's month at scale, step by step, as the clerk's commands run it.

    .venv/bin/python benchmarks/run.py                                  # 300 and 30,000 (SQLite), 30,000 (PostgreSQL)
    .venv/bin/python benchmarks/run.py --runs 3000:sqlite --steps import,status-today
    .venv/bin/python benchmarks/run.py --scales 300,3000 --backends sqlite,postgresql --json out.json

First a set-up shared by every run, its parts side by side: the PostgreSQL cluster, each scale's
synthetic programme (benchmarks/programme.py, written once per scale whatever the backends) and the
Prefect server for the engine cycle (deployments/local_server.py, as `duban serve` starts it). Then for
each scale and backend: a fresh DUBAN_HOME, the programme filed on 2022-04-08, then each step as its
own `duban` process (`python -m duban.cli ...`), measured with os.wait4 in benchmarks/rusage.py: wall
time, CPU time (user + system) and the process's peak resident memory. A step that passes `--timeout`
is killed and recorded as "timeout" (with what it used until then), so the table always comes out.

The monthly cycle is `duban replay` over June 2022 (the round opens, reminders, escalations, the
monthly bulletin, dispatch each evening), delivering for real to the local SMTP server and WeCom
look-alike of tests/fakes.py: every unit has a mailbox and a bot. On copies of the database taken
after the import: October replayed on a programme never run since April (the catch-up), and June again
through the Prefect flows on the running server (the engine cycle); both only at 30,000 items on
SQLite by default (--catch-up-*, --engine-*: each is minutes, the same work on either backend). The
escalation sweep is timed in one process beside the bare SQL selecting the same rows (benchmarks/sweep.py).

Prints a table and writes JSON. Nothing here asserts a time; it fails only when a result is wrong
(the sweep and the SQL disagree) or a step fails outright. PostgreSQL's own server memory and the
Prefect server's are not in a step's peak (the server's CPU is reported beside the engine cycle).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import programme  # noqa: E402  (benchmarks/, put on the path just above)

DUBAN = [sys.executable, "-m", "duban.cli"]
FILED_ON = "2022-04-08"
# A month of the steady state: May's deadlines (most on the 31st) fall due as it opens, so those items
# turn overdue and climb the ladder through the month, as in a programme run since its start.
# (October, with five months of overdue items never escalated, is the catch-up case: CATCH_UP below.)
CYCLE = ("2022-06-01", "2022-06-30")
CYCLE_PERIOD = "2022-06"
# The catch-up: the same programme filed in April and never run since, replayed through October on a copy
# taken before June's cycle. Five months of overdue items are escalated in the first working mornings.
CATCH_UP = ("2022-10-01", "2022-10-31")
REVISED_ON = "2022-07-01"  # a tenth of the plans revised by a re-import: later changes for a past date
PAST = "2022-06-15"
YEAR_END = "2022-12-31"  # the year's assessment: every month end's overdue items counted from the state of July
DEFAULT_RUNS = "300:sqlite,30000:sqlite,30000:postgresql"
BACKENDS = ("sqlite", "postgresql")

# (step, what it runs, target at 30,000 items on this 2-core machine; shown, never asserted)
STEPS: list[tuple[str, str, str]] = [
    ("startup", "duban --help: Python and duban's imports, in every step below", ""),
    ("init", "duban init (new database, the plan with raised limits)", ""),
    ("import", f"ledger import --as-of {FILED_ON}", "< 30 s"),
    ("reimport", "the same file again (nothing changes)", ""),
    ("status-filed", f"status --json --as-of {FILED_ON} (the day of the import)", "< 1 s"),
    ("cycle", f"replay {CYCLE[0]}..{CYCLE[1]} --no-engine, dispatch to SMTP + WeCom", "< 60 s"),
    ("catch-up", f"replay {CATCH_UP[0]}..{CATCH_UP[1]} --no-engine on a copy never run since April", ""),
    ("revise", f"ledger import --as-of {REVISED_ON}: a tenth of the deadlines moved", ""),
    ("status-today", f"status --json --as-of {REVISED_ON} (the kept state)", "< 1 s"),
    ("status-past", f"status --json --as-of {PAST} (the audit log replayed)", "< 5 s"),
    ("assess-year", f"assess --period 2022 --as-of {YEAR_END} --json (the kept state)", "< 30 s"),
    ("assess-log", f"assess --period 2022 --as-of {YEAR_END} --json --from-log (the audit log replayed)", ""),
    ("bulletin", f"bulletin --period {CYCLE_PERIOD} --as-of {CYCLE[1]} (reprint, from the log)", "< 10 s"),
    ("bulletin-new", f"bulletin --period {CYCLE_PERIOD} --as-of {REVISED_ON} --new-edition", "< 10 s"),
    ("sweep", f"overdue_work on {REVISED_ON} beside the bare SQL, one process", "<= 3x SQL"),
    ("cycle-engine", "the same cycle as flows on a running Prefect server", "<= 1.5x plain"),
]
STEP_NAMES = [name for name, _, _ in STEPS]
ALWAYS = ("startup", "init", "import")  # everything else needs the programme filed


@dataclass
class Step:
    """One measured process: what the table and the JSON show."""

    status: str = "ok"  # ok | timeout | failed | skipped
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_mib: float | None = None
    exit_code: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    items: int
    backend: str
    steps: dict[str, Step] = field(default_factory=dict)
    ratios: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # the traceback, when the runner itself failed on this scale
    took_s: float | None = None  # the run's own wall time: its steps and what lies between them

    @property
    def label(self) -> str:
        return f"{self.items:,} {self.backend}"


# -- measuring one process ------------------------------------------------------------------------


def measure(argv: list[str], env: dict[str, str], folder: Path, name: str, timeout: float) -> tuple[Step, Path]:
    """Run `argv` through benchmarks/rusage.py (os.wait4 in a small process: see why there), killed at `timeout`."""
    out, err, report = folder / f"{name}.out", folder / f"{name}.err", folder / f"{name}.rusage.json"
    wrapper = [sys.executable, "-S", str(ROOT / "benchmarks" / "rusage.py"), str(report), str(timeout), "--"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run([*wrapper, *argv], env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    used = json.loads(report.read_text())
    step = Step(
        wall_s=round(used["wall_s"], 2),
        cpu_s=round(used["cpu_s"], 2),
        peak_mib=round(used["peak_kib"] / 1024, 1),
        exit_code=used["exit_code"],
    )
    if used["timed_out"]:
        step.status, step.note = "timeout", f"killed after {timeout:.0f} s"
    elif step.exit_code != 0:
        step.status = "failed"
        tail = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        step.note = " | ".join(tail)[-300:]
    return step, out


# -- the backends ---------------------------------------------------------------------------------


class Postgres:
    """One throwaway cluster (tests/pgcluster.py, started by `set_up`) for the whole run, a database per scale."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    def create(self, name: str) -> str:
        return self.cluster.create_database(name)

    def copy(self, source: str, name: str) -> str:
        """A copy of a database (CREATE DATABASE ... TEMPLATE): the state before the cycle, kept for the engine."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        finally:
            admin.dispose()
        return self.cluster.url(name)


def _assess_note(measured: Step, out: Path) -> None:
    """The lines and units the year's assessment printed, and a digest to hold the two sources together."""
    import hashlib

    data = out.read_bytes()
    units = json.loads(data)["units"]
    measured.extra = {
        "units": len(units),
        "lines": sum(len(u["lines"]) for u in units),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    measured.note = f"{measured.extra['lines']:,} lines for {len(units)} units"


def counts(url: str) -> dict[str, Any]:
    """What the database holds after a step: outbox rows by status, escalations, bulletins."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            outbox = dict(connection.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
            escalations = connection.execute(text("SELECT count(*) FROM escalation")).scalar_one()
            bulletins = connection.execute(text("SELECT count(*) FROM bulletin")).scalar_one()
            last_day = connection.execute(text("SELECT max(created_on) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    return {"outbox": outbox, "escalations": escalations, "bulletins": bulletins, "last_day": str(last_day)}


# -- the delivery fakes and the Prefect server ----------------------------------------------------


class Channels:
    """The local SMTP server and WeCom look-alike; every unit of the plan gets a mailbox and a bot."""

    def __init__(self, stack: ExitStack) -> None:
        from fakes import SmtpServer, WecomServer

        self.smtp = stack.enter_context(SmtpServer())
        # The look-alike's own 20-a-minute window runs on a fast clock (an hour a second): duban keeps
        # WeCom's limit itself, on the replayed clock; the real clock would only add retries to a replay.
        self.wecom = stack.enter_context(WecomServer(clock=lambda: time.monotonic() * 3600))
        self.env = {
            "DUBAN_DELIVERY": "live",
            "DUBAN_SMTP_URL": f"mailto://127.0.0.1:{self.smtp.port}?from=ptb@xxq.gov.cn&name=区配套办",
            "DUBAN_WECOM_API": self.wecom.url,
        }
        self.contacts: dict[str, list[dict]] = {}

    def plan(self, folder: Path) -> Path:
        """The sample plan with every unit reachable (tests/plans.py), bots' keys in the environment."""
        from duban.plan import load_plan
        from plans import PLAN, plan_with

        sample, _ = load_plan(PLAN)
        leaders = [leader.name for leader in sample.chain.leadership_group.leaders]
        units = [*sample.township_names(), *sample.department_names(), sample.office.name, *leaders]
        for n, unit in enumerate(units):
            variable = f"DUBAN_WECOM_BENCH{n}"
            self.env.setdefault(variable, self.wecom.add_bot())
            self.contacts[unit] = [
                {"type": "email", "to": f"u{n}@xxq.gov.cn"},
                {"type": "wecom", "key_env": variable},
            ]
        return plan_with(folder, self.contacts)

    def delivered(self) -> tuple[int, int]:
        return len(self.smtp.messages), len(self.wecom.delivered)


class PrefectServer:
    """A Prefect server started as `duban serve` starts one, during the set-up when an engine step will run.

    Started from the main thread: the server asks the kernel to end it when its parent dies, and for the
    kernel the parent is the thread that started it."""

    def __init__(self, stack: ExitStack, folder: Path) -> None:
        self.stack, self.folder = stack, folder
        self.server: Any = None
        self.ready_cpu_s = 0.0

    def start(self) -> None:
        from fakes import free_port

        from deployments import local_server

        self.server = local_server.start(self.folder, host="127.0.0.1", port=free_port())
        self.stack.callback(self.server.stop)
        self.ready_cpu_s = self.cpu_s()

    def url(self) -> str:
        return self.server.api_url

    def cpu_s(self) -> float:
        """The server's CPU time so far, with its children's (from /proc)."""
        fields = Path(f"/proc/{self.server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class Programmes:
    """Each scale's synthetic ledger and its revision, written once for the whole run: the same seed
    gives the same file, so 30,000 items on SQLite and on PostgreSQL read one ledger."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[int, tuple[Path, Path]] = {}

    def write(self, scales: list[int]) -> None:
        for items in dict.fromkeys(scales):
            ledger = programme.write_ledger(self.folder / f"ledger-{items}.csv", items)
            self.files[items] = ledger, _revised(ledger, self.folder / f"revised-{items}.csv")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Setup:
    """What every run shares, started before the first step and in parallel: the PostgreSQL cluster
    (initdb, a thread), the ledgers (a thread), the Prefect server (the main thread); seconds each."""

    postgres: Postgres | None
    prefect: PrefectServer
    programmes: Programmes
    took: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def set_up(stack: ExitStack, base: Path, scales: list[int], postgresql: bool, engine: bool) -> Setup:
    """Start what the runs share at once, so their start-ups overlap instead of adding up."""
    started = time.perf_counter()
    setup = Setup(None, PrefectServer(stack, base / "prefect"), Programmes(base / "programmes"))

    def timed(name: str, work: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            begun = time.perf_counter()
            try:
                work()
            except Exception:
                setup.errors[name] = traceback.format_exc()
            setup.took[name] = round(time.perf_counter() - begun, 1)

        return run

    cluster: Any = None
    with ThreadPoolExecutor(max_workers=2) as pool:
        if postgresql:
            from pgcluster import PostgresCluster

            cluster = PostgresCluster()
            stack.callback(cluster.stop)  # stops nothing if it never started
            pool.submit(timed("postgresql", cluster.start))
        pool.submit(timed("ledgers", lambda: setup.programmes.write(scales)))
        if engine:
            timed("prefect-server", setup.prefect.start)()
    if cluster is not None and "postgresql" not in setup.errors:
        setup.postgres = Postgres(cluster)
    setup.took["wall"] = round(time.perf_counter() - started, 1)
    parts = ", ".join(f"{name} {s:.1f} s" for name, s in setup.took.items() if name != "wall")
    print(f"set-up in {setup.took['wall']:.1f} s ({parts})", flush=True)
    for name, error in setup.errors.items():
        print(f"set-up: {name} failed\n{error}", file=sys.stderr, flush=True)
    return setup


# -- one scale on one backend ---------------------------------------------------------------------


def bench(run: Run, base: Path, channels: Channels, setup: Setup, steps: list[str], timeout: float, keep: bool) -> None:
    """Every step of `steps` for one scale and backend, in the order of STEPS."""
    home = base / f"{run.backend}-{run.items}"
    logs = home / "logs"
    logs.mkdir(parents=True)
    (home / "home").mkdir()  # DUBAN_HOME: on PostgreSQL only bulletins and outbox files go there
    if run.backend == "postgresql" and setup.postgres is None:
        raise RuntimeError("the PostgreSQL cluster did not start (see the set-up's error)")
    postgres = setup.postgres if run.backend == "postgresql" else None
    if run.items not in setup.programmes.files:
        raise RuntimeError("the ledger was not written (see the set-up's error)")
    ledger, revised = setup.programmes.files[run.items]
    plan = programme.raise_limits(channels.plan(home), run.items, ledger.stat().st_size)
    print(f"{run.label}: {home}", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUBAN_", "PREFECT_API_URL"))}
    env.update(channels.env, DUBAN_HOME=str(home / "home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    database = f"bench_{run.items}"
    url = postgres.create(database) if postgres else _sqlite(env)
    if postgres:
        env["DUBAN_DATABASE_URL"] = url

    def step(
        name: str,
        *args: str,
        argv: list[str] | None = None,
        environment: dict[str, str] | None = None,
        then: Callable[[Step, Path], None] | None = None,
        after_timeout: bool = False,
    ) -> Step | None:
        """Measure one `duban` command (or `argv`) when it is among `steps`; `then` reads what it printed."""
        if name not in steps:
            return None
        if any(run.steps[n].status != "ok" for n in ("init", "import") if n in run.steps):
            run.steps[name] = Step(status="skipped", note="the programme was not filed")
            return None
        measured, out = measure(argv or [*DUBAN, *args], environment or env, logs, name, timeout)
        run.steps[name] = measured
        finished = out.stat().st_size and measured.status in ("ok", "failed")
        if then is not None and (finished or (after_timeout and measured.status == "timeout")):
            then(measured, out)
        shown = f"{measured.wall_s:8.1f} s" if measured.status in ("ok", "failed") else ""
        flag = "" if measured.status == "ok" else f"{measured.status.upper()} "
        print(f"  {name:<14}{shown}  {flag}{measured.note}".rstrip(), flush=True)
        return measured

    step("startup", "--help")
    step("init", "init", "--plan", str(plan), "--as-of", "2022-04-01")
    for name in ("import", "reimport"):
        step(name, "ledger", "import", str(ledger), "--as-of", FILED_ON, "--no-engine", then=_import_note)
    step("status-filed", "status", "--json", "--as-of", FILED_ON, then=_status_note(run.items))

    filed = run.steps["import"].status == "ok"
    engine_env = _copy(home, "engine", env, postgres, database) if filed and "cycle-engine" in steps else None
    catch_up_env = _copy(home, "catch-up", env, postgres, database) if filed and "catch-up" in steps else None

    replay = ("replay", "--from", CYCLE[0], "--to", CYCLE[1])
    step("cycle", *replay, "--no-engine", then=_cycle_note(channels, url), after_timeout=True)
    if catch_up_env is not None:
        late = ("replay", "--from", CATCH_UP[0], "--to", CATCH_UP[1], "--no-engine")
        catch_up_url = catch_up_env.get("DUBAN_DATABASE_URL") or _sqlite(catch_up_env)
        step("catch-up", *late, environment=catch_up_env, then=_cycle_note(channels, catch_up_url), after_timeout=True)
    step("revise", "ledger", "import", str(revised), "--as-of", REVISED_ON, "--no-engine", then=_import_note)
    step("status-today", "status", "--json", "--as-of", REVISED_ON, then=_status_note(None))
    step("status-past", "status", "--json", "--as-of", PAST, then=_status_note(None))
    year = ("assess", "--period", "2022", "--as-of", YEAR_END, "--json")
    step("assess-year", *year, then=_assess_note)
    step("assess-log", *year, "--from-log", then=_assess_note)
    kept, logged = run.steps.get("assess-year"), run.steps.get("assess-log")
    if kept is not None and logged is not None and kept.extra and logged.extra:
        same = kept.extra["sha256"] == logged.extra["sha256"]
        run.ratios["assessment"] = {"kept_s": kept.wall_s, "log_s": logged.wall_s, "same": same}
        if not same:  # a wrong result: failed, and the steps after it still run
            logged.status, logged.note = "failed", f"{logged.note}: differs from the kept state's"
    step("bulletin", "bulletin", "--period", CYCLE_PERIOD, "--as-of", CYCLE[1], "--no-engine")
    step("bulletin-new", "bulletin", "--period", CYCLE_PERIOD, "--as-of", REVISED_ON, "--no-engine", "--new-edition")
    sweep = step("sweep", argv=[sys.executable, str(ROOT / "benchmarks" / "sweep.py"), REVISED_ON], then=_sweep_note)
    if sweep is not None and sweep.extra:
        run.ratios["sweep"] = sweep.extra

    if engine_env is not None:
        engine(run, step, setup.prefect, engine_env, channels, replay)
    if not keep:  # the logs stay; the databases, the ledger and the status JSON (large at scale) go
        shutil.rmtree(home / "home", ignore_errors=True)
        shutil.rmtree(home / "home-engine", ignore_errors=True)
        shutil.rmtree(home / "home-catch-up", ignore_errors=True)
        for out in logs.glob("status-*.out"):
            out.unlink()


def engine(
    run: Run,
    step: Callable[..., Step | None],
    prefect: PrefectServer,
    env: dict[str, str],
    channels: Channels,
    replay: tuple[str, ...],
) -> None:
    """June again as flows on the running server, on the copy taken before the plain cycle; its ratio."""
    if prefect.server is None:
        run.steps["cycle-engine"] = Step(status="failed", note="the Prefect server did not start (see the set-up)")
        return
    env["PREFECT_API_URL"] = prefect.url()
    before = prefect.cpu_s()
    idle = round(before - prefect.ready_cpu_s, 2)  # what the idle server took while the other steps ran
    engine_url = env.get("DUBAN_DATABASE_URL") or _sqlite(env)
    measured = step(
        "cycle-engine", *replay, "--engine", environment=env, then=_cycle_note(channels, engine_url), after_timeout=True
    )
    plain = run.steps.get("cycle")
    if measured is None:
        return
    measured.extra["server_cpu_s"] = round(prefect.cpu_s() - before, 2)
    measured.extra["server_idle_cpu_s"] = idle
    if measured.status == "ok" and plain is not None and plain.status == "ok" and plain.wall_s:
        run.ratios["engine"] = {
            "plain_s": plain.wall_s,
            "engine_s": measured.wall_s,
            "ratio": round((measured.wall_s or 0) / plain.wall_s, 2),
            "server_cpu_s": measured.extra["server_cpu_s"],
        }


def _copy(home: Path, name: str, env: dict[str, str], postgres: Postgres | None, database: str) -> dict[str, str]:
    """An environment on a copy of the database as filed (before the cycle): the engine's June, the catch-up."""
    copied = dict(env, DUBAN_HOME=str(home / f"home-{name}"))
    shutil.copytree(home / "home", home / f"home-{name}")  # the SQLite file, the outbox folders
    if postgres:
        copied["DUBAN_DATABASE_URL"] = postgres.copy(database, f"{database}_{name.replace('-', '_')}")
    return copied


def _sqlite(env: dict[str, str]) -> str:
    return f"sqlite:///{Path(env['DUBAN_HOME']) / 'duban.db'}"


def _revised(ledger: Path, target: Path) -> Path:
    """The ledger with every tenth plan's deadline moved to the year's end (rows without a code are
    matched to their item by township, community, category, stage and description, as the Office's are)."""
    with ledger.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for n, row in enumerate(rows):
        if row["完成时限"] and n % 10 == 0:
            row["完成时限"] = "2022-12-31"
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def _import_note(measured: Step, out: Path) -> None:
    lines = out.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    measured.note = re.sub(r"^台账导入完成：", "", lines[0]) if lines else ""


def _status_note(expected: int | None) -> Callable[[Step, Path], None]:
    """The status's own figures, as a check that it read the whole ledger."""

    def note(measured: Step, out: Path) -> None:
        data = json.loads(out.read_text(encoding="utf-8"))
        total, overdue = data["items"]["total"], len(data["items"]["overdue"])
        measured.extra = {"total": total, "overdue": overdue, "lights": data["lights"]}
        measured.note = f"{total:,} items, {overdue:,} overdue"
        if expected is not None and total != expected:
            measured.status, measured.note = "failed", f"{measured.note}: expected {expected:,} items"

    return note


def _sweep_note(measured: Step, out: Path) -> None:
    found = json.loads(out.read_text())
    measured.extra = found
    measured.note = f"{found['items']:,} overdue items, same rows: {'yes' if found['same_rows'] else 'NO'}"


def _cycle_note(channels: Channels, url: str) -> Callable[[Step, Path], None]:
    """What the cycle delivered to the two servers, and what the database holds after it."""
    before = channels.delivered()

    def note(measured: Step, _out: Path) -> None:
        emails, calls = (now - then for now, then in zip(channels.delivered(), before, strict=True))
        measured.extra.update(counts(url), emails=emails, wecom_calls=calls)
        outbox = measured.extra["outbox"]
        by_status = ", ".join(f"{k} {v:,}" for k, v in sorted(outbox.items()))
        last = measured.extra["last_day"]
        reached = f"{measured.note}, the last messages queued on {last}; " if measured.note else ""
        measured.note = (
            f"{reached}{emails:,} emails, {calls:,} WeCom calls; outbox {sum(outbox.values()):,} rows ({by_status});"
            f" {measured.extra['escalations']:,} escalations"
        )

    return note


# -- the report -----------------------------------------------------------------------------------


def _cell(step: Step | None) -> str:
    """Wall, CPU, peak; a step killed at the timeout shows ">wall" and what it used until then."""
    if step is None:
        return f"{'':>24}"
    if step.status == "skipped" or step.wall_s is None or step.cpu_s is None or step.peak_mib is None:
        return f"{step.status:>24}"
    wall = f">{step.wall_s:.0f}" if step.status == "timeout" else f"{step.wall_s:.2f}"
    flag = "!" if step.status == "failed" else " "
    return f"{wall:>8}{step.cpu_s:>8.2f}{step.peak_mib:>7.0f}{flag}"


def table(runs: list[Run], steps: list[str]) -> str:
    """step x (scale, backend): wall s, CPU s, peak MiB; the 30,000 targets beside them."""
    lines = [
        f"{'':<14}" + "".join(f"{run.label:>24}" for run in runs) + "   target (30,000)",
        f"{'step':<14}" + f"{'wall s':>8}{'CPU s':>8}{'MiB':>7} " * len(runs),
    ]
    for name, _, target in STEPS:
        if name in steps:
            lines.append(f"{name:<14}" + "".join(_cell(run.steps.get(name)) for run in runs) + f"   {target}")
    lines.append(
        "(>N: killed at the timeout, CPU and MiB until then; ! = failed; MiB = the step's own peak RSS;"
        " 500 MB is the bound at 100,000 items)"
    )
    for run in runs:
        if sweep := run.ratios.get("sweep"):
            lines.append(
                f"{run.label}: escalation sweep {sweep['sweep_s']:.3f} s, bare SQL {sweep['bare_sql_s']:.3f} s"
                f" = {sweep['ratio']}x ({sweep['items']:,} overdue items, same rows: {sweep['same_rows']})"
            )
        if engine := run.ratios.get("engine"):
            lines.append(
                f"{run.label}: cycle as flows {engine['engine_s']:.1f} s, plain {engine['plain_s']:.1f} s"
                f" = {engine['ratio']}x (Prefect server CPU {engine['server_cpu_s']:.1f} s besides)"
            )
    lines.extend(growth(runs, steps))
    return "\n".join(lines)


def growth(runs: list[Run], steps: list[str]) -> list[str]:
    """How each step's wall time grows with the items, between the two largest scales of a backend:
    the exponent k of (time - start-up) ~ items^k; 1 is linear."""
    lines = []
    for backend in BACKENDS:
        mine = sorted((r for r in runs if r.backend == backend), key=lambda r: r.items)
        if len(mine) < 2:
            continue
        small, large = mine[-2], mine[-1]
        parts = []
        for name in steps:
            a, b = small.steps.get(name), large.steps.get(name)
            if name in ALWAYS[:1] or not (a and b and a.status == b.status == "ok"):
                continue
            t_small, t_large = (_net(run, step) for run, step in ((small, a), (large, b)))
            k = math.log(t_large / t_small) / math.log(large.items / small.items)
            parts.append(f"{name} {k:.2f}")
        if parts:
            scales = f"{small.items:,}->{large.items:,}"
            lines.append(f"growth {backend} {scales}, (wall - start-up) ~ items^k: " + ", ".join(parts))
    return lines


def _net(run: Run, step: Step) -> float:
    """A step's wall time less the start-up every process pays (at least 0.05 s)."""
    startup = run.steps.get("startup")
    base = startup.wall_s if startup and startup.status == "ok" and startup.wall_s else 0.0
    return max((step.wall_s or 0.0) - base, 0.05)


# -- the command ----------------------------------------------------------------------------------


def parse_runs(text: str) -> list[tuple[int, str]]:
    """`300:sqlite,30000:postgresql` (a bare number is SQLite)."""
    runs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        items, _, backend = part.partition(":")
        backend = backend or "sqlite"
        if backend not in BACKENDS:
            raise SystemExit(f"unknown backend {backend!r} (sqlite or postgresql)")
        runs.append((int(items.replace("_", "")), backend))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help=f"scale:backend pairs (default {DEFAULT_RUNS})")
    parser.add_argument("--scales", help="items, with --backends: every pair of the two")
    parser.add_argument("--backends", default="sqlite", help="with --scales: sqlite,postgresql")
    parser.add_argument("--steps", help=f"a subset of {','.join(STEP_NAMES)} (startup, init and import always run)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a step is killed")
    parser.add_argument(
        "--engine-from",
        type=int,
        default=1000,
        metavar="ITEMS",
        help="run the engine cycle only from this many items (default 1000: each flow run costs the engine about"
        " a second whatever the scale, so at 300 items it measures Prefect alone, for minutes)",
    )
    parser.add_argument(
        "--engine-backends",
        default="sqlite",
        help="backends the engine cycle runs on (default sqlite: minutes of flow runs, the same on either)",
    )
    parser.add_argument(
        "--catch-up-from",
        type=int,
        default=1000,
        metavar="ITEMS",
        help="run the October catch-up only from this many items (default 1000: at 300 items it measures the"
        " month's fixed costs, as June there does)",
    )
    parser.add_argument(
        "--catch-up-backends",
        default="sqlite",
        help="backends the catch-up runs on (default sqlite: the same escalations and messages on either, and"
        " the longest step of the bench; June compares the two backends)",
    )
    parser.add_argument("--json", type=Path, help="where the JSON goes (default: the run's temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and ledgers")
    args = parser.parse_args()
    if args.scales:
        pairs = [(int(s), b) for s in args.scales.split(",") for b in args.backends.split(",")]
        pairs = parse_runs(",".join(f"{n}:{b}" for n, b in pairs))
    else:
        pairs = parse_runs(args.runs or DEFAULT_RUNS)
    steps = STEP_NAMES if not args.steps else [*ALWAYS, *(s.strip() for s in args.steps.split(","))]
    unknown = set(steps) - set(STEP_NAMES)
    if unknown:
        raise SystemExit(f"unknown steps: {', '.join(sorted(unknown))}")

    def chosen(items: int, backend: str) -> list[str]:
        """The steps of one run: the engine cycle and the catch-up only where they are measured."""
        engine = items >= args.engine_from and backend in args.engine_backends.split(",")
        catch_up = items >= args.catch_up_from and backend in args.catch_up_backends.split(",")
        return [s for s in steps if (s != "cycle-engine" or engine) and (s != "catch-up" or catch_up)]

    started = time.perf_counter()
    load = {"start": os.getloadavg()}
    runs: list[Run] = []
    setup: Setup | None = None
    base = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    target = args.json or base / "results.json"
    os.environ["PREFECT_HOME"] = str(base / "prefect-home")  # the children's Prefect settings, not ~/.prefect
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    try:
        with ExitStack() as stack:
            channels = Channels(stack)
            postgresql = any(b == "postgresql" for _, b in pairs)
            engine = any("cycle-engine" in chosen(*pair) for pair in pairs)
            setup = set_up(stack, base, [items for items, _ in pairs], postgresql, engine)
            for items, backend in pairs:
                run = Run(items, backend)
                runs.append(run)
                begun = time.perf_counter()
                try:
                    bench(run, base, channels, setup, chosen(items, backend), args.timeout, args.keep)
                except Exception:  # the other scales still run, and the table still comes out
                    run.error = traceback.format_exc()
                    print(run.error, file=sys.stderr, flush=True)
                run.took_s = round(time.perf_counter() - begun, 1)
                print(f"{run.label}: {breakdown(run)}", flush=True)
                save(target, runs, setup, args.timeout, time.perf_counter() - started, load)
            if not args.keep:
                setup.programmes.remove()
    except KeyboardInterrupt:
        print("\ninterrupted: the table of what was measured", file=sys.stderr)
    took = time.perf_counter() - started
    load["end"] = os.getloadavg()
    save(target, runs, setup, args.timeout, took, load)
    print()
    print(table(runs, steps))
    if setup is not None:
        print(f"set-up {setup.took.get('wall', 0):.1f} s; " + "; ".join(f"{r.label} {breakdown(r)}" for r in runs))
    print(f"all runs took {took / 60:.1f} min (load average {_load(load)}); JSON: {target}")
    wrong = [f"{run.label} {name}" for run in runs for name, s in run.steps.items() if s.status == "failed"]
    wrong += [f"{run.label} (stopped: {run.error.strip().splitlines()[-1]})" for run in runs if run.error]
    wrong += [f"set-up: {name}" for name in (setup.errors if setup else {})]
    if wrong:
        print(f"failed: {', '.join(wrong)}", file=sys.stderr)
        sys.exit(1)


def breakdown(run: Run) -> str:
    """A run's own wall time: its measured steps, and the rest (plan, database, copies, counts)."""
    measured = sum(step.wall_s or 0.0 for step in run.steps.values())
    return f"{run.took_s or 0:.1f} s, steps {measured:.1f} s, between them {(run.took_s or 0) - measured:.1f} s"


def _load(load: dict[str, Any]) -> str:
    return " -> ".join(f"{values[0]:.1f}" for values in load.values())


def save(target: Path, runs: list[Run], setup: Setup | None, timeout: float, took: float, load: dict) -> None:
    """The JSON, rewritten after each scale so a long run leaves what it measured."""
    errors = setup.errors if setup else {}
    report = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average": {when: [round(v, 2) for v in values] for when, values in load.items()},
        "took_s": round(took, 1),
        "setup_s": dict(setup.took) if setup else {},
        "setup_errors": {name: error.strip().splitlines()[-1] for name, error in errors.items()},
        "timeout_s": timeout,
        "steps": {name: {"runs": what, "target_30000": goal} for name, what, goal in STEPS},
        "runs": [{**asdict(run), "label": run.label} for run in runs],
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
