"""The outbox: every message duban means to send, one row per recipient channel, keyed for once-only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=300)
    kind: str = Field(max_length=32, index=True)
    recipient: str = Field(foreign_key="unit.name", max_length=64, index=True)
    channel: str = Field(max_length=16)  # email | wecom | wecom_app | file
    # an email address, the *name* of a key's variable, or (wecom_app) the login of the account it goes to
    address: str = Field(default="", max_length=200)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))  # text (email, file) or markdown/text (WeCom)
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    status: str = Field(default="queued", max_length=16, index=True)  # queued sending sent failed dead
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_on: date
    created_at: datetime
    sent_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64, index=True)  # a claim reads its rows back by it
    claimed_until: datetime | None = None
    dead_reported: bool = False
    # Set once part of a send of these rows was delivered: the rows then go again only together, as that
    # send (Outgoing.send_key), so the parts already delivered (DeliveredPart) are skipped, not repeated.
    send_key: str | None = Field(default=None, max_length=32, index=True)
    page: str | None = Field(default=None, max_length=500)  # the portal path a card links to
    reported_in: str | None = Field(default=None, max_length=64)  # the dead-letter report that names this row


class WecomSend(SQLModel, table=True):
    """One call to a WeCom bot: the shared record every dispatcher counts against the per-minute limit."""

    __tablename__ = "wecom_send"

    id: int | None = Field(default=None, primary_key=True)
    bot: str = Field(max_length=100, index=True)  # a hash of the webhook key (one bot, whatever variable holds it)
    sent_at: datetime = Field(index=True)


class DeliveredPart(SQLModel, table=True):
    """One delivered call of a send made of several (WeCom markdown chunks, the mention, files).

    Recorded as each call succeeds, so a send stopped part-way (the minute's limit, a busy server) is
    resumed by any dispatcher with the parts not yet delivered; (send_key, part) is its natural key.
    """

    __tablename__ = "outbox_part"

    send_key: str = Field(primary_key=True, max_length=32)
    part: int = Field(primary_key=True)
    sent_at: datetime
