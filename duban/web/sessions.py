"""Server-side sessions: the cookie carries a random token, the database its SHA-256 and the CSRF token.

A session ends `session_hours` after sign-in or `idle_minutes` after the last request, at sign-out,
and when the account is disabled or its password reset; signing in always starts a new one (rotation).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, delete

from duban.plan import Plan
from duban.signin.accounts import now
from models import Account, WebSession

COOKIE = "duban_session"
SECURE_COOKIE = "__Host-duban_session"  # HTTPS only, this host only, path /: no subdomain can set it
TOUCH_SECONDS = 300  # last_seen_at is written at most every 5 minutes per session: idle ends 25-30 min after


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session, plan: Plan, account: Account, *, awaiting_code: bool = False, awaiting_wecom: bool = False
) -> str:
    """A new session for the account; returns the token for the cookie (never stored as is). Awaiting its
    one-time code, it reaches only the page that asks for it; awaiting the WeCom identity, only that step."""
    moment = now()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=digest(token),
            account_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + timedelta(hours=plan.portal.session_hours),
            awaiting_code=awaiting_code,
            awaiting_wecom=awaiting_wecom,
        )
    )
    session.exec(delete(WebSession).where(WebSession.expires_at < moment))  # the table holds live sessions
    return token


def find(session: Session, plan: Plan, token: str | None) -> tuple[WebSession, Account] | None:
    """The live session of this token and its account, or None (unknown, expired, idle or disabled)."""
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, digest(token))
    if row is None:
        return None
    moment = now()
    half_done = (row.awaiting_code or row.awaiting_wecom) and (
        row.created_at + timedelta(minutes=plan.portal.code_minutes) <= moment
    )
    if (
        half_done
        or row.expires_at <= moment
        or row.last_seen_at + timedelta(minutes=plan.portal.idle_minutes) <= moment
    ):
        session.delete(row)
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.disabled:
        session.delete(row)
        return None
    if (moment - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        row.last_seen_at = moment
        session.add(row)
    return row, account


def end(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(WebSession).where(WebSession.token_hash == digest(token)))
