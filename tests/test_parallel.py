"""The suite's units of work (tests/parallel.py) hold what they promise: a split module has no world that its
tests share, the names listed are real modules, and the units and their order are as documented."""

from __future__ import annotations

from pathlib import Path

import parallel
import pytest

TESTS = Path(__file__).parent
SHARED = ("module", "class", "package")


def test_every_module_named_exists() -> None:
    for name in (*parallel.SERIAL, *parallel.SPLIT, *parallel.FIRST):
        assert (TESTS / name).is_file(), name


def test_units() -> None:
    assert parallel.unit_of("tests/test_serve.py::test_a") == "processes"
    assert parallel.unit_of("tests/test_prefect_server.py::test_b[x]") == "processes"
    assert parallel.unit_of("tests/test_kept_state.py::test_c") == "tests/test_kept_state.py::test_c"
    assert parallel.unit_of("tests/test_portal_pages.py::test_d[pt-staff-phone]") == "tests/test_portal_pages.py"


def test_a_split_module_shares_no_world_among_its_tests(request: pytest.FixtureRequest) -> None:
    """Over the modules collected with this test (the whole suite under `make test`): a test of a split
    module may run on any worker, so none may use a fixture kept for its module."""
    collected = [item for item in request.session.items if item.path.name in parallel.SPLIT]
    for path in {TESTS / name for name in parallel.SPLIT}:  # and every split module, collected or not
        module = pytest.Module.from_parent(request.session, path=path)
        collected += [item for item in module.collect() if isinstance(item, pytest.Item)]
    shared = {
        f"{item.nodeid}: {name}"
        for item in collected
        for name, definitions in item._fixtureinfo.name2fixturedefs.items()
        if definitions and definitions[-1].scope in SHARED
    }
    assert collected and shared == set()


def test_the_processes_unit_goes_out_first_then_the_longest() -> None:
    class Item:
        def __init__(self, name: str) -> None:
            self.path = TESTS / name

    names = ["test_plan.py", "test_portal_pages.py", "test_serve.py", "test_kept_state.py", "test_init.py"]
    items = [Item(n) for n in names]
    parallel.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.path.name for i in items] == [
        "test_serve.py",
        "test_kept_state.py",
        "test_portal_pages.py",
        "test_plan.py",
        "test_init.py",
    ]
