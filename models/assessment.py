"""考核 appeals (申诉): a unit contests one line of its score; the Office upholds or strikes it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Index, Text, UniqueConstraint
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


class AssessmentMonth(SQLModel, table=True):
    """A month's assessment kept as data (duban/assessment/kept.py): as known on `as_of`, from the state up
    to the audit entry `audit_mark` (its `seq`) and the escalation `escalation_mark` (its id), under the plan
    `plan_digest`. A later entry dated within the month, a later escalation raised within it, or another plan makes it
    stale; it is then assessed again."""

    __tablename__ = "assessment_month"

    period: str = Field(primary_key=True, max_length=7)  # 2022-10
    as_of: date
    checked_on: date  # the newest day a sweep or page found it fresh and moved the marks: once a day at most
    audit_mark: int = 0
    escalation_mark: int = 0
    plan_digest: str = Field(max_length=64)


class AssessmentScore(SQLModel, table=True):
    """One unit's kept month: the lines' points summed (in cents, before the floor and ceiling), the score,
    the rank among its kind, and what the overview shows beside them."""

    __tablename__ = "assessment_score"
    __table_args__ = (UniqueConstraint("period", "unit"), Index("ix_assessment_score_unit_period", "unit", "period"))

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(foreign_key="assessment_month.period", max_length=7)
    unit: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # township | department
    total_cents: int  # the sum of the lines' points as counted
    score_cents: int  # base + total, within the floor and ceiling
    rank: int
    deducted_cents: int
    added_cents: int
    yellow: int
    red: int
    pending: int  # lines with an appeal awaiting the Office


class AssessmentLine(SQLModel, table=True):
    """One kept line of a unit's month, by its natural key (period, unit, key); a card line keeps the
    card's escalation cause and title too."""

    __tablename__ = "assessment_line"
    __table_args__ = (UniqueConstraint("period", "unit", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(foreign_key="assessment_month.period", max_length=7)
    unit: str = Field(max_length=64)
    key: str = Field(max_length=240)
    role: str = Field(max_length=8)
    day: date
    cause: str = Field(max_length=32)
    points_cents: int  # as counted: 0 when struck
    charged_cents: int  # before any appeal
    subject: str = Field(max_length=200)
    link: str = Field(max_length=200)
    detail: str = Field(sa_column=Column(Text, nullable=False))
    seq: int  # the line's place among its unit's lines of the month (by day, then key)
    card_cause: str = Field(default="", max_length=32)  # a card line: the escalation's cause code
    card_title: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    card_seq: int = -1  # a card line: the card's place among its unit's cards (in the ladder's order)
    appeal_id: int | None = None
    appeal_state: str = Field(default="", max_length=16)
    appeal_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    appeal_answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
