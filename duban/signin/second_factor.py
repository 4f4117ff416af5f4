"""A second factor for sign-in: a one-time code (TOTP, RFC 6238) from an authenticator app, or one of
eight recovery codes. The secret is kept sealed with the server's key (never in the clear in the
database or a backup of it alone); each code is accepted once.

The server's key: `DUBAN_SECRET_KEY` (a Fernet key) when set, else a key file created once in
`DUBAN_HOME` readable by its owner only (the embedded default).
"""

from __future__ import annotations

import io
import json
import os
import secrets
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, hmac
from sqlalchemy import update
from sqlmodel import Session

from duban import audit, config
from duban.plan import Plan
from duban.signin import guessing
from duban.signin.accounts import AccountError, get, locked, now
from models import Account

ISSUER = "督办平台"
UNREADABLE = "动态口令暂时无法核验（服务器密钥与绑定时不一致），请联系运维人员或领导小组办公室安全管理员"
RECOVERY_CODES = 8
STEP_SECONDS = 30
WINDOW = 1  # a code of the step before or after is accepted too (a phone's clock a little off)


def enrolled(account: Account) -> bool:
    return bool(_state(account).get("active"))


def pending(session: Session, account: Account) -> str:
    """The otpauth:// address of the secret awaiting its first code (`confirm`), made on the first visit
    to the enrolment page and the same on the next ones (the page and its QR code agree)."""
    state = _state(account)
    if not state:
        state = {"secret": pyotp.random_base32(), "active": False}
        account.totp_secret = _seal(state)
        account.totp_last_step = 0
        session.add(account)
    return address(account, state["secret"])


def address(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.login, issuer_name=ISSUER)


def key_of(uri: str) -> str:
    """The secret of an otpauth:// address in groups of four, for typing into an app by hand."""
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(uri: str) -> str:
    """The address as an SVG QR code (no script, no style attribute: served as an image)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue().decode()


def confirm(session: Session, account: Account, code: str, moment: datetime) -> list[str]:
    """The first code makes the secret active; the recovery codes are returned once (kept as digests)."""
    state = _state(account)
    if not state or state["active"]:
        raise AccountError("没有待绑定的动态口令，请重新开始绑定", "otp")
    step = _matching_step(state["secret"], code, moment, after=0)
    if step is None:
        raise AccountError("动态口令不正确，请核对手机时间后重新输入", "otp")
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    account.totp_secret = _seal({"secret": state["secret"], "active": True})
    account.totp_last_step = step
    account.recovery_codes = [_digest(c) for c in codes]
    session.add(account)
    _log(session, account.unit, account, "second_factor_enrolled")
    return codes


def enrol_now(session: Session, login: str, *, by: str) -> str:
    """`duban user totp LOGIN`: active at once (the operator hands the address over); returns it."""
    account = get(session, login)
    secret = pyotp.random_base32()
    account.totp_secret = _seal({"secret": secret, "active": True})
    account.totp_last_step, account.recovery_codes = 0, []
    session.add(account)
    _log(session, by, account, "second_factor_enrolled")
    return address(account, secret)


def check(session: Session, account: Account, code: str, moment: datetime) -> bool:
    """A code from the app (each accepted once: a replayed one is refused) or an unused recovery code."""
    state = _state(account)
    if not state.get("active") or state.get("unreadable"):
        return False
    typed = "".join(code.split()).lower()
    step = _matching_step(state["secret"], typed, moment, after=account.totp_last_step)
    if step is not None:
        account.totp_last_step = step
        session.add(account)
        return True
    digest = _digest(typed)
    if len(typed) == 10 and digest in account.recovery_codes:
        account.recovery_codes = [c for c in account.recovery_codes if c != digest]
        session.add(account)
        _log(session, account.unit, account, "recovery_code_used")
        return True
    return False


def second_step(session: Session, plan: Plan, account: Account, code: str) -> str | None:
    """The second step of a sign-in: counted before it is checked, like a password (guessing.py); None
    when right. At the limit the account is locked and the half-done sign-in ends."""
    moment = now()
    place = guessing.take_place(session, plan, account.id, moment)
    session.commit()
    if place.checked:
        # the row held before it is read again: two requests with one code cannot both find it unused
        table = Account.__table__
        session.execute(update(table).where(table.c.id == account.id).values(totp_last_step=table.c.totp_last_step))
        session.refresh(account)
        if _state(account).get("unreadable"):
            _log(session, account.unit, account, "second_factor_unreadable")
            session.commit()
            return UNREADABLE
        if check(session, account, code, moment):
            guessing.succeeded(session, account.id)
            _log(session, account.unit, account, "second_factor_passed")
            return None
    if place.number > 0 and place.last:
        locked(session, plan, account, moment)
    _log(session, account.unit, account, "second_factor_refused")
    session.commit()
    return guessing.refusal(plan, place, "动态口令不正确")


def reset(session: Session, login: str, *, by: str) -> Account:
    """The security administrator clears a lost phone's factor: the person enrols again at sign-in."""
    account = get(session, login)
    if not enrolled(account):
        raise AccountError(f"账号“{login}”未绑定动态口令")
    account.totp_secret, account.totp_last_step, account.recovery_codes = None, 0, []
    session.add(account)
    _log(session, by, account, "second_factor_reset")
    return account


def _matching_step(secret: str, code: str, moment: datetime, *, after: int) -> int | None:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(moment.timestamp()) // STEP_SECONDS
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        if step > after and secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _state(account: Account) -> dict:
    if not account.totp_secret:
        return {}
    try:
        return json.loads(_fernet().decrypt(account.totp_secret.encode()))
    except InvalidToken:
        # sealed with another key (a machine without DUBAN_SECRET_KEY, a lost key file): still enrolled,
        # so the sign-in asks for a code it cannot check and refuses, until the key is put right or the
        # security administrator resets the factor; never as if there were none
        return {"active": True, "unreadable": True}


def _seal(state: dict) -> str:
    return _fernet().encrypt(json.dumps(state).encode()).decode()


def _digest(code: str) -> str:
    """A recovery code kept as HMAC-SM3 under the server's key: a copy of the database alone does not
    let its codes be tried offline."""
    mac = hmac.HMAC(_key(), hashes.SM3())
    mac.update(code.encode())
    return mac.finalize().hex()


def _fernet() -> Fernet:
    return Fernet(_key())


def _key() -> bytes:
    return _key_for(os.environ.get("DUBAN_SECRET_KEY", ""), str(config.home()))


@cache
def _key_for(given: str, home: str) -> bytes:
    if given:
        return given.encode()
    path = Path(home) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "wb") as fh:
                fh.write(Fernet.generate_key())
    return path.read_bytes().strip()


def _log(session: Session, by: str, account: Account, action: str) -> None:
    audit.record(
        session, actor=by, subject="account", key=account.login, action=action, effective_on=config.today(), after={}
    )
