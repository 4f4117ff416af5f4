"""People who sign in to the portal, their sessions, and the units' acknowledgements (签收)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Account(SQLModel, table=True):
    """A person in one unit with one role; the password is kept only as an argon2id hash."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=32)
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    role: str = Field(max_length=16)  # clerk head reviewer staff sysadmin secadmin auditor leader
    mobile: str = Field(default="", max_length=20)
    # the person's WeCom UserID (企业微信账号): cards go to it and WeCom sign-in finds the account by it
    wecom_userid: str | None = Field(default=None, max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    must_change_password: bool = True  # set by someone else: changed at the first sign-in
    disabled: bool = False
    failed_logins: int = 0  # failures in a row (sign-in, current password, one-time code): duban/signin/guessing.py
    locked_until: datetime | None = None
    lock_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # locks since the last success
    created_at: datetime
    opened_on: date  # the programme's day it was opened: 签收 is asked of the unit from then on
    password_changed_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    # the hashes of the last passwords (the plan's portal.password_history), never reused
    previous_hashes: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # a second factor (TOTP, RFC 6238): the secret sealed with the server's key (duban/signin/second_factor.py)
    totp_secret: str | None = Field(default=None, sa_type=Text)
    totp_last_step: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # a code is used once
    recovery_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime = Field(index=True)
    flash: str | None = Field(default=None, sa_type=Text)  # the next page's message, encrypted (duban/web/flash.py)
    # signed in with the password, the one-time code still to give: only /login/otp answers
    awaiting_code: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # signed in with the password, the WeCom identity still to confirm (the plan's wecom_and_password_roles)
    awaiting_wecom: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class WecomSignIn(SQLModel, table=True):
    """A WeCom sign-in under way: the `state` sent to WeCom (its SHA-256 only), the browser it belongs to
    (the SHA-256 of its pre-sign-in token) and the page to land on. Used once, then deleted."""

    __tablename__ = "wecom_sign_in"

    state_hash: str = Field(primary_key=True, max_length=64)
    browser_hash: str = Field(max_length=64)
    next_path: str = Field(sa_type=Text)
    expires_at: datetime = Field(index=True)


class Acknowledgement(SQLModel, table=True):
    """A unit's 签收 of one request (a round's report, a campaign, an escalation): once per unit."""

    __tablename__ = "acknowledgement"
    __table_args__ = (
        UniqueConstraint("request_kind", "request_key", "unit"),
        Index("ix_acknowledgement_unit", "unit", "request_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_kind: str = Field(max_length=16)  # round | campaign | escalation
    request_key: str = Field(max_length=160)  # the period, the campaign's id, the escalation's id
    unit: str = Field(foreign_key="unit.name", max_length=64)
    acknowledged_on: date
    person: str = Field(max_length=80)  # 张三（城关街道）
    at: datetime
