"""`duban outbox ...`: the messages waiting, sent, failed or dead; one queued again; delivery now."""

from __future__ import annotations

import click

from duban import config
from duban.cli_common import out, print_json, user_errors, warn_undeliverable


@click.group(invoke_without_command=True)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["queued", "sending", "sent", "failed", "dead"]),
    help="Repeatable.",
)
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(min=0), help="The newest N messages; 0 for all."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def outbox(ctx: click.Context, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Messages waiting, sent, failed or dead (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table
    from sqlmodel import col, func, select

    from duban.db import session_scope
    from models import OutboxMessage

    with session_scope() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
        counting = select(func.count()).select_from(OutboxMessage)
        if statuses:
            query = query.where(col(OutboxMessage.status).in_(statuses))
            counting = counting.where(col(OutboxMessage.status).in_(statuses))
        if limit:
            query = query.limit(limit)
        total = session.exec(counting).one()
        rows = [
            {
                "id": m.id,
                "status": m.status,
                "kind": m.kind,
                "recipient": m.recipient,
                "channel": m.channel,
                "address": m.address,
                "subject": m.subject,
                "attempts": m.attempts,
                "urgent": m.urgent,
                "created_on": m.created_on.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
                "last_error": m.last_error,
            }
            for m in session.exec(query)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="消息队列")
    for column in ("编号", "状态", "类型", "收件单位", "渠道", "标题", "尝试", "原因"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["status"],
            row["kind"],
            row["recipient"],
            row["channel"],
            row["subject"],
            str(row["attempts"]),
            row["last_error"],
        )
    out.print(table)
    if len(rows) < total:
        out.print(f"共 {total} 条，仅显示最新 {len(rows)} 条（--limit 0 显示全部）")
    warn_undeliverable()


@outbox.command("retry")
@click.argument("message_id", type=int)
@user_errors
def outbox_retry(message_id: int) -> None:
    """Queue a failed or dead message again, with its attempts reset."""
    from duban.db import session_scope
    from notifications.outbox import requeue

    with session_scope() as session:
        requeue(session, message_id)
    out.print(f"消息{message_id}已重新排队，将在下次投递时发送。")


@outbox.command("dispatch")
@click.option("--at", "at", default=None, metavar="DATETIME", help="Replay a past moment (ISO, Asia/Shanghai).")
@user_errors
def outbox_dispatch(at: str | None) -> None:
    """Deliver what is due now (what the dispatch-outbox schedule runs)."""
    from datetime import datetime

    from notifications.deadletters import unreachable
    from notifications.dispatch import dispatch

    clock = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"“{at}”不是有效时间，请按 2023-01-13T10:00:00 填写", param_hint="--at") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=config.TZ)
        clock = lambda: moment  # noqa: E731
    result = dispatch(clock=clock)
    out.print(
        f"已投递{result.sent}条（{result.messages}次发送），失败待重试{result.failed}条，"
        f"无法送达{result.dead}条，待办公时间{result.waiting}条，限流顺延{result.deferred}条。"
    )
    for reason in dict.fromkeys(result.errors):
        out.print(f"  原因：{reason}")
    if result.undeliverable:  # no message can tell the operator: the exit status and the file do
        raise unreachable(result.undeliverable)
