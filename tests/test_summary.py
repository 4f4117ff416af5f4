"""The year-end report: figures checked against a hand count of a small 2022, its number kept on a re-run,
its files (Word, PDF, HTML, annex) holding the numbers, hostile text shown as text, queued once."""

from __future__ import annotations

import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import Cli, KeptHomes
from docx import Document as WordDocument
from openpyxl import load_workbook
from reporting_helpers import submit
from sqlmodel import select
from test_bulletin import close
from test_ledger_import import write_csv

from duban.db import session_scope
from models import AuditEntry, BulletinRecord, Escalation, OutboxMessage

EVIL = "=cmd|' /C calc'!A0<script>alert(1)</script>"
SHOWN = "=cmd|' /C calc'!A0<script>ale…"  # a description in a table: its first 29 characters
# Six items in four townships (the other eight have none).
LEDGER = [
    ["S-1", "河东镇", "河东社区", "社区用房", "", "使用", "用房被占用", "", "", "收回用房。", "2022-09-30", "否"],
    ["S-2", "河东镇", "新河社区", "教育设施", "幼儿园", "移交", "园舍未移交", "", "", "完成移交。", "2022-12-31", "是"],
    ["S-3", "河西镇", "西岸社区", "社区食堂", "", "规划", "食堂未规划", "", "", "改造食堂。", "2022-10-20", "否"],
    ["S-4", "河西镇", "北岸社区", "体育设施", "", "建设", EVIL, "", "", "补建场地。", "2022-09-15", "否"],
    ["S-5", "青山镇", "青山社区", "养老服务设施", "", "建设", "养老站未建", "", "", "改造用房。", "2022-11-30", "否"],
    ["S-6", "白云镇", "白云社区", "便民商业设施", "", "使用", "超市缺失", "", "", "引入超市。", "2022-12-31", "否"],
]  # fmt: skip


@pytest.fixture
def year(initialised: Cli, home: Path, tmp_path: Path, kept_homes: KeptHomes) -> Cli:
    """2022 in a few steps: three items closed, one re-planned into 2023, the October round with one late report."""
    cli = initialised

    def build() -> None:
        cli("ledger", "import", write_csv(tmp_path / "s.csv", LEDGER), "--as-of", "2022-04-08")
        close(cli, "S-1", "河东镇", "民政局", "2022-09-20")
        cli("tick", "--as-of", "2022-10-01")  # the October round opens
        submit(cli, tmp_path, "河西镇", "2022-10", "2022-10-09")  # due 10-08: late
        cli("tick", "--as-of", "2022-10-12")
        close(cli, "S-3", "河西镇", "民政局", "2022-10-14")
        cli("item", "plan", "S-5", "--by", "民政局", "--deadline", "2023-06-30", "--as-of", "2022-11-20")
        close(cli, "S-6", "白云镇", "商务局", "2022-12-05")

    kept_homes.restore("summary-year", home, build)
    return cli


def _issue(out: Path, as_of: str = "2023-01-06", **kwargs: object):  # noqa: ANN202
    from duban.stored_plan import current_plan
    from duban.summary.issue import issue_summary

    with session_scope() as session:
        return issue_summary(
            session, current_plan(session), year=2022, as_of=date.fromisoformat(as_of), out_dir=out, **kwargs
        )


