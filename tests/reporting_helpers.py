"""Helpers for the reporting tests: a small ledger, and filling a generated form as a clerk would."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli
from openpyxl import load_workbook
from test_ledger_import import write_csv

# Four items in two townships, each with a hand-chosen deadline around the October 2022 round
# (National Day 10-01..10-07 off; Saturday 10-08 and Sunday 10-09 are make-up working days).
SMALL_LEDGER = [
    [
        "A-1",
        "河东镇",
        "河东社区",
        "社区用房",
        "社区服务用房",
        "使用",
        "社区用房被挤占。",
        "",
        "",
        "收回用房。",
        "2022-10-14",
        "否",
    ],
    [
        "A-2",
        "河东镇",
        "新河社区",
        "教育设施",
        "幼儿园",
        "移交",
        "幼儿园未移交。",
        "",
        "",
        "完成移交。",
        "2022-09-30",
        "是",
    ],
    ["A-3", "河西镇", "河西社区", "体育设施", "健身设施", "建设", "健身设施未建设。", "", "", "", "", "否"],
    ["A-4", "河西镇", "西岸社区", "社区食堂", "", "规划", "缺少社区食堂。", "", "", "改造食堂。", "2022-09-20", "否"],
]


# The long-term mechanism runs every day too (follow-projects): in a district replayed from October 2022
# without its documents, the plan's 19 documents due before October (17 working groups by 04-30, the two
# joint-review mechanisms by 06-30) are escalated. The round's tests set those apart (tests/test_mechanism.py
# tests them); `documents_escalated` checks exactly what they are.
MECHANISM_CAUSES = ("overdue_deliverable", "late_countersign", "late_resubmission")


def of_the_round(messages: list, escalations: list) -> list:
    """The outbox rows of the round, campaigns and ledger: the mechanism's documents set apart."""
    theirs = _mechanism_keys(escalations)
    return [m for m in messages if not m.idempotency_key.startswith("deliverable:") and _key(m) not in theirs]


def _mechanism_keys(escalations: list) -> set[str]:
    """The keys of the digests that told the mechanism's escalations (its own run of the ladder each day)."""
    return {e.notice_key for e in escalations if e.cause in MECHANISM_CAUSES}


def _key(message) -> str:  # noqa: ANN001 - an OutboxMessage
    return message.idempotency_key.split("|", 1)[0]


def documents_escalated(messages: list, escalations: list) -> None:
    """On the first working day of the replay (10-08, a make-up Saturday) each of the 19 documents is
    20+ working days late and goes straight to level 3: to 分管副区长, the Office and its owner, one digest
    each. The owners are the 17 working groups' (自然资分局 among them, which owns the planning review's
    mechanism too) and 住建局 (the completion review's): 18 units, so 1 + 1 + 18 = 20 messages, where one
    per document and recipient made 57."""
    mine = [e for e in escalations if e.cause in MECHANISM_CAUSES]
    assert sorted({(e.cause, e.level, e.raised_on.isoformat()) for e in mine}) == [
        ("overdue_deliverable", 3, "2022-10-08")
    ]
    assert len(mine) == 19 and len({e.notice_key for e in mine}) == 1
    sent = [m for m in messages if _key(m) in _mechanism_keys(mine)]
    assert len(sent) == 20 and {m.created_on.isoformat() for m in sent} == {"2022-10-08"}
    by_recipient = {m.recipient: m for m in sent}
    assert len(by_recipient) == 20
    assert by_recipient["分管副区长"].subject == "【提请分管副区长督办】19项逾期事项"
    assert by_recipient["自然资分局"].subject == "【提请分管副区长督办】2项逾期事项"
    assert by_recipient["住建局"].subject.startswith("【提请分管副区长督办】")  # its one document, in its own words


def load_small_ledger(cli: Cli, tmp_path: Path) -> None:
    cli("ledger", "import", write_csv(tmp_path / "small.csv", SMALL_LEDGER), "--as-of", "2022-09-01")
    cli("item", "plan", "A-4", "--by", "河西镇", "--milestone", "2022-09-15:完成选址", "--as-of", "2022-09-01")


def fill_form(path: Path, values: dict[str, dict[str, object]], sheet_name: str = "填报") -> Path:
    """Set editable cells by item code and column title, as a clerk filling the form in Excel would."""
    workbook = load_workbook(path)
    sheet = workbook[sheet_name]
    header = [c.value for c in sheet[2]]
    for row in sheet.iter_rows(min_row=3):
        code = row[0].value
        for title, value in values.get(code, {}).items():
            row[header.index(title)].value = value
    workbook.save(path)
    return path


def submit(
    cli: Cli,
    tmp_path: Path,
    unit: str,
    period: str,
    day: str,
    values: dict | None = None,
    status: int = 0,
    draft: bool = False,
) -> str:
    path = tmp_path / f"{unit}-{period}-{day}.xlsx"
    cli("report", "form", "--unit", unit, "--period", period, path)
    fill_form(path, values or {})
    extra = ["--draft"] if draft else []
    return cli(
        "report", "submit", path, "--unit", unit, "--period", period, "--as-of", day, *extra, status=status
    ).output


def review(
    cli: Cli,
    by: str,
    township: str,
    day: str,
    *,
    accept: bool | None = True,
    reason: str = "",
    status: int = 0,
    period: str = "2022-10",
) -> str:
    """`duban report review`; accept=None leaves out both --accept and --return."""
    decision = [] if accept is None else (["--accept"] if accept else ["--return"])
    extra = ["--reason", reason] if reason else []
    return cli(
        "report",
        "review",
        "--by",
        by,
        "--unit",
        township,
        "--period",
        period,
        *decision,
        *extra,
        "--as-of",
        day,
        status=status,
    ).output
