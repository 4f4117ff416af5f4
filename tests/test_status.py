"""`duban status --json` against counts computed here from the sample file and the moves made."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

from conftest import EVIDENCE, Cli, sample_rows
from test_ledger_import import write_csv
from test_plan import DEPARTMENTS, TOWNSHIPS

CATEGORY_CODES = {
    "教育设施": "education",
    "社区用房": "community_premises",
    "养老服务设施": "elderly_care",
    "便民商业设施": "convenience_commerce",
    "体育设施": "sports",
    "医疗卫生设施": "health",
    "社区食堂": "canteen",
}
LEAD = {
    "education": "教体局",
    "community_premises": "民政局",
    "elderly_care": "民政局",
    "convenience_commerce": "商务局",
    "sports": "教体局",
    "health": "卫健局",
    "canteen": "民政局",
}


def _deadline(text: str) -> date | None:
    match = re.match(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return date(*map(int, match.groups())) if match else None


def _status(cli: Cli, as_of: str) -> dict:
    return json.loads(cli("status", "--as-of", as_of, "--json").output)


def _close(cli: Cli, code: str, by_lead: str, day: str) -> None:
    cli("item", "transition", code, "--to", "in_progress", "--by", "城关街道", "--as-of", day)
    cli(
        "item",
        "transition",
        code,
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        day,
        "--note",
        "完成",
        "--evidence",
        EVIDENCE,
    )
    cli("item", "transition", code, "--to", "verified", "--by", by_lead, "--as-of", day)
    cli("item", "transition", code, "--to", "closed", "--by", "区配套办", "--as-of", day)


def test_status_figures_match_the_ledger(imported: Cli) -> None:
    rows = sample_rows()
    # PT2022-0001 (城关街道, 民政局, due 2022-06-30) is closed on time; PT2022-0008 (due 2022-06-30)
    # is cancelled in July; PT2022-0003 is being worked on from May.
    _close(imported, "PT2022-0001", "民政局", "2022-06-30")
    imported(
        "item",
        "transition",
        "PT2022-0008",
        "--to",
        "cancelled",
        "--by",
        "区配套办",
        "--as-of",
        "2022-07-05",
        "--note",
        "经核实已由市级项目统筹解决",
    )
    imported("item", "transition", "PT2022-0003", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-10")

    as_of = date(2022, 9, 20)
    data = _status(imported, as_of.isoformat())
    items = data["items"]
    assert data["as_of"] == "2022-09-20"
    assert items["total"] == len(rows)
    planned = sum(1 for r in rows if r["整改措施"])
    assert items["by_status"] == {
        "open": len(rows) - planned,
        "planned": planned - 3,
        "in_progress": 1,
        "close_requested": 0,
        "verified": 0,
        "closed": 1,
        "cancelled": 1,
    }
    assert items["by_category"] == {
        code: sum(1 for r in rows if CATEGORY_CODES[r["设施类别"]] == code) for code in CATEGORY_CODES.values()
    }
    assert items["by_township"] == {t: sum(1 for r in rows if r["镇办"] == t) for t in TOWNSHIPS}
    lead = Counter(r["牵头部门"] or LEAD[CATEGORY_CODES[r["设施类别"]]] for r in rows)
    assert items["by_department"] == {d: lead.get(d, 0) for d in DEPARTMENTS}
    gone = {"PT2022-0001", "PT2022-0008"}
    expected_overdue = sorted(
        r["问题编号"] for r in rows if (d := _deadline(r["完成时限"])) and d < as_of and r["问题编号"] not in gone
    )
    assert sorted(o["code"] for o in items["overdue"]) == expected_overdue
    assert len(expected_overdue) > 5
    assert data["lights"]["red"] == len(expected_overdue)
    assert data["lights"]["none"] == len(rows) - planned

    # As of an earlier day the ledger is shown as it stood then.
    then = _status(imported, "2022-06-15")["items"]
    assert then["by_status"]["in_progress"] == 1  # PT2022-0003; PT2022-0001 moved only on 06-30
    assert then["by_status"]["closed"] == 0 and then["by_status"]["cancelled"] == 0
    assert "PT2022-0001" not in {o["code"] for o in then["overdue"]}  # due 06-30, not yet late
    on_the_day = _status(imported, "2022-06-30")["items"]["by_status"]
    assert (on_the_day["closed"], on_the_day["cancelled"]) == (1, 0)
    assert _status(imported, "2022-04-07")["items"]["total"] == 0  # before the survey was filed


def test_traffic_lights_count_working_days_with_holidays_and_make_up_days(initialised: Cli, tmp_path: Path) -> None:
    deadlines = {
        "L-1": "2022-09-30",
        "L-2": "2022-10-14",
        "L-3": "2022-10-31",
        "L-4": "2022-09-15",
        "L-5": "2022-12-30",
    }
    rows = [
        [code, "河东镇", "河东社区", "社区食堂", "", "使用", f"问题{code}", "", "", "改造食堂。", due, "否"]
        for code, due in deadlines.items()
    ]
    initialised("ledger", "import", write_csv(tmp_path / "lights.csv", rows), "--as-of", "2022-04-08")
    lights = {
        i["code"]: (i["working_days_left"], i["light"]) for i in _status(initialised, "2022-09-30")["item_lights"]
    }
    # Counted by hand on the 2022 calendar: National Day 10-01..10-07 off, Sat 10-08 and Sun 10-09
    # worked. From 09-30: to 10-14 = 10-08, 10-09, 10-10..10-14 = 7; to 10-31 = 7 + 11 = 18.
    assert lights == {
        "L-1": (0, "yellow"),
        "L-2": (7, "yellow"),
        "L-3": (18, "green"),
        "L-4": (-11, "red"),
        "L-5": (62, "green"),
    }
    earlier = {
        i["code"]: (i["working_days_left"], i["light"]) for i in _status(initialised, "2022-09-20")["item_lights"]
    }
    assert earlier["L-1"] == (8, "yellow")  # 09-21..09-23, 09-26..09-30
    assert earlier["L-2"] == (15, "green")
    overdue = _status(initialised, "2022-09-30")["items"]["overdue"]
    # 09-15 -> 09-30: 09-16, 09-19..09-23, 09-26..09-30 = 11 working days late.
    assert [(o["code"], o["working_days_overdue"]) for o in overdue] == [("L-4", 11)]


def test_status_text_is_chinese(imported: Cli) -> None:
    text = imported("status", "--as-of", "2022-07-15").output
    assert "截至 2022-07-15：台账问题共 66 项" in text and "逾期问题" in text and "红灯" in text


def test_commands_before_init_say_so(cli: Cli) -> None:
    result = cli("status", status=2)
    assert "数据库尚未初始化，请先运行 duban init --plan" in result.output
