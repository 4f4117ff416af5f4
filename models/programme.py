"""The loaded plan: its source text, and the units and categories that ledger rows refer to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class ProgrammeRecord(SQLModel, table=True):
    """One programme per database; its plan text is the source of every rule."""

    __tablename__ = "programme"

    code: str = Field(primary_key=True, max_length=64)
    title: str
    source: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(max_length=64)
    loaded_at: datetime


class UnitRecord(SQLModel, table=True):
    __tablename__ = "unit"

    name: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32, index=True)
    full_name: str = ""
    position: int = 0


class Category(SQLModel, table=True):
    __tablename__ = "category"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(unique=True, max_length=32)
    lead_department: str = Field(foreign_key="unit.name", max_length=64)
    facility_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
