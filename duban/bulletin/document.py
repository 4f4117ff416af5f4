"""A bulletin as a format-neutral document: the header fields and an ordered list of blocks.

Every renderer (Word, HTML/PDF, Markdown) walks the same blocks, so the formats cannot disagree.
Text in blocks is plain text (clerks' words included); each renderer escapes it for its format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
