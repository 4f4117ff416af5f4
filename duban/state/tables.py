"""The columns that `duban status` reads, as SQLAlchemy Core clauses: no ORM, SQLModel or `models`.

Importing `models` builds every table's SQLModel class (Pydantic and the ORM): about a third of a second
of the command's start-up (bench status-today). These clauses name only what is read, with the types
that turn SQLite's text and integers into dates and booleans; tests/test_state_tables.py holds each one
to its table in `models`. Writing stays with the models.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Connection, Date, Integer, String, column, table
from sqlalchemy.engine import Result

PROGRAMME = table("programme", column("code", String), column("source", String))

LEDGER_ITEM = table(
    "ledger_item",
    column("id", Integer),
    column("code", String),
    column("township", String),
    column("community", String),
    column("category", String),
    column("facility_type", String),
    column("stage", String),
    column("lead_department", String),
    column("responsible_unit", String),
    column("key_difficult", Boolean),
    column("status", String),
    column("progress", Integer),
    column("deadline", Date),
    column("plan_revision", Integer),
)

RECTIFICATION_PLAN = table(
    "rectification_plan", column("id", Integer), column("item_id", Integer), column("revision", Integer)
)

PLAN_MILESTONE = table(
    "plan_milestone",
    column("plan_id", Integer),
    column("seq", Integer),
    column("title", String),
    column("due", Date),
)

AUDIT_ENTRY = table("audit_entry", column("subject", String), column("effective_on", Date))

READ_TABLES = (PROGRAMME, LEDGER_ITEM, RECTIFICATION_PLAN, PLAN_MILESTONE, AUDIT_ENTRY)


def execute(bind: Any, query: Any) -> Result:
    """`query` on a Connection, or on a Session's connection after its pending changes are flushed (what
    Session.exec does first), as Core rows either way: the ORM's handling of 30,000 plain rows was a
    fifth of `duban status`."""
    if isinstance(bind, Connection):
        return bind.execute(query)
    bind.flush()
    return bind.connection().execute(query)
