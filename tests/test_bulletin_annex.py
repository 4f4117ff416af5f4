"""Bulletins at city scale: each list of items cut to the plan's max_list_rows in the body, with a line
saying how many more and where, the 附件说明 laid out per GB/T 9704-2012 7.3.4, and the full lists in
the annex workbook sent with the bulletin. Expected figures are counted from the ledger set up here."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import PLAN, Cli
from docx import Document as WordDocument
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph
from openpyxl import load_workbook
from sqlmodel import select
from test_bulletin import close
from test_ledger_import import write_csv

from duban.bulletin.annex import LongList, LongTable, settle
from duban.bulletin.document import Paragraph, Table
from duban.bulletin.issue import issue, write_files
from duban.campaign.bulletin import build as campaign_build
from duban.db import session_scope
from duban.plan import PlanError, load_plan, parse_plan
from duban.stored_plan import current_plan
from models import BulletinRecord, OutboxMessage
from plans import plan_with

LIMIT = 3
AS_OF = "2022-10-31"
# code, township, community, category, deadline, key. The codes are not in file order: the bulletin
# lists items by code.
ITEMS = [
    ("A-07", "河东镇", "东岸社区", "社区用房", "2022-06-30", "是"),
    ("A-02", "河西镇", "西岸社区", "体育设施", "2022-09-15", "否"),
    ("A-05", "青山镇", "青山社区", "社区用房", "2022-07-31", "是"),
    ("A-01", "白云镇", "白云社区", "养老服务设施", "2022-08-31", "否"),
    ("A-09", "石桥镇", '=HYPERLINK("http://x")', "便民商业设施", "2022-10-20", "否"),
    ("A-04", "城关街道", "鼓楼社区", "社区用房", "2022-09-30", "是"),
    ("A-03", "柳林镇", "柳林社区", "医疗卫生设施", "2022-05-31", "否"),
    ("A-08", "东城街道", "东城社区", "社区用房", "2022-06-30", "是"),  # closed 09-20
    ("A-06", "新城街道", "新城社区", "社区用房", "2022-12-31", "是"),
    ("A-10", "北关街道", "北关社区", "社区食堂", "2022-12-31", "否"),
]
CLOSED = {"A-08"}
BY_CODE = {row[0]: row for row in ITEMS}
# Counted by hand from ITEMS as of 2022-10-31.
OVERDUE = sorted(c for c, _, _, _, deadline, _ in ITEMS if deadline < AS_OF and c not in CLOSED)
KEY = sorted(c for c, *_, key in ITEMS if key == "是")
MUST_OPEN = sorted(c for c, _, _, category, _, _ in ITEMS if category == "社区用房" and c not in CLOSED)
ANNEX_LINES = [
    "附件：1.逾期未完成整改问题清单",
    "2.重点难点问题进展清单",
    "3.城镇居住区幼儿园、社区用房专项整治未销号问题清单",
]


def _ledger_rows() -> list[list[str]]:
    return [
        [code, town, community, category, "", "使用", f"问题{code}", "", "", "整改。", deadline, key]
        for code, town, community, category, deadline, key in ITEMS
    ]


@pytest.fixture
def city(cli: Cli, tmp_path: Path) -> Cli:
    """The sample plan with lists cut at three rows, and more overdue, key and must-finish items than that."""
    cli("init", "--plan", plan_with(tmp_path / "plan", {}, bulletin={"max_list_rows": LIMIT}), "--as-of", "2022-04-01")
    cli("ledger", "import", write_csv(tmp_path / "city.csv", _ledger_rows()), "--as-of", "2022-04-08")
    close(cli, "A-08", "东城街道", "民政局", "2022-09-20")
    return cli


def _issue(out: Path, as_of: str = AS_OF):  # noqa: ANN202
    with session_scope() as session:
        return issue(
            session,
            current_plan(session),
            period="2022-10",
            kind="monthly",
            as_of=date.fromisoformat(as_of),
            out_dir=out,
        )


def _table_after(word, title: str) -> list[list[str]]:
    """The rows (header first) of the table that follows the paragraph `title`."""
    content = list(word.iter_inner_content())
    at = next(i for i, part in enumerate(content) if isinstance(part, DocxParagraph) and part.text == title)
    table = content[at + 1]
    assert isinstance(table, DocxTable)
    return [[cell.text for cell in row.cells] for row in table.rows]


def _texts(word) -> list[str]:
    return [p.text for p in word.paragraphs]


def _sheet_rows(path: Path, index: int) -> tuple[str, list[tuple]]:
    sheet = load_workbook(path).worksheets[index]
    return sheet.title, [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_body_shows_the_first_rows_and_says_how_many_more_and_where(city: Cli, tmp_path: Path) -> None:
    assert len(OVERDUE) > LIMIT and len(KEY) > LIMIT and len(MUST_OPEN) > LIMIT
    issued = _issue(tmp_path / "out")
    word = WordDocument(str(issued.docx))
    texts = _texts(word)

    overdue = _table_after(word, "表4  逾期未完成整改问题清单")
    assert overdue[0] == ["问题编号", "镇办", "社区", "设施类别", "完成时限", "逾期工作日"]
    shown = OVERDUE[:LIMIT]  # the first three in code order
    assert [row[0] for row in overdue[1:]] == [c + ("（重点难点）" if BY_CODE[c][5] == "是" else "") for c in shown]
    assert [row[1:5] for row in overdue[1:]] == [list(BY_CODE[c][1:5]) for c in shown]
    assert all(int(row[5]) > 0 for row in overdue[1:])
    assert f"注：本表列出前{LIMIT}项，另有{len(OVERDUE) - LIMIT}项，详见附件1。" in texts

    key = _table_after(word, "表6  重点难点问题进展")
    assert [row[0] for row in key[1:]] == KEY[:LIMIT]
    assert f"注：本表列出前{LIMIT}项，另有{len(KEY) - LIMIT}项，详见附件2。" in texts

    must = next(t for t in texts if t.startswith("城镇居住区幼儿园、社区用房专项整治共"))
    assert must.endswith(
        f"尚未销号{len(MUST_OPEN)}项：{'、'.join(MUST_OPEN[:LIMIT])}（另有{len(MUST_OPEN) - LIMIT}项，详见附件3）。"
    )

    # 附件说明: after the body, one blank line, two characters in; then the signature, one line below.
    start = texts.index(ANNEX_LINES[0])
    assert texts[start : start + 3] == ANNEX_LINES
    assert texts[start - 1] == "" and texts[start - 2].startswith("（四）重点难点问题由主要负责同志")
    assert texts[start + 3] == "" and texts[start + 4] == "XX区社区配套设施规划建设管理工作领导小组办公室"
    indents = ((600, 400), (600, 100), (600, 100))  # hundredths of a character: "附件：1." hangs, "2." under "1."
    for paragraph, (left, hanging) in zip(word.paragraphs[start : start + 3], indents, strict=True):
        ind = paragraph._p.pPr.find(qn("w:ind"))
        assert (int(ind.get(qn("w:leftChars"))), int(ind.get(qn("w:hangingChars")))) == (left, hanging)


def test_the_annex_workbook_holds_every_row(city: Cli, tmp_path: Path) -> None:
    issued = _issue(tmp_path / "out")
    assert issued.annex == tmp_path / "out" / f"{issued.docx.stem}-附件.xlsx"
    workbook = load_workbook(issued.annex)
    assert workbook.sheetnames == [
        "附件1 逾期未完成整改问题清单",
        "附件2 重点难点问题进展清单",
        "附件3 城镇居住区幼儿园、社区用房专项整治未销号问题清单"[:31],
    ]
    title, rows = _sheet_rows(issued.annex, 0)
    assert rows[0][0] == "附件1" and rows[1][0] == "逾期未完成整改问题清单"
    assert rows[2] == ("序号", "问题编号", "镇办", "社区", "设施类别", "完成时限", "逾期工作日")
    data = rows[3:]
    assert [r[0] for r in data] == list(range(1, len(OVERDUE) + 1))
    assert {r[1].removesuffix("（重点难点）") for r in data} == set(OVERDUE)
    assert [r[1].removesuffix("（重点难点）") for r in data] == OVERDUE  # the body's order
    for r in data:
        code = r[1].removesuffix("（重点难点）")
        assert r[2:5] == BY_CODE[code][1:4]  # clerk text as typed: "=HYPERLINK(...)" stays text
        assert r[5] == datetime.fromisoformat(BY_CODE[code][4]) and isinstance(r[6], int) and r[6] > 0
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == f"A3:G{3 + len(OVERDUE)}"
    community = sheet.cell(row=4 + OVERDUE.index("A-09"), column=4)  # A-09's, as typed and not a formula
    assert community.data_type == "s" and community.value == BY_CODE["A-09"][2]
    assert {r[1] for r in _sheet_rows(issued.annex, 1)[1][3:]} == set(KEY)
    must = _sheet_rows(issued.annex, 2)[1]
    assert must[2] == ("序号", "问题编号", "镇办", "社区", "设施类别", "状态", "完成时限")
    assert [r[1:5] for r in must[3:]] == [BY_CODE[c][:4] for c in MUST_OPEN]


def test_the_annex_goes_with_the_email_and_a_reprint_changes_nothing(city: Cli, tmp_path: Path) -> None:
    first = _issue(tmp_path / "a")
    with session_scope() as session:
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()
    assert queued and all(m.attachments == [str(first.docx), str(first.pdf), str(first.annex)] for m in queued)
    close(city, "A-01", "白云镇", "民政局", "2022-11-02")  # later changes do not alter an issued bulletin
    again = _issue(tmp_path / "b", as_of="2022-11-05")
    assert (again.new, again.record.number, again.record.figures) == (False, first.record.number, first.record.figures)
    assert again.html.read_text(encoding="utf-8") == first.html.read_text(encoding="utf-8")
    for index in range(3):
        assert _sheet_rows(again.annex, index) == _sheet_rows(first.annex, index)
    assert _texts(WordDocument(str(again.docx))) == _texts(WordDocument(str(first.docx)))
    with session_scope() as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()) == len(queued)


def test_html_and_pdf_show_the_same_cut_lists_and_annex_line(city: Cli, tmp_path: Path) -> None:
    issued = _issue(tmp_path / "out")
    html = issued.html.read_text(encoding="utf-8")
    table = html.split("表4  逾期未完成整改问题清单")[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + LIMIT
    assert f"另有{len(OVERDUE) - LIMIT}项，详见附件1" in html
    assert all(line in html for line in ANNEX_LINES)
    text = subprocess.run(
        ["pdftotext", str(issued.pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    flat = "".join(text.split())
    assert f"注：本表列出前{LIMIT}项，另有{len(OVERDUE) - LIMIT}项，详见附件1。" in flat
    assert "".join(ANNEX_LINES) in flat
    assert "A-04" not in text.split("表4")[1].split("注：")[0]  # the fourth overdue item is not in the body
    assert "附件：1.逾期未完成整改问题清单" in issued.markdown


def test_campaign_bulletin_lists_are_cut_too(tmp_path: Path) -> None:
    plan = parse_plan(PLAN.read_text(encoding="utf-8").replace("max_list_rows: 30", f"max_list_rows: {LIMIT}"))
    missing = [_campaign_item(f"C-{n:02d}", "missing") for n in range(1, 6)]
    answered = [_campaign_item(f"C-{n:02d}", "on_time") for n in range(6, 10)]
    record = _campaign_record(missing + answered, max_list_rows=plan.bulletin.max_list_rows)
    document = campaign_build(plan, record)
    blocks = list(document.blocks)
    tables = {b.title: b for b in blocks if isinstance(b, Table)}
    assert [r[0] for r in tables["表2  未反馈问题清单"].rows] == ["C-01", "C-02", "C-03"]
    assert [r[0] for r in tables["表3  督导问题整改进展及承诺完成时限"].rows] == ["C-06", "C-07", "C-08"]
    notes = [b.text for b in blocks if isinstance(b, Paragraph) and b.text.startswith("注：")]
    assert notes == [
        f"注：本表列出前{LIMIT}项，另有{len(missing) - LIMIT}项，详见附件1。",
        f"注：本表列出前{LIMIT}项，另有{len(answered) - LIMIT}项，详见附件2。",
    ]
    files = write_files(document, tmp_path, "campaign")
    assert files.attachments() == [str(tmp_path / n) for n in ("campaign.docx", "campaign.pdf", "campaign-附件.xlsx")]
    assert [r[1] for r in _sheet_rows(files.annex, 0)[1][3:]] == [r["code"] for r in missing]
    assert [r[1] for r in _sheet_rows(files.annex, 1)[1][3:]] == [r["code"] for r in answered]
    texts = _texts(WordDocument(str(files.docx)))
    start = texts.index("附件：1.未反馈问题清单")
    assert texts[start : start + 2] == ["附件：1.未反馈问题清单", "2.督导问题整改进展及承诺完成时限清单"]


def test_a_bulletin_issued_before_lists_were_cut_is_reprinted_as_issued(tmp_path: Path) -> None:
    plan = parse_plan(PLAN.read_text(encoding="utf-8"))
    items = [_campaign_item(f"C-{n:02d}", "missing") for n in range(1, 41)]
    document = campaign_build(plan, _campaign_record(items, max_list_rows=None))
    (table,) = [b for b in document.blocks if isinstance(b, Table) and b.title.startswith("表2")]
    assert len(table.rows) == 40 and document.annexes == ()
    files = write_files(document, tmp_path, "old")
    assert files.annex is None and files.attachments() == [str(files.docx), str(files.pdf)]
    assert not [t for t in _texts(WordDocument(str(files.docx))) if t.startswith("附件")]


def test_one_annex_is_named_without_a_number() -> None:
    draft = [
        LongTable("表1  清单", ("问题编号",), (("X-1",), ("X-2",)), annex="甲清单"),
        LongTable("表2  空表", ("问题编号",), (), annex="乙清单"),
        LongList("尚有：", (), "。", annex="丙清单", header=("问题编号",), rows=()),
    ]
    blocks, annexes = settle(draft, 1)
    assert [(a.label, a.name, a.rows) for a in annexes] == [("附件", "甲清单", (("X-1",), ("X-2",)))]
    assert Paragraph("注：本表列出前1项，另有1项，详见附件。") in blocks
    assert Paragraph("尚有：无。") in blocks
    from duban.bulletin.document import annex_lines

    assert [(line.text, line.left, line.hanging) for line in annex_lines(annexes)] == [("附件：甲清单", 5, 3)]


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "数值过小"), ("-5", "数值过小"), ("true", "须为整数"), ('"30"', "须为整数"), ("2.5", "须为整数")],
)
def test_max_list_rows_must_be_a_positive_whole_number(value: str, message: str) -> None:
    text = PLAN.read_text(encoding="utf-8").replace("max_list_rows: 30", f"max_list_rows: {value}")
    with pytest.raises(PlanError, match=f"bulletin.max_list_rows：{message}"):
        parse_plan(text, "plan.yaml")


def test_a_plan_without_max_list_rows_still_loads(tmp_path: Path) -> None:
    assert load_plan(PLAN)[0].bulletin.max_list_rows == 30
    lines = [line for line in PLAN.read_text(encoding="utf-8").splitlines() if "max_list_rows" not in line]
    (tmp_path / "old.yaml").write_text("\n".join(lines), encoding="utf-8")
    assert load_plan(tmp_path / "old.yaml")[0].bulletin.max_list_rows == 30


def _campaign_item(code: str, answer: str) -> dict:
    answered = answer != "missing"
    return {
        "code": code,
        "unit": "河东镇",
        "lead_department": "教体局",
        "township": "河东镇",
        "community": "河东社区",
        "category": "教育设施",
        "key_difficult": False,
        "status_at_start": "planned",
        "status": "in_progress",
        "deadline": "2022-12-31",
        "answer": answer,
        "responded_on": "2022-11-08" if answered else None,
        "progress": "",
        "measures": "",
        "promised_by": "2022-12-20" if answered else None,
    }


def _campaign_record(items: list[dict], *, max_list_rows: int | None) -> BulletinRecord:
    counts = {k: sum(r["answer"] == k for r in items) for k in ("on_time", "late", "missing")}
    figures = {
        "as_of": "2022-11-17",
        "campaign": {
            "id": 1,
            "title": "城镇居住区幼儿园专项督导",
            "scope": "设施类型为幼儿园的问题",
            "started_on": "2022-11-01",
            "started_by": "区配套办",
            "due": "2022-11-10",
            "closes_on": "2022-11-17",
            "closed_on": "2022-11-17",
            "stage": "closed",
        },
        "totals": {"items": len(items), "units": 1, **counts, "closed_since": 0},
        "units": [{"unit": "河东镇", "items": len(items), **counts, "level": 2}],
        "items": items,
    }
    if max_list_rows is not None:
        figures["max_list_rows"] = max_list_rows
    return BulletinRecord(
        year=2022,
        kind="campaign",
        period="1",
        number=9,
        issue=2,
        as_of=date(2022, 11, 17),
        title="",
        figures=figures,
        created_at=datetime(2022, 11, 17),
    )
