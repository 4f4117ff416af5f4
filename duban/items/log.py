"""Items as the audit log tells them: a past date's ledger, and the reference `duban check` holds
the kept state against.

Every change of an item is an audit entry whose `after` carries the new values (a creation all its
fields, a plan revision its deadline and milestones, a transition its status, a report its
progress), so replaying the entries in order, up to a day, gives each item as it stood that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from models import AuditEntry

ITEM_FIELDS = (
    "township",
    "community",
    "category",
    "facility_type",
    "stage",
    "description",
    "lead_department",
    "responsible_unit",
    "key_difficult",
)


@dataclass
class LoggedItem:
    """One item rebuilt from its entries: the fields of LedgerItem that the log decides."""

    code: str
    fields: dict = field(default_factory=dict)
    status: str = "open"
    progress: int = 0
    deadline: date | None = None
    plan_revision: int = 0
    milestones: tuple[tuple[date, str], ...] = ()


def replay(session: Session, until: date | None = None) -> dict[str, LoggedItem]:
    """Every item filed by `until` (all when None), as it stood at the end of that day."""
    query = select(AuditEntry.subject_key, AuditEntry.action, AuditEntry.after).where(AuditEntry.subject == "item")
    if until is not None:
        query = query.where(AuditEntry.effective_on <= until)
    items: dict[str, LoggedItem] = {}
    # streamed in batches (a server-side cursor on PostgreSQL): the log of a city is millions of rows
    query = query.order_by(col(AuditEntry.id)).execution_options(yield_per=5000)
    for code, action, after in session.exec(query):
        after = after or {}
        item = items.get(code)
        if item is None:
            item = items[code] = LoggedItem(code=code)
        if action in ("create", "update", "reassign"):  # a reassignment moves the units
            item.fields.update({k: after[k] for k in ITEM_FIELDS if k in after})
        if action == "plan":
            item.deadline = date.fromisoformat(after["deadline"])
            item.plan_revision = after["revision"]
            item.milestones = tuple((date.fromisoformat(d), t) for d, t in after.get("milestones", []))
        if "status" in after:
            item.status = after["status"]
            if item.status == "closed":  # closing sets 100 (entries before 0007 did not say so)
                item.progress = 100
        if "progress" in after:
            item.progress = after["progress"]
    return items
