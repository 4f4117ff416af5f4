"""The manifest of a backup: every file with its size and SM3 digest (GB/T 32905, the 商用密码 hash),
what database it holds, at what schema revision, from which version of duban, and when."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from cryptography.hazmat.primitives import hashes

from duban.backup import BackupRefused
from duban.files.paths import PathRefused, under

MANIFEST = "manifest.json"
FORMAT = "duban-backup/1"
CHUNK = 1 << 20
LISTED = 20  # problems named in a refusal; the rest are counted


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the backup folder, "/"-separated
    size: int
    sm3: str


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, Asia/Shanghai
    duban_version: str
    database: str  # "sqlite" or "postgresql"
    revision: str  # the database's alembic revision
    files: tuple[Entry, ...]

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files)

    def as_dict(self) -> dict:
        return {"format": FORMAT, **asdict(self), "files": [asdict(entry) for entry in self.files]}


def copied(source: Path, target: Path | None = None) -> Entry:
    """The file's size and SM3, read once (and written to `target` on the way, when given).

    The entry's path is left empty: the caller knows where the file sits in the backup."""
    digest = hashes.Hash(hashes.SM3())
    size = 0
    with source.open("rb") as reading:
        # created with the source's permissions: a key file readable by its owner only stays so
        writing = (
            os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, source.stat().st_mode & 0o777), "wb")
            if target is not None
            else None
        )
        try:
            while chunk := reading.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if writing is not None:
                    writing.write(chunk)
            if writing is not None:
                writing.flush()
                os.fsync(writing.fileno())
        finally:
            if writing is not None:
                writing.close()
    return Entry("", size, digest.finalize().hex())


def write(folder: Path, manifest: Manifest) -> None:
    text = json.dumps(manifest.as_dict(), ensure_ascii=False, indent=1)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def read(folder: Path) -> Manifest:
    """The manifest as written; a folder without one, or with one duban did not write, is refused."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupRefused(f"{folder} 不是文件夹：请给出一份备份的文件夹（其中有 {MANIFEST}）")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(data.get("format"))
        files = tuple(Entry(str(f["path"]), int(f["size"]), str(f["sm3"])) for f in data["files"])
        return Manifest(
            str(data["created_at"]), str(data["duban_version"]), str(data["database"]), str(data["revision"]), files
        )
    except FileNotFoundError:
        raise BackupRefused(f"{folder} 中没有备份清单 {MANIFEST}：不是 duban backup 生成的备份文件夹") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupRefused(f"备份清单 {path} 无法识别（已损坏，或不是 duban backup 生成的）") from None


def located(folder: Path, relative: str) -> Path:
    """Where a manifest's path is inside the backup folder; a path that would lead outside is refused."""
    try:
        return under(folder, *PurePosixPath(relative).parts)
    except PathRefused:
        raise BackupRefused(f"备份清单中的路径“{relative}”不在备份文件夹之内，拒绝使用此备份") from None


def verified(folder: Path) -> Manifest:
    """The manifest, once every file it lists is present with its size and SM3, and nothing else is there.

    Every problem is named at once; one is enough to refuse the whole backup."""
    manifest = read(folder)
    problems = []
    for entry in manifest.files:
        path = located(folder, entry.path)
        if not path.is_file() or path.is_symlink():
            problems.append(f"{entry.path}：文件缺失")
            continue
        found = copied(path)
        if found.size != entry.size:
            problems.append(f"{entry.path}：大小不符（清单 {entry.size} 字节，实际 {found.size} 字节）")
        elif found.sm3 != entry.sm3:
            problems.append(f"{entry.path}：内容已被改动（SM3 摘要与清单不符）")
    listed = {entry.path for entry in manifest.files} | {MANIFEST}
    problems += [f"{extra}：清单中没有此文件" for extra in sorted(set(_files(folder)) - listed)]
    if problems:
        more = len(problems) - LISTED
        shown = "；".join(problems[:LISTED]) + (f"；另有{more}处问题未列出" if more > 0 else "")
        raise BackupRefused(f"备份 {folder} 未通过校验，未恢复任何内容：{shown}")
    return manifest


def _files(folder: Path) -> list[str]:
    """Every file and link in the folder, as manifest paths."""
    found = []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        found += [(base / n).relative_to(folder).as_posix() for n in names]
        found += [(base / d).relative_to(folder).as_posix() for d in dirs if (base / d).is_symlink()]
    return found
