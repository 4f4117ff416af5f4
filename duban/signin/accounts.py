"""Portal accounts: a person in one unit with one role, a password kept as an argon2id hash.

The CLI (`duban user ...`) and the Office's accounts page call these same functions.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from duban import audit, config, textgate
from duban.db import session_scope
from duban.glossary import ACCOUNT_ROLE as ROLE_LABELS
from duban.plan import Plan
from duban.signin import guessing
from duban.signin.guessing import NameFailures
from duban.signin.password_policy import PasswordRefused, check_chosen
from models import Account, WebSession

# What each kind of unit's people may be; the first is the default for that kind.
ROLES_BY_KIND = {
    "township": ("clerk", "head"),
    "department": ("clerk", "reviewer"),
    "office": ("staff", "sysadmin", "secadmin", "auditor"),
    "leader": ("leader",),
}
# The Office's separated duties (三权分立): each does only its own work (duban/web/duties.py), and their
# accounts are opened and changed at the server with `duban user`, not by one another in the portal.
DUTIES = ("sysadmin", "secadmin", "auditor")
LOGIN_PATTERN = r"^[a-z][a-z0-9._-]{2,31}$"
PASSWORD_MAX = 128
DISABLED = "账号已停用，请联系领导小组办公室"
WECOM_UNKNOWN = "该企业微信账号未绑定督办平台账号，请联系领导小组办公室系统管理员绑定后再登录"
_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters (64 MiB, t=3, p=4)
# Two hashes at a time per process: a burst of sign-ins queues here, in memory 2 x 64 MiB, rather than
# taking every core and every database connection the portal's other requests need.
_hashing = threading.BoundedSemaphore(2)


class AccountError(ValueError):
    """An account action refused; the message says why, in Chinese, and `field` which form field it was."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SignIn:
    account: Account | None
    refusal: str = ""  # Chinese, and the same for a wrong login or a wrong password
    password_owed: bool = False  # WeCom vouched for a role that signs in with the password too: that first


def now() -> datetime:
    """Aware UTC: SQLModel stores and returns datetimes so."""
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def _password_refused(check: Callable[[], None]) -> None:
    try:
        check()
    except PasswordRefused as exc:
        raise AccountError(str(exc), "new_password") from None


def initial_password() -> tuple[str, bool]:
    """`DUBAN_NEW_PASSWORD` when set, else a generated one (20 characters, 120 bits: a passphrase by the
    policy's length); and
    whether it was generated (then it is shown once, to whoever opened the account)."""
    given = os.environ.get("DUBAN_NEW_PASSWORD")
    return (given, False) if given else (secrets.token_urlsafe(15), True)


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
    _password_refused(lambda: check_chosen(plan, password, login=login, name=name, unit=unit))
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
    _password_refused(lambda: check_chosen(plan, password, login=account.login, name=account.name, unit=account.unit))
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.failed_logins, account.locked_until = 0, None
    session.add(account)
    end_sessions(session, account)
    _log(session, by, account, "reset_password", {"must_change_password": True})
    return account


def change_password(session: Session, plan: Plan, account: Account, *, current: str, new: str, confirm: str) -> None:
    """The current password counts as a guess (guessing.py: a stolen session cannot try passwords); the
    new one must meet the policy and not be one of the last `password_history`."""
    moment = now()
    place = guessing.take_place(session, plan, account.id, moment)
    session.commit()  # counted before it is checked, whatever happens next
    if not (place.checked and _verify(account.password_hash, current)):
        if place.number > 0 and place.last:
            locked(session, plan, account, moment)
        session.commit()
        raise AccountError(guessing.refusal(plan, place, "当前密码不正确"), "current_password")
    guessing.succeeded(session, account.id)
    session.commit()  # the right current password is a success even when the new one is refused below
    if new != confirm:
        raise AccountError("两次输入的新密码不一致", "new_password_confirm")
    if new == current:
        raise AccountError("新密码不能与当前密码相同", "new_password")
    _password_refused(lambda: check_chosen(plan, new, login=account.login, name=account.name, unit=account.unit))
    kept = plan.portal.password_history
    earlier = [account.password_hash, *account.previous_hashes][:kept]
    if any(_verify(hashed, new) for hashed in earlier[1:]):
        raise AccountError(f"新密码不能与最近{kept}次使用过的密码相同", "new_password")
    account.previous_hashes = earlier
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.password_changed_at = moment
    session.add(account)
    _log(session, account.unit, account, "change_password", {"must_change_password": False})


