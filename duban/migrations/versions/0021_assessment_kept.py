"""the assessment kept as data: each closed month's scores and lines, and escalations by day

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

The 考核 pages read a month's scores and lines from `assessment_month`, `assessment_score` and
`assessment_line` (written by the daily tick and by the pages when a month is missing or stale) instead
of assessing it again; `escalation.raised_on` is indexed so that a month's escalations are read by day.
Nothing is filled here: the first tick or page keeps each month.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "assessment_month",
        sa.Column("period", text(length=7), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("audit_mark", sa.Integer(), nullable=False),
        sa.Column("escalation_mark", sa.Integer(), nullable=False),
        sa.Column("plan_digest", text(length=64), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "assessment_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", text(length=7), nullable=False),
        sa.Column("unit", text(length=64), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("score_cents", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("deducted_cents", sa.Integer(), nullable=False),
        sa.Column("added_cents", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["period"], ["assessment_month.period"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "unit"),
    )
    op.create_index("ix_assessment_score_unit_period", "assessment_score", ["unit", "period"])
    op.create_table(
        "assessment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", text(length=7), nullable=False),
        sa.Column("unit", text(length=64), nullable=False),
        sa.Column("key", text(length=240), nullable=False),
        sa.Column("role", text(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cause", text(length=32), nullable=False),
        sa.Column("points_cents", sa.Integer(), nullable=False),
        sa.Column("charged_cents", sa.Integer(), nullable=False),
        sa.Column("subject", text(length=200), nullable=False),
        sa.Column("link", text(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("card_cause", text(length=32), nullable=False),
        sa.Column("card_title", sa.Text(), server_default="", nullable=False),
        sa.Column("card_seq", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("appeal_state", text(length=16), nullable=False),
        sa.Column("appeal_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("appeal_answer", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["period"], ["assessment_month.period"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "unit", "key"),
    )
    op.create_index("ix_escalation_raised_on", "escalation", ["raised_on"])


def downgrade() -> None:
    op.drop_index("ix_escalation_raised_on", table_name="escalation")
    op.drop_table("assessment_line")
    op.drop_index("ix_assessment_score_unit_period", table_name="assessment_score")
    op.drop_table("assessment_score")
    op.drop_table("assessment_month")
