"""The long-term mechanism (长效机制): the plan's documents as deliverables, and new residential
projects passing their joint-review gates (联合审查/审核) signature by signature."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Deliverable(SQLModel, table=True):
    """One owner's document for one milestone (专项规划, 联合审查机制, 工作专班): today's state."""

    __tablename__ = "deliverable"
    __table_args__ = (UniqueConstraint("milestone", "owner"),)

    id: int | None = Field(default=None, primary_key=True)
    milestone: str = Field(max_length=32)
    owner: str = Field(foreign_key="unit.name", max_length=64, index=True)
    title: str = Field(max_length=100)
    due: date
    state: str = Field(default="not_started", max_length=16)  # not_started drafting under_review issued
    document_no: str = Field(default="", max_length=60)
    issued_on: date | None = None
    filename: str = Field(default="", max_length=255)
    sha256: str = Field(default="", max_length=64)
    stored_as: str = Field(default="", max_length=500)
    verified_on: date | None = None
    verified_by: str = Field(default="", max_length=100)
    returned_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    updated_on: date


class Project(SQLModel, table=True):
    """A new residential project in the register; `gate` and `gate_state` are where it stands today."""

    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=100)
    developer: str = Field(max_length=100)
    township: str = Field(foreign_key="unit.name", max_length=64, index=True)
    parcel: str = Field(max_length=60)
    households: int
    floor_area: int  # 总建筑面积, square metres
    land_supply_on: date | None = None
    presale_on: date | None = None
    completion_on: date | None = None
    commitments: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    registered_on: date
    gate: str | None = Field(default=None, max_length=32, index=True)  # None once every gate has passed
    gate_state: str = Field(default="open", max_length=16, index=True)  # open in_review returned done


class ProjectGate(SQLModel, table=True):
    """One gate of one project: opened when the one before passes; `round` counts submissions."""

    __tablename__ = "project_gate"
    __table_args__ = (UniqueConstraint("project_id", "gate"), Index("ix_project_gate_open", "state", "resubmit_due"))

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    gate: str = Field(max_length=32)
    seq: int
    state: str = Field(default="waiting", max_length=16)  # waiting in_review returned passed skipped
    round: int = 0
    submitted_on: date | None = None
    due_on: date | None = None  # the signers' deadline in this round
    returned_on: date | None = None
    resubmit_due: date | None = None
    passed_on: date | None = None


class Signature(SQLModel, table=True):
    """One signer's opinion in one round of a gate (会签); `decision` is None while it is awaited."""

    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("gate_id", "round", "signer"),
        Index("ix_signature_waiting", "decision", "signer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="project_gate.id", index=True)
    round: int
    signer: str = Field(foreign_key="unit.name", max_length=64)
    due_on: date
    decision: str | None = Field(default=None, max_length=16)  # approved rejected
    reasons: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    conditions: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    signed_on: date | None = None
    signed_by: str = Field(default="", max_length=100)
    signed_at: datetime | None = None


class Waiver(SQLModel, table=True):
    """The Office's recorded exception to one provisioning standard of one project."""

    __tablename__ = "waiver"
    __table_args__ = (UniqueConstraint("project_id", "standard"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    standard: str = Field(max_length=32)
    shortfall: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    granted_on: date
    granted_by: str = Field(max_length=100)