def sign_in(plan: Plan, login: str, password: str, names: NameFailures, *, address: str = "") -> SignIn:
    """Wrong login and wrong password read alike, and so do a locked account and a locked name nobody
    has. The attempt is counted (guessing.py) and committed before the password is checked, outside
    any transaction: a check takes 0.2 s."""
    key = login.strip().lower()[:32]
    moment = now()
    with session_scope() as session:
        account = session.exec(select(Account).where(Account.login == key)).first()
        place = guessing.take_place(session, plan, account.id, moment) if account else names.take_place(key, moment)
    if account is None:
        if place.checked:
            _verify(_dummy(), password)  # a name nobody has takes as long as a wrong password
            if place.last:
                names.lock(key, moment)
        with session_scope() as session:
            _log_attempt(session, key, None, address, "no_such_login" if place.checked else "locked")
        return SignIn(None, guessing.refusal(plan, place))
    right = place.checked and _verify(account.password_hash, password[:PASSWORD_MAX])
    with session_scope() as session:
        if not right:
            if place.number > 0 and place.last:
                locked(session, plan, account, moment, signed_out=False)
            _log_attempt(session, key, account, address, "wrong_password" if place.checked else "locked")
            return SignIn(None, guessing.refusal(plan, place))
        account = session.get(Account, account.id)

        def counted_right() -> None:
            # with a second factor the count starts again only once the code is right (second_factor.py):
            # a right password alone would otherwise let the codes be guessed four at a time for ever
            if _second_factor_active(account):
                guessing.give_back(session, account.id)
            else:
                guessing.succeeded(session, account.id)
                account.failed_logins, account.lock_count = 0, 0
            if _hasher.check_needs_rehash(account.password_hash):
                account.password_hash = hash_password(password)

        return _admitted(session, plan, account, moment, key=key, address=address, checked=counted_right)


def bound_to(session: Session, userid: str) -> Account | None:
    """The account bound to a WeCom UserID as WeCom gives it, in any case (ids are kept in lower case, as WeCom
    ignores case), enabled or not: the caller decides."""
    return session.exec(select(Account).where(Account.wecom_userid == userid.strip().lower())).first()


def sign_in_by_wecom(plan: Plan, userid: str, *, address: str = "") -> SignIn:
    """The account bound to this WeCom UserID (WeCom vouched for it: duban/web/routes/wecom.py), admitted by
    the same rules as after a right password; a lock from guessed passwords holds here too (the account is
    locked, whichever way one comes). Nothing is counted: no secret was checked here."""
    moment = now()
    with session_scope() as session:
        account = bound_to(session, userid)
        if account is None:
            _log_attempt(session, textgate.shown(userid)[:32], None, address, "wecom_unknown", via="wecom")
            return SignIn(None, WECOM_UNKNOWN)
        if is_locked(account, moment) and not account.disabled:
            _log_attempt(session, account.login, account, address, "locked", via="wecom")
            return SignIn(None, guessing.locked_text(plan))
        if account.role in plan.portal.wecom_and_password_roles and not account.disabled:
            return SignIn(None, password_owed=True)  # nothing recorded: the password sign-in will be
        return _admitted(session, plan, account, moment, key=account.login, address=address, via="wecom")


