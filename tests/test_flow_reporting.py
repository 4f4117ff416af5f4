"""The round's flows on a real Prefect server: coarse tasks, a table artifact, safe to run again."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date
from pathlib import Path

from conftest import Cli, db_digest
from reporting_helpers import load_small_ledger
from sqlmodel import select

from duban.db import session_scope
from models import Escalation, Submission


def read_artifact(key: str) -> list[dict]:
    import asyncio

    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, TaskRunFilter
    from prefect.client.schemas.sorting import ArtifactSort

    # Every field is given: the server (with fastapi 0.154) answers 422 to the nulls the client sends.
    async def read() -> list:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=5,
                offset=0,
            )

    found = asyncio.run(read())
    for _ in range(50):  # the server may record it a moment after the flow returns
        if found:
            break
        time.sleep(0.2)
        found = asyncio.run(read())
    assert found, f"no artifact {key}"
    data = found[0].data
    return json.loads(data) if isinstance(data, str) and data.startswith("[") else data


def test_tick_flow_runs_the_days_flows_once(prefect_server: None, initialised: Cli, home: Path, tmp_path: Path) -> None:
    from flows.reporting import tick

    load_small_ledger(initialised, tmp_path)
    every_day = [
        "chase-submissions",
        "escalate-overdue",
        "follow-campaigns",
        "follow-projects",
        "monthly-bulletin",
        "dispatch-outbox",
    ]
    assert tick(date(2022, 10, 1)) == ["open-period", *every_day]
    assert tick(date(2022, 10, 8)) == every_day
    with session_scope() as session:
        assert sorted(s.unit for s in session.exec(select(Submission))) == ["教体局", "民政局", "河东镇", "河西镇"]
        causes = Counter(e.cause for e in session.exec(select(Escalation)))
    # the ledger's 3 (two items and a milestone overdue); and the plan's 19 documents due by 10-08 and never
    # issued here (17 working groups due 04-30, the two joint-review mechanisms due 06-30), each raised once
    # on the overdue_item ladder
    assert causes == {"overdue_item": 2, "overdue_milestone": 1, "overdue_deliverable": 19}
    rows = read_artifact("round-2022-10")
    assert [r["单位"] for r in rows[:4]] == ["河东镇", "河西镇", "教体局", "民政局"]
    assert rows[0]["截止"] == "2022-10-08" and rows[0]["状态"] == "待报送"
    # then the open escalations counted by unit, cause and level (not one row per item): the ledger's three
    # (the artifact is made after escalate-overdue, before follow-projects escalates the documents)
    counted = {(r["单位"], r["状态"]): r["报送日期"] for r in rows[4:]}
    assert counted[("河东镇", "问题逾期·挂牌督办")] == "1项"  # A-2, a key item: level 2 at once
    assert counted[("河西镇", "问题逾期·督办")] == "1项"
    assert counted[("河西镇", "时间节点逾期·挂牌督办")] == "1项"  # A-4's milestone
    assert len(counted) == 3
    before = db_digest(home)
    tick(date(2022, 10, 1))
    tick(date(2022, 10, 8))
    assert db_digest(home) == before


def test_cli_tick_through_the_engine(prefect_server: None, initialised: Cli, tmp_path: Path) -> None:
    load_small_ledger(initialised, tmp_path)
    result = initialised("tick", "--as-of", "2022-10-01", "--engine")
    assert result.output.strip() == (
        "2022-10-01：open-period；chase-submissions；escalate-overdue；follow-campaigns；follow-projects；monthly-bulletin；dispatch-outbox"
    )


def test_cli_replay_through_the_engine_is_one_flow_run(prefect_server: None, initialised: Cli, tmp_path: Path) -> None:
    """The days of a replay run inside one `replay` flow run, each as `tick` runs it."""
    import asyncio

    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    async def runs(name: str) -> int:
        async with get_client() as client:
            found = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])), limit=200)
            return len(found)

    def counted() -> tuple[int, int]:
        return asyncio.run(runs("replay")), asyncio.run(runs("tick"))

    load_small_ledger(initialised, tmp_path)
    replays, ticks = counted()  # the server is the session's: other tests' runs are on it
    result = initialised("replay", "--from", "2022-10-01", "--to", "2022-10-08", "--engine")
    assert result.output.strip() == "已重放 2022-10-01 至 2022-10-08，共 8 天。"
    with session_scope() as session:
        causes = Counter(e.cause for e in session.exec(select(Escalation)))
    assert causes == {"overdue_item": 2, "overdue_milestone": 1, "overdue_deliverable": 19}  # as the two ticks
    assert counted() == (replays + 1, ticks)


def test_bulletin_flow_leaves_the_markdown_artifact(prefect_server: None, initialised: Cli, tmp_path: Path) -> None:
    from flows.bulletin import assemble_bulletin

    load_small_ledger(initialised, tmp_path)
    initialised("tick", "--as-of", "2022-10-01")
    paths = assemble_bulletin("2022-10", as_of=date(2022, 10, 12), out_dir=str(tmp_path / "b"))
    assert Path(paths["pdf"]).is_file() and Path(paths["docx"]).is_file()
    markdown = read_artifact("bulletin-2022-1")
    assert "关于2022年10月全区社区配套设施问题整治工作进展情况的通报" in str(markdown)
