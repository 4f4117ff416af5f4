"""What an upload may hold: files past the plan's limits, hostile XML, odd encodings.

Each hostile file is made here (small, against a plan with low limits where the case is about a
limit) and fed to the real CLI. It must be refused with exit status 2 and its exact Chinese message,
and the SQLite file must stay byte for byte as it was. Row numbers, sizes and counts in the expected
messages are worked out here from the file written, not asked of duban.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import defusedxml
import openpyxl
import pytest
import raw_xlsx
import yaml
from conftest import PLAN, Cli, db_digest, sample_rows
from openpyxl import load_workbook
from reporting_helpers import fill_form, load_small_ledger
from test_ledger_import import GOOD, HEADER, status_json, write_csv
from test_report_forms import FILLED

from duban.plan import Limits, parse_plan

XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)
DTD_REFUSED = "不是有效的 Excel (.xlsx) 文件，无法打开（含有文档类型定义（DTD），出于安全原因不予读取）"
UNIT, PERIOD = "河东镇", "2022-10"
FORM_FACTS = [raw_xlsx.row(["单位", UNIT]), raw_xlsx.row(["报送期", PERIOD])]


def limited_plan(folder: Path, **limits: int) -> Path:
    """The sample plan with some of its limits lowered."""
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["limits"] = {**data["limits"], **limits}
    path = folder / "plan-limits.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def start(cli: Cli, tmp_path: Path) -> Callable[..., Cli]:
    """Initialise the database with the sample plan, its limits lowered as asked."""

    def with_limits(**limits: int) -> Cli:
        cli("init", "--plan", limited_plan(tmp_path, **limits), "--as-of", "2022-04-01")
        return cli

    return with_limits


def refused(cli: Cli, home: Path, *args: object) -> str:
    """Run a command that must be refused; the database must not change. Returns the message."""
    before = db_digest(home)
    message = cli(*args, status=2).output.strip()
    assert message.startswith("错误：")
    assert db_digest(home) == before
    return message.removeprefix("错误：")


def import_refused(cli: Cli, home: Path, path: Path) -> str:
    return refused(cli, home, "ledger", "import", path, "--as-of", "2022-04-08")


def ledger_rows(count: int) -> list[list[str]]:
    return [[f"T-{n:03d}", *GOOD[1:]] for n in range(1, count + 1)]


# -- the limits in the plan ---------------------------------------------------------------------------


def test_a_plan_without_limits_loads_with_the_defaults() -> None:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    written = data.pop("limits")
    assert parse_plan(yaml.safe_dump(data, allow_unicode=True)).limits == Limits()
    assert set(written) == set(Limits.model_fields)


# -- size ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_larger_than_the_limit_is_refused_unread(
    suffix: str, start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_file_bytes=2000)
    if suffix == ".csv":
        path = write_csv(tmp_path / "台账.csv", ledger_rows(40))
    else:
        path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": raw_xlsx.rows([HEADER, *ledger_rows(400)])})
    size = path.stat().st_size
    assert size > 2000
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 过大（{size:,} 字节，上限 2,000 字节），请删除无关内容或分批提交"
    )


@pytest.mark.parametrize("command", ["ledger", "report"])
def test_an_xlsx_that_inflates_past_the_limit_is_refused_from_its_zip_directory(
    command: str, start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_unpacked_bytes=100_000)
    # A shared-string table of 200 KB that packs into a few hundred bytes: a zip bomb in miniature.
    path = raw_xlsx.write(
        tmp_path / "小文件.xlsx",
        {"台账": raw_xlsx.rows([HEADER])},
        strings=[b"<si><t>" + b"x" * 200_000 + b"</t></si>"],
    )
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    args = ("ledger", "import", path) if command == "ledger" else ("report", "submit", path, "--unit", UNIT)
    extra = ("--as-of", "2022-04-08") if command == "ledger" else ("--period", PERIOD)
    assert refused(cli, home, *args, *extra) == (
        f"文件 {path.name} 解压后过大（{unpacked:,} 字节，上限 100,000 字节），请删除无关内容或图片，或分批提交"
    )


# -- rows, columns, cells -----------------------------------------------------------------------------


def test_a_csv_with_too_many_rows_is_refused_at_the_first_row_past_the_limit(
    start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_rows=5)
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write("\n")  # a blank line before the header: line 2 is the header
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(ledger_rows(9))
    # Header on line 2, data from line 3: the sixth data row is on line 8.
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 第8行：数据超过 5 行，每个文件最多 5 行数据，请分批提交"
    )


def test_an_xlsx_with_too_many_rows_is_refused_at_the_first_row_past_the_limit(
    start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_rows=5)
    # The header on row 3; data rows numbered 4, 5, 7, 8, 10, 11, ... (some rows left out, as Excel does).
    numbers = [n for n in range(4, 40) if n % 3 != 0]
    table = [raw_xlsx.row(HEADER, 3)] + [
        raw_xlsx.row(values, n) for n, values in zip(numbers, ledger_rows(len(numbers)), strict=True)
    ]
    path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": table})
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 第{numbers[5]}行：数据超过 5 行，每个文件最多 5 行数据，请分批提交"
    )


def test_a_value_past_the_last_column_allowed_is_refused(start: Callable[..., Cli], home: Path, tmp_path: Path) -> None:
    cli = start(max_columns=12)
    row = [*GOOD, "", "", "多出的内容"]  # column O, the 15th
    path = write_csv(tmp_path / "台账.csv", [list(GOOD), row])
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 第3行 O列：超出 12 列，每行最多 12 列，请删除多余的列"
    )
    sheet = [raw_xlsx.row(HEADER), b'<row><c r="A2"><v>1</v></c><c r="AB2"><v>2</v></c></row>']
    path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": sheet})
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 第2行 AB列：超出 12 列，每行最多 12 列，请删除多余的列"
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_cell_longer_than_the_limit_is_refused(
    suffix: str, start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_cell_chars=300)
    rows = ledger_rows(3)
    rows[1][6] = "描" * 301  # G列“问题描述”, on row 3
    if suffix == ".csv":
        path = write_csv(tmp_path / "台账.csv", rows)
    else:
        path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": raw_xlsx.rows([HEADER, *rows])})
    assert import_refused(cli, home, path) == (f"文件 {path.name} 第3行 G列：单元格内容过长（301字，每格最多 300 字）")


def test_a_csv_cell_past_the_csv_field_limit_is_named_by_row(initialised: Cli, home: Path, tmp_path: Path) -> None:
    limit = csv.field_size_limit()
    rows = ledger_rows(3)
    rows[1][6] = "x" * (limit + 1)
    path = write_csv(tmp_path / "台账.csv", rows)
    assert import_refused(initialised, home, path) == (
        f"文件 {path.name} 第3行无法读取：单元格内容超过 {limit:,} 字（或引号不配对），每格最多 10,000 字"
    )


def test_a_row_too_complex_for_the_parser_is_refused(start: Callable[..., Cli], home: Path, tmp_path: Path) -> None:
    cli = start(max_xml_elements=1000)
    path = raw_xlsx.write(
        tmp_path / "台账.xlsx", {"台账": [raw_xlsx.row(HEADER), b"<row>" + b"<c/>" * 1001 + b"</row>"]}
    )
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 的结构超出上限（工作表“台账”第2行含有超过 1,000 个 XML 元素），"
        "无法读取，请在 Excel 中另存后再提交"
    )
    runs = b"<si>" + b"<r><t>x</t></r>" * 600 + b"</si>"  # 1,200 elements in one shared string
    path = raw_xlsx.write(tmp_path / "文字.xlsx", {"台账": raw_xlsx.rows([HEADER])}, strings=[runs])
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 的结构超出上限（共享文字表中的一条文字含有超过 1,000 个 XML 元素），"
        "无法读取，请在 Excel 中另存后再提交"
    )


def test_too_many_rows_or_strings_for_the_parser_are_refused(
    start: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = start(max_xml_records=1000)
    # Rows holding nothing still cost openpyxl time: the header and 1,000 blank formatted rows.
    blank = [b'<row><c s="1"/></row>'] * 1000
    path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": [raw_xlsx.row(HEADER), *blank]})
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 的结构超出上限（工作表“台账”含有超过 1,000 行），无法读取，请在 Excel 中另存后再提交"
    )
    strings = [b"<si><t>x</t></si>"] * 1001
    path = raw_xlsx.write(tmp_path / "文字.xlsx", {"台账": raw_xlsx.rows([HEADER])}, strings=strings)
    assert import_refused(cli, home, path) == (
        f"文件 {path.name} 的结构超出上限（共享文字表含有超过 1,000 条文字），无法读取，请在 Excel 中另存后再提交"
    )


def test_a_row_number_past_excel_s_last_row_is_refused(initialised: Cli, home: Path, tmp_path: Path) -> None:
    sheet = [raw_xlsx.row(HEADER), raw_xlsx.row(GOOD, 1_048_577)]
    path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": sheet})
    assert import_refused(initialised, home, path) == (
        f"文件 {path.name} 不是有效的 Excel (.xlsx) 文件，无法打开（工作表“台账”的行号异常（1048577））"
    )


def test_the_problem_list_is_capped_and_the_rest_counted(start: Callable[..., Cli], home: Path, tmp_path: Path) -> None:
    cli = start(max_problems_listed=3)
    rows = ledger_rows(5)
    for row in rows:
        row[1] = "城东街道"
    path = write_csv(tmp_path / "台账.csv", rows)
    lines = import_refused(cli, home, path).splitlines()
    wrong = [
        f"  {path.name} 第{n}行 B列“镇办”：不是本区的镇办（请使用方案中的镇办全称）（值：“城东街道”）"
        for n in (2, 3, 4)
    ]
    assert lines == [
        f"台账导入失败，未写入任何数据。共发现 {len(rows)} 处问题：",
        *wrong,
        f"  另有{len(rows) - 3}处问题未列出",
    ]


# -- encodings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "gb18030"])
def test_a_csv_in_utf16_with_its_bom_or_in_gb18030_is_imported(encoding: str, initialised: Cli, tmp_path: Path) -> None:
    rows = sample_rows()
    path = tmp_path / "台账.csv"
    with path.open("w", encoding=encoding.removesuffix("-bom"), newline="") as fh:
        if encoding.endswith("-bom"):
            fh.write("\ufeff")
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    initialised("ledger", "import", path, "--as-of", "2022-04-08")
    data = status_json(initialised, "2022-04-08")
    assert data["items"]["total"] == len(rows)
    assert data["items"]["by_township"] == dict(Counter(r["镇办"] for r in rows))


# -- hostile XML --------------------------------------------------------------------------------------


@pytest.mark.parametrize("doctype", [XXE, LAUGHS], ids=["xxe", "billion laughs"])
def test_an_xlsx_with_a_dtd_is_refused_cleanly(doctype: str, initialised: Cli, home: Path, tmp_path: Path) -> None:
    entity = "&xxe;" if doctype == XXE else "&lol9;"
    sheet = [raw_xlsx.row(HEADER), f'<row><c t="inlineStr"><is><t>{entity}</t></is></c></row>'.encode()]
    path = raw_xlsx.write(tmp_path / "台账.xlsx", {"台账": sheet}, doctype=doctype)
    assert import_refused(initialised, home, path) == f"文件 {path.name} {DTD_REFUSED}"
    # Behind duban's own check, openpyxl parses with defusedxml, which refuses the entities too.
    assert openpyxl.DEFUSEDXML
    with pytest.raises(ValueError) as caught:
        load_workbook(path, read_only=True)
    assert isinstance(caught.value.__cause__, defusedxml.EntitiesForbidden)


# -- forms ----------------------------------------------------------------------------------------------


@pytest.fixture
def october(start: Callable[..., Cli], tmp_path: Path) -> Callable[..., Cli]:
    """The small ledger and the October 2022 round, under a plan with the limits asked for."""

    def with_limits(**limits: int) -> Cli:
        cli = start(**limits)
        load_small_ledger(cli, tmp_path)
        cli("tick", "--as-of", "2022-10-01")
        return cli

    return with_limits


def submit_refused(cli: Cli, home: Path, path: Path) -> str:
    return refused(cli, home, "report", "submit", path, "--unit", UNIT, "--period", PERIOD, "--as-of", "2022-10-08")


def as_excel_saves(path: Path) -> Path:
    """Move every inline string into a shared-string table, as Excel does when it saves a workbook;
    the unit's name becomes rich text (two runs) with a phonetic guide, which is not part of the text."""
    inline = re.compile(rb'<c ([^>]*?)t="inlineStr"><is>(.*?)</is></c>', re.DOTALL)
    unit = "".join(f"&#{ord(c)};" for c in UNIT).encode()
    rich = '<r><t>河东</t></r><r><rPr><b/></rPr><t>镇</t></r><rPh sb="0" eb="3"><t>hedong</t></rPh>'.encode()
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    strings: list[bytes] = []

    def share(match: re.Match[bytes]) -> bytes:
        strings.append(rich if match.group(2) == b"<t>" + unit + b"</t>" else match.group(2))
        return b'<c %st="s"><v>%d</v></c>' % (match.group(1), len(strings) - 1)

    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        parts[name] = inline.sub(share, parts[name])
    assert rich in strings
    table = b"".join(b"<si>%s</si>" % s for s in strings)
    parts["xl/sharedStrings.xml"] = f'<sst xmlns="{raw_xlsx.MAIN}">'.encode() + table + b"</sst>"
    declared = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{raw_xlsx.TYPE}.sharedStrings+xml"/>'
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", declared.encode() + b"</Types>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_a_form_saved_by_excel_with_shared_and_rich_strings_is_read(
    october: Callable[..., Cli], tmp_path: Path
) -> None:
    cli = october()
    path = tmp_path / "河东镇月报.xlsx"
    cli("report", "form", "--unit", UNIT, "--period", PERIOD, path)
    as_excel_saves(fill_form(path, FILLED))
    result = cli("report", "submit", path, "--unit", UNIT, "--period", PERIOD, "--as-of", "2022-10-08")
    assert f"{UNIT}{PERIOD}报表已报送：第1版" in result.output