def test_figures_counted_by_hand(year: Cli, tmp_path: Path) -> None:
    issued = _issue(tmp_path / "out")
    f = issued.record.figures
    assert (f["year"], f["start"], f["cutoff"]) == (2022, "2022-04-01", "2022-12-31")  # issued 2023-01-06
    # 31 Dec: S-1, S-3, S-6 closed; S-4 (due 09-15) overdue; S-2 (due 12-31) not yet overdue that day.
    assert f["overall"] == {
        "total": 6, "closed": 3, "under_way": 0, "not_started": 3, "overdue": 1, "rate": 50.0, "cancelled": 0
    }  # fmt: skip
    assert {c["name"]: (c["total"], c["closed"]) for c in f["categories"] if c["total"]} == {
        "教育设施": (1, 0), "社区用房": (1, 1), "养老服务设施": (1, 0), "便民商业设施": (1, 1), "体育设施": (1, 0),
        "社区食堂": (1, 1),
    }  # fmt: skip
    assert [(s["name"], s["total"], s["closed"], s["overdue"]) for s in f["stages"]] == [
        ("规划", 1, 1, 0), ("建设", 2, 0, 1), ("移交", 1, 0, 0), ("使用", 2, 2, 0)
    ]  # fmt: skip
    assert [(t["unit"], t["rank"], t["total"], t["closed"], t["rate"]) for t in f["townships"][:4]] == [
        ("白云镇", 1, 1, 1, 100.0), ("河东镇", 2, 2, 1, 50.0), ("河西镇", 2, 2, 1, 50.0), ("青山镇", 4, 1, 0, 0.0)
    ]  # fmt: skip
    # Carried into 2023: S-4 overdue, S-2 due on the last day, S-5 re-planned on 11-20 to 2023-06-30 (revision 2).
    carried = f["carried"]
    assert (carried["total"], carried["next_year"], carried["overdue"], carried["pending"]) == (3, 1, 1, 1)
    assert [(r["code"], r["revision"], r["revised_on"], r["deadline"], r["where"]) for r in carried["rows"]] == [
        ("S-4", 1, "2022-04-08", "2022-09-15", "overdue"),
        ("S-2", 1, "2022-04-08", "2022-12-31", "pending"),
        ("S-5", 2, "2022-11-20", "2023-06-30", "next_year"),
    ]
    assert f["must_finish"] == {"due": "2022-12-31", "total": 2, "closed": 1, "open": ["S-2"]}
    # Month ends: S-1 closed in September, S-3 in October, S-6 in December.
    assert [(p["month"], p["closed"], p["rate"]) for p in f["trend"]] == [
        ("2022-04", 0, 0.0), ("2022-05", 0, 0.0), ("2022-06", 0, 0.0), ("2022-07", 0, 0.0), ("2022-08", 0, 0.0),
        ("2022-09", 1, 16.7), ("2022-10", 2, 33.3), ("2022-11", 2, 33.3), ("2022-12", 3, 50.0),
    ]  # fmt: skip
    # The October round (the only one opened) asked the four townships with open items on 10-01 and their
    # three lead departments; 河西镇 reported on 10-09, a day late; nobody else reported.
    reports = {r["unit"]: (r["asked"], r["on_time"], r["late"], r["missing"]) for r in f["discipline"]["reports"]}
    assert reports == {
        "教体局": (1, 0, 0, 1), "民政局": (1, 0, 0, 1), "商务局": (1, 0, 0, 1), "河东镇": (1, 0, 0, 1),
        "河西镇": (1, 0, 1, 0), "青山镇": (1, 0, 0, 1), "白云镇": (1, 0, 0, 1),
    }  # fmt: skip
    # On 10-12 the townships were four working days late (10-08 and 10-09 were working days): levels 1 and 2;
    # the departments (due 10-10) two: level 1. The 19 documents past due went straight to level 3.
    escalations = f["discipline"]["escalations"]
    assert escalations["causes"] == {"missing_submission": 9, "overdue_deliverable": 19, "overdue_item": 1}
    with session_scope() as session:
        rows = session.exec(select(Escalation)).all()
    assert escalations["levels"] == {str(k): v for k, v in sorted(Counter(e.level for e in rows).items())}
    assert sum(escalations["levels"].values()) == 29
    hedong = next(u for u in escalations["units"] if u["unit"] == "河东镇")
    assert (hedong["level1"], hedong["level2"]) == (1, 1)
    deliverables = f["mechanism"]["deliverables"]
    assert (deliverables["total"], deliverables["late_open"], deliverables["pending"]) == (23, 19, 4)
    assert f["requirements"][0].startswith("结转2023年的3项问题")
    assert "尚有1项未完成" in f["requirements"][1] and "逾期未完成的1项问题" in f["requirements"][2]


