"""The suite's units of work (tests/parallel.py) hold what they promise: a split module has no world that its
tests share, the names listed are real modules, and the units and their order are as documented."""

from __future__ import annotations

from pathlib import Path

import parallel
import pytest

TESTS = Path(__file__).parent
SHARED = ("module", "class", "package")


def test_every_module_named_exists() -> None:
    for name in (*parallel.SERIAL, *parallel.SPLIT, *parallel.FIRST, *parallel.ON_THE_ENGINE):
        assert (TESTS / name.split("::")[0]).is_file(), name


def _collected(request: pytest.FixtureRequest, names: set[str]) -> list[pytest.Item]:
    """The items of these modules as the session collected them (the whole suite under `make test`), and
    those of the modules it did not collect, collected here (their fixtures from conftest.py unresolved)."""
    found = [item for item in request.session.items if item.path.name in names]
    for name in sorted(names - {item.path.name for item in found}):
        module = pytest.Module.from_parent(request.session, path=TESTS / name)
        found += [item for item in module.collect() if isinstance(item, pytest.Item)]
    return found


def test_every_test_on_the_temporary_prefect_server_is_in_the_engine_unit(request: pytest.FixtureRequest) -> None:
    using = sorted(
        item.nodeid
        for item in _collected(request, {p.name for p in TESTS.glob("test_*.py")} - set(parallel.SERIAL))
        if "prefect_server" in item._fixtureinfo.names_closure
    )
    assert len(using) >= 8
    assert [n for n in using if parallel.unit_of(n) != parallel.ENGINE] == []


def test_units() -> None:
    assert parallel.unit_of("tests/test_serve.py::test_a") == "processes"
    assert parallel.unit_of("tests/test_prefect_server.py::test_b[x]") == "processes"
    assert parallel.unit_of("tests/test_kept_state.py::test_c") == "tests/test_kept_state.py::test_c"
    assert parallel.unit_of("tests/test_portal_pages.py::test_d[pt-staff-phone]") == "tests/test_portal_pages.py"
    assert parallel.unit_of("tests/test_flow_reporting.py::test_e") == "engine"
    backup_flow = "tests/test_backup.py::test_the_backup_flow_keeps_n_copies_here_and_in_the_second_place"
    assert parallel.unit_of(backup_flow) == "engine"
    assert parallel.unit_of("tests/test_backup.py::test_f") == "tests/test_backup.py::test_f"


def test_a_split_module_shares_no_world_among_its_tests(request: pytest.FixtureRequest) -> None:
    """A test of a split module may run on any worker, so none may use a fixture kept for its module."""
    collected = _collected(request, set(parallel.SPLIT))
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
            self.nodeid = f"tests/{name}::test_x"

    names = ["test_plan.py", "test_portal_pages.py", "test_serve.py", "test_kept_state.py", "test_flow_import.py"]
    items = [Item(n) for n in names]
    parallel.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.path.name for i in items] == [
        "test_serve.py",
        "test_flow_import.py",
        "test_kept_state.py",
        "test_portal_pages.py",
        "test_plan.py",
    ]
