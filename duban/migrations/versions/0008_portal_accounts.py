"""the portal: accounts, sessions, acknowledgements; the audit log names the person who entered a change

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", S(length=32), nullable=False),
        sa.Column("name", S(length=32), nullable=False),
        sa.Column("unit", S(length=64), nullable=False),
        sa.Column("role", S(length=16), nullable=False),
        sa.Column("mobile", S(length=20), nullable=False),
        sa.Column("password_hash", S(length=200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("password_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login"),
    )
    op.create_index("ix_account_unit", "account", ["unit"], unique=False)
    op.create_table(
        "web_session",
        sa.Column("token_hash", S(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", S(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_session_account_id", "web_session", ["account_id"], unique=False)
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"], unique=False)
    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_kind", S(length=16), nullable=False),
        sa.Column("request_key", S(length=160), nullable=False),
        sa.Column("unit", S(length=64), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=False),
        sa.Column("person", S(length=80), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_kind", "request_key", "unit"),
    )
    op.create_index("ix_acknowledgement_unit", "acknowledgement", ["unit", "request_kind"], unique=False)
    # plain ADD COLUMN: a batch (copy-and-move) on SQLite would drop the append-only triggers
    op.add_column("audit_entry", sa.Column("person", S(length=32), nullable=False, server_default=""))
    op.add_column("audit_entry", sa.Column("via", S(length=8), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("audit_entry", "via")
    op.drop_column("audit_entry", "person")
    op.drop_table("acknowledgement")
    op.drop_table("web_session")
    op.drop_table("account")
