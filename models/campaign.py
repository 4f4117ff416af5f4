"""Supervision campaigns (专项督导): the campaign, and one row per selected item with its response."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Campaign(SQLModel, table=True):
    """`key` is the hash of the title, the scope and the response date: the same start is one campaign."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    title: str = Field(max_length=200)
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_on: date
    started_by: str = Field(max_length=64)
    due: date  # responses are due by this date
    closes_on: date  # the closing bulletin is issued on this date
    closed_on: date | None = None
    bulletin_id: int | None = Field(default=None, foreign_key="bulletin.id")
    created_at: datetime


class CampaignItem(SQLModel, table=True):
    """An item under supervision, and the responsible unit's dated response on it (the latest one)."""

    __tablename__ = "campaign_item"
    __table_args__ = (UniqueConstraint("campaign_id", "item_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    item_code: str = Field(max_length=40)
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    lead_department: str = Field(foreign_key="unit.name", max_length=64)
    status_at_start: str = Field(max_length=32)
    deadline_at_start: date | None = None
    responded_on: date | None = None
    first_responded_on: date | None = None
    progress: str = Field(default="", sa_column=Column(Text, nullable=False))
    measures: str = Field(default="", sa_column=Column(Text, nullable=False))
    promised_by: date | None = None
