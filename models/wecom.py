"""The WeCom self-built app's shared state: its access token and the cards sent to each person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class WecomToken(SQLModel, table=True):
    """The app's access token, shared by every process, so it is fetched once per validity.

    The token is short-lived (7,200 s) and kept here by design; the app secret never is: `app` is a
    one-way hash of the corp id and the secret, so a new secret starts a new row.
    """

    __tablename__ = "wecom_token"

    app: str = Field(primary_key=True, max_length=64)
    token: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    expires_at: datetime
    fetched_at: datetime | None = None
    locked_at: datetime | None = None  # written to take the row's lock while one process fetches


class WecomAppSend(SQLModel, table=True):
    """One card sent to one person: every dispatcher counts these against WeCom's per-member limits."""

    __tablename__ = "wecom_app_send"
    __table_args__ = (Index("ix_wecom_app_send_userid_sent_at", "userid", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    userid: str = Field(max_length=64)
    sent_at: datetime
