"""the WeCom self-built app: the shared access token, people's WeCom ids, cards counted per person

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08

`account.wecom_userid` is unique when set (one id, one account); the outbox keeps the page a card links to.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_token",
        sa.Column("app", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token", sa.Text(), server_default="", nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("app"),
    )
    op.create_table(
        "wecom_app_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("userid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wecom_app_send_userid_sent_at", "wecom_app_send", ["userid", "sent_at"], unique=False)
    op.add_column("account", sa.Column("wecom_userid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    # a unique index, not a constraint: SQLite adds it without copying the table, and NULLs never clash
    op.create_index("ix_account_wecom_userid", "account", ["wecom_userid"], unique=True)
    op.add_column("outbox", sa.Column("page", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("page")
    op.drop_index("ix_account_wecom_userid", table_name="account")
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("wecom_userid")
    op.drop_index("ix_wecom_app_send_userid_sent_at", table_name="wecom_app_send")
    op.drop_table("wecom_app_send")
    op.drop_table("wecom_token")
