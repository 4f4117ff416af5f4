"""the audit log as a hash chain: every entry a sequence number and an SM3 digest over the previous one

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

The entries already there are chained in id order. The append-only triggers are lifted for that one
update and put back as 0001 made them. Four indexes serve the auditor's page (by unit, person, subject or
action, newest first).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from duban.audit.chain import GENESIS, digest

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 5000
PAGE_INDEXES = {  # the auditor's page: one filter, newest first
    "ix_audit_entry_actor_seq": ["actor", "seq"],
    "ix_audit_entry_person_seq": ["person", "seq"],
    "ix_audit_entry_subject_seq": ["subject", "seq"],
    "ix_audit_entry_action_seq": ["action", "seq"],
}
ENTRY = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("effective_on", sa.Date),
    sa.column("actor", sa.String),
    sa.column("subject", sa.String),
    sa.column("subject_key", sa.String),
    sa.column("action", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("note", sa.Text),
    sa.column("person", sa.String),
    sa.column("via", sa.String),
    sa.column("seq", sa.BigInteger),
    sa.column("sm3", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _drop_append_only()
    op.add_column("audit_entry", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_entry", sa.Column("sm3", sa.String(length=64), nullable=True))
    seq, last = _chain_existing()
    with op.batch_alter_table("audit_entry") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("sm3", existing_type=sa.String(length=64), nullable=False)
    op.create_index("ix_audit_entry_seq", "audit_entry", ["seq"], unique=True)
    for name, columns in PAGE_INDEXES.items():
        op.create_index(name, "audit_entry", columns)
    op.execute(sa.text("INSERT INTO audit_head (id, seq, sm3) VALUES (1, :seq, :sm3)").bindparams(seq=seq, sm3=last))
    _make_append_only()


def _chain_existing() -> tuple[int, str]:
    """Each entry, in id order, its place and digest; the last place and digest for the head."""
    bind = op.get_bind()
    seq, previous, after_id = 0, GENESIS, 0
    while True:
        rows = bind.execute(sa.select(ENTRY).where(ENTRY.c.id > after_id).order_by(ENTRY.c.id).limit(BATCH)).all()
        if not rows:
            return seq, previous
        updates = []
        for row in rows:
            seq += 1
            previous = digest(previous, seq, row._asdict())
            updates.append({"row_id": row.id, "new_seq": seq, "new_sm3": previous})
        statement = ENTRY.update().where(ENTRY.c.id == sa.bindparam("row_id"))
        bind.execute(statement.values(seq=sa.bindparam("new_seq"), sm3=sa.bindparam("new_sm3")), updates)
        after_id = rows[-1].id


def downgrade() -> None:
    _drop_append_only()
    for name in PAGE_INDEXES:
        op.drop_index(name, table_name="audit_entry")
    op.drop_index("ix_audit_entry_seq", table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch_op:
        batch_op.drop_column("sm3")
        batch_op.drop_column("seq")
    op.drop_table("audit_head")
    _make_append_only()


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_entry_no_update")
        op.execute("DROP TRIGGER audit_entry_no_delete")
        return
    op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")


def _make_append_only() -> None:
    """As 0001 made the table: updates and deletes refused (the function stays on PostgreSQL)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
            )
        return
    op.execute(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
    )
