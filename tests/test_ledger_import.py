"""Importing the ledger: the sample, a re-import, a corrected version, and a corpus of bad files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import SAMPLE, Cli, db_digest, sample_rows
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from duban import audit
from duban.db import session_scope
from models import LedgerItem, RectificationPlan

HEADER = [
    "问题编号",
    "镇办",
    "社区",
    "设施类别",
    "设施类型",
    "问题环节",
    "问题描述",
    "牵头部门",
    "责任单位",
    "整改措施",
    "完成时限",
    "重点难点",
]
GOOD = [
    "T-001",
    "河东镇",
    "河东社区",
    "教育设施",
    "幼儿园",
    "移交",
    "幼儿园未移交。",
    "",
    "",
    "督促移交。",
    "2022-09-30",
    "否",
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def status_json(cli: Cli, as_of: str) -> dict:
    return json.loads(cli("status", "--as-of", as_of, "--json").output)


def test_sample_import_counts(imported: Cli, home: Path) -> None:
    rows = sample_rows()
    data = status_json(imported, "2022-04-08")
    assert data["items"]["total"] == len(rows) == 66
    assert data["items"]["by_township"] == dict(Counter(r["镇办"] for r in rows))
    planned = sum(1 for r in rows if r["整改措施"])
    assert data["items"]["by_status"]["planned"] == planned
    assert data["items"]["by_status"]["open"] == len(rows) - planned
    with session_scope() as session:
        items = session.exec(select(LedgerItem)).all()
        codes = sorted(i.code for i in items)
        # Blank codes are generated after the highest code in the file, in row order.
        blank = [r for r in rows if not r["问题编号"]]
        given = sorted(r["问题编号"] for r in rows if r["问题编号"])
        highest = max(int(c.split("-")[1]) for c in given)
        generated = [f"PT2022-{highest + n:04d}" for n in range(1, len(blank) + 1)]
        assert codes == sorted(given + generated)
        by_code = {i.code: i for i in items}
        for row, code in zip(blank, generated, strict=True):
            assert by_code[code].community == row["社区"]
        # Defaults: the township is the responsible unit; the lead department follows the category.
        first = by_code["PT2022-0001"]
        assert (first.responsible_unit, first.lead_department, first.category) == (
            "城关街道",
            "民政局",
            "community_premises",
        )
        assert by_code["PT2022-0015"].lead_department == "住建局"
        key_rows = {r["问题编号"] for r in rows if r["重点难点"] == "是"}
        assert {i.code for i in items if i.key_difficult} == key_rows
        assert len(session.exec(select(RectificationPlan)).all()) == planned


def test_reimport_changes_nothing(imported: Cli, home: Path) -> None:
    before = db_digest(home)
    result = imported("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    assert "新增 0 项，更新 0 项，整治方案修订 0 项，无变化 66 项" in result.output
    assert db_digest(home) == before


def test_corrected_version_updates_and_audits(imported: Cli, tmp_path: Path) -> None:
    rows = sample_rows()
    by_code = {r["问题编号"]: r for r in rows}
    by_code["PT2022-0003"]["问题描述"] = "文庙街社区日间照料中心面积不足，经复核缺口约260平方米。"
    by_code["PT2022-0005"]["完成时限"] = "2022-11-30"
    by_code["PT2022-0007"]["重点难点"] = "是"
    rows.append({**by_code["PT2022-0001"], "问题编号": "", "社区": "新建社区", "问题描述": "新发现的问题。"})
    path = write_csv(tmp_path / "台账-更正.csv", [[r[h] for h in HEADER] for r in rows])

    result = imported("ledger", "import", path, "--as-of", "2022-05-06")
    assert "新增 1 项，更新 2 项，整治方案修订 1 项，无变化 63 项" in result.output
    assert "系统生成问题编号：PT2022-0067" in result.output
    with session_scope() as session:
        history = audit.history(session, "item", "PT2022-0003")
        assert history[-1].action == "update"
        assert history[-1].before == {
            "description": "文庙街社区日间照料中心建筑面积仅120平方米，低于每百户不少于20平方米"
            "的配建标准，辖区1850户，面积缺口约250平方米。"
        }
        assert history[-1].after == {"description": "文庙街社区日间照料中心面积不足，经复核缺口约260平方米。"}
        assert history[-1].effective_on == date(2022, 5, 6)
        plans = session.exec(
            select(RectificationPlan)
            .join(LedgerItem)
            .where(LedgerItem.code == "PT2022-0005")
            .order_by(RectificationPlan.revision)
        )
        assert [(p.revision, p.deadline) for p in plans] == [(1, date(2022, 12, 31)), (2, date(2022, 11, 30))]
    # And that corrected file is now the ledger: importing it again changes nothing.
    assert "无变化 67 项" in imported("ledger", "import", path, "--as-of", "2022-05-06").output


def test_xlsx_with_date_cells_imports_like_csv(initialised: Cli, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号"] + HEADER)
    sheet.append([1] + GOOD[:10] + [datetime(2022, 9, 30)] + ["是"])
    sheet.append(
        [2, "", "河西镇", "河西社区", "社区用房", None, "使用", "社区用房被挤占。", None, None, None, None, None]
    )
    workbook.save(tmp_path / "ledger.xlsx")
    initialised("ledger", "import", tmp_path / "ledger.xlsx", "--as-of", "2022-04-08")
    with session_scope() as session:
        items = {i.code: i for i in session.exec(select(LedgerItem))}
        assert set(items) == {"T-001", "PT2022-0001"}
        assert items["T-001"].key_difficult is True and items["T-001"].status == "planned"
        assert items["PT2022-0001"].status == "open"
        plan = session.exec(select(RectificationPlan)).one()
        assert plan.deadline == date(2022, 9, 30)


def test_export_round_trips_and_template_has_dropdowns(imported: Cli, home: Path, tmp_path: Path) -> None:
    imported("ledger", "export", tmp_path / "out.xlsx")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    header = [c.value for c in sheet[1]]
    assert header == HEADER + ["状态", "整改进度", "方案版本"]
    assert sheet.max_row == 67
    exported = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert exported["PT2022-0001"][12] == "已制定方案" and exported["PT2022-0004"][12] == "已建账"
    assert exported["PT2022-0001"][10] == datetime(2022, 6, 30)
    before = db_digest(home)
    assert "无变化 66 项" in imported("ledger", "import", tmp_path / "out.xlsx", "--as-of", "2022-04-08").output
    assert db_digest(home) == before

    imported("ledger", "template", tmp_path / "blank.xlsx")
    template = load_workbook(tmp_path / "blank.xlsx")
    sheet = template["台账"]
    assert [c.value for c in sheet[1]] == HEADER
    lists = {
        str(v.sqref).split(":")[0][0]: v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"
    }
    choices = template["选项"]
    assert choices.sheet_state == "hidden"

    def options(formula: str) -> list[str]:
        column = formula.split("!$")[1][0]
        return [c.value for c in choices[column][1:] if c.value]

    assert options(lists["B"])[:2] == ["城关街道", "东城街道"] and len(options(lists["B"])) == 12
    assert options(lists["D"]) == [
        "教育设施",
        "社区用房",
        "养老服务设施",
        "便民商业设施",
        "体育设施",
        "医疗卫生设施",
        "社区食堂",
    ]
    assert "幼儿园" in options(lists["E"]) and "便利店" in options(lists["E"])
    assert options(lists["F"]) == ["规划", "建设", "移交", "使用"]


# -- the bad-file corpus: every file gets its precise error and leaves the database as it was ------


def _rows(*changes: dict[int, str]) -> list[list[str]]:
    rows = []
    for n, change in enumerate(changes):
        row = list(GOOD)
        row[0] = f"T-{n + 1:03d}"
        for index, value in change.items():
            row[index] = value
        rows.append(row)
    return rows


def _csv(rows: list[list[str]], header: list[str] = HEADER):
    return lambda path: write_csv(path.with_suffix(".csv"), rows, header)


def _raw(suffix: str, data: bytes):
    def build(path: Path) -> Path:
        target = path.with_suffix(suffix)
        target.write_bytes(data)
        return target

    return build


def _xlsx(rows: list[list[object]]):
    def build(path: Path) -> Path:
        workbook = Workbook()
        workbook.active.append(HEADER)
        for row in rows:
            workbook.active.append(row)
        target = path.with_suffix(".xlsx")
        workbook.save(target)
        return target

    return build


BAD_FILES = {
    "unknown township": (_csv(_rows({1: "城东街道"})), ["第2行 B列“镇办”：不是本区的镇办", "（值：“城东街道”）"]),
    "unknown category": (_csv(_rows({3: "教育"})), ["第2行 D列“设施类别”：未知设施类别", "（值：“教育”）"]),
    "stage outside the four": (
        _csv(_rows({5: "验收"})),
        ["第2行 F列“问题环节”：问题环节只能是规划、建设、移交、使用", "（值：“验收”）"],
    ),
    "bad date": (_csv(_rows({10: "下月底"})), ["第2行 K列“完成时限”：不是有效日期", "（值：“下月底”）"]),
    "impossible date": (
        _csv(_rows({10: "2022-02-30"})),
        ["第2行 K列“完成时限”：日期不存在（2022年2月没有30日）", "（值：“2022-02-30”）"],
    ),
    "duplicate code": (_csv(_rows({}, {0: "T-001"})), ["第3行 A列“问题编号”：问题编号与第2行重复", "（值：“T-001”）"]),
    "missing required cell": (_csv(_rows({2: ""})), ["第2行 C列“社区”：必填项为空"]),
    "empty sheet": (_raw(".csv", b""), ["是空表"]),
    "header only": (_csv([]), ["只有表头，没有数据行"]),
    "not a spreadsheet": (_raw(".pdf", b"%PDF-1.4\n"), ["不是电子表格：仅支持 .xlsx 和 .csv 文件"]),
    "text renamed to .xlsx": (_raw(".xlsx", "问题编号,镇办\n".encode()), ["不是有效的 Excel (.xlsx) 文件"]),
    "old .xls": (_raw(".xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100), ["旧版 .xls 格式"]),
    "binary data named .csv": (_raw(".csv", b"PK\x03\x04\x00\x00binary"), ["含二进制内容"]),
    "missing required column": (_csv([GOOD[:6] + GOOD[7:]], HEADER[:6] + HEADER[7:]), ["缺少必填列“问题描述”"]),
    "unknown column": (
        _csv(_rows({}), HEADER[:10] + ["完成时间", "重点难点"]),
        ["第1行 K列：无法识别的列名", "（值：“完成时间”）"],
    ),
    "type not of the category": (
        _csv(_rows({4: "便利店"})),
        ["第2行 E列“设施类型”：不是“教育设施”的设施类型（可选：中学、小学、幼儿园）"],
    ),
    "not yes or no": (_csv(_rows({11: "可能"})), ["第2行 L列“重点难点”：只能填写“是”或“否”", "（值：“可能”）"]),
    "measures without deadline": (_csv(_rows({10: ""})), ["第2行 K列“完成时限”：已填写整改措施，须同时填写完成时限"]),
    "unknown lead department": (_csv(_rows({7: "教育局"})), ["第2行 H列“牵头部门”：不是方案中的牵头部门"]),
    "duplicate header": (_csv(_rows({}), HEADER[:11] + ["镇办"]), ["第1行 L列：列“镇办”重复出现（已在B列）"]),
    "xlsx with a bad cell": (_xlsx([GOOD[:1] + ["西关街道"] + GOOD[2:]]), ["第2行 B列“镇办”", "（值：“西关街道”）"]),
    "three bad rows, all reported": (
        _csv(_rows({1: "城东街道"}, {}, {5: "验收", 10: "2022-13-01"})),
        ["共发现 3 处问题", "第2行 B列“镇办”", "第4行 F列“问题环节”", "第4行 K列“完成时限”"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_refused_and_changes_nothing(case: str, imported: Cli, home: Path, tmp_path: Path) -> None:
    build, expected = BAD_FILES[case]
    path = build(tmp_path / "坏台账")
    before = db_digest(home)
    result = imported("ledger", "import", path, "--as-of", "2022-05-06", status=2)
    message = result.output
    assert path.name in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message}"
    assert db_digest(home) == before


def test_department_may_not_file_another_departments_problem(imported: Cli, home: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "民政局台账.csv", _rows({}))  # a kindergarten: 教体局's category
    before = db_digest(home)
    result = imported("ledger", "import", path, "--by", "民政局", "--as-of", "2022-05-06", status=2)
    assert "第2行：民政局无权导入或修改牵头部门为“教体局”的问题" in result.output
    assert db_digest(home) == before
    imported("ledger", "import", path, "--by", "教体局", "--as-of", "2022-05-06")


def test_closed_item_cannot_be_edited_by_import(imported: Cli, home: Path, tmp_path: Path) -> None:
    from conftest import EVIDENCE

    code = "PT2022-0001"
    for target, by, extra in (
        ("in_progress", "城关街道", []),
        ("close_requested", "城关街道", ["--note", "完成", "--evidence", EVIDENCE]),
        ("verified", "民政局", []),
        ("closed", "区配套办", []),
    ):
        imported("item", "transition", code, "--to", target, "--by", by, "--as-of", "2022-06-30", *extra)
    rows = sample_rows()
    rows[0]["问题描述"] = "改写"
    path = write_csv(tmp_path / "改写.csv", [[r[h] for h in HEADER] for r in rows])
    before = db_digest(home)
    result = imported("ledger", "import", path, "--as-of", "2022-07-01", status=2)
    assert "第2行 A列“问题编号”：该问题已销号，不能再通过导入修改（值：“PT2022-0001”）" in result.output
    assert db_digest(home) == before
