"""How `make test` shares the suite among the machine's cores: pytest-xdist, as
`pytest -n auto --dist loadscope --no-loadscope-reorder`, with the units of work decided here.

- A test module is one unit, so a module-scoped world (a portal and its people, a browser) is built once.
- The tests that start whole systems of processes (Prefect servers on PostgreSQL, process workers,
  `duban serve`) are one unit together, `processes`: they run one after another on one worker, never two
  at once, so their servers, heartbeats and timeouts do not compete, while the rest runs beside them.
- The tests that run flows on the worker's temporary Prefect server are one unit, `engine`, so that
  server starts on one worker only.
- The long modules without a module-scoped world are split: each of their tests is a unit of its own.
  `tests/test_parallel.py` holds them to that, and every test on the temporary server to `engine`.
Units go out in the order the workers collected them, which is sorted here: the `processes` unit first (it
is long and mostly waits), then `engine`, then the longest modules, then the rest. `-n auto` is a worker a core and one
more, for the worker that mostly waits on the `processes` unit's servers.

(xdist's own `--dist loadgroup` marks cannot do this with pytest 9: it renames `item._nodeid`, which
pytest 9 no longer reads, so every marked test went out alone.)
"""

from __future__ import annotations

import os

import pytest
from xdist.scheduler import LoadScopeScheduling

PROCESSES = "processes"
SERIAL = ("test_prefect_server.py", "test_serve.py", "test_deployments.py")
# The tests that run flows on the worker's temporary Prefect server (the `prefect_server` fixture): one unit,
# so one worker starts that server (13 s) rather than every worker.
ENGINE = "engine"
ON_THE_ENGINE = (
    "test_campaigns.py",
    "test_flow_import.py",
    "test_flow_reporting.py",
    "test_backup.py::test_the_backup_flow_keeps_n_copies_here_and_in_the_second_place",
    "test_delivery_faults.py::test_an_undeliverable_report_fails_the_run_writes_a_file_and_warns",
)
SPLIT = (
    "test_kept_state.py",
    "test_assessment.py",
    "test_summary.py",
    "test_hostile_text.py",
    "test_wecom_app.py",
    "test_bulletin.py",
    "test_notifications.py",
    "test_report_forms.py",
    "test_delivery_faults.py",
    "test_ledger_import.py",
    "test_audit_chain.py",
    "test_backup.py",
)
# The longest modules after the `processes` unit (minutes on 2 cores), sent out first.
FIRST = ("test_kept_state.py", "test_portal_pages.py", "test_route_fuzz.py", "test_assessment.py")


def unit_of(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    name = module.rsplit("/", 1)[-1]
    if name in SERIAL:
        return PROCESSES
    if name in ON_THE_ENGINE or nodeid.rsplit("/", 1)[-1].split("[", 1)[0] in ON_THE_ENGINE:
        return ENGINE
    return nodeid if name in SPLIT else module


def rank(item: pytest.Item) -> int:
    unit = unit_of(item.nodeid)
    if unit in (PROCESSES, ENGINE):
        return 0 if unit == PROCESSES else 1
    module = item.path.name
    return 2 + FIRST.index(module) if module in FIRST else 2 + len(FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order units go out in, alike in every worker."""
    position = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank(item), position[id(item)]))


class UnitScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with the units above."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> UnitScheduling | None:
    return UnitScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: a worker a core, and one more for the `processes` unit, which mostly waits
    (PYTEST_XDIST_AUTO_NUM_WORKERS, if set, still decides)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1
