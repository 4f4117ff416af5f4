"""考核 appeals (申诉): a unit contests one line of its score; the Office upholds or strikes it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class AssessmentAppeal(SQLModel, table=True):
    """One appeal per line key and unit: a second is refused, and a struck line counts 0 from `decided_on`."""

    __tablename__ = "assessment_appeal"
    __table_args__ = (UniqueConstraint("line_key", "unit"),)

    id: int | None = Field(default=None, primary_key=True)
    line_key: str = Field(max_length=200)
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    cause: str = Field(max_length=32)
    points: str = Field(max_length=16)  # the line's points when contested, as text (a Decimal)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    filed_on: date
    filed_by: str = Field(max_length=100)
    state: str = Field(default="pending", max_length=16, index=True)  # pending | upheld | struck
    decided_on: date | None = None
    decided_by: str = Field(default="", max_length=100)
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
