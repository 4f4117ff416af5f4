"""Extension requests in the bulletins: the figures of a period, and the table's rows.

`rows` is the one query behind the bulletin's table (and the year-end report's): requests decided in the
days given, and those still pending at the end of them, each as it stood on `as_of`.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, or_, select

from duban.bulletin.annex import Draft, LongTable, day, shortened
from duban.bulletin.document import Heading, Paragraph, Value
from duban.glossary import EXTENSION_STATE, cn_date
from models import ExtensionRequest

REASON_SHOWN = 40  # characters of a reason in a bulletin's table
STATES = ("granted", "refused", "pending")


def rows(session: Session, start: date, end: date, as_of: date) -> list[dict]:
    """Requests decided between `start` and `end` (not after `as_of`), then those pending on the last of
    these days; in the order they were filed."""
    last = min(end, as_of)
    query = select(ExtensionRequest).where(
        ExtensionRequest.requested_on <= last,
        or_(
            col(ExtensionRequest.decided_on).is_(None),
            col(ExtensionRequest.decided_on) >= start,
        ),
    )
    found = []
    for r in session.exec(query.order_by(col(ExtensionRequest.id))):
        decided = r.decided_on is not None and r.decided_on <= last
        found.append(
            {
                "id": r.id,
                "item": r.item_code,
                "milestone": r.milestone,
                "unit": r.unit,
                "old": r.current_due.isoformat(),
                "asked": r.until.isoformat(),
                "granted": r.granted_until.isoformat() if decided and r.granted_until else None,
                "state": r.state if decided else "pending",
                "protected": r.protected,
                "reason": r.reason,
                "requested_on": r.requested_on.isoformat(),
                "decided_on": r.decided_on.isoformat() if decided else None,
            }
        )
    return found


def figures(session: Session, window: tuple[date, date], as_of: date) -> dict:
    """The bulletin's `extensions` key: the window, how many granted, refused and pending, and the rows."""
    start, end = window[0], min(window[1], as_of)
    listed = rows(session, start, end, as_of)
    counts = {state: sum(r["state"] == state for r in listed) for state in STATES}
    return {"window": [start.isoformat(), end.isoformat()], **counts, "rows": listed}


def table_rows(listed: list[dict]) -> tuple[tuple[Value, ...], ...]:
    """The rows as the table shows them (the year-end report's table too)."""
    return tuple(
        (
            r["item"] + (f"（{r['milestone']}）" if r["milestone"] else ""),
            r["unit"],
            day(r["old"]),
            day(r["asked"]),
            day(r["granted"]) if r["granted"] else "—",
            EXTENSION_STATE[r["state"]] + ("（报领导小组）" if r["protected"] else ""),
            shortened(r["reason"], REASON_SHOWN),
        )
        for r in listed
    )


HEADER = ("问题编号", "申请单位", "原定期限", "申请延至", "批准延至", "审批状态", "延期理由")


def section(e: dict, numeral: str, table_number: int) -> list[Draft]:
    """延期申请情况: the counts of the period and its table (表`table_number`)."""
    start, end = (date.fromisoformat(d) for d in e["window"])
    out: list[Draft] = [Heading(1, f"{numeral}、延期申请情况")]
    out.append(
        Paragraph(
            f"{cn_date(start)}至{cn_date(end)}，批准延期{e['granted']}项，不予延期{e['refused']}项；"
            f"截至{cn_date(end)}，尚在审批中的延期申请{e['pending']}项。"
        )
    )
    if e["rows"]:
        out.append(
            LongTable(
                f"表{table_number}  延期申请情况",
                HEADER,
                table_rows(e["rows"]),
                annex="延期申请情况清单",
            )
        )
    return out
