"""Escalations (督办): one row per cause and level, so nothing is raised twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    # the sweep reads the open escalations only: their number is today's, not the history's
    __table_args__ = (UniqueConstraint("cause_key", "level"), Index("ix_escalation_open", "resolved_on", "cause"))

    id: int | None = Field(default=None, primary_key=True)
    cause: str = Field(max_length=32, index=True)  # missing_submission | overdue_item | overdue_milestone
    cause_key: str = Field(max_length=160, index=True)
    level: int
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    item_code: str | None = Field(default=None, max_length=40)
    period: str | None = Field(default=None, max_length=7)
    missed_due: date
    raised_on: date = Field(index=True)  # the assessment reads a window of days
    resolved_on: date | None = None
    key_difficult: bool = False
    must_finish_by: date | None = None
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the key of the message (a digest of the day's escalations at this level) that told the late unit
    notice_key: str | None = Field(default=None, max_length=200)
