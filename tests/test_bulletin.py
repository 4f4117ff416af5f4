"""Bulletins: figures checked against a hand count, numbering, and the Word, PDF, HTML and Markdown files."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from conftest import EVIDENCE, Cli
from docx import Document as WordDocument
from sqlmodel import select
from test_ledger_import import write_csv

from duban.bulletin.issue import issue
from duban.db import session_scope
from duban.stored_plan import current_plan
from models import OutboxMessage

EVIL = "<script>alert(1)</script>{ DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe } **粗体**|"
# Six items in four townships; the rest of the district has none.
LEDGER = [
    ["B-1", "河东镇", "河东社区", "社区用房", "", "使用", "问题1", "", "", "收回用房。", "2022-09-30", "否"],
    ["B-2", "河东镇", "新河社区", "教育设施", "幼儿园", "移交", "问题2", "", "", "完成移交。", "2022-12-31", "是"],
    ["B-3", "河西镇", "西岸社区", "社区食堂", "", "规划", "问题3", "", "", "改造食堂。", "2022-10-20", "否"],
    ["B-4", "河西镇", EVIL, "体育设施", "", "建设", "问题4", "", "", "补建场地。", "2022-09-15", "否"],
    ["B-5", "青山镇", "青山社区", "养老服务设施", "", "建设", "问题5", "", "", "改造用房。", "2022-11-30", "否"],
    ["B-6", "白云镇", "白云社区", "便民商业设施", "", "使用", "问题6", "", "", "引入超市。", "2022-12-31", "否"],
]


def close(cli: Cli, code: str, township: str, lead: str, day: str) -> None:
    cli("item", "transition", code, "--to", "in_progress", "--by", township, "--as-of", day)
    cli(
        "item",
        "transition",
        code,
        "--to",
        "close_requested",
        "--by",
        township,
        "--as-of",
        day,
        "--note",
        "完成",
        "--evidence",
        EVIDENCE,
    )
    cli("item", "transition", code, "--to", "verified", "--by", lead, "--as-of", day)
    cli("item", "transition", code, "--to", "closed", "--by", "区配套办", "--as-of", day)


@pytest.fixture
def district(initialised: Cli, tmp_path: Path) -> Cli:
    initialised("ledger", "import", write_csv(tmp_path / "b.csv", LEDGER), "--as-of", "2022-04-08")
    close(initialised, "B-1", "河东镇", "民政局", "2022-09-20")  # September: 河东镇 1 of 2
    initialised("tick", "--as-of", "2022-10-01")  # the October round opens; nobody reports
    close(initialised, "B-5", "青山镇", "民政局", "2022-10-12")  # October: 青山镇 1 of 1
    close(initialised, "B-3", "河西镇", "民政局", "2022-10-14")  # October: 河西镇 1 of 2
    return initialised


def _issue(period: str, as_of: str, out: Path, **kwargs: object):  # noqa: ANN202
    with session_scope() as session:
        return issue(
            session,
            current_plan(session),
            period=period,
            kind="monthly",
            as_of=date.fromisoformat(as_of),
            out_dir=out,
            **kwargs,
        )


def test_figures_rankings_ties_changes_and_a_month_without_reports(district: Cli, tmp_path: Path) -> None:
    september = _issue("2022-09", "2022-09-30", tmp_path / "out")
    ranks = {t["unit"]: (t["rank"], t["rate"]) for t in september.record.figures["townships"]}
    # 30 Sept: 河东镇 1/2 = 50 %; 河西镇 0/2, 青山镇 0/1, 白云镇 0/1 tie at 0 %; eight townships have no items.
    assert ranks["河东镇"] == (1, 50.0)
    assert ranks["河西镇"] == ranks["青山镇"] == ranks["白云镇"] == (2, 0.0)
    assert ranks["城关街道"] == (None, None)
    assert september.record.figures["reports"]["requested"] == 0  # the September round was never opened

    october = _issue("2022-10", "2022-10-31", tmp_path / "out")
    figures = october.record.figures
    assert figures["overall"] == {
        "total": 6,
        "closed": 3,
        "under_way": 0,
        "not_started": 3,
        "overdue": 1,
        "rate": 50.0,
        "cancelled": 0,
    }
    rows = {t["unit"]: (t["rank"], t["rate"], t["change"], t["report"]) for t in figures["townships"]}
    # 青山镇's B-5 was still open on 10-01, so it was asked to report, and did not.
    assert rows["青山镇"] == (1, 100.0, 1, "未报送")
    assert rows["河东镇"] == (2, 50.0, -1, "未报送")
    assert rows["河西镇"] == (2, 50.0, 0, "未报送")
    assert rows["白云镇"] == (4, 0.0, -2, "未报送")
    assert rows["城关街道"] == (None, None, None, "无报送任务")
    assert [t["unit"] for t in figures["townships"][:4]] == ["青山镇", "河东镇", "河西镇", "白云镇"]
    assert sorted(figures["reports"]["not_reported"]) == sorted(
        ["河东镇", "河西镇", "青山镇", "白云镇", "民政局", "教体局", "商务局"]
    )
    assert [o["code"] for o in figures["overdue"]] == ["B-4"]  # B-1 and B-3 closed; B-4 due 09-15
    assert figures["must_finish"] == {"due": "2022-12-31", "total": 2, "closed": 1, "open": ["B-2"]}
    departments = {d["unit"]: (d["rank"], d["rate"]) for d in figures["departments"]}
    # 民政局 leads B-1, B-3 (canteen), B-5: all closed. 教体局 B-2, B-4; 商务局 B-6: none closed.
    assert departments["民政局"] == (1, 100.0)
    assert departments["教体局"] == departments["商务局"] == (2, 0.0)
    assert departments["发改局"] == (None, None)


def test_numbering_is_stable_and_editions_are_explicit(district: Cli, tmp_path: Path) -> None:
    september = _issue("2022-09", "2022-09-30", tmp_path / "a")
    october = _issue("2022-10", "2022-10-31", tmp_path / "a")
    assert (september.record.number, september.record.issue, october.record.number, october.record.issue) == (
        1,
        1,
        2,
        2,
    )
    close(district, "B-6", "白云镇", "商务局", "2022-11-02")  # a later change does not alter an issued bulletin
    again = _issue("2022-10", "2022-11-05", tmp_path / "b")
    assert (again.new, again.record.number, again.record.figures) == (False, 2, october.record.figures)
    assert again.html.read_text(encoding="utf-8") == october.html.read_text(encoding="utf-8")
    edition = _issue("2022-10", "2022-11-05", tmp_path / "c", new_edition=True)
    assert (edition.new, edition.record.number, edition.record.issue, edition.record.edition) == (True, 3, 2, 2)
    assert edition.record.figures["overall"]["closed"] == 4
    assert edition.docx.name == "2022-003-monthly-2022-10-第2版.docx"


def test_word_pdf_html_and_markdown(district: Cli, tmp_path: Path) -> None:
    issued = _issue("2022-10", "2022-10-31", tmp_path / "out")
    # Word: opens with python-docx; header, number, title, tables and date in order.
    word = WordDocument(str(issued.docx))
    texts = [p.text for p in word.paragraphs if p.text.strip()]
    order = [
        "XX区社区配套设施规划建设管理工作领导小组办公室文件",
        "X区配套办〔2022〕1号",
        "关于2022年10月全区社区配套设施问题整治工作进展情况的通报",
        "各镇办，区教体局",
        "一、总体进展情况",
        "五、长效机制建设和运行情况",  # the tick made the plan's deliverables
        "六、考核情况",
        "七、下步工作要求",
        "2022年10月31日",
        "抄送：区长，分管副区长",
    ]
    at = 0
    for fragment in order:  # each after the one before (the body says "截至2022年10月31日" too)
        found = [i for i in range(at, len(texts)) if fragment in texts[i] and not texts[i].startswith("根据")]
        assert found, f"{fragment!r} missing or out of order"
        at = found[0] + 1
    assert len(word.tables) >= 6
    cells = {c.text for t in word.tables for r in t.rows for c in r.cells}
    assert "青山镇" in cells and "100.0%" in cells and EVIL in cells  # the clerk's text, literally
    # PDF: a CJK font embedded, and the Chinese text extractable (no empty boxes).
    fonts = subprocess.run(["pdffonts", str(issued.pdf)], capture_output=True, text=True, check=True, timeout=60).stdout
    font_rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and any("WenQuanYi" in row for row in font_rows)
    assert all(" yes " in row for row in font_rows)  # every font embedded
    text = subprocess.run(
        ["pdftotext", "-layout", str(issued.pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    for fragment in (
        "关于2022年10月全区社区配套设施问题整治工作进展情况的通报",
        "X区配套办〔2022〕1号",
        "整治完成率50.0%",
        "<script>alert(1)</script>",
    ):
        assert fragment in "".join(text.split())  # lines wrap anywhere in Chinese text
    # HTML: escaped, so the script is text; Markdown: escaped for the artifact.
    html = issued.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "\\<script\\>" in issued.markdown and "\\*\\*粗体\\*\\*\\|" in issued.markdown


def test_a_bulletin_written_outside_the_home_by_a_relative_path_is_sent_from_another_folder(
    district: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out` relative to where the command ran, outside DUBAN_HOME: the queued rows name the files in full,
    so the dispatcher finds them from wherever it runs."""
    (tmp_path / "clerk").mkdir()
    monkeypatch.chdir(tmp_path / "clerk")
    district("bulletin", "--period", "2022-10", "--as-of", "2022-10-31", "--out", "rel-out", "--no-engine")
    monkeypatch.chdir(tmp_path)
    district("outbox", "dispatch", "--at", "2022-10-31T09:00")
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()
    mailed = [r for r in rows if r.attachments]
    assert mailed and {r.status for r in rows} == {"sent"}
    written = tmp_path / "clerk" / "rel-out"
    assert {a for r in mailed for a in r.attachments} == {
        str(p) for p in written.iterdir() if p.suffix in (".docx", ".pdf", ".xlsx")
    }


