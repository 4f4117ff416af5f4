"""The problem ledger (台账): items, their rectification plans (一事一案) and close-out evidence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class LedgerItem(SQLModel, table=True):
    """One problem found in the survey; `code` (问题编号) is its natural key."""

    __tablename__ = "ledger_item"
    # A unit's list reads its items in code order a page at a time, and its lights as deadline ranges.
    __table_args__ = (
        Index("ix_ledger_item_township_code", "township", "code"),
        Index("ix_ledger_item_township_deadline", "township", "deadline"),
        Index("ix_ledger_item_lead_department_code", "lead_department", "code"),
        Index("ix_ledger_item_lead_department_deadline", "lead_department", "deadline"),
        Index("ix_ledger_item_responsible_unit_code", "responsible_unit", "code"),
        Index("ix_ledger_item_responsible_unit_deadline", "responsible_unit", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    township: str = Field(foreign_key="unit.name", max_length=64)
    community: str = Field(max_length=100)
    category: str = Field(foreign_key="category.code", max_length=32, index=True)
    facility_type: str | None = Field(default=None, max_length=32)
    stage: str = Field(max_length=32)
    description: str = Field(sa_column=Column(Text, nullable=False))
    lead_department: str = Field(foreign_key="unit.name", max_length=64)
    responsible_unit: str = Field(foreign_key="unit.name", max_length=64)
    key_difficult: bool = False
    # Today's state, changed in the same transaction as the audit entry that changes it; a past
    # date is answered from the audit log instead (duban/state/status.py), and `duban check` compares the two.
    status: str = Field(default="open", max_length=32, index=True)
    progress: int = 0
    deadline: date | None = Field(default=None, index=True)  # of the plan revision in force
    plan_revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0: no plan yet
    created_on: date
    # the day it was closed or cancelled (考核: whether it stood overdue at a month end, or closed early)
    closed_on: date | None = Field(default=None, index=True)


class RectificationPlan(SQLModel, table=True):
    """A revision of an item's plan; revisions are appended, never overwritten."""

    __tablename__ = "rectification_plan"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="ledger_item.id", index=True)
    revision: int
    measures: str = Field(sa_column=Column(Text, nullable=False))
    lead_unit: str = Field(foreign_key="unit.name", max_length=64)
    responsible_unit: str = Field(foreign_key="unit.name", max_length=64)
    deadline: date
    effective_on: date
    made_by: str = Field(max_length=64)
    made_at: datetime


class PlanMilestone(SQLModel, table=True):
    """A dated step (时间节点) of one plan revision."""

    __tablename__ = "plan_milestone"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="rectification_plan.id", index=True)
    seq: int
    title: str = Field(max_length=200)
    due: date


class Evidence(SQLModel, table=True):
    """A file filed with a close-out request; the same content is kept once per item."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("item_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="ledger_item.id", index=True)
    sha256: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    size: int
    stored_as: str = Field(max_length=500)
    uploaded_by: str = Field(max_length=64)
    uploaded_at: datetime
