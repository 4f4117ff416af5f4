"""`duban restore DIR`: one backup folder into an empty DUBAN_HOME (and an empty database), after every
file has matched the manifest; then the checks a restored copy must pass.

Nothing is written until the whole backup has been verified and the target found empty. The files
are staged in DUBAN_HOME/.restoring and moved into place once the database is in; PostgreSQL restores
in one transaction. A refusal therefore leaves the target as it was.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from duban.backup import BackupRefused, checks, manifest, postgres
from duban.backup.manifest import Manifest
from duban.backup.source import Source, current
from duban.backup.take import DATABASE
from duban.glossary import DATABASE_KIND, label

STAGING = ".restoring"
LISTED = 5


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    migrated: bool  # the backup's schema was older and has been brought to this version's
    checks: list[checks.Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def restore(folder: Path, *, target: Source | None = None) -> Restored:
    target = target or current()
    folder = folder.resolve()
    made = manifest.verified(folder)
    if made.database != target.kind:
        raise BackupRefused(
            f"此备份是 {label(DATABASE_KIND, made.database)} 数据库，当前配置的是"
            f" {label(DATABASE_KIND, target.kind)}（DUBAN_DATABASE_URL）：请改为同类数据库后再恢复"
        )
    head, known = _revisions()
    if made.revision not in known:
        raise BackupRefused(f"备份的数据库版本（{made.revision}）比本程序新，或不是 duban 的：请先升级 duban 再恢复")
    _refuse_unless_empty(target)
    _put_in_place(folder, made, target)
    migrated = made.revision != head
    if migrated:
        from duban.db import migrate

        migrate()
    return Restored(made, migrated, checks.after_restore())


def _revisions() -> tuple[str, set[str]]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from duban.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    return script.get_current_head(), {r.revision for r in script.walk_revisions()}


def _refuse_unless_empty(target: Source) -> None:
    """Name what is there: a restore never mixes a backup with what a home or database already holds."""
    if target.home.exists():
        if not target.home.is_dir():
            raise BackupRefused(f"DUBAN_HOME（{target.home}）是文件，不是文件夹")
        present = sorted(p.name for p in target.home.iterdir())
        if present:
            raise BackupRefused(
                f"DUBAN_HOME（{target.home}）不是空的（已有 {_listed(present)}）：恢复只能写入空的 DUBAN_HOME，"
                "请换一个新的文件夹，或先移走其中的内容"
            )
    for path in sorted(target.database_files()):
        if path.exists():
            raise BackupRefused(f"数据库文件 {path} 已存在：恢复只能写入空的位置，请先移走它")
    if target.kind == "postgresql":
        found = postgres.tables(target.url)
        if found:
            raise BackupRefused(
                f"数据库 {postgres.shown(target.url)} 不是空的（已有 {len(found)} 张表等对象，如 {_listed(found)}）："
                "恢复只能写入新建的空数据库"
            )


def _listed(names: list[str]) -> str:
    shown = "、".join(names[:LISTED])
    return shown + (f" 等{len(names)}项" if len(names) > LISTED else "")


def _put_in_place(folder: Path, made: Manifest, target: Source) -> None:
    home = target.home
    home.mkdir(parents=True, exist_ok=True)
    staging = home / STAGING
    staging.mkdir()
    try:
        for entry in made.files:
            if not entry.path.startswith("home/"):
                continue
            relative = PurePosixPath(entry.path).relative_to("home")
            placed = staging.joinpath(*relative.parts)
            placed.parent.mkdir(parents=True, exist_ok=True)
            _copy_checked(manifest.located(folder, entry.path), placed, entry)
        database = next(e for e in made.files if e.path == DATABASE[made.database])
        dump = manifest.located(folder, database.path)
        if target.kind == "postgresql":
            postgres.restore(target.url, dump)
        else:
            assert target.sqlite_file is not None
            staged_db = staging / f"{STAGING}.db"
            _copy_checked(dump, staged_db, database)
            target.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged_db, target.sqlite_file)  # a rename when in DUBAN_HOME (the default)
        for child in staging.iterdir():
            child.replace(home / child.name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_checked(source: Path, target: Path, expected: manifest.Entry) -> None:
    """Copy, and compare once more: the backup may have changed since it was verified."""
    found = manifest.copied(source, target)
    if (found.size, found.sm3) != (expected.size, expected.sm3):
        raise BackupRefused(f"备份文件 {expected.path} 在恢复过程中被改动（SM3 摘要与清单不符），已停止恢复")
