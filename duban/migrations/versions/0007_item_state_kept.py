"""ledger items keep their deadline and plan revision; the audit log is indexed by subject and day,
the open escalations by their state, the outbox by its claims

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("plan_revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_ledger_item_deadline"), ["deadline"], unique=False)
    # The plan in force is the newest revision; its deadline becomes the item's.
    op.execute(
        sa.text(
            "UPDATE ledger_item SET plan_revision = p.revision, deadline = p.deadline "
            "FROM rectification_plan p WHERE p.item_id = ledger_item.id AND p.revision = "
            "(SELECT max(q.revision) FROM rectification_plan q WHERE q.item_id = ledger_item.id)"
        )
    )
    op.create_index("ix_escalation_open", "escalation", ["resolved_on", "cause"], unique=False)
    op.create_index("ix_outbox_claimed_by", "outbox", ["claimed_by"], unique=False)
    op.create_index("ix_audit_entry_subject_day", "audit_entry", ["subject", "effective_on"], unique=False)
    op.create_index(
        "ix_audit_entry_subject_key_day", "audit_entry", ["subject", "subject_key", "effective_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_claimed_by", table_name="outbox")
    op.drop_index("ix_escalation_open", table_name="escalation")
    op.drop_index("ix_audit_entry_subject_key_day", table_name="audit_entry")
    op.drop_index("ix_audit_entry_subject_day", table_name="audit_entry")
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_item_deadline"))
        batch_op.drop_column("plan_revision")
        batch_op.drop_column("deadline")
