"""The notifier: one interface for every flow that wants to tell a unit something.

A message is written to the outbox in the caller's transaction, one row per channel that reaches
the recipient (from the plan's contacts; the file channel when none is configured). The
idempotency key makes a second run of the same flow for the same day queue nothing new.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from duban import config
from duban.db import insert_once
from duban.files.paths import kept_relative
from duban.glossary import OUTBOX_STATUS, label
from duban.plan import EmailChannel, Plan, WecomAppChannel
from models import Account, OutboxMessage
from notifications.links import markdown_line, portal_link, with_link
from notifications.render import render, render_as


def routes(plan: Plan, unit: str) -> list[tuple[str, str]]:
    """(channel, address) pairs for a unit; a WeCom route names the variable holding the key, a WeCom app
    route the roles it reaches ("" for all; `people` turns it into one route per person)."""
    found = next((u for _, u in plan.units() if u.name == unit), None)
    pairs = []
    for contact in found.contacts if found else ():
        for channel in contact.channels:
            if isinstance(channel, EmailChannel):
                pairs.append(("email", channel.to))
            elif isinstance(channel, WecomAppChannel):
                pairs.append(("wecom_app", ",".join(channel.roles)))
            else:
                pairs.append(("wecom", channel.key_env))
    return list(dict.fromkeys(pairs)) or [("file", "")]


def people(session: Session, unit: str, roles: str) -> list[str]:
    """The logins a WeCom app route reaches when the message is queued: the unit's active accounts with a
    WeCom id (and one of `roles`). None bound gives one route without a person, which fails visibly."""
    query = select(Account.login).where(
        Account.unit == unit, col(Account.disabled).is_(False), col(Account.wecom_userid).is_not(None)
    )
    if roles:
        query = query.where(col(Account.role).in_(roles.split(",")))
    return list(session.exec(query.order_by(col(Account.login)))) or [""]


def notify(
    session: Session,
    plan: Plan,
    *,
    key: str,
    kind: str,
    recipient: str,
    as_of: date,
    urgent: bool = False,
    attachments: list[str] | None = None,
    wecom_attachments: bool = True,
    page: str | None = None,
    template: str | None = None,
    **context: object,
) -> int:
    """Queue `kind` for `recipient` unless `key` was queued before; returns the rows added.

    `page` is the portal page that needs the reader; with `DUBAN_PORTAL_URL` set, every body links to it.
    `template` renders another form of the kind (a digest of several escalations is still an escalation).
    """
    template = template or kind
    link = portal_link(page)
    context = {"recipient": recipient, "plan": plan, "as_of": as_of, "link": link, **context}
    subject, text = render(template, **context)
    plain = text  # a WeCom app card carries the link as its own button, not in its text
    if link:
        text = with_link(text, link)
    bodies: dict[str, str] = {}  # rendered for the channels that carry them, once
    files = [kept_relative(path, config.home()) for path in attachments or []]

    def body(fmt: str) -> str:
        if fmt not in bodies:
            bodies[fmt] = render_as(template, fmt, **({"subject": subject} if fmt == "html" else {}), **context)
            if fmt == "md" and link:
                bodies[fmt] += markdown_line(link)
        return bodies[fmt]

    now = datetime.now(UTC)
    rows = []
    pairs = [
        (channel, person)
        for channel, address in routes(plan, recipient)
        for person in (people(session, recipient, address) if channel == "wecom_app" else [address])
    ]
    for channel, address in dict.fromkeys(pairs):
        values = {
            "idempotency_key": f"{key}|{recipient}|{channel}:{address}",
            "kind": kind,
            "recipient": recipient,
            "channel": channel,
            "address": address,
            "subject": subject,
            "body": body("md") if channel == "wecom" else plain if channel == "wecom_app" else text,
            "body_html": None if channel.startswith("wecom") else body("html"),
            "attachments": files if channel in ("email", "file") or (channel == "wecom" and wecom_attachments) else [],
            "page": page,
            "urgent": urgent,
            "status": "queued",
            "attempts": 0,
            "last_error": "",
            "created_on": as_of,
            "created_at": now,
        }
        rows.append(values)
    return sum(insert_once(session, OutboxMessage, values, key=["idempotency_key"]) for values in rows)


class OutboxError(ValueError):
    """An outbox action refused; the message says why, in Chinese."""


def requeue(session: Session, message_id: int) -> OutboxMessage:
    """A failed or dead message goes again, with its attempts reset (the Office's retry)."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise OutboxError(f"消息队列中没有编号为{message_id}的消息")
    if row.status not in ("failed", "dead"):
        shown = label(OUTBOX_STATUS, row.status)
        raise OutboxError(f"第{message_id}号消息的状态为“{shown}”，只有“失败待重试”或“无法送达”的消息可以重发")
    row.status, row.attempts, row.next_attempt_at, row.dead_reported = "queued", 0, None, False
    session.add(row)
    return row
