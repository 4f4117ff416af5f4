"""Shared fixtures: a fresh DUBAN_HOME per test, the CLI run in-process, a real PostgreSQL."""

from __future__ import annotations

import csv
import gc
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pgcluster import PostgresCluster, find_pg_bin
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from duban.cli import main

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "plans" / "community-facilities-2022.yaml"
SAMPLE = ROOT / "samples" / "ledger-2022.csv"
EVIDENCE = ROOT / "samples" / "evidence" / "整改完成情况说明.txt"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
pytest_plugins = ["fakes", "parallel", "processes", "prefect_servers", "wecom_app_fake"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection loaded (the libraries, the app, the tests) is set aside from the cyclic collector, and
    the collector runs a pass every 100,000 allocations rather than every 700: its passes over the worker's
    heap found little to free and cost about a tenth of the CPU (as in the 2022 replay, scripts/replay_2022.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("DUBAN_HOME", str(path))
    monkeypatch.delenv("DUBAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return path


class Cli:
    """Runs `duban ...` in-process and checks the exit status."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: object, status: int = 0) -> Result:
        result = self.runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == status, f"exit {result.exit_code}\n{result.output}"
        return result


@pytest.fixture
def cli(home: Path) -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def initialised_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`duban init` of the sample plan, once a worker: its database file, copied by `initialised`."""
    home = tmp_path_factory.mktemp("initialised") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUBAN_HOME", str(home))
        patch.delenv("DUBAN_DATABASE_URL", raising=False)
        Cli()("init", "--plan", PLAN, "--as-of", "2022-04-01")
    assert sorted(p.name for p in home.iterdir()) == ["duban.db"]  # all that init writes
    return home / "duban.db"


@pytest.fixture
def initialised(cli: Cli, home: Path, initialised_file: Path) -> Cli:
    """The sample plan initialised: a copy of the worker's `duban init` on SQLite (the same file the
    command writes), the command itself on PostgreSQL."""
    if os.environ.get("DUBAN_DATABASE_URL"):
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    else:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(initialised_file, home / "duban.db")
    return cli


class KeptHomes:
    """Homes built once a worker and copied for each test that asks for them: a fixture whose steps take
    seconds (a month of ticks, forms, reviews) runs them once, and every test still changes a home of its own.
    On PostgreSQL (DUBAN_DATABASE_URL) the steps run each time: the database is not in the home."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def restore(self, name: str, home: Path, build: Callable[[], object]) -> None:
        """`home` as `build` leaves it, from the copy kept under `name`, or built and kept now."""
        kept = self.root / name
        if os.environ.get("DUBAN_DATABASE_URL"):
            build()
        elif kept.is_dir():
            shutil.rmtree(home)
            shutil.copytree(kept, home)
        else:
            build()
            shutil.copytree(home, kept)


@pytest.fixture(scope="session")
def kept_homes(tmp_path_factory: pytest.TempPathFactory) -> KeptHomes:
    return KeptHomes(tmp_path_factory.mktemp("kept-homes"))


@pytest.fixture
def imported(initialised: Cli) -> Cli:
    initialised("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    return initialised


def db_digest(home: Path) -> str:
    return hashlib.sha256((home / "duban.db").read_bytes()).hexdigest()


def sample_rows() -> list[dict[str, str]]:
    """The sample ledger as plain dicts, read with the csv module (independently of duban)."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    if find_pg_bin() is None:
        pytest.fail("PostgreSQL is not installed: run `make install` (scripts/install-system-packages)")
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch, home: Path) -> str:
    url = pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server for the session (it costs 10-17 s to start)."""
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="duban-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_SERVER_LOGGING_LEVEL"] = "CRITICAL"
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(), temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


# -- a real browser (Debian's Chromium through Playwright) for the portal's page tests -----------------

CHROMIUM = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def people(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Every browser context a test opens (one a person and a device), closed at the end; no page
    may have thrown a script error (the portal has no script, so nothing should ever run)."""
    opened: list[BrowserContext] = []
    yield opened
    errors = [e for c in opened for e in getattr(c, "page_errors", [])]
    for context in opened:
        context.close()
    assert errors == []
