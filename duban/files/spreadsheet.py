"""Reading and writing the spreadsheets clerks exchange with duban (.xlsx and .csv).

Only the file-level problems are decided here (not a spreadsheet, no header, no rows); what a
cell must hold is the business of the importer that reads it.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from duban.files.paths import output_file
from duban.plan import Limits
from duban.textgate import xml_safe

Cell = str | int | float | bool | date | datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SheetError(Exception):
    """The file as a whole cannot be read; the message (Chinese) names the file."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a clerk's file, located as Excel shows it."""

    file: str
    row: int | None  # None for a problem of the file as a whole
    column: str  # letter and title, e.g. "C列“社区”"; empty for a whole-row problem
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = self.file + (f" 第{self.row}行" if self.row else "") + (f" {self.column}" if self.column else "")
        value = self.value.date() if isinstance(self.value, datetime) else self.value
        shown = "" if value is None else f"（值：“{value}”）"
        return f"{where}：{self.message}{shown}"


class RefusedFile(Exception):
    """A file refused as a whole: nothing was written; `problems` lists every reason at once."""

    heading = "文件有误，未写入任何数据。"

    def __init__(self, problems: list[Problem], *, listed: int | None = None) -> None:
        """`listed`: how many problems the message names (the plan's limits.max_problems_listed); the
        rest are counted, so a file wrong on every row does not print a line per problem."""
        self.problems = problems
        shown = problems[:listed]
        lines = [f"  {p}" for p in shown]
        if len(problems) > len(shown):
            lines.append(f"  另有{len(problems) - len(shown)}处问题未列出")
        super().__init__(f"{self.heading}共发现 {len(problems)} 处问题：\n" + "\n".join(lines))


@dataclass(frozen=True)
class Sheet:
    name: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[Cell]]]  # spreadsheet row number, values aligned with header


