"""The one gate for text coming in from clerks: spreadsheets, forms, command-line arguments, the portal.

What passes is inert data: no control characters but tab and newline (so no terminal escapes, no
bytes a workbook cannot hold), no line breaks where one line is meant (mail headers, titles), no
bidirectional overrides that would make a screen show other text than is stored, a bounded length,
and codes (which also name folders under DUBAN_HOME) from a safe set of characters.
"""

from __future__ import annotations

import re

# The one definition of what must not pass, used by every writer too. C0 and C1 controls but tab and
# line feed (CR is handled apart: CRLF and CR mean a line break), the line and paragraph separators,
# bidirectional overrides and isolates, the directional marks, surrogates (undecodable bytes from a
# command line) and the non-characters U+FDD0-U+FDEF, U+FFFE, U+FFFF (no XML can hold them).
INVISIBLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
)
_CONTROL = re.compile(f"[{INVISIBLE}]")
_SHOWN = re.compile(f"[{INVISIBLE}\r]")
# What an XML document (a workbook) cannot hold at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CODE = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff_-]*")
CODE_LIMIT = 40
NOTE_LIMIT = 2000  # a note, a reason, a measure
TITLE_LIMIT = 100  # a title, a milestone, a name on one line
FILENAME_LIMIT = 255  # a file name as kept (models.Evidence.filename)


class TextRefused(ValueError):
    """Clerk text that cannot be taken; the message (Chinese) says why and, where given, which field."""


def clean(value: str, *, multiline: bool = False, limit: int | None = None, field: str = "") -> str:
    """The text as stored: stripped, line breaks as LF; refused when it holds what must not pass."""
    where = f"“{field}”" if field else ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text.strip() and not multiline:
        raise TextRefused(f"{where}只能填写一行文字，不能换行")
    bad = _CONTROL.search(text)
    if bad:
        raise TextRefused(f"{where}含有不可见的控制字符（U+{ord(bad.group()):04X}），请删除后重新填写")
    text = text.strip()
    if limit is not None and len(text) > limit:
        raise TextRefused(f"{where}内容过长（{len(text)}字，最多{limit}字）")
    return text


def shown(text: str) -> str:
    """Text for a screen: every invisible character (CR too) as a visible escape, tab and LF as they are."""
    return _SHOWN.sub(_escape, text)


def xml_safe(text: str) -> str:
    """Text a workbook can hold: what XML cannot carry as a visible escape, the rest as it is."""
    return _NOT_XML.sub(_escape, text)


def json_shown(text: str) -> str:
    """JSON text with every invisible character as a \\uXXXX escape (JSON reads it back alike)."""
    return _SHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(match: re.Match) -> str:
    point = ord(match.group())
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def code(value: str, *, field: str = "编号") -> str:
    """A code: letters, digits, Chinese characters, "-" and "_", starting with a letter, digit or character."""
    text = value.strip()
    if len(text) > CODE_LIMIT:
        raise TextRefused(f"{field}过长（{len(text)}个字符，最多{CODE_LIMIT}个）")
    if not _CODE.fullmatch(text):
        raise TextRefused(f"{field}只能由字母、数字、汉字、“-”和“_”组成，且不能以“-”或“_”开头")
    return text
