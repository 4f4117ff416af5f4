"""Reading an uploaded .xlsx safely: measured first, from its zip directory and its XML, then read.

openpyxl trusts what it reads. It builds a tree for every row and every shared string, keeps all
shared strings, fills the gaps between row numbers and parses the other parts whole, so a small
upload can keep it busy for minutes or take gigabytes. Here the zip directory is read first (the
sizes it declares are the most zipfile will inflate), then every XML part is streamed through
expat, with no tree and no DTD, and measured against the plan's limits; a form's facts are read
the same way, before anything else. openpyxl (read-only, streaming) then reads only what passed,
and only as far as the sheet holds anything.
"""

from __future__ import annotations

import posixpath
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException

from duban.files.spreadsheet import Cell, SheetError, check_size, too_long, too_many_columns, too_many_rows
from duban.plan import Limits

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
RELATIONSHIP_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
CONTENT_TYPES = "[Content_Types].xml"
OVERRIDE = "http://schemas.openxmlformats.org/package/2006/content-types Override"
DEFAULT = "http://schemas.openxmlformats.org/package/2006/content-types Default"
RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships Relationship"
WORKBOOK_TYPES = tuple(  # in the order openpyxl looks for them
    f"application/vnd.{kind}.main+xml"
    for kind in (
        "ms-excel.template.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.sheet",
    )
)
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
EXCEL_ROWS = 1_048_576  # the most rows a worksheet can have (the file format's own bound)
CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?\d+$")
CHUNK = 64 * 1024
# What zipfile raises on a damaged or unusual member (bad CRC, a compression it does not know, ...).
ZIP_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
# What openpyxl may raise on a file it cannot make sense of: zip and XML faults, defusedxml's refusals
# (ValueError), a shared string or part that is not there.
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    InvalidFileException,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
)


def invalid(name: str, reason: str) -> SheetError:
    return SheetError(f"文件 {name} 不是有效的 Excel (.xlsx) 文件，无法打开（{reason}）")


@dataclass(frozen=True)
class Extent:
    """How far a sheet holds anything: the last row and the last column with a value (0 if none)."""

    rows: int
    columns: int


@dataclass
class _Bounds:
    """A sheet to be read: where its header is, what it was found to hold, the values kept."""

    header_row: int | None  # None: the first row holding anything is the header
    capture: int = 0  # keep the values of this many leading columns (a form's facts)
    data_rows: int = 0
    last_row: int = 0
    last_column: int = 0
    captured: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)  # row -> column -> (type, text)


