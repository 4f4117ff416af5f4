"""duban's tables, in one place so the shape of the data is seen at a glance."""

from models.audit import AuditEntry
from models.ledger import Evidence, LedgerItem, PlanMilestone, RectificationPlan
from models.programme import Category, ProgrammeRecord, UnitRecord

__all__ = [
    "AuditEntry",
    "Category",
    "Evidence",
    "LedgerItem",
    "PlanMilestone",
    "ProgrammeRecord",
    "RectificationPlan",
    "UnitRecord",
]
