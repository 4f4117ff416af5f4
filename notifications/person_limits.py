"""WeCom's per-member limits for app messages (30 a minute, 1,000 an hour), counted in the database.

WeCom drops the excess silently, so duban must never send it: every dispatcher takes a slot here before
a card goes, under one lock per person (PostgreSQL: an advisory lock; SQLite: the database's write lock),
and a full minute or hour defers the card to when a slot frees.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, delete, select

from duban.db import session_scope
from models import WecomAppSend

LIMITS = ((timedelta(minutes=1), 30), (timedelta(hours=1), 1000))  # WeCom's, per member


def reserve(userid: str, at: datetime) -> float | None:
    """Take a slot for `userid` at `at`; None when taken, else the seconds until one frees."""
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:who))").bindparams(who=f"wecom_app:{userid}"))
        session.add(WecomAppSend(userid=userid, sent_at=at))
        session.flush()  # on SQLite the write lock is taken here, before the count
        longest = LIMITS[-1][0]
        recent = session.exec(
            select(WecomAppSend.sent_at)
            .where(WecomAppSend.userid == userid, WecomAppSend.sent_at > at - longest)
            .order_by(col(WecomAppSend.sent_at))
        ).all()
        for window, limit in LIMITS:
            inside = [moment for moment in recent if moment > at - window]
            if len(inside) > limit:
                session.rollback()
                return max((inside[0] + window - at).total_seconds(), 1.0)
        session.exec(delete(WecomAppSend).where(WecomAppSend.userid == userid, WecomAppSend.sent_at < at - longest))
        return None