class Package:
    """An .xlsx opened for checking: its size and zip directory checked, its worksheets listed."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.name, self.limits = path.name, limits
        check_size(path, limits)
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise invalid(self.name, type(exc).__name__) from exc
        self.parts = set(self.archive.namelist())
        self.types: dict[str, str] = {}
        self.sheets: dict[str, str] = {}
        try:
            self._check_directory()
            self.types = self._content_types()
            self.sheets = self._worksheets()
        except Exception:
            self.archive.close()
            raise

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_: object) -> None:
        self.archive.close()

    def _check_directory(self) -> None:
        """The zip-bomb guard: what the parts would inflate to, as the central directory declares it
        (zipfile stops inflating a part at its declared size, and then fails its CRC check)."""
        infos = self.archive.infolist()
        if any(info.flag_bits & 0x1 for info in infos):
            raise invalid(self.name, "文件已加密")
        unpacked = sum(info.file_size for info in infos)
        if unpacked > self.limits.max_unpacked_bytes:
            raise SheetError(
                f"文件 {self.name} 解压后过大（{unpacked:,} 字节，上限 {self.limits.max_unpacked_bytes:,} 字节），"
                "请删除无关内容或图片，或分批提交"
            )

    def _content_types(self) -> dict[str, str]:
        """Content type -> the first part declared of that type (as openpyxl finds parts)."""
        found: dict[str, str] = {}

        def seen(tag: str, attrs: dict[str, str]) -> None:
            if tag == OVERRIDE:
                found.setdefault(attrs.get("ContentType", ""), attrs.get("PartName", "")[1:])
            elif tag == DEFAULT and attrs.get("ContentType") in WORKBOOK_TYPES:
                found.setdefault(attrs["ContentType"], "xl/workbook.xml")

        self._parse(CONTENT_TYPES, _Tree(self, CONTENT_TYPES, seen))
        return found

    def _worksheets(self) -> dict[str, str]:
        """Sheet name -> its part, in workbook order, the first of a name winning (as openpyxl has it)."""
        workbook = next((self.types[t] for t in WORKBOOK_TYPES if t in self.types), None)
        if workbook is None:
            raise invalid(self.name, "缺少工作簿")
        folder, base = posixpath.split(workbook)
        targets: dict[str, tuple[str, str]] = {}

        def relationship(tag: str, attrs: dict[str, str]) -> None:
            if tag == RELATIONSHIP and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                targets[attrs.get("Id", "")] = (part, attrs.get("Type", ""))

        rels = posixpath.join(folder, "_rels", f"{base}.rels")
        self._parse(rels, _Tree(self, rels, relationship))
        sheets: dict[str, str] = {}

        def sheet(tag: str, attrs: dict[str, str]) -> None:
            if tag != MAIN + "sheet" or not attrs.get(RELATIONSHIP_ID):
                return
            if attrs[RELATIONSHIP_ID] not in targets:
                raise invalid(self.name, "工作表缺少对应的部件")
            part, kind = targets[attrs[RELATIONSHIP_ID]]
            if part in self.parts and "chartsheet" not in kind:
                sheets.setdefault(attrs.get("name", ""), part)

        self._parse(workbook, _Tree(self, workbook, sheet))
        return sheets

    def _parse(self, part: str, scan: _Scan) -> None:
        """Stream one part through expat. No DTD is accepted, so no entity (external or nested) either."""
        if part not in self.parts:
            raise invalid(self.name, f"缺少 {part}")
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartDoctypeDeclHandler = self._doctype
        parser.StartElementHandler = scan.start
        parser.EndElementHandler = scan.end
        if scan.wants_text:
            parser.CharacterDataHandler = scan.text
        try:
            with self.archive.open(part) as stream:
                while chunk := stream.read(CHUNK):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            raise invalid(self.name, f"{self.described(part)}的 XML 格式错误") from exc
        except ZIP_FAULTS as exc:
            raise invalid(self.name, type(exc).__name__) from exc

    def described(self, part: str) -> str:
        """A part as a clerk's message names it: a sheet by its name."""
        if part == self.types.get(SHARED_STRINGS):
            return "共享文字表"
        name = next((name for name, sheet in self.sheets.items() if sheet == part), None)
        return f"部件 {part} " if name is None else f"工作表“{name}”"

    def _doctype(self, *_: object) -> None:
        raise invalid(self.name, "含有文档类型定义（DTD），出于安全原因不予读取")

    def facts(self, sheet: str) -> dict[str, Cell]:
        """Column A -> column B of a small sheet (a form's hidden facts), read without openpyxl; dates
        stay the numbers Excel stores."""
        bounds = _Bounds(header_row=0, capture=2)
        self._parse(self.sheets[sheet], _Sheet(self, self.sheets[sheet], bounds))
        indices = [text for row in bounds.captured.values() for kind, text in row.values() if kind == "s"]
        if not all(text.isdigit() for text in indices):
            raise invalid(self.name, "共享文字编号异常")
        strings = self._strings({int(text) for text in indices})
        facts: dict[str, Cell] = {}
        for number, row in sorted(bounds.captured.items()):
            values = [_value(*row[c], strings) if c in row else None for c in (1, 2)]
            for column, value in enumerate(values):
                if isinstance(value, str) and len(value) > self.limits.max_cell_chars:
                    raise too_long(self.name, number, column, len(value), self.limits)
            if values[0] is not None:
                facts.setdefault(str(values[0]), values[1])
        return facts

    def _strings(self, wanted: set[int]) -> dict[int, str]:
        """The shared strings wanted, read only as far as the last of them."""
        if not wanted:
            return {}
        part = self.types.get(SHARED_STRINGS)
        if part is None:
            raise invalid(self.name, "缺少共享文字")
        scan = _Strings(self, part, wanted)
        self._parse(part, scan)
        if not wanted <= scan.found.keys():
            raise invalid(self.name, "共享文字缺失")
        return scan.found

    def check(self, read: dict[str, int | None]) -> dict[str, Extent]:
        """Measure every XML part: first the sheets to be read (name -> header row, None for the first
        row holding anything) against the row and column limits, then all the others."""
        extents = {}
        for sheet, header_row in read.items():
            bounds = _Bounds(header_row=header_row)
            self._parse(self.sheets[sheet], _Sheet(self, self.sheets[sheet], bounds))
            extents[sheet] = Extent(bounds.last_row, bounds.last_column)
        measured = {self.sheets[s] for s in read}
        # openpyxl reads no VML drawing (Excel's are not always well-formed XML) unless it is named
        # as a sheet or the string table.
        unread = {p for p in self.parts if p.endswith(".vml")} - {*self.sheets.values(), self.types.get(SHARED_STRINGS)}
        for part in sorted(self.parts - measured - unread):
            if self._looks_like_xml(part):
                self._parse(part, _Sheet(self, part, None))
        return extents

    def _looks_like_xml(self, part: str) -> bool:
        """Pictures and other binary parts are neither parsed by openpyxl nor measured here. Text in
        any encoding counts as XML, so that no part openpyxl may parse goes unmeasured."""
        try:
            with self.archive.open(part) as stream:
                head = stream.read(64)
        except ZIP_FAULTS as exc:
            raise invalid(self.name, type(exc).__name__) from exc
        return head.replace(b"\x00", b"").lstrip(b"\xef\xbb\xbf\xfe\xff \t\r\n").startswith(b"<")


