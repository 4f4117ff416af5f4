"""the assessment (考核): appeals against a line of a unit's score, and the day each item was closed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

`ledger_item.closed_on` is filled for items already closed or cancelled from their audit entries (the day
of the entry that moved them there), so the kept state answers a past month end as the log does.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("points", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("filed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("answer", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["unit"], ["unit.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("line_key", "unit"),
    )
    op.create_index("ix_assessment_appeal_unit", "assessment_appeal", ["unit"], unique=False)
    op.create_index("ix_assessment_appeal_state", "assessment_appeal", ["state"], unique=False)
    op.add_column("ledger_item", sa.Column("closed_on", sa.Date(), nullable=True))
    op.create_index("ix_ledger_item_closed_on", "ledger_item", ["closed_on"], unique=False)
    _fill_closed_on()


def _fill_closed_on() -> None:
    """Each closed or cancelled item's day from the newest entry that gave it that status."""
    bind = op.get_bind()
    entry = sa.table(
        "audit_entry",
        sa.column("id", sa.Integer),
        sa.column("subject", sa.String),
        sa.column("subject_key", sa.String),
        sa.column("effective_on", sa.Date),
        sa.column("after", sa.JSON),
    )
    item = sa.table(
        "ledger_item", sa.column("code", sa.String), sa.column("status", sa.String), sa.column("closed_on", sa.Date)
    )
    ended = set(bind.execute(sa.select(item.c.code).where(item.c.status.in_(("closed", "cancelled")))).scalars())
    if not ended:
        return
    days: dict[str, object] = {}
    rows = bind.execute(
        sa.select(entry.c.subject_key, entry.c.effective_on, entry.c.after)
        .where(entry.c.subject == "item")
        .order_by(entry.c.id)
    )
    for code, day, after in rows:
        if code in ended and (after or {}).get("status") in ("closed", "cancelled"):
            days[code] = day
    for code, day in days.items():
        bind.execute(sa.update(item).where(item.c.code == code).values(closed_on=day))


def downgrade() -> None:
    op.drop_index("ix_ledger_item_closed_on", table_name="ledger_item")
    # not a batch: SQLite's copy-and-move of ledger_item fails on the foreign keys that point at it
    op.drop_column("ledger_item", "closed_on")
    op.drop_index("ix_assessment_appeal_state", table_name="assessment_appeal")
    op.drop_index("ix_assessment_appeal_unit", table_name="assessment_appeal")
    op.drop_table("assessment_appeal")
