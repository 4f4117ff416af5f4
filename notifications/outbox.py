"""The notifier: one interface for every flow that wants to tell a unit something.

A message is written to the outbox in the caller's transaction, one row per channel that reaches
the recipient (from the plan's contacts; the file channel when none is configured). The
idempotency key makes a second run of the same flow for the same day queue nothing new.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session

from duban.db import insert_once
from duban.glossary import OUTBOX_STATUS, label
from duban.plan import EmailChannel, Plan
from models import OutboxMessage
from notifications.links import markdown_line, portal_link, with_link
from notifications.render import render, render_as


def routes(plan: Plan, unit: str) -> list[tuple[str, str]]:
    """(channel, address) pairs for a unit; a WeCom route names the variable holding the key."""
    found = next((u for _, u in plan.units() if u.name == unit), None)
    pairs = []
    for contact in found.contacts if found else ():
        for channel in contact.channels:
            if isinstance(channel, EmailChannel):
                pairs.append(("email", channel.to))
            else:
                pairs.append(("wecom", channel.key_env))
    return list(dict.fromkeys(pairs)) or [("file", "")]


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
    **context: object,
) -> int:
    """Queue `kind` for `recipient` unless `key` was queued before; returns the rows added.

    `page` is the portal page that needs the reader; with `DUBAN_PORTAL_URL` set, every body links to it.
    """
    link = portal_link(page)
    context = {"recipient": recipient, "plan": plan, "as_of": as_of, "link": link, **context}
    subject, text = render(kind, **context)
    if link:
        text = with_link(text, link)
    bodies: dict[str, str] = {}  # rendered for the channels that carry them, once

    def body(fmt: str) -> str:
        if fmt not in bodies:
            bodies[fmt] = render_as(kind, fmt, **({"subject": subject} if fmt == "html" else {}), **context)
            if fmt == "md" and link:
                bodies[fmt] += markdown_line(link)
        return bodies[fmt]

    now = datetime.now(UTC)
    rows = []
    for channel, address in routes(plan, recipient):
        values = {
            "idempotency_key": f"{key}|{recipient}|{channel}:{address}",
            "kind": kind,
            "recipient": recipient,
            "channel": channel,
            "address": address,
            "subject": subject,
            "body": body("md") if channel == "wecom" else text,
            "body_html": None if channel == "wecom" else body("html"),
            "attachments": list(attachments or []) if channel != "wecom" or wecom_attachments else [],
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
