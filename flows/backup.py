"""The nightly backup (`schedules.backup`): a new copy, verified into the second place, the newest
`backup.keep` kept in each (duban/backup/scheduled.py says where and why)."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_table_artifact

from duban.audit.chain import head
from duban.backup.scheduled import run
from duban.db import session_scope
from duban.stored_plan import plan_in_force


@flow(name="backup")
def backup() -> dict[str, object]:
    """Safe to run again: each run is a copy of its own, and the oldest beyond `keep` go."""
    done = run(plan_in_force().backup.keep)
    with session_scope() as session:
        anchor = head(session)  # kept in Prefect's records too: an anchor outside duban's database
    summary = {
        "backup": str(done.taken.folder),
        "files": len(done.taken.manifest.files),
        "bytes": done.taken.manifest.size,
        "removed": len(done.removed),
        "copied_to": str(done.copied_to) if done.copied_to else "",
        "removed_there": len(done.removed_there),
        "audit_head": f"{anchor[0]}:{anchor[1]}" if anchor else "",
    }
    create_table_artifact(key="backup", table=[summary], description="本次备份（文件数、字节数、清理的旧备份）")
    return summary
