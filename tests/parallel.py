"""How `make test` shares the suite among the machine's cores: pytest-xdist, as
`pytest -n auto --dist loadscope --no-loadscope-reorder`, with the units of work decided here.

- A test module is one unit, so a module-scoped world (a portal and its people, a browser) is built once.
- The tests that start whole systems of processes (Prefect servers on PostgreSQL, process workers,
  `duban serve`) are one unit together, `processes`: they run one after another on one worker, never two
  at once, so their servers, heartbeats and timeouts do not compete, while the rest runs beside them.
- The long modules without a module-scoped world are split: each of their tests is a unit of its own.
  `tests/test_parallel.py` holds them to that.
Units go out in the order the workers collected them, which is sorted here: the `processes` unit first (it
is long and mostly waits), then the longest modules, then the rest. `-n auto` is a worker a core and one
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
SPLIT = (
    "test_kept_state.py",
    "test_hostile_text.py",
    "test_wecom_app.py",
    "test_bulletin.py",
    "test_notifications.py",
    "test_delivery_faults.py",
    "test_ledger_import.py",
    "test_audit_chain.py",
    "test_backup.py",
)
# The longest modules after the `processes` unit (minutes on 2 cores), sent out first; then the modules whose
# tests share a world kept once a worker (conftest.KeptHomes), whole, so that world is built once.
FIRST = (
    "test_kept_state.py",
    "test_portal_pages.py",
    "test_route_fuzz.py",
    "test_summary.py",
    "test_assessment.py",
    "test_assessment_kept.py",
    "test_report_forms.py",
)


def unit_of(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    name = module.rsplit("/", 1)[-1]
    if name in SERIAL:
        return PROCESSES
    return nodeid if name in SPLIT else module


def rank(item: pytest.Item) -> int:
    module = item.path.name
    if module in SERIAL:
        return 0
    return 1 + FIRST.index(module) if module in FIRST else 1 + len(FIRST)


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