def test_word_pdf_html_annex_and_hostile_text(year: Cli, tmp_path: Path) -> None:
    issued = _issue(tmp_path / "out")
    number = issued.record.number
    with session_scope() as session:
        others = session.exec(select(BulletinRecord).where(BulletinRecord.kind != "summary")).all()
    assert number == len(others) + 1  # numbered on from the year's bulletins (the October one, by the tick)
    doc_number = f"X区配套办〔2022〕{number}号"
    title = "关于XX区2022年社区配套设施问题整治工作情况的报告"
    assert issued.record.title == title and issued.docx.name == f"2022-{number:03d}-summary-2022.docx"
    word = WordDocument(str(issued.docx))
    texts = [p.text for p in word.paragraphs if p.text.strip()]
    for fragment in (doc_number, title, "XX区社区配套设施规划建设管理工作领导小组：", "三、结转下一年度的问题",
                     "特此报告。", "2023年1月6日", "抄送：各牵头部门，各镇办"):  # fmt: skip
        assert any(fragment in t for t in texts), fragment
    assert any("全区台账共排查出社区配套设施问题6项" in t and "整治完成率50.0%" in t for t in texts)
    cells = {c.text for t in word.tables for r in t.rows for c in r.cells}
    assert {"S-5", "第2版（2022-11-20）", "2023-06-30", "完成时限在下一年度", SHOWN} <= cells
    pdf = subprocess.run(
        ["pdftotext", str(issued.pdf), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout  # killed (SIGKILL) if it ever hangs
    flat = "".join(pdf.split())
    for fragment in (title, doc_number, "整治完成率50.0%", "结转2023年的3项问题", "=cmd|'", "<script>ale"):
        assert fragment in flat, fragment  # the description wraps in its narrow cell: its pieces, as text
    html = issued.html.read_text(encoding="utf-8")
    assert "=cmd|&#39; /C calc&#39;!A0&lt;script&gt;ale…" in html and "<script>" not in html
    assert html.count("data:image/png;base64,") == 2  # the monthly trend and the townships' completion
    sheets = load_workbook(issued.annex)
    carried = sheets[sheets.sheetnames[0]]
    evil = next(c for row in carried.iter_rows() for c in row if c.value == SHOWN)
    assert evil.data_type == "s"  # text, never a formula


def test_twice_is_the_same_report_queued_once(year: Cli, tmp_path: Path, home: Path) -> None:
    first = year("summary", "--year", "2022", "--as-of", "2023-01-06")
    paths = first.stdout.strip().splitlines()
    assert [Path(p).suffix for p in paths] == [".docx", ".pdf", ".html", ".xlsx"]
    assert all(Path(p).parent == home / "bulletins" for p in paths)
    html = Path(paths[2]).read_text(encoding="utf-8")

    def queued() -> list[OutboxMessage]:
        with session_scope() as session:
            return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "summary")))

    messages = queued()
    assert sorted(m.recipient for m in messages) == ["分管副区长", "区配套办", "区长"]
    office = next(m for m in messages if m.recipient == "区配套办")
    assert office.channel == "email" and office.subject.startswith("【报告】关于XX区2022年")
    assert [Path(a).name for a in office.attachments] == [Path(p).name for p in (paths[0], paths[1], paths[3])]
    assert "结转2023年的问题3项" in office.body
    close(year, "S-2", "河东镇", "教体局", "2023-01-09")  # a later change does not alter the issued report
    again = year("summary", "--year", "2022", "--as-of", "2023-01-10")
    assert again.stdout.strip().splitlines() == paths and "编号、内容不变" in again.stderr
    assert Path(paths[2]).read_text(encoding="utf-8") == html
    assert len(queued()) == 3
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.subject == "summary")).all()
        assert [(e.action, e.subject_key) for e in entries] == [("summary_issued", "2022:1")]
        number = session.exec(select(BulletinRecord).where(BulletinRecord.kind == "summary")).one().number
    edition = year("summary", "--year", "2022", "--as-of", "2023-01-10", "--new-edition")
    assert Path(edition.stdout.splitlines()[0]).name == f"2022-{number + 1:03d}-summary-2022-第2版.docx"
    with session_scope() as session:
        latest = session.exec(select(BulletinRecord).where(BulletinRecord.edition == 2)).one()
    assert latest.figures["cutoff"] == "2022-12-31" and latest.figures["overall"]["closed"] == 3  # S-2 in 2023
    assert len(queued()) == 6


def test_refusals_change_nothing(initialised: Cli) -> None:
    result = initialised("summary", "--year", "2021", "--as-of", "2022-04-01", status=2)
    assert "2021年不在实施方案的实施期内（2022-04-01 至 2022-12-31）" in result.output
    result = initialised("summary", "--year", "2022", "--as-of", "2022-03-31", status=2)
    assert "2022-03-31时2022年度工作尚未开始（自2022-04-01起）" in result.output
    with session_scope() as session:
        assert session.exec(select(BulletinRecord)).all() == []


def test_a_section_whose_figures_are_missing_is_left_out(year: Cli, tmp_path: Path) -> None:
    """A report kept before a section existed re-prints without it, the sections after it numbered on."""
    from duban.stored_plan import current_plan
    from duban.summary.sections import build

    issued = _issue(tmp_path / "out")
    record = issued.record.model_copy(
        update={"figures": {k: v for k, v in issued.record.figures.items() if k != "carried"}}
    )
    with session_scope() as session:
        document = build(current_plan(session), record, tmp_path / "old", "old")
    headings = [b.text for b in document.blocks if getattr(b, "level", None) == 1]
    assert headings == [
        "一、问题排查和整治总体情况",
        "二、各镇办、各牵头部门整治情况",
        "三、长效机制建设情况",
        "四、进度报送和督办情况",
        "五、延期申请和调整责任单位办理情况",
        "六、年度考核情况",
        "七、下一年度工作安排",
    ]


