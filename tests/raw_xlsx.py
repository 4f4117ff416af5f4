""".xlsx files written part by part with zipfile, as a hostile or odd upload could be made.

openpyxl cannot write what these tests need (a DTD, a million rows in seconds, a part far larger
unpacked than packed), so the parts are written as text, and streamed when they are big.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def cell(value: object) -> str:
    """A cell without a reference (openpyxl and Excel number such cells left to right)."""
    if isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    return f'<c t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row(values: Iterable[object], number: int | None = None) -> bytes:
    attribute = "" if number is None else f' r="{number}"'
    return f"<row{attribute}>{''.join(cell(v) for v in values)}</row>".encode()


def rows(table: Iterable[Iterable[object]]) -> Iterator[bytes]:
    return (row(values) for values in table)


def write(
    path: Path,
    sheets: dict[str, Iterable[bytes]],
    *,
    strings: Iterable[bytes] | None = None,
    doctype: str = "",
    hidden: tuple[str, ...] = (),
) -> Path:
    """An .xlsx with `sheets` (name -> the rows of its sheetData, as bytes), an optional shared-string
    table (its <si> elements, as bytes) and an optional DTD put before the first sheet's root."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        overrides = [("/xl/workbook.xml", f"{TYPE}.sheet.main+xml")]
        overrides += [(f"/xl/worksheets/sheet{n}.xml", f"{TYPE}.worksheet+xml") for n in range(1, len(sheets) + 1)]
        if strings is not None:
            overrides.append(("/xl/sharedStrings.xml", f"{TYPE}.sharedStrings+xml"))
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{REL}/officeDocument"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"'
            + (' state="veryHidden"' if name in hidden else "")
            + "/>"
            for n, name in enumerate(sheets, start=1)
        )
        archive.writestr(
            "xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets></workbook>'
        )
        links = "".join(
            f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG_REL}">{links}</Relationships>')
        for n, content in enumerate(sheets.values(), start=1):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
                part.write(DECLARATION + (doctype.encode() if n == 1 else b""))
                part.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
                _stream(part, content)
                part.write(b"</sheetData></worksheet>")
        if strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(DECLARATION + f'<sst xmlns="{MAIN}">'.encode())
                _stream(part, strings)
                part.write(b"</sst>")
    return path


def _stream(part: IO[bytes], chunks: Iterable[bytes]) -> None:
    """Write many small pieces in large writes (a million rows in a few seconds)."""
    batch: list[bytes] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size > 1 << 20:
            part.write(b"".join(batch))
            batch, size = [], 0
    part.write(b"".join(batch))
