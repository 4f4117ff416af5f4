"""Lists that grow with the ledger: cut short in the body, given in full in the annex workbook.

At city scale a bulletin would otherwise run to a hundred pages of rows. The content builders draft each
such list as a `LongTable` (or, inside a sentence, a `LongList`); `settle` numbers the annexes in the
order the body names them, keeps the plan's `bulletin.max_list_rows` rows in the body with a line saying
how many more there are and in which annex, and hands the full lists to the document. `write_annex`
writes them as one .xlsx, a sheet per annex, sortable and filterable.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from duban.bulletin.document import Annex, Block, Document, Paragraph, Table, Value
from duban.files.spreadsheet import column_letter, put

HEADER_ROW = 3  # 附件N on row 1, the annex's title on row 2 (GB/T 9704-2012 8), the column titles on row 3
WIDTH_MIN, WIDTH_MAX = 6, 48  # column widths, in Excel's units (about one half-width character of 11 pt)
TITLE_SIZE, BODY_SIZE = 16, 11  # points: the annex title, and the default font Excel measures widths in
_NOT_IN_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class LongTable:
    """A table whose rows grow with the items; `annex` names the annex that holds it in full."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    annex: str


@dataclass(frozen=True)
class LongList:
    """A list of codes inside a sentence: `before`, the codes joined by "、" (or `empty`), `after`; the
    annex gives a row for each code under `header`."""

    before: str
    items: tuple[str, ...]
    after: str
    annex: str
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    empty: str = "无"


Draft = Block | LongTable | LongList


def settle(draft: list[Draft], limit: int | None) -> tuple[list[Block], tuple[Annex, ...]]:
    """The body's blocks with every long list cut to `limit` rows, and the annexes holding them in full.

    Every list that has rows becomes an annex, cut or not, so the reader always gets a sortable list and
    a bulletin's annexes do not change shape when a list crosses the limit. `limit` None is a bulletin
    issued before lists were cut: it is reprinted as it was issued, in full and without annex.
    """
    listed = [d for d in draft if isinstance(d, LongTable | LongList) and d.rows]
    annexes: list[Annex] = []
    blocks: list[Block] = []
    for part in draft:
        if not isinstance(part, LongTable | LongList):
            blocks.append(part)
            continue
        label = ""
        if limit is not None and part.rows:
            label = "附件" if len(listed) == 1 else f"附件{len(annexes) + 1}"
            annexes.append(Annex(label=label, name=part.annex, header=part.header, rows=part.rows))
        blocks += _table(part, limit, label) if isinstance(part, LongTable) else [_sentence(part, limit, label)]
    return blocks, tuple(annexes)


def text(value: Value) -> str:
    """A cell as the body prints it: dates as 2022-10-31, a missing value as a dash."""
    if value is None:
        return "—"
    return value.isoformat() if isinstance(value, date) else str(value)


def shortened(text: str, limit: int) -> str:
    """One line of at most `limit` characters, "…" where it was cut: a clerk's long text in a table cell."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def day(iso: str | None) -> date | None:
    """A date kept in the figures (ISO text) as a date, so the annex sorts and filters it as one."""
    return date.fromisoformat(iso) if iso else None


def _table(part: LongTable, limit: int | None, label: str) -> list[Block]:
    shown = part.rows[:limit]
    table = Table(part.title, part.header, tuple(tuple(text(v) for v in row) for row in shown))
    rest = len(part.rows) - len(shown)
    if not rest:
        return [table]
    return [table, Paragraph(f"注：本表列出前{len(shown)}项，另有{rest}项，详见{label}。")]


def _sentence(part: LongList, limit: int | None, label: str) -> Paragraph:
    shown = part.items[:limit]
    rest = len(part.items) - len(shown)
    more = f"（另有{rest}项，详见{label}）" if rest else ""
    return Paragraph(part.before + ("、".join(shown) or part.empty) + more + part.after)


# -- the workbook -------------------------------------------------------------------------------------


def write_annex(document: Document, path: Path) -> Path:
    """The document's annexes as one workbook at `path` (replaced atomically), one sheet each."""
    from openpyxl import Workbook  # here, not at import: every command would pay for openpyxl

    workbook = Workbook()
    workbook.remove(workbook.active)
    for annex in document.annexes:
        _sheet(workbook.create_sheet(_sheet_title(annex)), annex, document.fonts)
    workbook.properties.title = f"{document.title}（{document.doc_number}）附件"
    workbook.properties.creator = document.signature
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _sheet(sheet: Any, annex: Annex, fonts: dict[str, str]) -> None:
    """附件N and the title above the list (as the standard heads an annex), 序号 first so that any sort
    can be undone; the header row frozen, filtered and repeated on every printed page."""
    from openpyxl.styles import Alignment, Font, PatternFill

    header = ("序号", *annex.header)
    rows = [(n, *row) for n, row in enumerate(annex.rows, start=1)]
    put(sheet, 1, 1, annex.label).font = Font(name=fonts.get("heading1") or "黑体", size=14)
    title = put(sheet, 2, 1, annex.name)
    title.font = Font(name=fonts.get("title") or "方正小标宋简体", size=TITLE_SIZE)
    title.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(header))
    widths = _widths(header, rows)
    title_lines = math.ceil(_units(annex.name) * TITLE_SIZE / BODY_SIZE / sum(widths))
    sheet.row_dimensions[2].height = 30 * title_lines
    fill = PatternFill("solid", fgColor="DDEBF7")
    for column, value in enumerate(header, start=1):
        cell = put(sheet, HEADER_ROW, column, value)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for number, row in enumerate(rows, start=HEADER_ROW + 1):
        for column, value in enumerate(row, start=1):
            put(sheet, number, column, value)
    last = column_letter(len(header) - 1)
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(rows)}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for index, width in enumerate(widths):
        sheet.column_dimensions[column_letter(index)].width = width


def _widths(header: tuple[str, ...], rows: list[tuple[Value, ...]]) -> list[int]:
    """Each column as wide as its longest value (a Chinese character counts two), within bounds."""
    widths = []
    for index, title in enumerate(header):
        longest = max([_units(title), *(_units(text(row[index])) for row in rows)])
        widths.append(min(WIDTH_MAX, max(WIDTH_MIN, longest + 2)))
    return widths


def _units(value: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in value)


def _sheet_title(annex: Annex) -> str:
    """附件N and the name, as far as Excel's 31 characters allow; characters it refuses dropped."""
    return _NOT_IN_SHEET_TITLE.sub("", f"{annex.label} {annex.name}")[:31]
