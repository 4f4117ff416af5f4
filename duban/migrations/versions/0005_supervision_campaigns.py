"""supervision campaigns

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "campaign_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("lead_department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_at_start", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("deadline_at_start", sa.Date(), nullable=True),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("first_responded_on", sa.Date(), nullable=True),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("promised_by", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["lead_department"], ["unit.name"]),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "item_code"),
    )
    op.create_index(op.f("ix_campaign_item_campaign_id"), "campaign_item", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_campaign_item_unit"), "campaign_item", ["unit"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_item_unit"), table_name="campaign_item")
    op.drop_index(op.f("ix_campaign_item_campaign_id"), table_name="campaign_item")
    op.drop_table("campaign_item")
    op.drop_table("campaign")
