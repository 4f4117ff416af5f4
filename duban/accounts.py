"""Portal accounts: a person in one unit with one role, a password kept as an argon2id hash.

The CLI (`duban user ...`) and the Office's accounts page call these same functions.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.glossary import ACCOUNT_ROLE as ROLE_LABELS
from duban.plan import Plan
from models import Account, WebSession

# What each kind of unit's people may be; the first is the default for that kind.
ROLES_BY_KIND = {
    "township": ("clerk", "head"),
    "department": ("clerk", "reviewer"),
    "office": ("staff", "admin", "auditor"),
    "leader": ("leader",),
}
LOGIN_PATTERN = r"^[a-z][a-z0-9._-]{2,31}$"
PASSWORD_MAX = 128
# Passwords people choose first; refused whatever the length rule says (ASVS 2.1.7, a short list).
COMMON = frozenset(
    {"123456789012", "1234567890123", "password1234", "qwertyuiop12", "aaaaaaaaaaaa", "abc123456789", "woaini1314520"}
)

_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters (64 MiB, t=3, p=4)
# Two hashes at a time per process: a burst of sign-ins queues here, in memory 2 x 64 MiB, rather than
# taking every core and every database connection the portal's other requests need.
_hashing = threading.BoundedSemaphore(2)


WRONG = "登录名或密码不正确"  # for a wrong login and a wrong password alike
WARN_FROM = 3  # from the third wrong sign-in in a row, the sign-in page says how many tries are left


class AccountError(ValueError):
    """An account action refused; the message says why, in Chinese, and `field` which form field it was."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SignIn:
    account: Account | None
    refusal: str = ""  # Chinese, and the same for a wrong login or a wrong password


def now() -> datetime:
    """Aware UTC: SQLModel stores and returns datetimes so."""
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def check_password(plan: Plan, password: str, *, login: str) -> None:
    """ASVS 2.1: length at least the plan's minimum, at most 128, every character allowed, not common."""
    rules = plan.portal
    if len(password) < rules.password_min_length:
        raise AccountError(f"密码至少{rules.password_min_length}个字符", "new_password")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"密码不能超过{PASSWORD_MAX}个字符", "new_password")
    if password.lower() in COMMON or login.lower() in password.lower() or len(set(password)) < 4:
        raise AccountError("密码过于简单（常见密码、包含登录名或重复字符），请另设", "new_password")


def initial_password() -> tuple[str, bool]:
    """`DUBAN_NEW_PASSWORD` when set, else a generated one (16 characters, about 95 bits); and
    whether it was generated (then it is shown once, to whoever opened the account)."""
    given = os.environ.get("DUBAN_NEW_PASSWORD")
    return (given, False) if given else (secrets.token_urlsafe(12), True)


def get(session: Session, login: str) -> Account:
    account = session.exec(select(Account).where(Account.login == login)).first()
    if account is None:
        raise AccountError(f"没有登录名为“{login}”的账号")
    return account


def add(
    session: Session,
    plan: Plan,
    *,
    unit: str,
    login: str,
    name: str,
    role: str | None,
    mobile: str,
    password: str,
    by: str,
    as_of: date,
) -> Account:
    kind = plan.unit_kind(unit)
    if kind not in ROLES_BY_KIND:
        raise AccountError(f"“{unit}”不是可以开通账号的单位（镇办、部门、领导小组办公室、区领导）", "unit")
    roles = ROLES_BY_KIND[kind]
    role = role or roles[0]
    if role not in roles:
        allowed = "、".join(ROLE_LABELS[r] for r in roles)
        raise AccountError(f"{unit}的账号角色只能是：{allowed}", "role")
    login = _clean(login, "login", "登录名").lower()
    if not re.match(LOGIN_PATTERN, login):
        raise AccountError("登录名须为3至32位小写字母、数字或 . _ -，以字母开头", "login")
    name = _clean(name, "name", "姓名")
    if not name:
        raise AccountError("姓名不能为空", "name")
    mobile = _clean(mobile, "mobile", "手机号", limit=20)
    if mobile and not re.match(r"^1\d{10}$", mobile):
        raise AccountError("手机号须为11位数字", "mobile")
    if session.exec(select(Account.id).where(Account.login == login)).first() is not None:
        raise AccountError(f"登录名“{login}”已被使用", "login")
    check_password(plan, password, login=login)
    account = Account(
        login=login,
        name=name,
        unit=unit,
        role=role,
        mobile=mobile,
        password_hash=hash_password(password),
        must_change_password=True,
        created_at=now(),
        opened_on=as_of,
    )
    session.add(account)
    _log(session, by, account, "add", {"unit": unit, "role": role, "name": name})
    return account


