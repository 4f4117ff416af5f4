"""Paths duban builds from data (item codes, unit names, file names) and paths clerks give it.

Every path under DUBAN_HOME is made by `under`: each part one plain name, the result inside the base
even after symlinks are followed. A code like `../../x` or `/etc` can then never name a place outside.
"""

from __future__ import annotations

import os
from pathlib import Path

NAME_BYTES = 255  # what Linux file systems allow for one name


class PathRefused(ValueError):
    """A path that cannot be used; the message (Chinese) names it."""


def under(base: Path, *parts: str) -> Path:
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise PathRefused(f"“{part}”不能用作文件或文件夹名称")
        if len(part.encode()) > NAME_BYTES:
            raise PathRefused(f"名称过长（{len(part.encode())}字节，最多{NAME_BYTES}字节）：{part[:40]}…")
    path = base.joinpath(*parts)
    if not path.resolve().is_relative_to(base.resolve()):
        raise PathRefused(f"{path} 不在 {base} 之内")
    return path


def kept_relative(path: str | Path, home: Path) -> str:
    """A file duban wrote, as a row keeps it: relative to DUBAN_HOME when inside it, so the row still names
    the file after the home is restored elsewhere (a backup, a copy) and `home / kept` finds it again;
    otherwise absolute, so it does not depend on the folder a later command runs in."""
    absolute, base = Path(os.path.normpath(Path(path).absolute())), Path(os.path.normpath(home.absolute()))
    if absolute.is_relative_to(base):  # as named, so a folder in the home linked elsewhere stays in it
        return str(absolute.relative_to(base))
    resolved, base = absolute.resolve(), home.resolve()
    return str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(resolved)


def output_file(path: Path) -> Path:
    """A file to write: its folder made if missing; a folder or a file in the way is a clear refusal."""
    if path.is_dir():
        raise PathRefused(f"{path} 是一个文件夹，请给出要写入的文件名（如 {path / '台账导出.xlsx'}）")
    _no_file_in_the_way(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def output_dir(path: Path) -> Path:
    """A folder to write into, made if missing."""
    if path.exists() and not path.is_dir():
        raise PathRefused(f"{path} 是文件，不是文件夹：--out 须给出文件夹")
    _no_file_in_the_way(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _no_file_in_the_way(path: Path) -> None:
    existing = next(parent for parent in path.parents if parent.exists())
    if not existing.is_dir():
        raise PathRefused(f"无法写入 {path}：{existing} 是文件，不是文件夹")
