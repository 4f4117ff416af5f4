"""a unit's item list in code order and its lights as deadline ranges, from indexes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

The single-column indexes on township, lead_department and responsible_unit are the leading columns of the new ones.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COMPOSITE = {
    "ix_ledger_item_township_code": ["township", "code"],
    "ix_ledger_item_township_deadline": ["township", "deadline"],
    "ix_ledger_item_lead_department_code": ["lead_department", "code"],
    "ix_ledger_item_lead_department_deadline": ["lead_department", "deadline"],
    "ix_ledger_item_responsible_unit_code": ["responsible_unit", "code"],
    "ix_ledger_item_responsible_unit_deadline": ["responsible_unit", "deadline"],
}
SINGLE = {
    "ix_ledger_item_township": ["township"],
    "ix_ledger_item_lead_department": ["lead_department"],
    "ix_ledger_item_responsible_unit": ["responsible_unit"],
}


def upgrade() -> None:
    for name, columns in COMPOSITE.items():
        op.create_index(name, "ledger_item", columns)
    for name in SINGLE:
        op.drop_index(name, table_name="ledger_item")


def downgrade() -> None:
    for name, columns in SINGLE.items():
        op.create_index(name, "ledger_item", columns)
    for name in COMPOSITE:
        op.drop_index(name, table_name="ledger_item")