def disable(session: Session, login: str, *, by: str) -> Account:
    account = get(session, login)
    account.disabled = True
    session.add(account)
    end_sessions(session, account)
    _log(session, by, account, "disable", {"disabled": True})
    return account


def enable(session: Session, login: str, *, by: str) -> Account:
    account = get(session, login)
    account.disabled, account.failed_logins, account.locked_until = False, 0, None
    session.add(account)
    _log(session, by, account, "enable", {"disabled": False})
    return account


def reset_password(session: Session, plan: Plan, login: str, *, password: str, by: str) -> Account:
    """Someone else sets it: the person must change it at the next sign-in; their sessions end."""
    account = get(session, login)
    check_password(plan, password, login=account.login)
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.failed_logins, account.locked_until = 0, None
    session.add(account)
    end_sessions(session, account)
    _log(session, by, account, "reset_password", {"must_change_password": True})
    return account


def change_password(session: Session, plan: Plan, account: Account, *, current: str, new: str, confirm: str) -> None:
    if not _verify(account.password_hash, current):
        raise AccountError("当前密码不正确", "current_password")
    if new != confirm:
        raise AccountError("两次输入的新密码不一致", "new_password_confirm")
    if new == current:
        raise AccountError("新密码不能与当前密码相同", "new_password")
    check_password(plan, new, login=account.login)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.password_changed_at = now()
    session.add(account)
    _log(session, account.unit, account, "change_password", {"must_change_password": False})


def sign_in(session: Session, plan: Plan, login: str, password: str, names: NameFailures | None = None) -> SignIn:
    """Wrong login and wrong password read alike; failures in a row lock the account for a while. With
    `names`, a refusal says how many tries are left, by the count of the name (see NameFailures)."""
    key = login.strip().lower()[:32]
    result = _signed_in(session, plan, key, password)
    if names is None or result.refusal not in (WRONG, locked_text(plan)):
        if result.account is not None and names is not None:
            names.forget(key)
        return result
    return SignIn(None, names.refusal(key, now(), wrong=result.refusal == WRONG))


def _signed_in(session: Session, plan: Plan, key: str, password: str) -> SignIn:
    wrong = SignIn(None, WRONG)
    rules = plan.portal
    account = session.exec(select(Account).where(Account.login == key)).first()
    if account is None:
        _verify(_dummy(), password)  # an unknown login takes as long as a wrong password
        return wrong
    moment = now()
    right = _verify(account.password_hash, password[:PASSWORD_MAX])  # locked or not: the same time
    if is_locked(account, moment):
        # only the right password learns of the lock: a guesser cannot tell a locked login from none
        return SignIn(None, locked_text(plan)) if right else wrong
    if not right:
        # counted in the database, not in this request's copy: guesses sent in parallel all count
        table = Account.__table__
        failures = session.execute(
            update(table)
            .where(table.c.id == account.id)
            .values(failed_logins=table.c.failed_logins + 1)
            .returning(table.c.failed_logins)
        ).scalar_one()
        if failures >= rules.lockout_after_failures:
            locked_until = moment + timedelta(minutes=rules.lockout_minutes)
            session.execute(
                update(table).where(table.c.id == account.id).values(failed_logins=0, locked_until=locked_until)
            )
            _log(session, account.unit, account, "locked", {"locked_until": locked_until.isoformat()})
        return wrong
    if account.disabled:
        return SignIn(None, "账号已停用，请联系领导小组办公室")
    account.failed_logins, account.locked_until = 0, None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    session.add(account)
    _log(session, account.unit, account, "sign_in", {})
    return SignIn(account)


