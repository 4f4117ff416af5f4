"""`duban notify test`: a test message through every channel of a unit, delivered at once."""

from __future__ import annotations

import click

from duban import config
from duban.cli_common import out, user_errors


@click.group()
def notify() -> None:
    """Checking that messages reach a unit."""


@notify.command("test")
@click.option("--unit", required=True)
@user_errors
def notify_test(unit: str) -> None:
    """Send a test message through every channel of a unit, now, and say what happened."""
    from datetime import UTC, datetime

    from sqlmodel import col, select

    from duban.db import session_scope
    from duban.reporting.reports import ReportError
    from duban.stored_plan import current_plan
    from models import OutboxMessage
    from notifications.dispatch import dispatch
    from notifications.outbox import notify as queue
    from notifications.secrets import live

    stamp = datetime.now(UTC).isoformat()
    with session_scope() as session:
        plan = current_plan(session)
        if plan.unit_kind(unit) is None:
            raise ReportError(f"未知单位“{unit}”：不在实施方案的组织体系中")
        queue(session, plan, key=f"test:{unit}:{stamp}", kind="test", recipient=unit, as_of=config.today(), urgent=True)
    with session_scope() as session:
        ids = list(
            session.exec(
                select(OutboxMessage.id).where(col(OutboxMessage.idempotency_key).startswith(f"test:{unit}:{stamp}|"))
            )
        )
    dispatch(only=ids)
    with session_scope() as session:
        for row in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))):
            where = f"{row.channel}:{row.address}" if row.address else row.channel
            verdict = {"sent": "已送达", "failed": "发送失败，将重试", "dead": "无法送达"}.get(row.status, row.status)
            if row.status == "sent" and (row.channel == "file" or not live()):
                verdict = f"已写入 {config.home() / 'outbox'}（未实际发送：DUBAN_DELIVERY 不是 live）"
            reason = f"（{row.last_error}）" if row.last_error else ""
            out.print(f"{unit} → {where}：{verdict}{reason}")
