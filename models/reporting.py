"""The monthly reporting round: periods, submissions with kept versions, and departments' reviews."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ReportingPeriod(SQLModel, table=True):
    """One month's round (period "2022-05"), with the due dates fixed when it opened."""

    __tablename__ = "reporting_period"

    period: str = Field(primary_key=True, max_length=7)
    opened_on: date
    township_due: date
    department_due: date


class Submission(SQLModel, table=True):
    """One unit's report for one period; `items` is the scope requested when the round opened."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("period", "unit"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(foreign_key="reporting_period.period", max_length=7, index=True)
    unit: str = Field(foreign_key="unit.name", max_length=64, index=True)
    kind: str = Field(max_length=16)  # township | department
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reviewers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due_on: date
    status: str = Field(default="requested", max_length=16, index=True)
    version: int = 0  # the latest version saved (draft or submitted)
    first_submitted_on: date | None = None
    last_submitted_on: date | None = None
    late: bool = False
    returned_on: date | None = None
    resubmit_due: date | None = None


class SubmissionVersion(SQLModel, table=True):
    """A saved report: drafts and every resubmission are kept, never overwritten."""

    __tablename__ = "submission_version"
    __table_args__ = (UniqueConstraint("submission_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    version: int
    state: str = Field(max_length=16)  # draft | submitted
    saved_on: date
    saved_at: datetime
    late: bool = False
    source: str = Field(default="", max_length=255)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class SubmissionLine(SQLModel, table=True):
    """One item's progress as a version of a report changed it.

    A version keeps only the lines it changed over the version before it (`removed`: the item's line
    left the report). The whole report of version N is, per item, its line in the latest version <= N
    that has one (duban/reporting/lines.py), found through the (submission, item, version) index."""

    __tablename__ = "submission_line"
    __table_args__ = (
        UniqueConstraint("version_id", "item_code"),
        Index("ix_submission_line_item_version", "submission_id", "item_code", "version", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="submission_version.id", index=True)
    submission_id: int = Field(foreign_key="submission.id")
    version: int
    removed: bool = False
    item_code: str = Field(max_length=40)
    progress: int
    work_state: str = Field(max_length=16)
    this_month: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    obstacles: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    next_plan: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    milestones_done: bool = False
    opinion: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Review(SQLModel, table=True):
    """A lead department's decision on one version of a township's report."""

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("submission_id", "version", "department"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    version: int
    department: str = Field(foreign_key="unit.name", max_length=64)
    decision: str = Field(max_length=16)  # accepted | returned
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    decided_on: date


class MilestoneDone(SQLModel, table=True):
    """A rectification milestone reported done (in an accepted report)."""

    __tablename__ = "milestone_done"

    id: int | None = Field(default=None, primary_key=True)
    item_code: str = Field(max_length=40, index=True)
    due: date
    title: str = Field(max_length=200)
    done_on: date
    reported_by: str = Field(max_length=64)
    __table_args__ = (UniqueConstraint("item_code", "due", "title"),)


class ReportCorrection(SQLModel, table=True):
    """A unit's request to correct its accepted report, and the lead department's answer.

    (submission, version, number) is the natural key: a second click finds the request pending and
    adds nothing; two at the same instant cannot both take the next number."""

    __tablename__ = "report_correction"
    __table_args__ = (UniqueConstraint("submission_id", "version", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    version: int  # the accepted version the request is about
    number: int  # 1, 2, ... per accepted version (a refused request may be made again)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str = Field(max_length=100)  # 张三（城关街道）
    requested_on: date
    state: str = Field(default="pending", max_length=16, index=True)  # pending | allowed | refused
    decided_unit: str = Field(default="", max_length=64)
    decided_by: str = Field(default="", max_length=100)
    decided_on: date | None = None
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
