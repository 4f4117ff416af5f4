"""The `state` of a WeCom sign-in: random, used once, ten minutes, and bound to the browser that asked.

The browser is named by its pre-sign-in token (the `duban_login` cookie, the sign-in form's CSRF token):
a state handed to another browser (a link with someone else's code and state, state fixation) finds a
different token there and is refused. Only SHA-256 digests are stored; the page to land on is kept here,
never sent to WeCom, so the callback's address carries nothing a visitor could change.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlmodel import delete

from duban.db import session_scope
from duban.signin.accounts import now
from models import WecomSignIn

STATE_MINUTES = 10  # a QR code may take a while to scan; WeCom's code itself lasts 5 minutes
STATE = re.compile(r"[0-9a-f]{32}")  # WeCom allows a-zA-Z0-9, at most 128 bytes
NEXT_MAX = 2_000


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def begin(browser: str, target: str) -> str:
    """A new state for this browser's sign-in, to land on `target` (a path of this site)."""
    state = secrets.token_hex(16)
    moment = now()
    with session_scope() as session:
        session.exec(delete(WecomSignIn).where(WecomSignIn.expires_at < moment))  # the table holds live ones
        session.add(
            WecomSignIn(
                state_hash=_digest(state),
                browser_hash=_digest(browser),
                next_path=target if len(target) <= NEXT_MAX else "/",
                expires_at=moment + timedelta(minutes=STATE_MINUTES),
            )
        )
    return state


def take(state: str, browser: str | None) -> str | None:
    """The page to land on when `state` is this browser's, unused and in time, else None. Used up either
    way: of two requests with one state, one at most finds it (the delete is what decides)."""
    if not STATE.fullmatch(state or ""):
        return None
    with session_scope() as session:
        row = session.get(WecomSignIn, _digest(state))
        if row is None:
            return None
        kept, target, ends = row.browser_hash, row.next_path, row.expires_at
        gone = session.exec(delete(WecomSignIn).where(WecomSignIn.state_hash == row.state_hash)).rowcount
    if gone != 1 or not browser or not hmac.compare_digest(kept, _digest(browser)) or ends <= now():
        return None
    return target
