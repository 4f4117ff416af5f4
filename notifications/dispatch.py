"""The dispatcher: delivers the outbox, once.

Each group of rows for one address is claimed (status `sending`, with a lease) in its own committed
transaction just before it is sent, and its outcome is committed right after. Two dispatchers never
send the same row: the claim is a conditional UPDATE. A dispatcher killed in the middle leaves at
most one group in `sending`; when its lease expires that group is marked dead with the reason (the
send may or may not have happened), never sent a second time.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlmodel import col, func, or_, select, update

from duban import config
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.plan import Plan
from duban.programme import plan_in_force
from models import OutboxMessage
from notifications.files import FileTransport
from notifications.message import Outgoing, SendError
from notifications.outbox import notify
from notifications.render import render, render_as
from notifications.secrets import live, secret

LEASE = timedelta(minutes=5)
RETRYABLE = ("queued", "failed")


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    waiting: int = 0
    deferred: int = 0
    messages: int = 0  # sends made (a digest of several rows is one)
    reported_dead: int = 0
    errors: list[str] = field(default_factory=list)


class Transports:
    """The transport for each channel, built once per dispatch from the environment."""

    def __init__(self, plan: Plan, clock: Callable[[], datetime]) -> None:
        sender = (plan.office.full_name or plan.office.name, "duban@localhost")
        self.files = FileTransport(config.home() / "outbox", sender)
        self.live = live()
        self._email = None
        self._wecom = None
        self._plan, self._clock = plan, clock

    def for_channel(self, channel: str):  # noqa: ANN201 - one of the transports
        if not self.live or channel == "file":
            return self.files
        if channel == "email":
            if self._email is None:
                from notifications.smtp import EmailTransport

                url = secret("DUBAN_SMTP_URL")
                if not url:
                    raise SendError("未配置邮件服务器（环境变量 DUBAN_SMTP_URL）", retry=False, report=True)
                self._email = EmailTransport(url)
            return self._email
        if self._wecom is None:
            import os

            from notifications.ratelimit import reserve
            from notifications.wecom import WecomTransport

            per_minute = self._plan.notifications.wecom_per_minute
            self._wecom = WecomTransport(
                os.environ.get("DUBAN_WECOM_API", "https://qyapi.weixin.qq.com"),
                key_of=secret,
                reserve=lambda bot: reserve(bot, self._clock(), per_minute),
                timeout=float(os.environ.get("DUBAN_WECOM_TIMEOUT", "10")),
            )
        return self._wecom

    def close(self) -> None:
        for transport in (self._email, self._wecom):
            if transport is not None:
                transport.close()


def dispatch(
    *, clock: Callable[[], datetime] | None = None, limit: int = 1000, only: list[int] | None = None
) -> DispatchResult:
    """Deliver what is due now; rows outside office hours wait unless urgent."""
    clock = clock or (lambda: datetime.now(UTC))
    plan = plan_in_force()
    result = DispatchResult()
    _expire_stale_claims(clock(), result)
    transports = Transports(plan, clock)
    try:
        for group in _due_groups(plan, clock(), limit, only, result):
            _send_group(plan, transports, group, clock, result)
    finally:
        transports.close()
    result.reported_dead = _report_dead(plan, clock())
    return result


def in_office_hours(plan: Plan, at: datetime) -> bool:
    local = at.astimezone(config.TZ)
    rules = plan.notifications
    start, end = (time.fromisoformat(t) for t in rules.office_hours)
    working = rules.send_on_non_working_days or WorkingCalendar(plan.calendar).is_working_day(local.date())
    return working and start <= local.time() <= end


def _expire_stale_claims(at: datetime, result: DispatchResult) -> None:
    with session_scope() as session:
        stale = session.exec(
            select(OutboxMessage).where(OutboxMessage.status == "sending", col(OutboxMessage.claimed_until) < at)
        ).all()
        for row in stale:
            row.status, row.claimed_by, row.claimed_until = "dead", None, None
            row.last_error = "发送过程中断（进程终止），投递结果未知；为免重复不再自动重发，请人工核实"
            session.add(row)
            result.dead += 1


def _due_groups(
    plan: Plan, at: datetime, limit: int, only: list[int] | None, result: DispatchResult
) -> list[list[OutboxMessage]]:
    open_hours = in_office_hours(plan, at)
    with session_scope() as session:
        query = select(OutboxMessage).where(
            col(OutboxMessage.status).in_(RETRYABLE),
            OutboxMessage.created_on <= at.astimezone(config.TZ).date(),  # a replay of a past day sends its own
            or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= at),
        )
        if only is not None:
            query = query.where(col(OutboxMessage.id).in_(only))
        if not open_hours:  # outside office hours only urgent rows may go: do not let others fill the batch
            routine = query.where(col(OutboxMessage.urgent).is_(False)).with_only_columns(func.count())
            result.waiting += session.exec(routine).one()
            query = query.where(col(OutboxMessage.urgent).is_(True))
        rows = session.exec(query.order_by(col(OutboxMessage.id)).limit(limit)).all()
    groups: dict[tuple[str, str, str], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.recipient, row.channel, row.address), []).append(row)
    return list(groups.values())


def _claim(ids: list[int], at: datetime) -> list[OutboxMessage]:
    token = uuid.uuid4().hex
    with session_scope() as session:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status).in_(RETRYABLE))
            .values(status="sending", claimed_by=token, claimed_until=at + LEASE)
        )
    with session_scope() as session:
        return list(
            session.exec(select(OutboxMessage).where(OutboxMessage.claimed_by == token).order_by(col(OutboxMessage.id)))
        )


def _send_group(
    plan: Plan,
    transports: Transports,
    group: list[OutboxMessage],
    clock: Callable[[], datetime],
    result: DispatchResult,
) -> None:
    rows = _claim([row.id for row in group], clock())
    if not rows:
        return  # another dispatcher took them
    outgoing = _compose(plan, rows, clock())
    try:
        transports.for_channel(outgoing.channel).send(outgoing)
    except SendError as exc:
        _record_failure(plan, rows, exc, clock(), result)
        return
    except Exception as exc:  # noqa: BLE001 - whatever broke, the rows must leave `sending`
        _record_failure(plan, rows, SendError(f"发送出错（{type(exc).__name__}）", retry=True), clock(), result)
        return
    with session_scope() as session:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([r.id for r in rows]))
            .values(
                status="sent",
                sent_at=clock(),
                attempts=OutboxMessage.attempts + 1,
                claimed_by=None,
                claimed_until=None,
                last_error="",
                next_attempt_at=None,
            )
        )
    result.sent += len(rows)
    result.messages += 1


def _record_failure(
    plan: Plan, rows: list[OutboxMessage], error: SendError, at: datetime, result: DispatchResult
) -> None:
    rules = plan.notifications
    result.errors.append(error.reason)
    with session_scope() as session:
        for row in rows:
            row = session.get(OutboxMessage, row.id)
            row.claimed_by, row.claimed_until, row.last_error = None, None, error.reason
            if error.defer:
                row.status, row.next_attempt_at = "queued", at + timedelta(seconds=error.wait_seconds)
                result.deferred += 1  # a full minute window is not a failed attempt
            elif error.retry and row.attempts + 1 < rules.max_attempts:
                row.attempts += 1
                delay = min(rules.backoff_seconds * 2 ** (row.attempts - 1), rules.backoff_max_seconds)
                delay = max(delay, error.wait_seconds or 0) * random.uniform(0.8, 1.2)
                row.status, row.next_attempt_at = "failed", at + timedelta(seconds=delay)
                result.failed += 1
            else:
                row.attempts += 1
                row.status = "dead"
                result.dead += 1
            session.add(row)


def _compose(plan: Plan, rows: list[OutboxMessage], at: datetime) -> Outgoing:
    """One row as it is; several rows for one address in one dispatch as one digest."""
    from notifications.wecom import mention_mobiles

    first = rows[0]
    mentions = mention_mobiles(plan, first.recipient, first.address) if first.channel == "wecom" else ()
    attachments = tuple(Path(p) for row in rows for p in row.attachments)
    common = {
        "ids": tuple(r.id for r in rows),
        "keys": tuple(r.idempotency_key for r in rows),
        "recipient": first.recipient,
        "channel": first.channel,
        "address": first.address,
        "attachments": attachments,
        "mentions": mentions,
        "urgent": any(r.urgent for r in rows),
        "created": at.astimezone(config.TZ),
    }
    if len(rows) == 1:
        return Outgoing(subject=first.subject, body=first.body, body_html=first.body_html, **common)
    overdue = sum(1 for r in rows if r.kind == "escalation" and "逾期未完成整改" in r.subject)
    parts = [{"subject": r.subject, "body": r.body, "html": _inner_html(r.body_html or "")} for r in rows]
    context = {"recipient": first.recipient, "parts": parts, "overdue": overdue, "plan": plan}
    subject, text = render("digest", **context)
    if first.channel == "wecom":
        return Outgoing(subject=subject, body=render_as("digest", "md", **context), **common)
    return Outgoing(subject=subject, body=text, body_html=render_as("digest", "html", **context), **common)


def _inner_html(document: str) -> str:
    match = re.search(r"<body[^>]*>(.*)</body>", document, re.S)
    return match.group(1).strip() if match else document


def _report_dead(plan: Plan, at: datetime) -> int:
    """One digest of newly dead messages to the Office's operator (never a report of a report)."""
    with session_scope() as session:
        dead = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == "dead", col(OutboxMessage.dead_reported).is_(False))
                .order_by(col(OutboxMessage.id))
            )
        )
        if not dead:
            return 0
        reportable = [row for row in dead if row.kind != "dead_letters"]
        for row in dead:
            row.dead_reported = True
            session.add(row)
        if reportable:
            ids = ",".join(str(r.id) for r in reportable)
            notify(
                session,
                plan,
                key=f"dead-letters:{hashlib.sha256(ids.encode()).hexdigest()[:24]}",
                kind="dead_letters",
                recipient=plan.notifications.operator,
                as_of=at.astimezone(config.TZ).date(),
                urgent=True,
                messages=[
                    {"recipient": r.recipient, "channel": r.channel, "subject": r.subject, "last_error": r.last_error}
                    for r in reportable
                ],
            )
        return len(reportable)