def test_the_years_extensions_and_reassignments(year: Cli, tmp_path: Path) -> None:
    """S-4 (体育设施, 教体局, 河西镇, due 09-15): asked to 10-31 on 09-01, 教体局 agreed, the Office refused.
    S-2 (a kindergarten, due 12-31): asked on 12-01, 教体局 agreed on 12-02, the leadership group had not
    answered by the year's end. S-5 (re-planned on 11-20) moved from 青山镇 to 石桥镇 on 12-12."""
    cli = year
    ask = ["extension", "request", "--progress", "已完成方案设计"]
    cli(*ask, "S-4", "--until", "2022-10-31", "--by", "河西镇", "--reason", EVIL, "--as-of", "2022-09-01")
    cli("extension", "decide", "1", "--approve", "--by", "教体局", "--as-of", "2022-09-02")
    cli("extension", "decide", "1", "--refuse", "--reason", "理由不充分", "--by", "区配套办", "--as-of", "2022-09-05")
    cli(*ask, "S-2", "--until", "2023-03-31", "--by", "河东镇", "--reason", "产权未移交", "--as-of", "2022-12-01")
    cli("extension", "decide", "2", "--approve", "--by", "教体局", "--as-of", "2022-12-02")
    move = ["--township", "石桥镇", "--reason", "误记", "--by", "青山镇"]
    cli("item", "reassign", "S-5", *move, "--as-of", "2022-12-09")
    cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-12-12")
    issued = _issue(tmp_path / "out")
    requests = issued.record.figures["requests"]
    e = requests["extensions"]
    assert (e["granted"], e["refused"], e["pending"]) == (0, 1, 1)
    assert [(r["item"], r["state"], r["old"], r["asked"], r["protected"]) for r in e["rows"]] == [
        ("S-4", "refused", "2022-09-15", "2022-10-31", False),
        ("S-2", "pending", "2022-12-31", "2023-03-31", True),
    ]
    assert [(m["code"], m["decided_on"]) for m in requests["reassignments"]] == [("S-5", "2022-12-12")]
    assert "石桥镇" in requests["reassignments"][0]["to"] and "青山镇" in requests["reassignments"][0]["from"]
    word = WordDocument(str(issued.docx))
    texts = [p.text for p in word.paragraphs if p.text.strip()]
    assert any(t.endswith("、延期申请和调整责任单位办理情况") for t in texts)
    assert "本年度批准延期0项，不予延期1项；截至2022年12月31日，尚在审批中的延期申请1项。" in texts
    assert "本年度经领导小组办公室同意，调整责任单位的问题1项。" in texts
    cells = {c.text for t in word.tables for r in t.rows for c in r.cells}
    assert {"S-4", "未批准延期", "S-2", "审批中（报领导小组）", "2023-03-31", "2022-12-12"} <= cells
    assert EVIL[:39] + "…" in cells  # the refused request's hostile reason, 40 characters of it, as text
    html = issued.html.read_text(encoding="utf-8")
    assert "=cmd|&#39; /C calc&#39;!A0&lt;script&gt;alert(1)&lt;/scr…" in html and "<script>" not in html


def test_the_years_assessment_is_duban_assess_for_the_year(year: Cli, tmp_path: Path) -> None:
    """The report's 年度考核情况 is the assessment of the year as `duban assess --period 2022` gives it on the
    day of issue: every unit's score and rank, and the units carded by name."""
    import json

    issued = _issue(tmp_path / "out")
    kept = issued.record.figures["assessment"]
    assessed = json.loads(year("assess", "--period", "2022", "--as-of", "2023-01-06", "--json").output)["units"]
    assert [(u["unit"], u["score"], u["rank"]) for u in kept["units"]] == [
        (u["unit"], u["score"], u["rank"]) for u in assessed
    ]
    assert kept["label"] == "2022年度"
    word = WordDocument(str(issued.docx))
    texts = [p.text for p in word.paragraphs if p.text.strip()]
    assert any(t.endswith("、年度考核情况") for t in texts)
    [said] = [t for t in texts if t.startswith("按照考核办法，2022年度各镇办、各牵头部门考核得分及排名见表")]
    carded = [u for u in assessed if u["cards"]]
    assert carded and all(u["unit"] in said for u in carded)
    cells = {c.text for t in word.tables for r in t.rows for c in r.cells}
    assert {u["unit"] for u in assessed} <= cells
