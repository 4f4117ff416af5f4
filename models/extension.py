"""Extension requests (延期申请): a unit asks to move a deadline; the plan's approvers decide in turn."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ExtensionRequest(SQLModel, table=True):
    """One request: the item's `number`-th. Filed again on the same day for the same date and target it
    is the same request (the natural key), so a command run twice files nothing new."""

    __tablename__ = "extension_request"
    __table_args__ = (
        UniqueConstraint("item_code", "number"),
        UniqueConstraint("item_code", "milestone", "requested_on", "until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_code: str = Field(foreign_key="ledger_item.code", max_length=40, index=True)
    number: int  # 1, 2, ... per item
    milestone: str = Field(default="", max_length=200)  # a milestone's title; "" for the item's deadline
    current_due: date  # the date to be moved, as it stood when asked
    until: date  # the date asked for
    reason: str = Field(sa_column=Column(Text, nullable=False))
    progress: str = Field(sa_column=Column(Text, nullable=False))
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    person: str = Field(max_length=100)
    requested_on: date
    steps: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{role, unit}]
    step: int = 0  # the step awaiting a decision (len(steps) once decided)
    protected: bool = False  # 报领导小组: the final date of a scope only the leadership group may move
    state: str = Field(default="pending", max_length=16, index=True)  # pending | granted | refused
    granted_until: date | None = None
    decided_on: date | None = None
    plan_revision: int | None = None  # the item's plan revision the grant made
    created_at: datetime


class ExtensionDecision(SQLModel, table=True):
    """One approver's decision on one step of a request."""

    __tablename__ = "extension_decision"
    __table_args__ = (UniqueConstraint("request_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="extension_request.id", index=True)
    step: int
    role: str = Field(max_length=32)  # lead_department | office | leadership_group
    unit: str = Field(foreign_key="unit.name", max_length=64)
    person: str = Field(max_length=100)
    decision: str = Field(max_length=16)  # approved | refused
    until: date | None = None  # the date approved (never later than asked)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    decided_on: date
