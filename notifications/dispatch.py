"""The dispatcher: delivers the outbox, once.

Each group of rows for one address is claimed (status `sending`, with a lease) in its own committed
transaction just before it is sent, and its outcome is committed right after. Two dispatchers never
send the same row: the claim is a conditional UPDATE. A dispatcher killed in the middle leaves at
most one group in `sending`; when its lease expires that group is marked dead with the reason (the
send may or may not have happened), never sent a second time. A group's rows share one outcome; once
part of their send was delivered they stay bound to it (`send_key`), so that send resumes where it stopped.
A dispatch works through batches of `limit` rows until nothing due is left (at most MAX_BATCHES).
"""

from __future__ import annotations

import os
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement
from sqlmodel import col, func, or_, select, update

from duban import config
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.plan import Plan
from duban.stored_plan import plan_in_force
from models import OutboxMessage
from notifications import parts
from notifications.deadletters import report_dead
from notifications.files import FileTransport
from notifications.message import ConfigurationError, Outgoing, SendError
from notifications.render import render, render_as
from notifications.secrets import live, secret

LEASE = timedelta(minutes=5)
RETRYABLE = ("queued", "failed")
MAX_BATCHES = 100  # a dispatch drains what is due, but a runaway queue cannot hold it forever


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    waiting: int = 0
    deferred: int = 0
    messages: int = 0  # sends made (a digest of several rows is one)
    reported_dead: int = 0
    undeliverable: list[Path] = field(default_factory=list)  # dead-letter reports that reached nobody
    errors: list[str] = field(default_factory=list)


class Transports:
    """The transport for each channel, built once per dispatch from the environment."""

    def __init__(self, plan: Plan, clock: Callable[[], datetime]) -> None:
        sender = (plan.office.full_name or plan.office.name, "duban@localhost")
        self.files = FileTransport(config.home() / "outbox", sender)
        self.live = live()
        self._email = None
        self._wecom = None
        self._wecom_app = None
        self._plan, self._clock = plan, clock

    def for_channel(self, channel: str):  # noqa: ANN201 - one of the transports
        if not self.live or channel == "file":
            return self.files
        if channel == "email":
            if self._email is None:
                from notifications.smtp import EmailTransport

                url = secret("DUBAN_SMTP_URL")
                if not url:
                    raise ConfigurationError("未配置邮件服务器（环境变量 DUBAN_SMTP_URL）")
                self._email = EmailTransport(url, timeout=_seconds("DUBAN_SMTP_TIMEOUT", 20))
            return self._email
        if channel == "wecom_app":
            if self._wecom_app is None:
                from notifications.person_limits import reserve as reserve_person
                from notifications.wecom_app import WecomAppTransport

                self._wecom_app = WecomAppTransport(
                    reserve=lambda userid: reserve_person(userid, self._clock()),
                    clock=self._clock,
                    timeout=_seconds("DUBAN_WECOM_TIMEOUT", 10),
                )
            return self._wecom_app
        if self._wecom is None:
            from notifications.ratelimit import reserve
            from notifications.wecom import WecomTransport

            per_minute = self._plan.notifications.wecom_per_minute
            self._wecom = WecomTransport(
                os.environ.get("DUBAN_WECOM_API", "https://qyapi.weixin.qq.com"),
                key_of=secret,
                reserve=lambda bot: reserve(bot, self._clock(), per_minute),
                parts=parts.PartLog(self._clock),
                timeout=_seconds("DUBAN_WECOM_TIMEOUT", 10),
            )
        return self._wecom

    def close(self) -> None:
        for transport in (self._email, self._wecom, self._wecom_app):
            if transport is not None:
                transport.close()


