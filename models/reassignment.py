"""Reassignment (转办 / 调整责任单位): a proposal to move an item to other units, and the Office's decision."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class Reassignment(SQLModel, table=True):
    """One proposal, kept with its decision. `open_key` is the item's code while the proposal waits and
    NULL once decided: its unique constraint allows one pending proposal per item (NULLs never clash)."""

    __tablename__ = "reassignment"

    id: int | None = Field(default=None, primary_key=True)
    item_code: str = Field(max_length=40, index=True)
    open_key: str | None = Field(default=None, max_length=40, unique=True)
    state: str = Field(default="pending", max_length=16, index=True)  # pending | approved | refused
    proposed_by: str = Field(foreign_key="unit.name", max_length=64)
    proposed_on: date
    proposer: str = Field(max_length=100)  # 张三（城关街道）, as audit.acting names them
    from_township: str = Field(max_length=64)
    from_responsible: str = Field(max_length=64)
    from_lead: str = Field(max_length=64)
    to_township: str = Field(foreign_key="unit.name", max_length=64)
    to_responsible: str = Field(foreign_key="unit.name", max_length=64)
    to_lead: str = Field(foreign_key="unit.name", max_length=64)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_on: date | None = Field(default=None, index=True)
    decider: str = Field(default="", max_length=100)
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    new_deadline: date | None = None