def test_distribution_and_the_cli(district: Cli, tmp_path: Path, home: Path) -> None:
    from plans import plan_with

    wecom = {"河东镇": [{"type": "wecom", "key_env": "DUBAN_WECOM_HEDONG"}]}
    district("init", "--plan", plan_with(tmp_path, wecom), "--as-of", "2022-10-31")
    result = district("bulletin", "--period", "2022-10", "--as-of", "2022-10-31")
    paths = result.stdout.strip().splitlines()
    assert [Path(p).suffix for p in paths] == [".docx", ".pdf", ".html", ".xlsx"]  # the annex last
    assert all(Path(p).is_file() and Path(p).parent == home / "bulletins" for p in paths)
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()
    assert len({r.recipient for r in rows}) == 22
    email = next(r for r in rows if r.recipient == "教体局")
    assert email.subject == "【通报】关于2022年10月全区社区配套设施问题整治工作进展情况的通报（X区配套办〔2022〕1号）"
    # the annex workbook goes with the document: the bulletin lists items (B-4 overdue, B-2 key and open)
    # kept relative to DUBAN_HOME, so a home restored elsewhere (a backup) still sends its own files
    assert email.attachments == [
        f"bulletins/{Path(paths[0]).name}",
        f"bulletins/{Path(paths[1]).name}",
        f"bulletins/{Path(paths[0]).stem}-附件.xlsx",
    ]
    assert all((home / a).is_file() for a in email.attachments)
    summary = next(r for r in rows if r.channel == "wecom")
    assert summary.attachments == [] and summary.recipient == "河东镇"
    assert "完成率前三：青山镇、河东镇、河西镇" in summary.body and "完成率后三：河东镇、河西镇、白云镇" in summary.body
    assert "逾期 1 项" in summary.body
    # Re-running prints the same files and queues nothing new.
    assert district("bulletin", "--period", "2022-10").stdout.strip().splitlines() == paths
    with session_scope() as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()) == len(rows)


def test_an_adhoc_bulletin_over_a_date_range(district: Cli, tmp_path: Path) -> None:
    monthly = _issue("2022-10", "2022-10-31", tmp_path / "m")
    with session_scope() as session:
        adhoc = issue(
            session,
            current_plan(session),
            period="2022-10-10..2022-10-20",
            kind="adhoc",
            as_of=date(2022, 10, 20),
            out_dir=tmp_path / "a",
        )
    assert (adhoc.record.number, adhoc.record.issue) == (monthly.record.number + 1, 1)
    assert adhoc.record.title == "关于2022年10月10日至2022年10月20日全区社区配套设施问题整治工作进展情况的通报"
    # As of 10-20: B-1, B-5 (10-12) and B-3 (10-14) closed; the October round is the one spoken of.
    assert adhoc.record.figures["overall"]["closed"] == 3
    assert adhoc.record.figures["reports"]["requested"] == 7
    result = district("bulletin", "--period", "2022-10-20..2022-10-10", "--kind", "adhoc", status=2)
    assert "开始日期晚于结束日期" in result.output
