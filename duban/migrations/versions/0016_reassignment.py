"""reassignment (转办 / 调整责任单位): proposals to move an item to other units, and their decisions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "reassignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", TEXT(length=40), nullable=False),
        sa.Column("open_key", TEXT(length=40), nullable=True),
        sa.Column("state", TEXT(length=16), nullable=False),
        sa.Column("proposed_by", TEXT(length=64), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("proposer", TEXT(length=100), nullable=False),
        sa.Column("from_township", TEXT(length=64), nullable=False),
        sa.Column("from_responsible", TEXT(length=64), nullable=False),
        sa.Column("from_lead", TEXT(length=64), nullable=False),
        sa.Column("to_township", TEXT(length=64), nullable=False),
        sa.Column("to_responsible", TEXT(length=64), nullable=False),
        sa.Column("to_lead", TEXT(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decider", TEXT(length=100), nullable=False),
        sa.Column("answer", sa.Text(), server_default="", nullable=False),
        sa.Column("new_deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["proposed_by"], ["unit.name"]),
        sa.ForeignKeyConstraint(["to_township"], ["unit.name"]),
        sa.ForeignKeyConstraint(["to_responsible"], ["unit.name"]),
        sa.ForeignKeyConstraint(["to_lead"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_reassignment_item_code", "reassignment", ["item_code"], unique=False)
    op.create_index("ix_reassignment_state", "reassignment", ["state"], unique=False)
    op.create_index("ix_reassignment_decided_on", "reassignment", ["decided_on"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reassignment_decided_on", table_name="reassignment")
    op.drop_index("ix_reassignment_state", table_name="reassignment")
    op.drop_index("ix_reassignment_item_code", table_name="reassignment")
    op.drop_table("reassignment")
