"""Reading and writing the spreadsheets clerks exchange with duban (.xlsx and .csv).

Only the file-level problems are decided here (not a spreadsheet, no header, no rows); what a
cell must hold is the business of the importer that reads it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from duban.paths import output_file

Cell = str | int | float | bool | date | datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{self.heading}共发现 {len(problems)} 处问题：\n{lines}")


@dataclass(frozen=True)
class Sheet:
    name: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[Cell]]]  # spreadsheet row number, values aligned with header


def column_letter(index: int) -> str:
    return get_column_letter(index + 1)


def read_sheet(path: Path) -> Sheet:
    """The first worksheet of an .xlsx file, or a .csv file (UTF-8, or GB18030 as Excel saves it)."""
    if not path.is_file():
        raise SheetError(f"找不到文件 {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path)
    elif suffix == ".csv":
        table = _read_csv(path)
    elif suffix == ".xls":
        raise SheetError(f"文件 {path.name} 是旧版 .xls 格式，请在 Excel 中另存为 .xlsx 后再导入")
    else:
        raise SheetError(f"文件 {path.name} 不是电子表格：仅支持 .xlsx 和 .csv 文件")
    return _to_sheet(path, table)


def _read_xlsx(path: Path) -> list[list[Cell]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"文件 {path.name} 不是有效的 Excel (.xlsx) 文件，无法打开（{type(exc).__name__}）") from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_clean(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _read_csv(path: Path) -> list[list[Cell]]:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise SheetError(f"文件 {path.name} 不是文本格式的 CSV 文件（含二进制内容）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(f"文件 {path.name} 的编码无法识别：请保存为 UTF-8 或 GBK 编码的 CSV")
    try:
        return [[_clean(v) for v in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise SheetError(f"文件 {path.name} 不是有效的 CSV 文件：{exc}") from exc


def _clean(value: Any) -> Cell:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _to_sheet(path: Path, table: list[list[Cell]]) -> Sheet:
    numbered = [(n, row) for n, row in enumerate(table, start=1) if any(v is not None for v in row)]
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
    output_file(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise SheetError(f"只能写出 .xlsx 或 .csv 文件：{path.name}")
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([[_csv_text(v) for v in row] for row in rows])
    else:
        table_workbook(title, header, rows).save(path)


def table_workbook(title: str, header: list[str], rows: list[list[Cell]]) -> Workbook:
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
    """Text as `put` writes it: control characters (which a workbook cannot hold) as visible \\xNN."""
    return _UNWRITABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def style_header(sheet: Any, width: int) -> None:
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
