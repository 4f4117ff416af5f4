"""The audit log's hash chain: each entry's SM3 digest covers the previous entry's and its own columns, so a
row changed, removed or inserted afterwards shows. Someone with the database's own rights could still
rewrite the log from some entry on, or cut its end, and write a new head: an anchor recorded outside the
database (`duban audit verify` and `duban backup` print the head; `verify --anchor SEQ:SM3` checks it)
shows that too.

Appends are serialised through the one row of `audit_head` (the newest sequence number and digest): the
first append of a transaction takes it with `UPDATE ... RETURNING` (the row lock on PostgreSQL, the write
lock on SQLite) and keeps it until the transaction ends; the head is written back just before commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from models import AuditEntry

GENESIS = "0" * 64  # the digest before the first entry
HELD = "audit_head"  # the key of a transaction's head in Session.info
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # built once, not per entry


def stored_time(at: datetime) -> datetime:
    """A time as the digest reads it: naive UTC, to the microsecond (kept aware, read back in UTC)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at


def canonical(seq: int, row: dict[str, Any]) -> bytes:
    """The entry as the digest reads it: JSON with sorted keys and no spaces, dates in ISO form."""
    effective = row["effective_on"]
    values = {
        "seq": seq,
        "at": stored_time(row["at"]).isoformat(timespec="microseconds"),
        "effective_on": effective.isoformat() if isinstance(effective, date) else str(effective),
        "actor": row["actor"],
        "subject": row["subject"],
        "key": row["subject_key"],
        "action": row["action"],
        "before": row["before"],
        "after": row["after"],
        "note": row["note"] or "",
        "person": row["person"] or "",
        "via": row["via"] or "",
    }
    return _ENCODER.encode(values).encode()


def digest(previous: str, seq: int, row: dict[str, Any]) -> str:
    """SM3 (GB/T 32905) over the previous digest and this entry, in hex."""
    h = hashes.Hash(hashes.SM3())
    h.update(previous.encode("ascii"))
    h.update(canonical(seq, row))
    return h.finalize().hex()


def chained(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give each row (the columns of one entry, in append order) its sequence number and digest."""
    head = session.info.get(HELD)
    if head is None:
        # a no-op update: it locks the head row until this transaction ends, and returns it
        taken = session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, sm3")).one()
        head = session.info[HELD] = [taken[0], taken[1]]
    for row in rows:
        head[0] += 1
        row["seq"] = head[0]
        row["sm3"] = head[1] = digest(head[1], head[0], row)


@event.listens_for(OrmSession, "before_commit")
def _write_head(session: OrmSession) -> None:
    head = session.info.pop(HELD, None)
    if head is not None:
        session.execute(
            text("UPDATE audit_head SET seq = :seq, sm3 = :sm3 WHERE id = 1"), {"seq": head[0], "sm3": head[1]}
        )


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_head(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back or closed: the head was never written
        session.info.pop(HELD, None)


@dataclass(frozen=True)
class Broken:
    """The first entry that does not match (or, `entry` None, the head pointing past the last one)."""

    seq: int
    reason: str
    entry: AuditEntry | None


@dataclass(frozen=True)
class Verified:
    count: int
    head: str  # the newest digest: written down elsewhere, it shows a chain rewritten whole
    broken: Broken | None


def verify(session: Session, anchor: tuple[int, str] | None = None) -> Verified:
    """Walk the chain in sequence order, recomputing every digest; with an `anchor` (a head recorded
    outside the database: sequence number and digest), the entry of that number must still have it."""
    previous, expected, count = GENESIS, 1, 0
    for entry in _in_order(session):
        if entry.seq != expected:
            reason = f"之前缺少序号为{expected}的条目"
            return Verified(count, previous, Broken(entry.seq, reason, entry))
        if entry.sm3 != digest(previous, entry.seq, entry.model_dump()):
            return Verified(count, previous, Broken(entry.seq, "内容与校验值不符", entry))
        if anchor is not None and entry.seq == anchor[0] and entry.sm3 != anchor[1]:
            reason = "与另行记录的链头不符：此前的日志已被改写"
            return Verified(count, previous, Broken(entry.seq, reason, entry))
        previous, expected, count = entry.sm3, expected + 1, count + 1
    if anchor is not None and anchor[0] > count:
        reason = f"日志止于序号{count}，另行记录的链头为序号{anchor[0]}：末尾的条目已被删除"
        return Verified(count, previous, Broken(anchor[0], reason, None))
    head_seq, head_hash = session.execute(text("SELECT seq, sm3 FROM audit_head WHERE id = 1")).one()
    if head_seq != count or head_hash != previous:
        reason = f"日志末尾缺少条目：链头记录至序号{head_seq}，日志止于序号{count}"
        return Verified(count, previous, Broken(head_seq, reason, None))
    return Verified(count, previous, None)


def head(session: Session) -> tuple[int, str] | None:
    """The newest sequence number and digest, to be written down outside the database (None for a
    database from before the chain: a backup of one is taken all the same)."""
    if not inspect(session.get_bind()).has_table("audit_head"):
        return None
    seq, sm3 = session.execute(text("SELECT seq, sm3 FROM audit_head WHERE id = 1")).one()
    return seq, sm3


def _in_order(session: Session) -> Iterator[AuditEntry]:
    # streamed in batches (a server-side cursor on PostgreSQL): the log can hold millions of rows
    query = select(AuditEntry).order_by(col(AuditEntry.seq)).execution_options(yield_per=5000)
    yield from session.exec(query)
