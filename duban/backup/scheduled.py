"""The scheduled backup: a new copy in DUBAN_BACKUP_DIR, the same copy verified into DUBAN_BACKUP_COPY_TO
(a mounted path elsewhere: 异地备份), and in each only the newest `backup.keep` copies.

Where the copies go belongs to the machine, like DUBAN_HOME and DUBAN_DATABASE_URL: the plan is the
programme's, stored in the database and so in every backup, and a restore on another machine must
not send its copies to a path that only made sense on the first. How many to keep is a rule of the
programme, so it is the plan's (`backup.keep`).

Every run makes a copy of its own (two runs in a day: two copies, the newer with a later name); a
later run never stands in for an earlier one, since the record has changed in between.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from duban.backup import BackupRefused, manifest
from duban.backup.take import NAME, Taken, take

DIR_ENV = "DUBAN_BACKUP_DIR"
COPY_ENV = "DUBAN_BACKUP_COPY_TO"


@dataclass
class Scheduled:
    taken: Taken
    removed: list[str] = field(default_factory=list)  # older copies removed from DUBAN_BACKUP_DIR
    copied_to: Path | None = None
    removed_there: list[str] = field(default_factory=list)


def run(keep: int) -> Scheduled:
    """Take, copy, then prune both places. A second place that is configured but missing (not mounted)
    fails the run after the local copy is made and pruned: the copy is there, the run says what is not."""
    folder = os.environ.get(DIR_ENV)
    if not folder:
        raise BackupRefused(f"未设置 {DIR_ENV}：定时备份不知道备份放在哪里（请设为 DUBAN_HOME 之外的文件夹）")
    second = os.environ.get(COPY_ENV)
    done = Scheduled(take(Path(folder)))
    done.removed = prune(done.taken.folder.parent, keep)
    if second:
        done.copied_to = copy_to(done.taken.folder, Path(second))
        done.removed_there = prune(Path(second), keep)
    return done


def backups(folder: Path) -> list[Path]:
    """The finished backups in a folder, oldest first (an unfinished one is hidden and has no manifest)."""
    found = [p for p in folder.iterdir() if NAME.match(p.name) and (p / manifest.MANIFEST).is_file()]
    return sorted(found, key=_order)


def _order(path: Path) -> tuple[str, int]:
    stamp, n = NAME.match(path.name).groups()
    return stamp, int(n or 1)


def prune(folder: Path, keep: int) -> list[str]:
    """Remove all but the newest `keep` backups; nothing else in the folder is touched."""
    old = backups(folder)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return [path.name for path in old]


def copy_to(backup: Path, second: Path) -> Path:
    """The backup copied into `second`, every file checked against the manifest as it is written.

    `second` must exist: a mount point that is missing is not made on the local disk."""
    if not second.is_dir():
        raise BackupRefused(f"第二备份位置 {second}（{COPY_ENV}）不存在或不是文件夹：是否未挂载？本次备份仅保存在本地")
    final = second / backup.name
    if final.exists():
        raise BackupRefused(f"第二备份位置已有同名备份 {final}，未覆盖")
    made = manifest.verified(backup)
    partial = second / f".{backup.name}.partial"
    partial.mkdir()
    try:
        for entry in made.files:
            target = manifest.located(partial, entry.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            found = manifest.copied(manifest.located(backup, entry.path), target)
            if (found.size, found.sm3) != (entry.size, entry.sm3):
                raise BackupRefused(f"复制到第二备份位置时 {entry.path} 内容不符（SM3 摘要与清单不符）")
        shutil.copyfile(backup / manifest.MANIFEST, partial / manifest.MANIFEST)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final
