"""sign-in assurance: growing locks, password history, a second factor, separated Office duties

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

The Office's `admin` accounts become `sysadmin` (accounts only); security and audit are other roles.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("lock_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_sign_in_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("previous_hashes", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("recovery_codes", sa.JSON(), nullable=False, server_default="[]"))
    op.execute("UPDATE account SET role = 'sysadmin' WHERE role = 'admin'")
    # counted from the upgrade: an account in use is not taken for an unused one (portal.inactive_days)
    op.execute("UPDATE account SET last_sign_in_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.add_column(sa.Column("awaiting_code", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.drop_column("awaiting_code")
    op.execute("UPDATE account SET role = 'admin' WHERE role = 'sysadmin'")
    op.execute("UPDATE account SET role = 'staff' WHERE role IN ('secadmin', 'auditor')")
    with op.batch_alter_table("account") as batch_op:
        for name in ("recovery_codes", "totp_last_step", "totp_secret", "previous_hashes", "last_sign_in_at"):
            batch_op.drop_column(name)
        batch_op.drop_column("lock_count")
