"""Reassignments in a bulletin: the rows of the items moved in a span of days (kept in the bulletin's
figures, and read again by the year-end report), and the section that lists them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from duban.bulletin.annex import LongTable, day, shortened
from duban.bulletin.document import Heading, Paragraph
from duban.reassign.proposals import described
from models import Reassignment

REASON_SHOWN = 40  # characters of the reason in a bulletin's table; the full text is on the portal


def rows(session: Session, start: date, end: date) -> list[dict]:
    """Approved reassignments decided from `start` to `end` (both included), in the order decided."""
    query = (
        select(Reassignment)
        .where(
            Reassignment.state == "approved", col(Reassignment.decided_on) >= start, col(Reassignment.decided_on) <= end
        )
        .order_by(col(Reassignment.decided_on), col(Reassignment.id))
    )
    found = []
    for r in session.exec(query):
        old, new = described(r)
        found.append(
            {
                "id": r.id,
                "code": r.item_code,
                "from": old,
                "to": new,
                "reason": shortened(r.reason, REASON_SHOWN),
                "decided_on": r.decided_on.isoformat(),
                "deadline": r.new_deadline.isoformat() if r.new_deadline else None,
            }
        )
    return found


def section(moved: list[dict] | None, heading: str) -> list:
    """The paragraph and table of a bulletin; nothing for a bulletin issued before reassignments were kept."""
    if moved is None:
        return []
    blocks: list = [Heading(2, heading)]
    if not moved:
        return [*blocks, Paragraph("本期无调整责任单位的问题。")]
    blocks.append(Paragraph(f"本期经领导小组办公室同意，调整责任单位的问题{len(moved)}项。"))
    return [*blocks, table(moved, "本期调整责任单位的问题")]


def table(moved: list[dict], title: str) -> LongTable:
    """The moved items' table (the year-end report's too), in full in the annex when long."""
    return LongTable(
        title,
        ("问题编号", "调整前", "调整后", "调整理由", "同意日期"),
        tuple((m["code"], m["from"], m["to"], m["reason"], day(m["decided_on"])) for m in moved),
        annex="调整责任单位问题清单",
    )