class _Stop(Exception):
    """Enough has been read."""


class _Scan:
    """Counts the elements of one part. openpyxl builds a tree of each record (a row, a shared string)
    in turn, and of everything else in the part at once (a style costs it some 2 KB, a shared string
    some 15 µs): each record's elements and all the others are held to max_xml_elements, the number
    of records to max_xml_records."""

    wants_text = False
    record_depth = 0  # the depth of the part's records; 0 for a part without any

    def __init__(self, package: Package, part: str) -> None:
        self.package, self.part, self.limit = package, part, package.limits.max_xml_elements
        self.depth = self.inside = self.outside = self.records = 0
        self.in_record = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.in_record:
            self.inside += 1
            if self.inside > self.limit:
                raise self._too_complex(self.record(), f"超过 {self.limit:,} 个 XML 元素")
        elif self.depth == self.record_depth and self.is_record(tag):
            self.in_record, self.inside = True, 0
            self.records += 1
            if self.records > self.package.limits.max_xml_records:
                limit = self.package.limits.max_xml_records
                raise self._too_complex(self.package.described(self.part), f"超过 {limit:,} {self.unit()}")
            self.open_record(attrs)
        else:
            self.outside += 1
            if self.outside > self.limit:
                raise self._too_complex(self.package.described(self.part), f"超过 {self.limit:,} 个 XML 元素")
        self.element(tag, attrs)

    def end(self, tag: str) -> None:
        if self.in_record and self.depth == self.record_depth:
            self.in_record = False
            self.close_record()
        self.depth -= 1

    def text(self, data: str) -> None:
        """Character data, for the scans that keep values."""

    def is_record(self, tag: str) -> bool:
        return False

    def record(self) -> str:
        """The record being read, as the clerk's message names it."""
        return self.package.described(self.part)

    def unit(self) -> str:
        """What the part's records are called."""
        return "条文字"

    def open_record(self, attrs: dict[str, str]) -> None:
        """A record begins."""

    def close_record(self) -> None:
        """A record ends."""

    def element(self, tag: str, attrs: dict[str, str]) -> None:
        """Any element, once counted."""

    def _too_complex(self, where: str, what: str) -> SheetError:
        return SheetError(
            f"文件 {self.package.name} 的结构超出上限（{where}含有{what}），无法读取，请在 Excel 中另存后再提交"
        )


class _Tree(_Scan):
    """A part openpyxl reads whole (content types, relationships, the workbook): counted, and shown
    element by element to the caller."""

    def __init__(self, package: Package, part: str, seen: Callable[[str, dict[str, str]], None]) -> None:
        super().__init__(package, part)
        self.seen = seen

    def element(self, tag: str, attrs: dict[str, str]) -> None:
        self.seen(tag, attrs)


