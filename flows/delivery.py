"""Deliver the outbox: scheduled every few minutes in office hours, safe to run twice at once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from tasks.notifications import dispatch_batch


@flow(name="dispatch-outbox")
def dispatch_outbox(limit: int = 1000, at: datetime | None = None) -> dict[str, int]:
    """`at` replays a past moment (a tick of a past day); by default, now."""
    result = dispatch_batch(limit, at)
    summary = {
        "sent": result.sent,
        "failed": result.failed,
        "dead": result.dead,
        "waiting": result.waiting,
        "deferred": result.deferred,
        "messages": result.messages,
    }
    create_table_artifact(key="outbox-dispatch", table=[summary], description="本次消息投递情况（不含消息内容）")
    return summary
