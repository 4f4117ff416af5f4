"""Which parts of a send were delivered, recorded in the database as each one goes.

A WeCom message may take several calls: markdown chunks, the mention, files. When the minute's limit
or a busy server stops it part-way, its rows go back to the queue bound to that send (`send_key`), and
the next attempt, by this dispatcher or another, sends only the parts not recorded here: none is
sent twice. The records of a send are dropped once all of it is delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, delete, select

from duban.db import insert_once, session_scope
from models import DeliveredPart


def delivered(send_key: str) -> set[int]:
    """The parts of `send_key` already delivered (by any dispatcher)."""
    with session_scope() as session:
        return set(session.exec(select(DeliveredPart.part).where(DeliveredPart.send_key == send_key)))


class PartLog:
    """What a transport is given: the parts of a send already delivered, and a way to record the next."""

    delivered = staticmethod(delivered)

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def record(self, send_key: str, part: int) -> None:
        """Committed at once, right after the part was delivered: a dispatcher killed next knows it."""
        with session_scope() as session:
            insert_once(
                session,
                DeliveredPart,
                {"send_key": send_key, "part": part, "sent_at": self.clock()},
                key=["send_key", "part"],
            )


def forget(session: Session, send_key: str) -> None:
    """The send is delivered whole: its part records are no longer needed."""
    session.exec(delete(DeliveredPart).where(DeliveredPart.send_key == send_key))
