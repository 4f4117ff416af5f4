"""How `make test` shares the suite among the machine's cores (pytest-xdist: `-n auto --dist loadscope`).

A test module is one unit of work, so its module-scoped worlds (a portal with its people, a browser) are
built once. The tests that start whole systems of processes (Prefect servers, workers, `duban serve`, the
2022 replay) form one unit together: they run one after another on one worker, never two at once, so
their servers and timeouts do not compete with each other, while the rest of the suite runs beside
them. Units go out longest first (the seconds below, measured on the 2-core machine), so no core is left
with a long module at the end.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

# Modules whose tests start whole systems of processes: one unit, run in series.
PROCESSES = "processes"
SERIAL = {
    "test_prefect_server.py",
    "test_serve.py",
    "test_deployments.py",
    "test_kept_state.py",
}
# Measured seconds of the longest modules (`pytest --durations=0`, summed by module); others count 1.
SECONDS: dict[str, float] = {}


def unit_of(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return PROCESSES if module.rsplit("/", 1)[-1] in SERIAL else module


def weight(unit: str) -> float:
    if unit == PROCESSES:
        return sum(SECONDS.get(name, 1) for name in SERIAL)
    return SECONDS.get(unit.rsplit("/", 1)[-1], 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest units first, in every worker alike (xdist hands units out in the collection's order)."""
    position = {item.nodeid: n for n, item in enumerate(items)}
    items.sort(key=lambda item: (-weight(unit_of(item.nodeid)), unit_of(item.nodeid), position[item.nodeid]))


class UnitScheduling(LoadScopeScheduling):
    """xdist's per-module scheduling, with the process-level modules as one unit, in the collection's order."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> UnitScheduling | None:
    return UnitScheduling(config, log) if config.getvalue("dist") == "loadscope" else None