def _admitted(
    session: Session,
    plan: Plan,
    account: Account,
    moment: datetime,
    *,
    key: str,
    address: str,
    via: str = "password",
    checked: Callable[[], None] = lambda: None,
) -> SignIn:
    """What every way of signing in does once it knows the person: a disabled account is refused, then
    `checked` (what the way itself resets), an unused account disabled, an old password marked for change,
    the sign-in recorded (with `via` when not the password)."""
    if account.disabled:
        _log_attempt(session, key, account, address, "disabled", via=via)
        return SignIn(None, DISABLED)
    checked()
    if (refusal := _aged(session, plan, account, moment)) is not None:
        return SignIn(None, refusal)
    account.last_sign_in_at = moment
    session.add(account)
    _log(session, account.unit, account, "sign_in", {"address": address} | ({"via": via} if via != "password" else {}))
    return SignIn(account)


def log_wecom_confirmed(session: Session, account: Account, address: str) -> None:
    """The WeCom step of a sign-in that began with the password (the plan's wecom_and_password_roles)."""
    _log(session, account.unit, account, "wecom_confirmed", {"address": address, "via": "wecom"})


def locked(session: Session, plan: Plan, account: Account, moment: datetime, *, signed_out: bool = True) -> None:
    """The failure at the limit: the account locks (once, whoever races beside it) and the log says until
    when. Guessed from a session (the current password, the one-time code), that session's person is
    signed out; guessed at the sign-in, the person's own sessions go on."""
    until = guessing.lock(session, plan, account.id, moment)
    if signed_out:
        end_sessions(session, account)
    if until is not None:
        _log(session, account.unit, account, "locked", {"locked_until": until.isoformat()})


def _second_factor_active(account: Account) -> bool:
    from duban.signin import second_factor  # it builds on this module

    return second_factor.enrolled(account)


def _aged(session: Session, plan: Plan, account: Account, moment: datetime) -> str | None:
    """An account unused for the plan's `inactive_days` is disabled at its next sign-in (the system
    administrator enables it); a password older than `password_max_age_days` must be changed now."""
    rules = plan.portal
    if rules.inactive_days and moment - (account.last_sign_in_at or account.created_at) > timedelta(
        days=rules.inactive_days
    ):
        account.disabled = True
        session.add(account)
        end_sessions(session, account)
        _log(session, account.unit, account, "disable", {"disabled": True, "reason": "inactive"})
        whom = "运维人员" if account.role in DUTIES else "领导小组办公室系统管理员"
        return f"账号已连续{rules.inactive_days}天未登录，已停用，请联系{whom}启用"
    changed = account.password_changed_at or account.created_at
    if rules.password_max_age_days and moment - changed > timedelta(days=rules.password_max_age_days):
        account.must_change_password = True
    return None


def _log_attempt(
    session: Session, key: str, account: Account | None, address: str, why: str, *, via: str = "password"
) -> None:
    """A refused sign-in, with the login as typed (cleaned) or the WeCom UserID and the client's address;
    never the password."""
    audit.record(
        session,
        actor=account.unit if account else "",
        subject="account",
        key=textgate.shown(key)[:32],
        action="sign_in_refused",
        effective_on=config.today(),
        after={"address": address, "reason": why} | ({"via": via} if via != "password" else {}),
    )


def is_locked(account: Account, moment: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > moment


def unlock(session: Session, login: str, *, by: str) -> Account:
    """The security administrator lifts a lock before its time (the person called): the count of
    failures starts again; the next lock still lasts longer (lock_count is kept until a success)."""
    account = get(session, login)
    if not is_locked(account, now()):
        raise AccountError(f"账号“{login}”未被锁定")
    account.failed_logins, account.locked_until = 0, None
    session.add(account)
    _log(session, by, account, "unlock", {"locked_until": None})
    return account


def end_all_sessions(session: Session, login: str, *, by: str) -> Account:
    """Every browser signed in as this person is signed out (a lost phone, a suspected theft)."""
    account = get(session, login)
    end_sessions(session, account)
    _log(session, by, account, "end_sessions", {})
    return account


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
        effective_on=config.today(),
        after=after,
    )