def test_a_workbook_that_is_not_a_form_is_refused_before_its_sheets_are_read(
    october: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = october()
    # Its only sheet would be refused if it were read (a DTD, and more rows than allowed): it is not.
    sheet = [raw_xlsx.row(["问题编号", "整改进度（%）"])] + [raw_xlsx.row([f"A-{n}", 40]) for n in range(20_000)]
    path = raw_xlsx.write(tmp_path / "别的表.xlsx", {"填报": sheet}, doctype=LAUGHS)
    assert submit_refused(cli, home, path) == (
        f"文件 {path.name} 不是系统生成的填报表（缺少表单信息），请先用 duban report form 生成"
    )


def test_a_form_with_too_many_rows_is_refused_below_its_header(
    october: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = october(max_rows=5)
    sheet = [raw_xlsx.row(["标题"], 1), raw_xlsx.row(["问题编号", "社区"], 2)]
    sheet += [raw_xlsx.row([f"A-{n}", "河东社区"], n) for n in range(3, 30)]
    path = raw_xlsx.write(tmp_path / "月报.xlsx", {"填报": sheet, "表单信息": FORM_FACTS}, hidden=("表单信息",))
    # Rows 1 and 2 are the title and the header: the sixth row below the header is row 8.
    assert (
        submit_refused(cli, home, path) == f"文件 {path.name} 第8行：数据超过 5 行，每个文件最多 5 行数据，请分批提交"
    )


def test_a_form_with_a_dtd_in_its_sheet_is_refused(october: Callable[..., Cli], home: Path, tmp_path: Path) -> None:
    cli = october()
    sheet = [raw_xlsx.row(["标题"]), b'<row><c t="inlineStr"><is><t>&lol9;</t></is></c></row>']
    path = raw_xlsx.write(tmp_path / "月报.xlsx", {"填报": sheet, "表单信息": FORM_FACTS}, doctype=LAUGHS)
    assert submit_refused(cli, home, path) == f"文件 {path.name} {DTD_REFUSED}"


def test_a_generated_form_with_a_cell_past_the_limit_is_refused(
    october: Callable[..., Cli], home: Path, tmp_path: Path
) -> None:
    cli = october(max_cell_chars=500)
    path = tmp_path / "河东镇月报.xlsx"
    cli("report", "form", "--unit", UNIT, "--period", PERIOD, path)
    fill_form(path, {"A-1": {"整改进度（%）": 40, "工作状态": "推进中", "本月进展": "进" * 501}})
    # 本月进展 is column J; A-1 is the first item, on row 3.
    assert submit_refused(cli, home, path) == f"文件 {path.name} 第3行 J列：单元格内容过长（501字，每格最多 500 字）"


def test_a_form_s_problem_list_is_capped(october: Callable[..., Cli], home: Path, tmp_path: Path) -> None:
    cli = october(max_problems_listed=2)
    path = tmp_path / "河东镇月报.xlsx"
    cli("report", "form", "--unit", UNIT, "--period", PERIOD, path)
    fill_form(path, {code: {"整改进度（%）": 120, "工作状态": "进行中"} for code in ("A-1", "A-2")})
    # Two problems on each of the two rows: four in all, two named.
    assert submit_refused(cli, home, path).splitlines() == [
        "报表提交失败，未保存任何数据。共发现 4 处问题：",
        f"  {path.name} 第3行 H列“整改进度（%）”：整改进度须在0至100之间（值：“120”）",
        f"  {path.name} 第3行 I列“工作状态”：工作状态只能是未开工、推进中、已完成（值：“进行中”）",
        "  另有2处问题未列出",
    ]


def test_a_campaign_answer_that_is_not_a_form_is_refused(imported: Cli, home: Path, tmp_path: Path) -> None:
    imported(
        "campaign",
        "start",
        "--title",
        "幼儿园专项督导",
        "--facility",
        "幼儿园",
        "--due",
        "2022-04-15",
        "--as-of",
        "2022-04-11",
    )
    path = raw_xlsx.write(tmp_path / "反馈.xlsx", {"督导反馈": raw_xlsx.rows([["问题编号"]])})
    message = refused(imported, home, "campaign", "respond", "1", "--unit", "南关街道", path, "--as-of", "2022-04-12")
    assert message == f"文件 {path.name} 不是系统生成的填报表（缺少表单信息），请先用 duban campaign form 生成"