def _seconds(name: str, default: float) -> float:
    """A timeout from the environment, in seconds; anything but a positive number is a configuration error."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 600:
        raise ConfigurationError(f"环境变量 {name} 应为 0 到 600 之间的秒数（如 20），现为“{value}”")
    return seconds


def dispatch(
    *, clock: Callable[[], datetime] | None = None, limit: int = 1000, only: list[int] | None = None
) -> DispatchResult:
    """Deliver what is due now, `limit` rows at a time until none is left; outside office hours only urgent rows.

    Dead messages are reported to the operator within the same dispatch (the report is urgent).
    """
    clock = clock or (lambda: datetime.now(UTC))
    plan = plan_in_force()
    result = DispatchResult()
    _expire_stale_claims(clock(), result)
    result.waiting = _waiting(plan, clock(), only)
    transports = Transports(plan, clock)
    try:
        for _ in range(MAX_BATCHES):
            groups = _due_groups(plan, clock(), limit, only)
            for group in groups:
                _send_group(plan, transports, group, clock, result)
            reported, files = report_dead(plan, clock())
            result.reported_dead += reported
            result.undeliverable += files
            if not groups and not reported:
                break
    finally:
        transports.close()
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
            row.attempts += 1  # the interrupted send was an attempt (it may even have been delivered)
            row.last_error = "发送过程中断（进程终止），投递结果未知；为免重复不再自动重发，请人工核实"
            session.add(row)
            result.dead += 1


def _due(at: datetime) -> tuple[ColumnElement[bool], ...]:
    """What makes a row due at `at`: read by the selection and checked again by the claim."""
    return (
        col(OutboxMessage.status).in_(RETRYABLE),
        OutboxMessage.created_on <= at.astimezone(config.TZ).date(),  # a replay of a past day sends its own
        or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= at),
    )


def _waiting(plan: Plan, at: datetime, only: list[int] | None) -> int:
    """Routine rows due but held back because it is outside office hours."""
    if in_office_hours(plan, at):
        return 0
    query = select(func.count()).select_from(OutboxMessage).where(*_due(at), col(OutboxMessage.urgent).is_(False))
    if only is not None:
        query = query.where(col(OutboxMessage.id).in_(only))
    with session_scope() as session:
        return session.exec(query).one()


def _due_groups(plan: Plan, at: datetime, limit: int, only: list[int] | None) -> list[list[OutboxMessage]]:
    """Up to `limit` due rows, grouped by address (and by the send they are bound to, if any)."""
    query = select(OutboxMessage).where(*_due(at))
    if only is not None:
        query = query.where(col(OutboxMessage.id).in_(only))
    if not in_office_hours(plan, at):  # outside office hours only urgent rows may go: do not let others fill the batch
        query = query.where(col(OutboxMessage.urgent).is_(True))
    with session_scope() as session:
        rows = session.exec(query.order_by(col(OutboxMessage.id)).limit(limit)).all()
    groups: dict[tuple[str, str, str, str | None], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.recipient, row.channel, row.address, row.send_key), []).append(row)
    return list(groups.values())


def _claim(group: list[OutboxMessage], at: datetime) -> list[OutboxMessage]:
    """Take the group's rows that are still due; a bound group is taken whole, by its send_key."""
    token = uuid.uuid4().hex
    send_key = group[0].send_key
    which = OutboxMessage.send_key == send_key if send_key else col(OutboxMessage.id).in_([row.id for row in group])
    with session_scope() as session:
        session.exec(
            update(OutboxMessage)
            .where(which, *_due(at))
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
    rows = _claim(group, clock())
    if not rows:
        return  # another dispatcher took them
    outgoing = _compose(plan, rows, clock())
    try:
        transports.for_channel(outgoing.channel).send(outgoing)
    except SendError as exc:
        _record_failure(plan, rows, outgoing.send_key, exc, clock(), result)
        return
    except Exception as exc:  # noqa: BLE001 - whatever broke, the rows must leave `sending`
        error = SendError(f"发送出错（{type(exc).__name__}）", retry=True)
        _record_failure(plan, rows, outgoing.send_key, error, clock(), result)
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
        parts.forget(session, outgoing.send_key)
    result.sent += len(rows)
    result.messages += 1


def _record_failure(
    plan: Plan, rows: list[OutboxMessage], send_key: str, error: SendError, at: datetime, result: DispatchResult
) -> None:
    """One outcome for the group's rows (they were one send); bound to the send if part of it was delivered.
    The transport says what went wrong; the reason kept says what happens next, which only this decides."""
    rules = plan.notifications
    attempts = max(row.attempts for row in rows) + 1  # the group's most tried row decides for all
    if error.defer:
        reason = error.reason
    elif error.retry and attempts < rules.max_attempts:
        reason = f"{error.reason}，将重试"
    elif error.retry:
        reason = f"{error.reason}，已尝试{attempts}次，不再自动重试"
    else:
        reason = error.reason  # a permanent refusal or a configuration error says so itself
    result.errors.append(reason)
    values: dict[str, object] = {"claimed_by": None, "claimed_until": None, "last_error": reason}
    one_more = OutboxMessage.attempts + 1  # each row counts its own attempts
    if parts.delivered(send_key):
        values["send_key"] = send_key
    if error.defer:  # a full minute window is not a failed attempt
        values.update(status="queued", next_attempt_at=at + timedelta(seconds=error.wait_seconds))
        result.deferred += len(rows)
    elif error.retry and attempts < rules.max_attempts:
        delay = min(rules.backoff_seconds * 2 ** (attempts - 1), rules.backoff_max_seconds)
        delay = max(delay, error.wait_seconds or 0) * random.uniform(0.8, 1.2)
        values.update(status="failed", next_attempt_at=at + timedelta(seconds=delay), attempts=one_more)
        result.failed += len(rows)
    else:
        values.update(status="dead", attempts=one_more)
        result.dead += len(rows)
    with session_scope() as session:
        session.exec(update(OutboxMessage).where(col(OutboxMessage.id).in_([r.id for r in rows])).values(**values))


def _compose(plan: Plan, rows: list[OutboxMessage], at: datetime) -> Outgoing:
    """One row as it is; several rows for one address in one dispatch as one digest."""
    from notifications.wecom import mention_mobiles

    first = rows[0]
    mentions = mention_mobiles(plan, first.recipient, first.address) if first.channel == "wecom" else ()
    attachments = tuple(config.home() / p for row in rows for p in row.attachments)  # kept relative to the home
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
    pages = {r.page for r in rows}
    common["page"] = pages.pop() if len(pages) == 1 else "/"  # a digest of several pages opens the portal's home
    if len(rows) == 1:
        return Outgoing(subject=first.subject, body=first.body, body_html=first.body_html, **common)
    overdue = sum(_overdue_items(r) for r in rows)
    items = [{"subject": r.subject, "body": r.body, "html": _inner_html(r.body_html or "")} for r in rows]
    context = {"recipient": first.recipient, "parts": items, "overdue": overdue, "plan": plan}
    subject, text = render("digest", **context)
    if first.channel == "wecom":
        return Outgoing(subject=subject, body=render_as("digest", "md", **context), **common)
    return Outgoing(subject=subject, body=text, body_html=render_as("digest", "html", **context), **common)


def _overdue_items(row: OutboxMessage) -> int:
    """The overdue items an escalation row names: one, or as many as its digest's subject counts."""
    if row.kind != "escalation" or "逾期未完成整改" not in row.subject:
        return 0
    counted = re.search(r"其中(\d+)项问题逾期未完成整改", row.subject)
    return int(counted.group(1)) if counted else 1


def _inner_html(document: str) -> str:
    match = re.search(r"<body[^>]*>(.*)</body>", document, re.S)
    return match.group(1).strip() if match else document