def locked_text(plan: Plan) -> str:
    rules = plan.portal
    return f"连续{rules.lockout_after_failures}次密码错误，账号已锁定，请{rules.lockout_minutes}分钟后再试"


def is_locked(account: Account, moment: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > moment


def unlock(session: Session, login: str, *, by: str) -> Account:
    """The Office lifts a lock before its time (the person called): the count of failures starts again."""
    account = get(session, login)
    if not is_locked(account, now()):
        raise AccountError(f"账号“{login}”未被锁定")
    account.failed_logins, account.locked_until = 0, None
    session.add(account)
    _log(session, by, account, "unlock", {"locked_until": None})
    return account


class NameFailures:
    """Wrong sign-ins in a row per login name, whether or not an account has that name: what the sign-in
    page says (tries left, then locked) reads the same for a name nobody has, so it tells nothing about
    who has an account. It follows the account's own rule (the limit in a row, then the lock's minutes,
    then a fresh count); the lock itself is the database's, for every process. One process's memory, at
    most `size` names, the least recently failed forgotten first."""

    def __init__(self, plan: Plan, size: int = 10_000) -> None:
        self.plan, self.size = plan, size
        self.limit, self.span = plan.portal.lockout_after_failures, timedelta(minutes=plan.portal.lockout_minutes)
        self.names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self.guard = threading.Lock()

    def refusal(self, key: str, moment: datetime, *, wrong: bool) -> str:
        """The refusal's words after one more refused sign-in (`wrong`: a wrong password or login)."""
        with self.guard:
            count, until = self.names.pop(key, (0, None))
            if until is not None and until <= moment:
                count, until = 0, None
            if until is None and wrong:
                count += 1
                if count >= self.limit:
                    count, until = 0, moment + self.span
            if count or until:
                self.names[key] = (count, until)
                while len(self.names) > self.size:
                    self.names.popitem(last=False)
        if until is not None or not wrong:
            return locked_text(self.plan)
        left = self.limit - count
        if count >= min(WARN_FROM, self.limit - 1):
            return f"{WRONG}。再输错{left}次，账号将被锁定{self.plan.portal.lockout_minutes}分钟"
        return WRONG

    def forget(self, key: str) -> None:
        """Signed in, or unlocked by the Office: the count starts again."""
        with self.guard:
            self.names.pop(key.strip().lower()[:32], None)


def end_sessions(session: Session, account: Account) -> None:
    for row in session.exec(select(WebSession).where(WebSession.account_id == account.id)):
        session.delete(row)


def listed(session: Session, unit: str | None = None) -> list[Account]:
    query = select(Account)
    if unit:
        query = query.where(Account.unit == unit)
    return list(session.exec(query.order_by(col(Account.unit), col(Account.login))))


@cache
def _dummy() -> str:
    return hash_password(secrets.token_hex(16))


def _clean(value: str, field: str, label: str, *, limit: int = 32) -> str:
    try:
        return textgate.clean(value, limit=limit, field=label)
    except textgate.TextRefused as exc:
        raise AccountError(str(exc), field) from None


def _verify(hashed: str, password: str) -> bool:
    try:
        with _hashing:
            return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _log(session: Session, by: str, account: Account, action: str, after: dict) -> None:
    """Account changes go to the audit log too (never a password or a hash)."""
    audit.record(
        session,
        actor=by,
        subject="account",
        key=account.login,
        action=action,
        effective_on=now().date(),
        after=after,
    )
