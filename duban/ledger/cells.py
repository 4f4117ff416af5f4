"""Reading one cell of a clerk's spreadsheet as the value duban needs, or saying why not."""

from __future__ import annotations

import re
from datetime import date, datetime

from duban import textgate
from duban.files.spreadsheet import FORMULA_STARTS, Cell

_DATE = re.compile(r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$")  # ASCII digits: not ٣
_COMPACT = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")
_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", "×"}


class CellError(ValueError):
    """The cell holds something unusable; the message says what is expected."""


def text(value: Cell, *, multiline: bool = False) -> str | None:
    """Text through the gate (duban/textgate.py); line breaks only where a cell may hold several lines."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        raise CellError("此处应填写文字，而不是日期")
    raw = str(value)
    if raw.startswith("'") and raw[1:].startswith(FORMULA_STARTS):
        raw = raw[1:]  # duban's own CSV export guarded it so
    try:
        return textgate.clean(raw, multiline=multiline) or None
    except textgate.TextRefused as exc:
        raise CellError(str(exc)) from None


def long_text(value: Cell) -> str | None:
    return text(value, multiline=True)


def code(value: Cell) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        return textgate.code(raw)
    except textgate.TextRefused as exc:
        raise CellError(str(exc)) from None


def day(value: Cell) -> date | None:
    """Dates as Excel stores them, or typed as 2022-06-30, 2022/6/30, 2022.6.30, 2022年6月30日, 20220630."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        raw = str(int(value)) if float(value).is_integer() else raw
    match = _DATE.match(raw) or _COMPACT.match(raw)
    if not match:
        raise CellError("不是有效日期，请按 2022-06-30 的格式填写")
    year, month, dom = (int(g) for g in match.groups())
    try:
        return date(year, month, dom)
    except ValueError:
        raise CellError(f"日期不存在（{year}年{month}月没有{dom}日）") from None


def yes_no(value: Cell) -> bool:
    if value is None:
        return False
    raw = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError("只能填写“是”或“否”")
