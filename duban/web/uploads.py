"""Files sent through the portal: a safe name, a size limit, kept in a private folder under DUBAN_HOME
only while the same domain function as the CLI reads them (which then checks the content)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import HTTPException
from starlette.datastructures import UploadFile

from duban import config, textgate
from duban.files.paths import PathRefused, under

CHUNK = 1024 * 1024
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.|\.\.")


def uploads_in(form, field: str) -> list[UploadFile]:  # noqa: ANN001 - starlette FormData
    return [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]


def scratch() -> Path:
    """A new private folder under DUBAN_HOME/uploads/ for one request's files (the caller removes it)."""
    base = config.home() / "uploads"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base))


def removed(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def received(files: list[UploadFile], *, max_bytes: int) -> Iterator[list[Path]]:
    """The files written under DUBAN_HOME/uploads/<random>/ by their checked names, removed afterwards."""
    folder = scratch()
    try:
        paths = []
        for upload in files:
            name = _name(upload.filename or "")
            try:  # each in its own folder: phones name every photo image.jpg
                target = under(Path(tempfile.mkdtemp(dir=folder)), name)
            except PathRefused:
                raise HTTPException(400, f"文件名“{textgate.shown(name)}”不合法，已拒绝") from None
            size = 0
            with target.open("xb") as out:
                while chunk := upload.file.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise HTTPException(413, f"文件“{name}”过大（最多{max_bytes // 1024 // 1024}MB），已拒绝")
                    out.write(chunk)
            paths.append(target)
        yield paths
    finally:
        removed(folder)


def _name(raw: str) -> str:
    """Refused rather than rewritten: a name with a path in it is not a file name."""
    if not raw or len(raw) > textgate.FILENAME_LIMIT or _BAD_NAME.search(raw):
        raise HTTPException(
            400, f"文件名“{textgate.shown(raw[:80])}”不合法（不能包含路径、控制字符或以点开头），已拒绝"
        )
    return raw
