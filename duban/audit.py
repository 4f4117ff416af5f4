"""Appending to the audit log: every change of every item passes through `record`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    subject: str,
    key: str,
    action: str,
    effective_on: date,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    entry = AuditEntry(**_row(datetime.now(UTC), actor, subject, key, action, effective_on, before, after, note))
    session.add(entry)
    return entry


def record_all(session: Session, entries: list[dict[str, Any]]) -> None:
    """Many entries (each the keyword arguments of `record`) in one statement, in list order."""
    if entries:
        session.flush()  # entries recorded one by one before these come first
        now = datetime.now(UTC)
        session.execute(insert(AuditEntry.__table__), [_row(now, **entry) for entry in entries])


def _row(
    at: datetime,
    actor: str,
    subject: str,
    key: str,
    action: str,
    effective_on: date,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "at": at,
        "effective_on": effective_on,
        "actor": actor,
        "subject": subject,
        "subject_key": key,
        "action": action,
        "before": _jsonable(before),
        "after": _jsonable(after),
        "note": note,
    }


def history(session: Session, subject: str, key: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject, AuditEntry.subject_key == key)
    return list(session.exec(query.order_by(col(AuditEntry.id))))


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
