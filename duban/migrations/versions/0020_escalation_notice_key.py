"""escalation digests: each escalation names the message that told its unit

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-10

The ladder queues one message per recipient, level and day, listing the items, so a message's key no
longer names one escalation: `escalation.notice_key` keeps the key of the message that went to the late
unit (what its notice page shows). Escalations raised before keep their one message each, under the key
they were queued with (`escalate:{cause_key}:L{level}`).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalation") as batch_op:
        batch_op.add_column(sa.Column("notice_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    escalation = sa.table(
        "escalation", sa.column("cause_key", sa.String), sa.column("level", sa.Integer), sa.column("notice_key")
    )
    key = sa.literal("escalate:") + escalation.c.cause_key + ":L" + sa.cast(escalation.c.level, sa.String)
    op.execute(escalation.update().values(notice_key=key))


def downgrade() -> None:
    with op.batch_alter_table("escalation") as batch_op:
        batch_op.drop_column("notice_key")
