"""Monthly report forms: a corpus of bad forms, each refused with its exact message, and a good one.

Every bad form is submitted with `duban report submit` for the October 2022 round. It must be refused
with exit status 2 and a Chinese message that names the file, the row, the column (letter and title)
and the offending value, and it must leave the SQLite file byte-for-byte as it was.

The round: the small ledger (A-1, A-2 in 河东镇; A-3, A-4 in 河西镇) opened on 2022-10-01. In a
generated 河东镇 form the header is row 2, A-1 is row 3 and A-2 is row 4; the columns are
A 问题编号 … G 到期时间节点 (pre-filled and locked), H 整改进度（%） … M 时间节点已完成 (for the clerk).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Cli, KeptHomes, db_digest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from reporting_helpers import fill_form, load_small_ledger
from sqlmodel import col, select

from duban.db import session_scope
from duban.reporting.reports import lines_of
from models import Submission, SubmissionLine, SubmissionVersion

UNIT, PERIOD, DAY = "河东镇", "2022-10", "2022-10-08"
FILLED: dict[str, dict[str, object]] = {
    "A-1": {"整改进度（%）": 40, "工作状态": "推进中", "本月进展": "已与承租方谈判。", "时间节点已完成": "否"},
    "A-2": {"整改进度（%）": 60, "工作状态": "推进中", "本月进展": "产权移交资料已报送。"},
}
PROGRESS, STATE, DONE = "H列“整改进度（%）”", "I列“工作状态”", "M列“时间节点已完成”"

Edit = Callable[[Workbook], None]
Build = Callable[[Cli, Path], Path]


@pytest.fixture
def october(initialised: Cli, home: Path, tmp_path: Path, kept_homes: KeptHomes) -> Cli:
    """The small ledger, and the October 2022 round opened on 2022-10-01."""

    def build() -> None:
        load_small_ledger(initialised, tmp_path)
        initialised("tick", "--as-of", "2022-10-01")

    kept_homes.restore("report-forms-october", home, build)
    return initialised


def submit(
    cli: Cli,
    path: Path,
    *,
    unit: str = UNIT,
    period: str = PERIOD,
    day: str = DAY,
    draft: bool = False,
    status: int = 0,
) -> Result:
    extra = ["--draft"] if draft else []
    return cli("report", "submit", path, "--unit", unit, "--period", period, "--as-of", day, *extra, status=status)


def make_form(cli: Cli, path: Path, unit: str = UNIT, period: str = PERIOD) -> Path:
    """A generated form; 河东镇's is filled in correctly, as a clerk would."""
    cli("report", "form", "--unit", unit, "--period", period, path)
    return fill_form(path, FILLED) if unit == UNIT else path


# -- editing a generated form ------------------------------------------------------------------------


def _sheet(workbook: Workbook) -> Worksheet:
    return workbook["填报"]


