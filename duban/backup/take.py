"""`duban backup --to DIR`: a new folder, named by its time, holding a consistent copy of the database,
the files of the record under DUBAN_HOME, and the manifest. An existing backup is never touched.

The database is copied first, as one snapshot (SQLite's online backup API, or pg_dump); the files
after. Files are only ever added under names of their own before the row that names them commits, so
every file the copied database names is in the copy (a file added meanwhile comes along unnamed).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

from duban.backup import BackupRefused, manifest, postgres
from duban.backup.manifest import Entry, Manifest
from duban.backup.source import Source, current
from duban.config import TZ
from duban.files.paths import output_dir

NAME = re.compile(r"^(\d{8}-\d{6})(?:-(\d+))?$")  # 20221010-020000, then -2, -3 in the same second
DATABASE = {"sqlite": "database/duban.db", "postgresql": "database/duban.dump"}


@dataclass(frozen=True)
class Taken:
    folder: Path
    manifest: Manifest


def take(to: Path, *, source: Source | None = None, now: datetime | None = None) -> Taken:
    source = source or current()
    if source.kind not in DATABASE:
        raise BackupRefused(f"不支持备份此类数据库（{source.kind}）：duban 备份 SQLite 和 PostgreSQL")
    if to.resolve().is_relative_to(source.home):
        raise BackupRefused(f"备份位置 {to} 在 DUBAN_HOME（{source.home}）之内：请放在其外（最好在另一块磁盘上）")
    to = output_dir(to).resolve()
    created = (now or datetime.now(TZ)).astimezone(TZ)
    name, partial = _claim(to, created)
    try:
        database = partial / DATABASE[source.kind]
        database.parent.mkdir()
        revision = _copy_database(source, database)
        entries = [_entry(DATABASE[source.kind], manifest.copied(database))]
        for relative, path in source.files():
            target = partial / "home" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                entries.append(_entry(f"home/{relative}", manifest.copied(path, target)))
            except FileNotFoundError:
                continue  # removed since the walk saw it (a replaced bulletin's old edition): not in the record
        made = Manifest(created.isoformat(timespec="seconds"), version("duban"), source.kind, revision, tuple(entries))
        manifest.write(partial, made)
        partial.rename(to / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Taken(to / name, made)


def _claim(to: Path, created: datetime) -> tuple[str, Path]:
    """A name no backup in `to` has, after every one of the same second (one pruned since must not be
    taken again: the new backup would sort before the ones kept, and be the next pruned), and its
    unfinished folder (hidden, so never taken for a backup)."""
    stamp = created.strftime("%Y%m%d-%H%M%S")
    same = [NAME.match(p.name.strip(".").removesuffix(".partial")) for p in to.iterdir()]
    after = max((int(m.group(2) or 1) for m in same if m and m.group(1) == stamp), default=0)
    for n in range(after + 1, 1000):
        name = stamp if n == 1 else f"{stamp}-{n}"
        if (to / name).exists():
            continue
        partial = to / f".{name}.partial"
        try:
            partial.mkdir()
        except FileExistsError:
            continue  # another backup in the same second
        return name, partial
    raise BackupRefused(f"{to} 中同一秒已有过多备份")


def _entry(path: str, found: Entry) -> Entry:
    return Entry(path, found.size, found.sm3)


def _copy_database(source: Source, target: Path) -> str:
    """Copy the database as one snapshot; its schema revision, read from the copy where it can be."""
    if source.kind == "postgresql":
        revision = _revision_of(source.url)
        postgres.dump(source.url, target)
        return revision
    path = source.sqlite_file
    assert path is not None
    try:  # mode=rw: a missing database is refused, not created empty
        live = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=30)
    except sqlite3.OperationalError:
        raise BackupRefused(f"找不到数据库 {path}：请先运行 duban init --plan 方案文件") from None
    copy = sqlite3.connect(target)
    try:
        try:
            live.backup(copy)  # all pages in one step: one read transaction, one snapshot
        except sqlite3.Error as exc:
            raise BackupRefused(f"无法读取数据库 {path}（{exc}）：请稍后重试") from None
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, whatever the live one uses
        try:
            found = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            found = None
    finally:
        copy.close()
        live.close()
    if found is None:
        raise BackupRefused(f"数据库 {path} 尚未初始化：请先运行 duban init --plan 方案文件")
    return found[0]


def _revision_of(url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from duban.db import engine_for

    try:
        with engine_for(url).connect() as conn:
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        shown = postgres.shown(url)
        raise BackupRefused(f"数据库 {shown} 无法读取或尚未初始化：请先运行 duban init --plan 方案文件") from None
