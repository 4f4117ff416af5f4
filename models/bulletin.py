"""Issued bulletins: their numbers are unique in the year, and an edition is never renumbered."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class BulletinRecord(SQLModel, table=True):
    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("kind", "period", "edition"), UniqueConstraint("year", "number"))

    id: int | None = Field(default=None, primary_key=True)
    year: int
    kind: str = Field(max_length=16)  # monthly | special | adhoc
    period: str = Field(max_length=32)  # "2022-10", or a range "2022-10-01..2022-10-31"
    edition: int = 1
    number: int  # 〔year〕N号, across kinds
    issue: int  # 第N期, within the kind
    as_of: date
    title: str = Field(max_length=200)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