def column_letter(index: int) -> str:
    """A, B, ... Z, AA, ...: the name of column `index` (from 0)."""
    name, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def read_sheet(path: Path, limits: Limits) -> Sheet:
    """The first worksheet of an .xlsx file, or a .csv file (UTF-8, GB18030 as Excel saves it, or
    UTF-16 with its BOM), refused as soon as it crosses one of the plan's limits."""
    if not path.is_file():
        raise SheetError(f"找不到文件 {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path, limits)
    elif suffix == ".csv":
        table = _read_csv(path, limits)
    elif suffix == ".xls":
        raise SheetError(f"文件 {path.name} 是旧版 .xls 格式，请在 Excel 中另存为 .xlsx 后再导入")
    else:
        raise SheetError(f"文件 {path.name} 不是电子表格：仅支持 .xlsx 和 .csv 文件")
    return _to_sheet(path, table)


def check_size(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise SheetError(
            f"文件 {path.name} 过大（{size:,} 字节，上限 {limits.max_file_bytes:,} 字节），请删除无关内容或分批提交"
        )


def too_many_rows(name: str, row: int, limits: Limits) -> SheetError:
    return SheetError(
        f"文件 {name} 第{row}行：数据超过 {limits.max_rows:,} 行，每个文件最多 {limits.max_rows:,} 行数据，请分批提交"
    )


def too_many_columns(name: str, row: int, column: int, limits: Limits) -> SheetError:
    """`column` counts from 0, as `column_letter` does."""
    return SheetError(
        f"文件 {name} 第{row}行 {column_letter(column)}列：超出 {limits.max_columns} 列，"
        f"每行最多 {limits.max_columns} 列，请删除多余的列"
    )


def too_long(name: str, row: int, column: int, length: int, limits: Limits) -> SheetError:
    """`column` counts from 0, as `column_letter` does."""
    return SheetError(
        f"文件 {name} 第{row}行 {column_letter(column)}列：单元格内容过长"
        f"（{length:,}字，每格最多 {limits.max_cell_chars:,} 字）"
    )


def _read_xlsx(path: Path, limits: Limits) -> list[tuple[int, list[Cell]]]:
    from duban.files.xlsx_guard import Package, invalid, read_sheets  # the guard reports through this module's errors

    with Package(path, limits) as package:
        if not package.sheets:
            raise invalid(path.name, "没有工作表")
        first = next(iter(package.sheets))
        extents = package.check({first: None})
    return [(n, [_clean(v) for v in row]) for n, row in read_sheets(path, extents, limits)[first]]


def _read_csv(path: Path, limits: Limits) -> list[tuple[int, list[Cell]]]:
    """Rows as they come, checked one by one: reading stops at the first row past a limit."""
    name = path.name
    check_size(path, limits)
    reader = csv.reader(io.StringIO(_decoded(path), newline=""))
    rows: list[tuple[int, list[Cell]]] = []
    number = 0
    while True:
        number += 1
        try:
            row = next(reader, None)
        except csv.Error as exc:  # the only one csv raises here: a cell longer than its field limit
            raise SheetError(
                f"文件 {name} 第{number}行无法读取：单元格内容超过 {csv.field_size_limit():,} 字"
                f"（或引号不配对），每格最多 {limits.max_cell_chars:,} 字"
            ) from exc
        if row is None:
            return rows
        if not any(row):
            continue
        for column, value in enumerate(row):
            if value and column >= limits.max_columns:
                raise too_many_columns(name, number, column, limits)
            if len(value) > limits.max_cell_chars:
                raise too_long(name, number, column, len(value), limits)
        if len(rows) > limits.max_rows:  # the header and max_rows data rows already read
            raise too_many_rows(name, number, limits)
        rows.append((number, [_clean(v) for v in row[: limits.max_columns]]))


def _decoded(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in raw:
        raise SheetError(f"文件 {path.name} 不是文本格式的 CSV 文件（含二进制内容）")
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(f"文件 {path.name} 的编码无法识别：请保存为 UTF-8、GBK 或 UTF-16 编码的 CSV")


def _clean(value: Any) -> Cell:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _to_sheet(path: Path, table: list[tuple[int, list[Cell]]]) -> Sheet:
    numbered = [(n, row) for n, row in table if any(v is not None for v in row)]
    if not numbered:
        raise SheetError(f"文件 {path.name} 是空表：没有表头，也没有数据")
    header_row, header_cells = numbered[0]
    header = [str(v) if v is not None else "" for v in header_cells]
    while header and not header[-1]:
        header.pop()
    rows = [(n, (row + [None] * len(header))[: len(header)]) for n, row in numbered[1:]]
    rows = [(n, row) for n, row in rows if any(v is not None for v in row)]
    if not rows:
        raise SheetError(f"文件 {path.name} 只有表头，没有数据行")
    return Sheet(name=path.name, header=header, header_row=header_row, rows=rows)


def write_table(path: Path, title: str, header: list[str], rows: list[list[Cell]]) -> None:
    """Write rows as .csv (UTF-8 with BOM, so Excel shows the Chinese) or as a formatted .xlsx."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx") and not path.is_dir():
        raise SheetError(f"只能写出 .xlsx 或 .csv 文件：{path.name}")
    output_file(path)
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([[_csv_text(v) for v in row] for row in rows])
    else:
        table_workbook(title, header, rows).save(path)


def table_workbook(title: str, header: list[str], rows: list[list[Cell]]) -> Any:
    from openpyxl import Workbook  # not at import: openpyxl (and numpy) cost every command 0.3 s

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for number, values in enumerate([header, *rows], start=1):
        for column, value in enumerate(values, start=1):
            put(sheet, number, column, value)
    style_header(sheet, len(header))
    return workbook


def put(sheet: Any, row: int, column: int, value: Cell) -> Any:
    """The one way duban writes a cell: text stays text, never a formula, whatever it starts with, and
    characters a workbook cannot hold are shown escaped (as `as_written` says, for reading back)."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = as_written(value)
        cell.data_type = "s"  # openpyxl took a leading "=" for a formula
    else:
        cell.value = value
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    return cell


def as_written(text: str) -> str:
    """Text as `put` writes it, and as a form's locked cell is compared when read back."""
    return xml_safe(text)


def style_header(sheet: Any, width: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="DDEBF7")
    for index in range(width):
        cell = sheet.cell(row=1, column=index + 1)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[column_letter(index)].width = 14
    sheet.freeze_panes = "A2"


def _csv_text(value: Cell) -> str:
    """A CSV cell a spreadsheet program will not run: text starting with = + - @ tab or CR gets a leading
    apostrophe (OWASP's advice; duban's readers drop it again)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)
