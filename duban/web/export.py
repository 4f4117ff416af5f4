"""The one export of a list: its rows as an .xlsx download named in Chinese, written through the project's
one cell writer (text stays text, never a formula), cut at a row limit with a line saying so."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date
from urllib.parse import quote, unquote_plus

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from duban import audit
from duban.files.spreadsheet import Cell, put, table_workbook
from duban.web.deps import Person, today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE_LIMIT = 31  # what Excel allows a worksheet's name
NOT_IN_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")  # characters a worksheet's name may not hold


def cut_note(total: int, limit: int) -> str:
    return f"共{total}行，仅导出前{limit}行；请缩小筛选范围后分批导出"


def on_record(session: Session, request: Request, who: Person, action: str, title: str, day: date) -> None:
    """Every export is an audit entry: which list (`action`, named in glossary.AUDIT_ACTION), its title,
    the address it was asked at (its filters readable), who took it."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    _taken(session, who, "export", action, title, day, unquote_plus(asked))


def downloaded(session: Session, request: Request, who: Person, action: str, key: str, name: str) -> None:
    """Every file taken away is an audit entry too: which kind (`action`), which one (`key`), its name."""
    _taken(session, who, "download", action, key, today(request), name)


def _taken(session: Session, who: Person, subject: str, action: str, key: str, day: date, note: str) -> None:
    audit.taken(session, actor=who.unit, person=who.name, subject=subject, key=key, action=action, on=day, note=note)


def xlsx(title: str, header: list[str], rows: Iterable[list[Cell]], *, total: int, limit: int, day: date) -> Response:
    """`rows` already limited to `limit` by the caller's query; `total` the count of the filtered list.

    The file is named `<title>-<day>.xlsx`; when the list was cut, the row after the last one says so."""
    listed = list(rows)[:limit]
    sheet = NOT_IN_SHEET_TITLE.sub("", title)[:SHEET_TITLE_LIMIT] or "导出"  # a campaign's title may hold any
    workbook = table_workbook(sheet, header, listed)
    if total > len(listed):
        put(workbook.active, len(listed) + 3, 1, cut_note(total, len(listed)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    filename = f"{title}-{day.isoformat()}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "cache-control": "private, no-store",
        },
    )
