"""extension requests (延期申请) and their approvers' decisions

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("milestone", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("current_due", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("granted_until", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("plan_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["ledger_item.code"]),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_code", "number"),
        sa.UniqueConstraint("item_code", "milestone", "requested_on", "until"),
    )
    with op.batch_alter_table("extension_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_request_item_code"), ["item_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_extension_request_unit"), ["unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_extension_request_state"), ["state"], unique=False)
    op.create_table(
        "extension_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["extension_request.id"]),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "step"),
    )
    with op.batch_alter_table("extension_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_decision_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("extension_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extension_decision_request_id"))
    op.drop_table("extension_decision")
    with op.batch_alter_table("extension_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extension_request_state"))
        batch_op.drop_index(batch_op.f("ix_extension_request_unit"))
        batch_op.drop_index(batch_op.f("ix_extension_request_item_code"))
    op.drop_table("extension_request")
