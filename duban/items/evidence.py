"""What an evidence file (佐证材料) must be before duban keeps a copy: a regular file, not empty, not too
large, and of a type the plan allows, judged by its content rather than by its name."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

# Each type by what its first bytes (or, for Office files, its parts) show.
_MAGIC = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word and Excel 97-2003
_OOXML = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
_TEXT_SAMPLE = 64 * 1024


class EvidenceRefused(ValueError):
    """An evidence file duban will not keep; the message (Chinese) names the file and why."""


def checked_bytes(path: Path, *, max_bytes: int, types: tuple[str, ...]) -> bytes:
    """The file's content, once it passes; read from the file as it was checked (no symlink, no swap)."""
    name = path.name
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise EvidenceRefused(f"找不到佐证材料文件 {path}") from None
    if stat.S_ISLNK(info.st_mode):
        raise EvidenceRefused(f"佐证材料 {name} 是符号链接，请直接提交文件本身")
    if stat.S_ISDIR(info.st_mode):
        raise EvidenceRefused(f"{path} 是文件夹，请提交其中的文件")
    if not stat.S_ISREG(info.st_mode):
        raise EvidenceRefused(f"佐证材料 {name} 不是普通文件")
    if info.st_size == 0:
        raise EvidenceRefused(f"佐证材料 {name} 是空文件（0字节）")
    if info.st_size > max_bytes:
        raise EvidenceRefused(f"佐证材料 {name} 过大（{_mb(info.st_size)}，最多{_mb(max_bytes)}）")
    try:  # no symlink, and no waiting on a pipe swapped in after the check
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise EvidenceRefused(f"佐证材料 {name} 无法读取") from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise EvidenceRefused(f"佐证材料 {name} 在检查过程中被替换，请重新提交")
        data = handle.read(max_bytes + 1)
    if not data:
        raise EvidenceRefused(f"佐证材料 {name} 是空文件（0字节）")
    if len(data) > max_bytes:
        raise EvidenceRefused(f"佐证材料 {name} 过大（最多{_mb(max_bytes)}）")
    kind = kind_of(data)
    if kind not in types:
        shown = "无法识别" if kind is None else kind
        raise EvidenceRefused(f"佐证材料 {name} 的类型（{shown}）不在允许范围内（可提交：{'、'.join(types)}）")
    return data


def kind_of(data: bytes) -> str | None:
    """The type the content shows, whatever the file is called."""
    for kind, starts in _MAGIC.items():
        if data.startswith(starts):
            return kind
    if data.startswith(_OLE):
        return "xls" if "Workbook".encode("utf-16-le") in data[: _TEXT_SAMPLE * 8] else "doc"
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_kind(data)
    sample = data[:_TEXT_SAMPLE]
    if b"\x00" not in sample:
        for encoding in ("utf-8", "gb18030"):
            try:
                sample.decode(encoding)
                return "txt"
            except UnicodeDecodeError as exc:
                if exc.start >= len(sample) - 4:  # a character cut by the sample's end
                    return "txt"
    return None


def _ooxml_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None
    return next((kind for kind, part in _OOXML.items() if part in names), None)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}MB"
