"""Dead messages are told to the Office's operator; when that report cannot be delivered either, the
operator is told another way, since no message can reach them: a file under
$DUBAN_HOME/outbox/undeliverable/, a warning in `duban outbox` and `duban status` for as long as
such a report stays dead, and a Failed dispatch-outbox flow run.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, func, select

from duban import config
from duban.db import session_scope
from duban.files.paths import under
from duban.plan import Plan
from models import OutboxMessage

KIND = "dead_letters"


class OperatorUnreachable(RuntimeError):
    """Raised by the dispatch flow so that its run ends Failed (red in the Prefect UI), and by `duban outbox
    dispatch` so that it exits non-zero: the operator learns it from the run or the terminal."""


def unreachable(files: list[Path]) -> OperatorUnreachable:
    """What says that dead-letter reports reached nobody, naming the files that hold them."""
    named = "、".join(str(path) for path in files)
    return OperatorUnreachable(f"{len(files)}份未送达消息报告未能送达操作员，详见 {named}")


def folder() -> Path:
    return under(config.home(), "outbox", "undeliverable")


def report_dead(plan: Plan, at: datetime) -> tuple[int, list[Path]]:
    """One report of newly dead messages to the operator (never a report of a report); a file for each
    report that is itself dead. Returns the messages reported and the files written."""
    from notifications.outbox import notify  # here: `duban status` reads `warning` without the outbox's Jinja

    with session_scope() as session:
        dead = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == "dead", col(OutboxMessage.dead_reported).is_(False))
                .order_by(col(OutboxMessage.id))
            )
        )
        reportable = [row for row in dead if row.kind != KIND]
        files = [_write_file(session, plan, row) for row in dead if row.kind == KIND]
        key = f"dead-letters:{hashlib.sha256(','.join(str(r.id) for r in reportable).encode()).hexdigest()[:24]}"
        for row in dead:
            row.dead_reported = True
            if row.kind != KIND:
                row.reported_in = key
            session.add(row)
        if reportable:
            notify(
                session,
                plan,
                key=key,
                kind=KIND,
                recipient=plan.notifications.operator,
                as_of=at.astimezone(config.TZ).date(),
                urgent=True,
                messages=[_listed(r) for r in reportable],
            )
    return len(reportable), files


def warning() -> str | None:
    """A line for `duban outbox` and `duban status` while a dead-letter report is itself dead."""
    with session_scope() as session:
        recipients = session.exec(
            select(OutboxMessage.recipient, func.count())
            .where(OutboxMessage.kind == KIND, OutboxMessage.status == "dead")
            .group_by(OutboxMessage.recipient)
        ).all()
    if not recipients:
        return None
    total = sum(n for _, n in recipients)
    names = "、".join(name for name, _ in recipients)
    return (
        f"警告：{total}份未送达消息报告未能送达{names}，相关单位未收到的消息无人知晓。"
        f"详见 {folder()}；修复接收渠道后用 duban outbox retry 编号 重发报告。"
    )


def _write_file(session: Session, plan: Plan, report: OutboxMessage) -> Path:
    """What the dead report was to say, and why it could not; named by the report, so written once."""
    from notifications.render import render

    named = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.reported_in == report.idempotency_key.split("|", 1)[0])
        .order_by(col(OutboxMessage.id))
    )
    _, text = render(
        "undeliverable",
        recipient=report.recipient,
        plan=plan,
        report=report,
        where=f"{report.channel}:{report.address}" if report.address else report.channel,
        messages=[_listed(row) for row in named],
    )
    path = under(folder(), f"{report.id:06d}-{report.created_on.isoformat()}.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _listed(row: OutboxMessage) -> dict[str, object]:
    return {
        "id": row.id,
        "recipient": row.recipient,
        "channel": row.channel,
        "subject": row.subject,
        "last_error": row.last_error,
    }
