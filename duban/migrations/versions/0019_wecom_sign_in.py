"""sign-in by WeCom identity: the sign-ins under way (their state), and sessions awaiting the WeCom step

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08

`wecom_sign_in` holds each sign-in's `state` as a SHA-256, single use; `web_session.awaiting_wecom` marks a
session that gave the password and still owes the WeCom identity (the plan's `wecom_and_password_roles`).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_sign_in",
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index("ix_wecom_sign_in_expires_at", "wecom_sign_in", ["expires_at"], unique=False)
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.add_column(sa.Column("awaiting_wecom", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.drop_column("awaiting_wecom")
    op.drop_index("ix_wecom_sign_in_expires_at", table_name="wecom_sign_in")
    op.drop_table("wecom_sign_in")
