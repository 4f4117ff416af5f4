"""Limits on guessing a password: failures in a row lock an account, for longer each time.

Every check of a secret (the sign-in's password, the current password on the change form, a one-time
code) first takes its place in the account's count, atomically in the database, and is checked only if
that place is within the limit: thirty guesses sent at once get five checks, whichever arrives first,
and the rest are refused unchecked. While the account is locked nothing is checked and every answer is
the same. Names nobody has are counted in memory alike (NameFailures), so the answers never tell who
has an account.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, or_, update
from sqlmodel import Session

from duban.plan import Plan
from models import Account

WRONG = "登录名或密码不正确"  # for a wrong login and a wrong password alike
WARN_FROM = 3  # from the third failure in a row, the answer says how many tries are left


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Place:
    """An attempt's place in the account's failures in a row (1 = the first since the last success)."""

    number: int  # 0: the account is locked, nothing may be checked
    limit: int

    @property
    def checked(self) -> bool:
        return 0 < self.number <= self.limit

    @property
    def last(self) -> bool:
        """A failure here locks the account."""
        return self.number >= self.limit


def take_place(session: Session, plan: Plan, account_id: int, moment: datetime) -> Place:
    """Count this attempt before checking anything (committed by the caller before the check). A lock
    that has run out starts the count again."""
    table = Account.__table__
    ended = and_(table.c.locked_until.is_not(None), table.c.locked_until <= moment)
    number = session.execute(
        update(table)
        .where(table.c.id == account_id, or_(table.c.locked_until.is_(None), ended))
        .values(
            failed_logins=case((ended, 1), else_=table.c.failed_logins + 1),
            locked_until=case((ended, None), else_=table.c.locked_until),
        )
        .returning(table.c.failed_logins)
    ).scalar_one_or_none()
    return Place(number or 0, plan.portal.lockout_after_failures)


def lock(session: Session, plan: Plan, account_id: int, moment: datetime) -> datetime | None:
    """Lock once (the first attempt past the limit does it; those racing beside it find it done): each
    lock since the last success lasts twice the one before, up to the plan's longest."""
    table = Account.__table__
    locks = session.execute(
        update(table)
        .where(table.c.id == account_id, table.c.locked_until.is_(None))
        .values(lock_count=table.c.lock_count + 1, locked_until=moment)  # a placeholder, set just below
        .returning(table.c.lock_count)
    ).scalar_one_or_none()
    if locks is None:
        return None
    until = moment + lock_span(plan, locks)
    session.execute(update(table).where(table.c.id == account_id).values(locked_until=until))
    return until


def lock_span(plan: Plan, locks: int) -> timedelta:
    rules = plan.portal
    minutes = min(rules.lockout_minutes * 2 ** max(locks - 1, 0), rules.lockout_max_minutes)
    return timedelta(minutes=minutes)


def give_back(session: Session, account_id: int) -> None:
    """A right password on an account with a second factor: not a failure, but the count goes on until
    the code is right too (a right password cannot start the codes' count again)."""
    table = Account.__table__
    session.execute(
        update(table)
        .where(table.c.id == account_id, table.c.failed_logins > 0)
        .values(failed_logins=table.c.failed_logins - 1)
    )


def succeeded(session: Session, account_id: int) -> None:
    table = Account.__table__
    session.execute(update(table).where(table.c.id == account_id).values(failed_logins=0, lock_count=0))


def refusal(plan: Plan, place: Place, wrong: str = WRONG) -> str:
    """The same words for an account and for a name nobody has, at the same place; `wrong` names what
    was wrong (the sign-in never says which of login and password)."""
    if not place.checked or place.last:
        return locked_text(plan)
    left = place.limit - place.number
    if place.number >= min(WARN_FROM, place.limit - 1):
        return f"{wrong}。再输错{left}次，账号将被锁定"
    return wrong


def locked_text(plan: Plan) -> str:
    return f"连续{plan.portal.lockout_after_failures}次验证失败，账号已锁定，请稍后再试或联系领导小组办公室解锁"


class NameFailures:
    """Failures in a row per login name nobody has, in this process's memory (at most `size` names, the
    least recently failed forgotten first): the same places and locks as an account's, so that the
    answers for a name nobody has read as for one that exists."""

    def __init__(self, plan: Plan, size: int = 10_000) -> None:
        self.plan, self.size = plan, size
        self.names: OrderedDict[str, tuple[int, int, datetime | None]] = OrderedDict()
        self.guard = threading.Lock()

    def take_place(self, key: str, moment: datetime) -> Place:
        limit = self.plan.portal.lockout_after_failures
        with self.guard:
            count, locks, until = self.names.pop(key, (0, 0, None))
            if until is not None and until <= moment:
                count, until = 0, None
            if until is None:
                count += 1
            self.names[key] = (count, locks, until)
            while len(self.names) > self.size:
                self.names.popitem(last=False)
        return Place(0 if until is not None else count, limit)

    def lock(self, key: str, moment: datetime) -> None:
        with self.guard:
            count, locks, until = self.names.pop(key, (0, 0, None))
            if until is None:
                locks += 1
                until = moment + lock_span(self.plan, locks)
            self.names[key] = (count, locks, until)
