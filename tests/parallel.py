"""How `make test` shares the suite among the machine's cores: pytest-xdist, as
`pytest -n auto --dist loadgroup --no-loadscope-reorder`.

Each test is a unit of work of its own, except:
- the tests that start whole systems of processes (Prefect servers on PostgreSQL, process workers,
  `duban serve`) form one group, `processes`: they run one after another on one worker, never two at
  once, so their servers, heartbeats and timeouts do not compete with each other, while the rest of the
  suite runs beside them;
- a module with a module-scoped world (a portal and its people, a browser) is one group, so that world is
  built once.
Units go out in the order below: the `processes` group first (it is long and mostly waits), then the
longest modules, then the rest as collected. The workers are the cores plus one, for the worker that
mostly waits on the `processes` group's servers.
"""

from __future__ import annotations

import os

import pytest

PROCESSES = "processes"
SERIAL = ("test_prefect_server.py", "test_serve.py", "test_deployments.py")
# The longest modules after those (minutes on 2 cores), sent out first so none is left for the end.
FIRST = ("test_kept_state.py", "test_portal_pages.py", "test_assessment.py", "test_route_fuzz.py", "test_summary.py")
SHARED_SCOPES = ("module", "class", "package")


def group_of(item: pytest.Item) -> str | None:
    """The group an item runs in, or None when it may run anywhere, alone."""
    module = item.path.name
    if module in SERIAL:
        return PROCESSES
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.values() if fixtures else ()
    if any(defs and defs[-1].scope in SHARED_SCOPES for defs in definitions):
        return module
    return None


def rank(item: pytest.Item) -> int:
    module = item.path.name
    if module in SERIAL:
        return 0
    return 1 + FIRST.index(module) if module in FIRST else 1 + len(FIRST)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which appends the group to each test's id
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    position = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank(item), position[id(item)]))
    for item in items:
        if group := group_of(item):
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: a worker a core, and one more for the `processes` group, which mostly waits
    (PYTEST_XDIST_AUTO_NUM_WORKERS, if set, still decides)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1
