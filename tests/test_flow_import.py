"""The ledger import as a Prefect flow: three coarse tasks, all or nothing, on a real Prefect server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import SAMPLE, Cli, db_digest
from test_ledger_import import BAD_FILES


def _task_names(flow_run_id) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=100,
        )
    return sorted(run.name.rsplit("-", 1)[0] for run in runs)


def test_import_flow(prefect_server: None, initialised: Cli, home: Path, tmp_path: Path) -> None:
    from flows.import_ledger import import_ledger

    state = import_ledger(str(SAMPLE), as_of=date(2022, 4, 8), return_state=True)
    result = state.result()
    assert len(result["created"]) == 66 and result["unchanged"] == []
    assert _task_names(state.state_details.flow_run_id) == ["read-ledger", "validate-ledger", "write-ledger"]

    before = db_digest(home)
    again = import_ledger(str(SAMPLE), as_of=date(2022, 4, 8))
    assert len(again["unchanged"]) == 66 and db_digest(home) == before

    build, expected = BAD_FILES["three bad rows, all reported"]
    failed = import_ledger(str(build(tmp_path / "bad")), as_of=date(2022, 5, 6), return_state=True)
    assert failed.is_failed()
    with pytest.raises(Exception) as caught:
        failed.result()
    assert all(fragment in str(caught.value) for fragment in expected)
    assert db_digest(home) == before


def test_cli_runs_the_flow_when_asked(prefect_server: None, initialised: Cli) -> None:
    result = initialised("ledger", "import", SAMPLE, "--as-of", "2022-04-08", "--engine")
    assert "台账导入完成（Prefect 流程）：新增 66 项" in result.output