class _Sheet(_Scan):
    """Any part, its root telling what its records are: a worksheet's rows, a string table's strings.
    For a sheet to be read (`bounds`), rows are numbered as openpyxl numbers them, and the rows and
    columns holding anything are checked against the limits as they come."""

    def __init__(self, package: Package, part: str, bounds: _Bounds | None) -> None:
        super().__init__(package, part)
        self.bounds = bounds
        self.wants_text = bool(bounds and bounds.capture)
        self.row = self.column = 0
        self.in_sheet_data = self.string_table = False
        self.cell: tuple[str, list[str]] | None = None  # a kept cell: its type and its text so far
        self.collecting = False
        self.phonetic = 0

    def element(self, tag: str, attrs: dict[str, str]) -> None:
        if self.depth == 1:
            self.string_table = tag == MAIN + "sst"
            self.record_depth = 2 if self.string_table else 3
        elif self.depth == 2 and tag == MAIN + "sheetData":
            self.in_sheet_data = True
        elif self.bounds is None or not self.in_record:
            return
        elif self.depth == 4 and tag == MAIN + "c":
            self._cell(attrs)
        elif self.depth == 5 and tag in (MAIN + "v", MAIN + "is"):
            self._holds_value()
        if self.cell is not None:
            self.phonetic += tag == MAIN + "rPh"
            self.collecting = tag == MAIN + "v" or (tag == MAIN + "t" and not self.phonetic)

    def end(self, tag: str) -> None:
        if self.depth == 2 and tag == MAIN + "sheetData":
            self.in_sheet_data = False
        elif self.cell is not None:
            self.phonetic -= tag == MAIN + "rPh"
            if self.depth == 4:
                kind, pieces = self.cell
                self.bounds.captured.setdefault(self.row, {})[self.column] = (kind, "".join(pieces))
                self.cell = None
        self.collecting = False
        super().end(tag)

    def text(self, data: str) -> None:
        if self.collecting and self.cell is not None:
            self.cell[1].append(data)

    def is_record(self, tag: str) -> bool:
        return tag == MAIN + "si" if self.string_table else self.in_sheet_data and tag == MAIN + "row"

    def unit(self) -> str:
        return "条文字" if self.string_table else "行"

    def record(self) -> str:
        whole = self.package.described(self.part)
        if self.string_table:
            return f"{whole}中的一条文字"
        return f"{whole}第{self.row}行" if self.bounds else f"{whole}的一行"

    def open_record(self, attrs: dict[str, str]) -> None:
        if self.bounds is None or self.string_table:
            return
        given = attrs.get("r")
        number = self.row + 1 if given is None else int(given) if given.isdigit() else 0
        if not self.row < number <= EXCEL_ROWS:
            raise invalid(self.package.name, f"{self.package.described(self.part)}的行号异常（{given}）")
        self.row, self.column = number, 0

    def _cell(self, attrs: dict[str, str]) -> None:
        given = attrs.get("r")
        if given is None:
            self.column += 1
        else:
            match = CELL_REF.match(given)
            if match is None:
                raise invalid(self.package.name, f"{self.package.described(self.part)}的单元格位置异常（{given}）")
            self.column = column_index_from_string(match.group(1).upper())
        if self.column <= self.bounds.capture:
            self.cell = (attrs.get("t", "n"), [])

    def _holds_value(self) -> None:
        """A cell with a value: within the column limit, and its row counted (once) against the row limit."""
        bounds, limits, name = self.bounds, self.package.limits, self.package.name
        if self.column > limits.max_columns:
            raise too_many_columns(name, self.row, self.column - 1, limits)
        if bounds.last_row != self.row:
            if bounds.header_row is None:
                bounds.header_row = self.row
            elif self.row > bounds.header_row:
                bounds.data_rows += 1
                if bounds.data_rows > limits.max_rows:
                    raise too_many_rows(name, self.row, limits)
        bounds.last_row = self.row
        bounds.last_column = max(bounds.last_column, self.column)


class _Strings(_Scan):
    """The shared strings asked for, by index; reading stops after the last of them."""

    wants_text = True
    record_depth = 2

    def __init__(self, package: Package, part: str, wanted: set[int]) -> None:
        super().__init__(package, part)
        self.wanted, self.last = wanted, max(wanted)
        self.index = -1
        self.found: dict[int, str] = {}
        self.pieces: list[str] = []
        self.collecting = False
        self.phonetic = 0

    def is_record(self, tag: str) -> bool:
        return tag == MAIN + "si"

    def open_record(self, attrs: dict[str, str]) -> None:
        self.index += 1
        self.pieces = []

    def close_record(self) -> None:
        if self.index in self.wanted:
            self.found[self.index] = "".join(self.pieces)
        if self.index >= self.last:
            raise _Stop

    def element(self, tag: str, attrs: dict[str, str]) -> None:
        self.phonetic += tag == MAIN + "rPh"
        self.collecting = self.in_record and tag == MAIN + "t" and not self.phonetic

    def end(self, tag: str) -> None:
        self.phonetic -= tag == MAIN + "rPh"
        self.collecting = False
        super().end(tag)

    def text(self, data: str) -> None:
        if self.collecting:
            self.pieces.append(data)


def _value(kind: str, text: str, strings: dict[int, str]) -> Cell:
    """A fact's value as openpyxl gives it, but for dates (which stay the numbers Excel stores)."""
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return text == "1"
    if kind != "n":
        return text or None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            continue
    return None


def read_sheets(path: Path, extents: dict[str, Extent], limits: Limits) -> dict[str, list[tuple[int, list[Cell]]]]:
    """The sheets measured by `Package.check`, through openpyxl (read-only, streaming), each only as far
    as it holds anything: row numbers and values, rows holding nothing left out."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes (in English) on features it drops
            workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
            try:
                return {name: _rows(path.name, workbook[name], extent, limits) for name, extent in extents.items()}
            finally:
                workbook.close()
    except UNREADABLE as exc:
        raise invalid(path.name, type(exc).__name__) from exc


def _rows(name: str, sheet: Any, extent: Extent, limits: Limits) -> list[tuple[int, list[Cell]]]:
    if not extent.rows:
        return []
    rows = []
    for number, values in enumerate(
        sheet.iter_rows(max_row=extent.rows, max_col=extent.columns, values_only=True), start=1
    ):
        for column, value in enumerate(values):
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise too_long(name, number, column, len(value), limits)
        if any(v is not None for v in values):
            rows.append((number, list(values)))
    return rows
