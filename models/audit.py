"""The audit log: appended to, never updated or deleted (the database refuses both)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    # A past date replays one subject's entries up to that day; the newest change tells whether the
    # kept state already answers a date.
    __table_args__ = (
        Index("ix_audit_entry_subject_day", "subject", "effective_on"),
        Index("ix_audit_entry_subject_key_day", "subject", "subject_key", "effective_on"),
        # the auditor's page filters by unit, person, subject or action and shows the newest first
        Index("ix_audit_entry_actor_seq", "actor", "seq"),
        Index("ix_audit_entry_person_seq", "person", "seq"),
        Index("ix_audit_entry_subject_seq", "subject", "seq"),
        Index("ix_audit_entry_action_seq", "action", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    effective_on: date = Field(index=True)
    actor: str = Field(max_length=64)
    subject: str = Field(max_length=32)
    subject_key: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # who entered it for the unit: a person signed in to the portal (via "portal"), the operator at
    # the Office's terminal (via "cli"); both empty for the scheduled steps
    person: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    via: str = Field(default="", max_length=8, sa_column_kwargs={"server_default": ""})
    # the hash chain (duban/audit/chain.py): the entry's place in the log and the SM3 digest of the
    # previous entry's digest and this entry's columns
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True, index=True))
    sm3: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the newest entry's sequence number and digest; appends take its lock, one at a time."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    sm3: str = Field(max_length=64)
