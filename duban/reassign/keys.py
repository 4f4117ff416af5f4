"""How many times each item has moved by a day: the ladder's cause keys of an item carry this count, so a
moved item is chased afresh for its new units, while the rows of the old units stay as they were raised."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from models import Reassignment


def times_moved(session: Session, as_of: date) -> dict[str, int]:
    """Approved reassignments decided by `as_of`, counted per item (one small grouped query)."""
    query = (
        select(Reassignment.item_code, func.count())
        .where(Reassignment.state == "approved", col(Reassignment.decided_on) <= as_of)
        .group_by(Reassignment.item_code)
    )
    return dict(session.exec(query).all())


def suffix(moves: int) -> str:
    """Nothing for an item never moved (its keys are those raised before reassignment existed)."""
    return f"#moved{moves}" if moves else ""
