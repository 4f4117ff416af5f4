"""report versions keep only their changed lines; correction requests of accepted reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Every line gets its submission and version number, so that a version's whole report is read as each
item's line in the latest version <= N that has it. Versions saved before this revision hold every
line (a whole report is also a valid set of changes); a version that dropped an item's line (a
partial draft from a workbook) gets a `removed` line for it, so that reading it back gives exactly
what it held.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission_line") as batch_op:
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("removed", sa.Boolean(), nullable=False, server_default=sa.false()))
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE submission_line SET"
            " submission_id = (SELECT v.submission_id FROM submission_version v"
            " WHERE v.id = submission_line.version_id),"
            " version = (SELECT v.version FROM submission_version v WHERE v.id = submission_line.version_id)"
        )
    )
    _removed_lines(bind)
    with op.batch_alter_table("submission_line") as batch_op:
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("version", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_submission_line_submission", "submission", ["submission_id"], ["id"])
        batch_op.create_index("ix_submission_line_item_version", ["submission_id", "item_code", "version"], unique=True)
    op.create_table(
        "report_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_unit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "version", "number"),
    )
    with op.batch_alter_table("report_correction") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_correction_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_correction_state"), ["state"], unique=False)


def _removed_lines(bind: sa.engine.Connection) -> None:
    """A `removed` line in each version for every item its version before had and it has not."""
    rows = bind.execute(
        sa.text(
            "SELECT v.id, v.submission_id, v.version, l.item_code FROM submission_version v "
            "LEFT JOIN submission_line l ON l.version_id = v.id ORDER BY v.submission_id, v.version"
        )
    ).all()
    versions: dict[tuple[int, int], tuple[int, set[str]]] = {}
    for version_id, submission_id, number, code in rows:
        versions.setdefault((submission_id, number), (version_id, set()))[1].update([code] if code else [])
    gone = []
    for (submission_id, number), (version_id, codes) in versions.items():
        before = versions.get((submission_id, number - 1))
        for code in sorted(before[1] - codes) if before else ():
            gone.append(
                {"v": version_id, "s": submission_id, "n": number, "c": code, "p": 0, "w": "", "r": True, "t": ""}
            )
    if gone:
        bind.execute(
            sa.text(
                "INSERT INTO submission_line (version_id, submission_id, version, item_code, progress, work_state,"
                " this_month, obstacles, next_plan, milestones_done, opinion, removed)"
                " VALUES (:v, :s, :n, :c, :p, :w, :t, :t, :t, false, :t, :r)"
            ),
            gone,
        )


def downgrade() -> None:
    with op.batch_alter_table("report_correction") as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_correction_state"))
        batch_op.drop_index(batch_op.f("ix_report_correction_submission_id"))
    op.drop_table("report_correction")
    with op.batch_alter_table("submission_line") as batch_op:
        batch_op.drop_index("ix_submission_line_item_version")
        batch_op.drop_constraint("fk_submission_line_submission", type_="foreignkey")
        batch_op.drop_column("removed")
        batch_op.drop_column("version")
        batch_op.drop_column("submission_id")
