"""Appending to the audit log: every change of every item passes through `record`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from duban.audit import chain as audit_chain
from duban.glossary import AUDIT_VIA as VIA_LABELS
from models import AuditEntry


@dataclass(frozen=True)
class EnteredBy:
    """Who is entering the changes of this request or command (the unit acting is the entry's actor)."""

    person: str = ""
    via: str = ""  # portal | cli


_entered_by: ContextVar[EnteredBy | None] = ContextVar("entered_by", default=None)


@contextmanager
def entered_by(person: str, via: str) -> Iterator[None]:
    """Every entry recorded inside the block names this person and channel."""
    token = _entered_by.set(EnteredBy(person, via))
    try:
        yield
    finally:
        _entered_by.reset(token)


def who(actor: str, person: str, via: str) -> str:
    """张三（城关街道）; 操作员代录（城关街道） for the terminal; the unit alone for scheduled steps."""
    if via == "portal" and person:
        return f"{person}（{actor}）"
    if via == "cli":
        return f"{VIA_LABELS['cli']}（{actor}）"
    return actor


def acting(actor: str) -> str:
    """Who is entering this change, as `who` names them: for a signature or a waiver kept on its row."""
    entered = _entered_by.get() or EnteredBy()
    return who(actor, entered.person, entered.via)


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
    row = _row(datetime.now(UTC), actor, subject, key, action, effective_on, before, after, note)
    audit_chain.chained(session, [row])
    entry = AuditEntry(**row)
    session.add(entry)
    return entry


def record_all(session: Session, entries: list[dict[str, Any]]) -> None:
    """Many entries (each the keyword arguments of `record`) in one statement, in list order."""
    if entries:
        session.flush()  # entries recorded one by one before these come first
        now = datetime.now(UTC)
        rows = [_row(now, **entry) for entry in entries]
        audit_chain.chained(session, rows)
        session.execute(insert(AuditEntry.__table__), rows)


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
    entered = _entered_by.get() or EnteredBy()
    return {
        "person": entered.person,
        "via": entered.via,
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


def taken(
    session: Session, *, actor: str, person: str, subject: str, key: str, action: str, on: date, note: str = ""
) -> None:
    """A download or an export: no change of state, but who took what from the portal is on the record.
    Its subjects ("download", "export") are ones the state's replay never reads."""
    with entered_by(person, "portal"):
        record(session, actor=actor, subject=subject, key=key[:64], action=action, effective_on=on, note=note)


def history(session: Session, subject: str, key: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject, AuditEntry.subject_key == key)
    return list(session.exec(query.order_by(col(AuditEntry.id))))


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
