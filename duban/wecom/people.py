"""People's WeCom ids: bound by hand (`duban user set`, the accounts page) or matched from the address book.

A WeCom UserID is case-insensitive (1-64 of letters, digits, _ - @ .), so it is kept in lower case and the
database's unique index holds one id to one account. Matching uses the account's own mobile
(`account.mobile`): WeCom's address book lists each member's mobile, and only a proposal confirmed by
an administrator is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from duban import audit, config
from duban.signin.accounts import AccountError, bound_to, get
from models import Account

USERID = re.compile(r"^[A-Za-z0-9_\-@.]{1,64}$")


def clean_userid(value: str) -> str:
    """The id as kept (lower case), or AccountError in Chinese; "" means none (unbind)."""
    value = value.strip()
    if value and not USERID.match(value):
        raise AccountError("企业微信账号（UserID）须为1至64位字母、数字或 _ - @ .", "wecom_userid")
    return value.lower()


def bind(session: Session, login: str, userid: str, *, by: str) -> Account:
    """Bind (or with "" unbind) the account's WeCom id; an id bound to another account is refused."""
    account = get(session, login)
    userid = clean_userid(userid)
    holder = bound_to(session, userid) if userid else None
    if holder is not None and holder.id != account.id:
        raise AccountError(
            f"企业微信账号“{userid}”已绑定账号 {holder.login}（{holder.name}），一个企业微信账号只能绑定一个账号",
            "wecom_userid",
        )
    if account.wecom_userid == (userid or None):
        return account
    account.wecom_userid = userid or None
    session.add(account)
    audit.record(
        session,
        actor=by,
        subject="account",
        key=account.login,
        action="wecom_userid",
        effective_on=config.today(),
        after={"wecom_userid": account.wecom_userid},
    )
    return account


@dataclass(frozen=True)
class Match:
    login: str
    name: str
    unit: str
    userid: str
    wecom_name: str
    mobile: str


@dataclass(frozen=True)
class Proposal:
    matches: list[Match]
    unmatched: list[str]  # accounts without an id that no member matched (login（reason）)


def propose(session: Session, book: list[dict[str, str]]) -> Proposal:
    """Matches by mobile for accounts with no WeCom id: exactly one member with that mobile, whose id
    no account holds yet. Accounts without a mobile, or whose mobile several members share, are listed."""
    by_mobile: dict[str, list[dict[str, str]]] = {}
    for member in book:
        mobile = re.sub(r"\D", "", member.get("mobile", ""))[-11:]
        if mobile:
            by_mobile.setdefault(mobile, []).append(member)
    taken = set(session.exec(select(Account.wecom_userid).where(col(Account.wecom_userid).is_not(None))))
    matches, unmatched = [], []
    for account in session.exec(
        select(Account).where(col(Account.wecom_userid).is_(None)).order_by(col(Account.login))
    ):
        if account.disabled:
            continue
        found = by_mobile.get(account.mobile, []) if account.mobile else []
        if not account.mobile:
            unmatched.append(f"{account.login}（未登记手机号）")
        elif not found:
            unmatched.append(f"{account.login}（通讯录中无此手机号）")
        elif len(found) > 1:
            unmatched.append(f"{account.login}（通讯录中有{len(found)}人使用此手机号）")
        elif found[0]["userid"].lower() in taken:
            unmatched.append(f"{account.login}（对应的企业微信账号已绑定其他账号）")
        else:
            member = found[0]
            userid = member["userid"].lower()
            taken.add(userid)
            matches.append(
                Match(account.login, account.name, account.unit, userid, member.get("name", ""), account.mobile)
            )
    return Proposal(matches, unmatched)


def apply(session: Session, proposal: Proposal, *, by: str) -> int:
    """Bind every proposed match (each checked again by `bind`); the number bound."""
    for match in proposal.matches:
        bind(session, match.login, match.userid, by=by)
    return len(proposal.matches)
