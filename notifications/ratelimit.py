"""The per-bot minute window, shared by every dispatcher through the database.

A bot is its webhook key, whatever variable holds it: the window is counted under a hash of the key
(`bot_of`), so two variables naming one key share one limit, and the key itself is never stored.
A slot is taken by inserting the send first and counting after, in one transaction: on SQLite the
insert takes the write lock, on PostgreSQL an advisory lock on the bot serialises the count.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, delete, select

from duban.db import session_scope
from models import WecomSend

WINDOW = timedelta(minutes=1)


def bot_of(key: str) -> str:
    """The name the window counts a webhook key under: one-way, so the table never holds the key."""
    return hashlib.sha256(f"duban-wecom-bot:{key}".encode()).hexdigest()[:32]


def reserve(bot: str, at: datetime, per_minute: int) -> float | None:
    """Take a slot for `bot` (see `bot_of`) at `at`; None when taken, else the seconds until one frees."""
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:bot))").bindparams(bot=bot))
        session.add(WecomSend(bot=bot, sent_at=at))
        session.flush()
        recent = session.exec(
            select(WecomSend.sent_at)
            .where(WecomSend.bot == bot, WecomSend.sent_at > at - WINDOW)
            .order_by(col(WecomSend.sent_at))
        ).all()
        if len(recent) <= per_minute:
            session.exec(delete(WecomSend).where(WecomSend.bot == bot, WecomSend.sent_at < at - WINDOW * 10))
            return None
        session.rollback()
        return max((recent[0] + WINDOW - at).total_seconds(), 1.0)
