"""The mechanics of a pre-filled form: locked facts, open cells to fill, a hidden sheet saying whose it is.

Used by the monthly report forms and the campaign response forms; what the columns mean and how a
filled row is judged belongs to each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection

from duban.files.spreadsheet import Cell, SheetError, as_written, column_letter, put
from duban.files.xlsx_guard import Package, read_sheets
from duban.plan import Limits

META_SHEET = "表单信息"
HEADER_ROW = 2


@dataclass(frozen=True)
class FormColumn:
    key: str
    title: str
    editable: bool
    width: int = 14
    checked: bool = True  # a locked column whose value must come back as it was sent


def lay_out(sheet: Any, title: str, columns: tuple[FormColumn, ...], rows: list[dict]) -> int:
    """Title, header, rows (facts locked and grey, cells to fill open and yellow); returns the last row."""
    put(sheet, 1, 1, title)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    locked_fill, open_fill = PatternFill("solid", fgColor="EDEDED"), PatternFill("solid", fgColor="FFF9E5")
    for index, column in enumerate(columns, start=1):
        cell = put(sheet, HEADER_ROW, index, column.title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[column_letter(index - 1)].width = column.width
    for offset, row in enumerate(rows, start=HEADER_ROW + 1):
        for index, column in enumerate(columns, start=1):
            cell = put(sheet, offset, index, row.get(column.key))
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.fill = open_fill if column.editable else locked_fill
            cell.protection = Protection(locked=not column.editable)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    sheet.protection.sheet = True
    sheet.protection.formatRows = False
    sheet.protection.formatColumns = False
    return HEADER_ROW + max(len(rows), 1)


def add_meta(workbook: Workbook, facts: list[tuple[str, Any]]) -> None:
    meta = workbook.create_sheet(META_SHEET)
    for number, row in enumerate(facts, start=1):
        for column, value in enumerate(row, start=1):
            put(meta, number, column, value)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True


@dataclass(frozen=True)
class Filled:
    """A filled form's sheet as read: its header, its rows below the header holding anything (row
    number and values), and the other sheets asked for."""

    header: list[Cell]
    rows: list[tuple[int, list[Cell]]]
    others: dict[str, list[tuple[int, list[Cell]]]]

    def cell(self, sheet: str, row: int, column: int) -> Cell:
        """A cell (row and column from 1) of another sheet asked for; None where it holds nothing."""
        values = next((v for n, v in self.others.get(sheet, []) if n == row), [])
        return values[column - 1] if column <= len(values) else None


def open_filled(
    path: Path, *, sheet: str, required: tuple[str, ...], how_to_get: str, limits: Limits, also: tuple[str, ...] = ()
) -> tuple[Filled, dict]:
    """Read a filled form and its facts, or say (naming the file) why it is not one of duban's forms.

    The hidden facts are read first, on their own, so a file that is not a form is refused before
    any other sheet is read; the form's sheet (and the sheets in `also`, where present) are then read
    within the plan's limits."""
    name = path.name
    if not path.is_file():
        raise SheetError(f"找不到文件 {path}")
    if path.suffix.lower() != ".xlsx":
        raise SheetError(f"文件 {name} 不是填报表：请提交系统生成的 .xlsx 填报表")
    with Package(path, limits) as package:
        if META_SHEET not in package.sheets:
            raise SheetError(f"文件 {name} 不是系统生成的填报表（缺少表单信息），请先用 {how_to_get} 生成")
        if sheet not in package.sheets:
            raise SheetError(f"文件 {name} 缺少“{sheet}”工作表（工作表被删除或改名），请重新生成填报表后填写")
        meta = package.facts(META_SHEET)
        if not all(meta.get(k) for k in required):
            raise SheetError(f"文件 {name} 不是系统生成的填报表（表单信息不完整），请重新生成后填写")
        others = [s for s in also if s in package.sheets]
        extents = package.check({sheet: HEADER_ROW} | {s: None for s in others})
    read = read_sheets(path, extents, limits)
    header = next((values for number, values in read[sheet] if number == HEADER_ROW), [])
    rows = [(number, values) for number, values in read[sheet] if number > HEADER_ROW]
    return Filled(header, rows, {s: read[s] for s in others}), meta


def header_matches(header: list[Cell], columns: tuple[FormColumn, ...]) -> bool:
    return [*header, *[None] * len(columns)][: len(columns)] == [c.title for c in columns]


def plain(value: object) -> str:
    """A cell as text for comparing a locked fact with what was sent."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return as_written(str(value)).strip()
