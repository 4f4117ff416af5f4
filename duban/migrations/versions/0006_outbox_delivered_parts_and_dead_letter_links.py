"""outbox: delivered parts of a send, rows bound to a send, dead rows linked to their report

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_part",
        sa.Column("send_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("send_key", "part"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("reported_in", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_send_key"), ["send_key"], unique=False)
    # The minute window now counts a hash of the webhook key, not the variable's name: the old rows
    # (at most ten minutes of sends) would never match a bot again nor be pruned.
    op.execute(sa.text("DELETE FROM wecom_send"))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_send_key"))
        batch_op.drop_column("reported_in")
        batch_op.drop_column("send_key")

    op.drop_table("outbox_part")
