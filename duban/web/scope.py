"""What a person may see: their unit's items, reports and campaigns. Every route asks here."""

from __future__ import annotations

from fastapi import HTTPException
from sqlmodel import col

from duban.web.deps import Person
from models import LedgerItem


def visible_items(who: Person) -> list:
    """Townships see the items in their area or in their charge; departments those they lead or
    carry out; the Office and the leaders every item (no condition). Any of the conditions admits an
    item: a list read in code order reads each from its own index (duban.items.search.rows)."""
    if who.kind in ("office", "leader"):
        return []
    area = col(LedgerItem.township) if who.kind == "township" else col(LedgerItem.lead_department)
    return [area == who.unit, col(LedgerItem.responsible_unit) == who.unit]


def may_see(who: Person, item: LedgerItem) -> bool:
    if who.kind in ("office", "leader"):
        return True
    if who.kind == "township":
        return who.unit in (item.township, item.responsible_unit)
    return who.unit in (item.lead_department, item.responsible_unit)


def hidden() -> HTTPException:
    """Another unit's record reads as one that does not exist."""
    return HTTPException(404)
