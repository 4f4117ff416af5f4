"""A bulletin as a format-neutral document: the header fields and an ordered list of blocks.

Every renderer (Word, HTML/PDF, Markdown) walks the same blocks, so the formats cannot disagree.
Text in blocks is plain text (clerks' words included); each renderer escapes it for its format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

Value = str | int | float | date | None  # an annex cell: numbers and dates stay sortable in the workbook
_LATIN_TOKEN = re.compile(r"[\x21-\x7e]+")


class BulletinError(ValueError):
    """A bulletin that cannot be issued as asked."""


@dataclass(frozen=True)
class Heading:
    level: int  # 1 一、 / 2 （一） / 3 1. / 4 （1）: the number is part of `text`
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    path: Path
    caption: str


Block = Heading | Paragraph | Table | Chart


@dataclass(frozen=True)
class Annex:
    """附件: a list in full, of which the body shows the head; one sheet of the annex workbook."""

    label: str  # "附件1", or "附件" when it is the only one (GB/T 9704-2012 7.3.4, 8)
    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]


@dataclass(frozen=True)
class AnnexLine:
    """One line of the 附件说明, with its indents in characters so every format lines the names up."""

    text: str
    left: float  # where wrapped lines start: under the annex name's first character
    hanging: float  # how far the first line starts left of that


@dataclass(frozen=True)
class Document:
    issuer_mark: str  # the red issuing-office mark, e.g. "XX区社区配套设施规划建设管理工作领导小组办公室文件"
    doc_number: str  # "X区配套办〔2022〕3号"
    issue_label: str  # "第3期"
    title: str
    addressees: str  # 主送
    blocks: tuple[Block, ...]
    signature: str  # the issuing office, above the date
    date_text: str  # 2022年10月12日
    cc: str  # 抄送
    printed_by: str  # 印发 line: issuer and date
    fonts: dict[str, str] = field(default_factory=dict)  # role -> font family name
    annexes: tuple[Annex, ...] = ()


def annex_lines(annexes: tuple[Annex, ...]) -> tuple[AnnexLine, ...]:
    """The 附件说明 of GB/T 9704-2012 7.3.4: two characters in, "附件：" and the names, numbered "1." "2."
    when there are several, no punctuation after a name; a wrapped name lines up with its first character.
    """
    indent, label = 2, "附件："
    if len(annexes) == 1:
        return (AnnexLine(label + annexes[0].name, indent + len(label), len(label)),)
    lines = []
    for n, annex in enumerate(annexes, start=1):
        number = f"{n}."
        lead = (label if n == 1 else "") + number
        hanging = _ems(lead)
        lines.append(AnnexLine(lead + annex.name, indent + len(label) + _ems(number), hanging))
    return tuple(lines)


def column_widths(rows: Sequence[Sequence[str]], ncols: int, *, total: float, em: float, padding: float) -> list[float]:
    """Widths per column summing to `total`, as Word's automatic layout would share it out (Word and the
    PDF both use them). Each column first gets room for its short values and its longest unbreakable
    Latin token (a date, an item code) so they do not wrap; what is left goes to the columns whose text
    is longer than that. `em` is the cells' font size and `padding` a cell's margins, in `total`'s unit.
    """

    def needs(text: str) -> tuple[float, float]:
        lines = text.split("\n") or [""]
        full = max(_ems(line) for line in lines)
        token = max((_ems(t) for t in _LATIN_TOKEN.findall(text)), default=0.0)
        return max(min(full, 6.0), min(token, 8.0)), min(full, 40.0)

    least, wanted = [], []
    for c in range(ncols):
        pairs = [needs(row[c]) for row in rows]
        least.append(max(1.0, *(a for a, _ in pairs)) * em + padding)
        wanted.append(max(1.0, *(b for _, b in pairs)) * em + padding)
    if sum(least) >= total:
        return [total * w / sum(least) for w in least]
    spare = total - sum(least)
    extra = [max(0.0, w - m) for w, m in zip(wanted, least, strict=True)]
    basis = extra if sum(extra) > 0 else least
    return [m + spare * b / sum(basis) for m, b in zip(least, basis, strict=True)]


def _ems(text: str) -> float:
    """Width in characters: full-width 1, half-width (the numbers) 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)
