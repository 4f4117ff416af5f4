"""Deliver the outbox: scheduled every few minutes in office hours, safe to run twice at once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from notifications.deadletters import unreachable
from tasks.notifications import dispatch_batch


@flow(name="dispatch-outbox")
def dispatch_outbox(limit: int = 1000, at: datetime | None = None) -> dict[str, int]:
    """`at` replays a past moment (a tick of a past day); by default, now. `limit` rows are read per batch.

    The run ends Failed when a report of dead messages could not reach the operator either: no message
    can tell them, so the run's state does (and the file it names).
    """
    result = dispatch_batch(limit, at)
    summary = {
        "sent": result.sent,
        "failed": result.failed,
        "dead": result.dead,
        "waiting": result.waiting,
        "deferred": result.deferred,
        "messages": result.messages,
        "undeliverable": len(result.undeliverable),
    }
    create_table_artifact(key="outbox-dispatch", table=[summary], description="本次消息投递情况（不含消息内容）")
    if result.undeliverable:
        raise unreachable(result.undeliverable)
    return summary