def _row_of(sheet: Worksheet, code: str) -> int:
    return next(r for r in range(3, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == code)


def _column_of(sheet: Worksheet, title: str) -> int:
    return [c.value for c in sheet[2]].index(title) + 1


def _set(code: str, title: str, value: object) -> Edit:
    """Put a value in an item's cell, whether the column is open or locked."""

    def edit(workbook: Workbook) -> None:
        sheet = _sheet(workbook)
        # Assign rather than pass value= to sheet.cell(), which ignores None and so cannot clear a cell.
        sheet.cell(row=_row_of(sheet, code), column=_column_of(sheet, title)).value = value

    return edit


def _copy_row(code: str) -> Edit:
    """Append a copy of an item's row below the last row."""

    def edit(workbook: Workbook) -> None:
        sheet = _sheet(workbook)
        sheet.append([c.value for c in sheet[_row_of(sheet, code)]])

    return edit


def _append(values: dict[str, object]) -> Edit:
    def edit(workbook: Workbook) -> None:
        sheet = _sheet(workbook)
        header = [c.value for c in sheet[2]]
        sheet.append([values.get(title) for title in header])

    return edit


def _delete_row(code: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        sheet = _sheet(workbook)
        sheet.delete_rows(_row_of(sheet, code))

    return edit


def _header(letter: str, value: object) -> Edit:
    def edit(workbook: Workbook) -> None:
        _sheet(workbook)[f"{letter}2"] = value

    return edit


def _insert_column(index: int, title: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        sheet = _sheet(workbook)
        sheet.insert_cols(index)
        sheet.cell(row=2, column=index, value=title)

    return edit


def _meta(key: str, value: object) -> Edit:
    """Change the hidden 表单信息 sheet (单位, 报送期, 类型, 截止日期)."""

    def edit(workbook: Workbook) -> None:
        for row in workbook["表单信息"].iter_rows():
            if row[0].value == key:
                row[1].value = value

    return edit


def _drop_sheet(name: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        del workbook[name]

    return edit


def _rename_sheet(name: str, new: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        workbook[name].title = new

    return edit


def _form(*edits: Edit, unit: str = UNIT) -> Build:
    """A generated form (filled correctly for 河东镇), then edited."""

    def build(cli: Cli, target: Path) -> Path:
        path = make_form(cli, target.with_suffix(".xlsx"), unit)
        workbook = load_workbook(path)
        for edit in edits:
            edit(workbook)
        workbook.save(path)
        return path

    return build


def _raw(suffix: str, data: bytes) -> Build:
    def build(_cli: Cli, target: Path) -> Path:
        path = target.with_suffix(suffix)
        path.write_bytes(data)
        return path

    return build


def _foreign_xlsx(_cli: Cli, target: Path) -> Path:
    """A workbook that looks like the form but that duban did not generate: no 表单信息 sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "填报"
    sheet.append(["河东镇月报"])
    sheet.append(["问题编号", "社区", "设施类别", "问题描述", "牵头部门", "完成时限", "到期时间节点", "整改进度（%）"])
    sheet.append(["A-1", "河东社区", "社区用房", "社区用房被挤占。", "民政局", datetime(2022, 10, 14), None, 40])
    path = target.with_suffix(".xlsx")
    workbook.save(path)
    return path


# -- the bad-form corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BadForm:
    build: Build
    expected: list[str]
    unit: str = UNIT  # the --unit given to `report submit`
    period: str = PERIOD
    names_file: bool = True  # False for a unit's own problem, which has nothing to do with the file


BAD_FORMS: dict[str, BadForm] = {
    # Whose form, which month.
    "another unit's form": BadForm(_form(unit="河西镇"), ["是“河西镇”的填报表，不能作为“河东镇”的报表提交"]),
    "submitted for a period not yet opened": BadForm(
        _form(), ["是2022-10的填报表，不能作为2022-11的报表提交"], period="2022-11"
    ),
    "unit with no request this period": BadForm(
        _form(_meta("单位", "青山镇")),
        ["青山镇在2022年10月没有报送任务（无未销号的台账问题）"],
        unit="青山镇",
        names_file=False,
    ),
    "unknown unit": BadForm(
        _form(_meta("单位", "东山镇")),
        ["未知单位“东山镇”：不在实施方案的组织体系中"],
        unit="东山镇",
        names_file=False,
    ),
    # Locked, pre-filled cells.
    "edited description": BadForm(
        _form(_set("A-1", "问题描述", "社区用房已收回。")),
        ["第3行 D列“问题描述”：此列为系统预填内容，不得修改（应为“社区用房被挤占。”）（值：“社区用房已收回。”）"],
    ),
    "edited community": BadForm(
        _form(_set("A-2", "社区", "河东社区")),
        ["第4行 B列“社区”：此列为系统预填内容，不得修改（应为“新河社区”）（值：“河东社区”）"],
    ),
    "edited deadline": BadForm(
        _form(_set("A-1", "完成时限", datetime(2022, 12, 31))),
        ["第3行 F列“完成时限”：此列为系统预填内容，不得修改（应为“2022-10-14”）（值：“2022-12-31”）"],
    ),
    "cleared lead department": BadForm(
        _form(_set("A-2", "牵头部门", None)),
        ["第4行 E列“牵头部门”：此列为系统预填内容，不得修改（应为“教体局”）（值：“（空）”）"],
    ),
    # 整改进度（%）.
    "progress above 100": BadForm(
        _form(_set("A-1", "整改进度（%）", 120)), [f"第3行 {PROGRESS}：整改进度须在0至100之间（值：“120”）"]
    ),
    "negative progress": BadForm(
        _form(_set("A-2", "整改进度（%）", -5)), [f"第4行 {PROGRESS}：整改进度须在0至100之间（值：“-5”）"]
    ),
    "progress in words": BadForm(
        _form(_set("A-1", "整改进度（%）", "一半")), [f"第3行 {PROGRESS}：整改进度须为0至100的整数（值：“一半”）"]
    ),
    "progress with decimals": BadForm(
        _form(_set("A-1", "整改进度（%）", 33.5)), [f"第3行 {PROGRESS}：整改进度须为整数（值：“33.5”）"]
    ),
    "progress blank": BadForm(
        _form(_set("A-2", "整改进度（%）", None)), [f"第4行 {PROGRESS}：整改进度为必填项（0至100的整数）"]
    ),
    "progress only spaces": BadForm(
        _form(_set("A-2", "整改进度（%）", "   ")), [f"第4行 {PROGRESS}：整改进度为必填项（0至100的整数）"]
    ),
    # 问题编号 and rows.
    "row added with an unknown code": BadForm(
        _form(_append({"问题编号": "A-9", "整改进度（%）": 10, "工作状态": "推进中"})),
        ["第5行 A列“问题编号”：不是本单位本期报送范围内的问题编号（请勿增加行或修改编号）（值：“A-9”）"],
    ),
    "code changed to another township's item": BadForm(
        _form(_set("A-2", "问题编号", "A-3")),
        [
            "共发现 2 处问题",
            "第4行 A列“问题编号”：不是本单位本期报送范围内的问题编号（请勿增加行或修改编号）（值：“A-3”）",
            ".xlsx：缺少问题A-2的填报行（请勿删除行）",
        ],
    ),
    "row added without a code": BadForm(
        _form(_append({"整改进度（%）": 10, "工作状态": "推进中", "本月进展": "新发现的问题。"})),
        ["第5行 A列“问题编号”：不是本单位本期报送范围内的问题编号（请勿增加行或修改编号）\n"],
    ),
    "duplicated row": BadForm(_form(_copy_row("A-1")), ["第5行 A列“问题编号”：问题编号与第3行重复（值：“A-1”）"]),
    "deleted row": BadForm(_form(_delete_row("A-2")), [".xlsx：缺少问题A-2的填报行（请勿删除行）"]),
    "every row deleted": BadForm(
        _form(_delete_row("A-1"), _delete_row("A-2")), [".xlsx：缺少问题A-1、A-2的填报行（请勿删除行）"]
    ),
    # 工作状态 and its agreement with the progress.
    "work state not in the list": BadForm(
        _form(_set("A-1", "工作状态", "进行中")),
        [f"第3行 {STATE}：工作状态只能是未开工、推进中、已完成（值：“进行中”）"],
    ),
    "work state blank": BadForm(
        _form(_set("A-2", "工作状态", None)), [f"第4行 {STATE}：工作状态只能是未开工、推进中、已完成（值：“（空）”）"]
    ),
    "finished at 50%": BadForm(
        _form(_set("A-1", "工作状态", "已完成"), _set("A-1", "整改进度（%）", 50)),
        [f"第3行 {PROGRESS}：工作状态为“已完成”时整改进度应为100（值：“50”）"],
    ),
    "not started at 30%": BadForm(
        _form(_set("A-2", "工作状态", "未开工"), _set("A-2", "整改进度（%）", 30)),
        [f"第4行 {PROGRESS}：工作状态为“未开工”时整改进度应为0（值：“30”）"],
    ),
    "100% but still under way": BadForm(
        _form(_set("A-1", "整改进度（%）", 100)),
        [f"第3行 {STATE}：整改进度为100时工作状态应为“已完成”（值：“推进中”）"],
    ),
    # The other open columns.
    "milestones done neither yes nor no": BadForm(
        _form(_set("A-1", "时间节点已完成", "可能")), [f"第3行 {DONE}：只能填写“是”或“否”（值：“可能”）"]
    ),
    "this month's progress too long": BadForm(
        _form(_set("A-2", "本月进展", "进" * 1001)), ["第4行 J列“本月进展”：内容过长（1001字，最多1000字）"]
    ),
    "a date where text belongs": BadForm(
        _form(_set("A-1", "下月计划", datetime(2022, 11, 30))),
        ["第3行 L列“下月计划”：此处应填写文字，而不是日期（值：“2022-11-30"],
    ),
    # Not a form duban generated.
    "csv file": BadForm(
        _raw(".csv", "问题编号,整改进度（%）\nA-1,40\n".encode()), ["不是填报表：请提交系统生成的 .xlsx 填报表"]
    ),
    "pdf file": BadForm(_raw(".pdf", b"%PDF-1.4\n"), ["不是填报表：请提交系统生成的 .xlsx 填报表"]),
    "text renamed to .xlsx": BadForm(
        _raw(".xlsx", "问题编号,整改进度\nA-1,40\n".encode()),
        ["不是有效的 Excel (.xlsx) 文件，无法打开（BadZipFile）"],
    ),
    "workbook duban did not generate": BadForm(
        _foreign_xlsx, ["不是系统生成的填报表（缺少表单信息），请先用 duban report form 生成"]
    ),
    "form with its 表单信息 sheet removed": BadForm(
        _form(_drop_sheet("表单信息")), ["不是系统生成的填报表（缺少表单信息），请先用 duban report form 生成"]
    ),
    # The message blames 表单信息 although it is the data sheet that is missing (see the report).
    "form with its 填报 sheet renamed": BadForm(
        _form(_rename_sheet("填报", "河东镇10月")), ["缺少“填报”工作表（工作表被删除或改名），请重新生成填报表后填写"]
    ),
    # The header.
    "edited header": BadForm(
        _form(_header("H", "进度")), ["共发现 1 处问题", "第2行：表头被修改，请重新生成填报表后填写"]
    ),
    "column inserted": BadForm(_form(_insert_column(8, "计划进度")), ["第2行：表头被修改，请重新生成填报表后填写"]),
    # Many problems: all of them at once.
    "five problems, all reported": BadForm(
        _form(
            _set("A-1", "整改进度（%）", 120),
            _set("A-1", "问题描述", "改写"),
            _set("A-2", "工作状态", "进行中"),
            _set("A-2", "时间节点已完成", "可能"),
            _append({"问题编号": "A-9", "整改进度（%）": 10, "工作状态": "推进中"}),
        ),
        [
            "共发现 5 处问题",
            "第3行 D列“问题描述”：此列为系统预填内容，不得修改",
            f"第3行 {PROGRESS}：整改进度须在0至100之间（值：“120”）",
            f"第4行 {STATE}：工作状态只能是未开工、推进中、已完成（值：“进行中”）",
            f"第4行 {DONE}：只能填写“是”或“否”（值：“可能”）",
            "第5行 A列“问题编号”：不是本单位本期报送范围内的问题编号",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
def test_bad_form_is_refused_and_changes_nothing(case: str, october: Cli, home: Path, tmp_path: Path) -> None:
    bad = BAD_FORMS[case]
    path = bad.build(october, tmp_path / "十月月报")
    before = db_digest(home)
    message = submit(october, path, unit=bad.unit, period=bad.period, status=2).output
    assert message.startswith("错误：")
    assert (path.name in message) == bad.names_file
    for fragment in bad.expected:
        assert fragment in message, f"{fragment!r} not in {message}"
    assert db_digest(home) == before


def test_missing_file_is_refused(october: Cli, home: Path, tmp_path: Path) -> None:
    before = db_digest(home)
    message = submit(october, tmp_path / "没有这个文件.xlsx", status=2).output
    assert "找不到文件" in message and "没有这个文件.xlsx" in message
    assert db_digest(home) == before


def test_form_for_the_wrong_period_when_both_rounds_are_open(october: Cli, home: Path, tmp_path: Path) -> None:
    october("tick", "--as-of", "2022-11-01")
    october_form = make_form(october, tmp_path / "河东镇10月.xlsx")
    november_form = make_form(october, tmp_path / "河东镇11月.xlsx", period="2022-11")
    before = db_digest(home)
    refused = submit(october, october_form, period="2022-11", day="2022-11-04", status=2).output
    assert "文件 河东镇10月.xlsx 是2022-10的填报表，不能作为2022-11的报表提交" in refused
    refused = submit(october, november_form, period="2022-10", day="2022-11-04", status=2).output
    assert "文件 河东镇11月.xlsx 是2022-11的填报表，不能作为2022-10的报表提交" in refused
    assert db_digest(home) == before
    assert "河东镇2022-11报表已报送：第1版" in submit(october, november_form, period="2022-11", day="2022-11-04").output


def test_no_form_for_a_unit_without_a_request(october: Cli, home: Path, tmp_path: Path) -> None:
    before = db_digest(home)
    for unit, message in (
        ("青山镇", "青山镇在2022年10月没有报送任务（无未销号的台账问题）"),
        ("东山镇", "未知单位“东山镇”：不在实施方案的组织体系中"),
    ):
        path = tmp_path / f"{unit}.xlsx"
        result = october("report", "form", "--unit", unit, "--period", PERIOD, path, status=2)
        assert message in result.output
        assert not path.exists()
    assert db_digest(home) == before


def test_submission_dated_before_the_round_opened(october: Cli, home: Path, tmp_path: Path) -> None:
    path = make_form(october, tmp_path / "河东镇月报.xlsx")
    before = db_digest(home)
    refused = submit(october, path, day="2022-09-30", status=2).output
    assert "报送日期2022年9月30日早于本期开启日期2022年10月1日" in refused
    assert db_digest(home) == before


def test_deleted_row_is_refused_on_submit_but_kept_in_a_draft(october: Cli, home: Path, tmp_path: Path) -> None:
    path = _form(_delete_row("A-2"))(october, tmp_path / "河东镇草稿")
    before = db_digest(home)
    refused = submit(october, path, status=2).output
    assert f"{path.name}：缺少问题A-2的填报行（请勿删除行）" in refused
    assert db_digest(home) == before

    saved = submit(october, path, day="2022-10-07", draft=True).output
    assert "河东镇2022-10报表草稿已保存：第1版，2022-10-07" in saved
    with session_scope() as session:
        submission = session.exec(select(Submission).where(Submission.unit == UNIT)).one()
        assert (submission.status, submission.version, submission.first_submitted_on) == ("draft", 1, None)
        version = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)).one()
        lines = lines_of(session, version)
        assert (version.state, [(line.item_code, line.progress) for line in lines]) == ("draft", [("A-1", 40)])


def test_error_heading_speaks_of_the_report_not_the_ledger(october: Cli, tmp_path: Path) -> None:
    # A clerk whose monthly report is refused is told about the report, not about a ledger import.
    path = _form(_set("A-1", "整改进度（%）", 120))(october, tmp_path / "河东镇月报")
    message = submit(october, path, status=2).output
    assert "共发现 1 处问题" in message
    assert "台账" not in message, message


@pytest.mark.parametrize("key", ["单位", "报送期"])
def test_form_with_blank_form_information_is_refused_without_none(
    key: str, october: Cli, home: Path, tmp_path: Path
) -> None:
    # A form whose hidden 表单信息 lost its 单位 or 报送期 is not an intact duban form (and no Python None
    # may reach the clerk's message).
    path = _form(_meta(key, None))(october, tmp_path / "河东镇月报")
    before = db_digest(home)
    message = submit(october, path, status=2).output
    assert f"文件 {path.name} 不是系统生成的填报表" in message, message
    assert "None" not in message, message
    assert db_digest(home) == before


def test_good_form_is_accepted_and_a_resubmission_keeps_both_versions(october: Cli, tmp_path: Path) -> None:
    first = make_form(october, tmp_path / "河东镇月报-1.xlsx")
    assert "河东镇2022-10报表已报送：第1版，2022-10-07" in submit(october, first, day="2022-10-07").output

    view = json.loads(october("period", "show", PERIOD, "--as-of", "2022-10-07", "--json").output)
    hedong = next(s for s in view["submissions"] if s["unit"] == UNIT)
    assert {k: hedong[k] for k in ("status", "status_label", "version", "first_submitted_on", "late")} == {
        "status": "submitted",
        "status_label": "已报送",
        "version": 1,
        "first_submitted_on": "2022-10-07",
        "late": False,
    }

    # The new form comes back pre-filled with what was reported; the clerk corrects A-2 and resubmits.
    second = tmp_path / "河东镇月报-2.xlsx"
    october("report", "form", "--unit", UNIT, "--period", PERIOD, second)
    sheet = load_workbook(second)["填报"]
    assert [(r[0], r[7], r[8], r[9]) for r in sheet.iter_rows(min_row=3, values_only=True)] == [
        ("A-1", 40, "推进中", "已与承租方谈判。"),
        ("A-2", 60, "推进中", "产权移交资料已报送。"),
    ]
    fill_form(second, {"A-2": {"整改进度（%）": 100, "工作状态": "已完成", "本月进展": "幼儿园已移交。"}})
    assert "河东镇2022-10报表已报送：第2版，2022-10-08" in submit(october, second, day=DAY).output

    view = json.loads(october("period", "show", PERIOD, "--as-of", DAY, "--json").output)
    hedong = next(s for s in view["submissions"] if s["unit"] == UNIT)
    assert (hedong["version"], hedong["first_submitted_on"], hedong["last_submitted_on"], hedong["late"]) == (
        2,
        "2022-10-07",
        "2022-10-08",
        False,
    )
    with session_scope() as session:
        submission = session.exec(select(Submission).where(Submission.unit == UNIT)).one()
        versions = session.exec(
            select(SubmissionVersion)
            .where(SubmissionVersion.submission_id == submission.id)
            .order_by(col(SubmissionVersion.version))
        ).all()
        assert [(v.version, v.state, v.saved_on, v.source) for v in versions] == [
            (1, "submitted", date(2022, 10, 7), "河东镇月报-1.xlsx"),
            (2, "submitted", date(2022, 10, 8), "河东镇月报-2.xlsx"),
        ]
        kept = {
            v.version: [
                (line.item_code, line.progress, line.work_state, line.this_month) for line in lines_of(session, v)
            ]
            for v in versions
        }
        assert kept == {
            1: [("A-1", 40, "推进中", "已与承租方谈判。"), ("A-2", 60, "推进中", "产权移交资料已报送。")],
            2: [("A-1", 40, "推进中", "已与承租方谈判。"), ("A-2", 100, "已完成", "幼儿园已移交。")],
        }
        # what is written: version 2 keeps only the line it changed
        stored = session.exec(
            select(SubmissionLine.version, SubmissionLine.item_code).order_by(
                col(SubmissionLine.version), col(SubmissionLine.item_code)
            )
        ).all()
        assert stored == [(1, "A-1"), (1, "A-2"), (2, "A-2")]
