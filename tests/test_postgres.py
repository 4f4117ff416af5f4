"""The same models, migrations, import and close-out on a real PostgreSQL cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy
from conftest import EVIDENCE, PLAN, SAMPLE, Cli
from sqlmodel import SQLModel
from test_ledger_import import BAD_FILES

from duban.db import engine


def dump() -> dict[str, list[tuple]]:
    """Every row of every table, in key order: what 'unchanged' means on a server database."""
    tables = {}
    with engine().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns]
            tables[table.name] = [tuple(r) for r in conn.execute(table.select().order_by(*order))]
    return tables


def test_postgres_end_to_end(pg_url: str, cli: Cli, tmp_path: Path) -> None:
    assert engine().dialect.name == "postgresql"
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    before = dump()
    assert len(before["ledger_item"]) == 66
    assert "无变化 66 项" in cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08").output
    assert dump() == before

    for case in ("unknown township", "duplicate code", "three bad rows, all reported", "text renamed to .xlsx"):
        build, expected = BAD_FILES[case]
        result = cli("ledger", "import", build(tmp_path / case.replace(" ", "-")), status=2)
        assert all(fragment in result.output for fragment in expected)
        assert dump() == before

    cli("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-01")
    cli(
        "item",
        "transition",
        "PT2022-0001",
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        "2022-06-01",
        "--note",
        "完成",
        "--evidence",
        EVIDENCE,
    )
    cli("item", "transition", "PT2022-0001", "--to", "verified", "--by", "民政局", "--as-of", "2022-06-02")
    cli("item", "transition", "PT2022-0001", "--to", "closed", "--by", "区配套办", "--as-of", "2022-06-03")
    data = json.loads(cli("status", "--as-of", "2022-06-03", "--json").output)
    assert data["items"]["by_status"]["closed"] == 1 and data["items"]["total"] == 66

    for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry", "TRUNCATE audit_entry"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), engine().begin() as conn:
            conn.execute(sqlalchemy.text(statement))


def test_round_on_postgres_is_idempotent(pg_url: str, cli: Cli, tmp_path: Path) -> None:
    from reporting_helpers import load_small_ledger

    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    load_small_ledger(cli, tmp_path)
    for day in ("2022-10-01", "2022-10-08", "2022-10-09", "2022-10-11"):
        cli("tick", "--as-of", day)
    before = dump()
    # 10-08: A-2 (L2), A-4 (L1), its milestone (L2); 10-09: both townships (L1), A-4 (L2);
    # 10-11: both townships (L2), both departments (L1): 10 in all; and the plan's 19 overdue documents
    # (reporting_helpers.documents_escalated), each once at level 3.
    assert len(before["submission"]) == 4 and len(before["escalation"]) == 10 + 19
    for day in ("2022-10-01", "2022-10-08", "2022-10-09", "2022-10-11"):
        cli("tick", "--as-of", day)
    assert dump() == before


def test_october_round_on_postgres_queues_the_hand_count(pg_url: str, initialised: Cli, tmp_path: Path) -> None:
    """The round replay's hand count holds on PostgreSQL too: every escalation sends its messages
    (insert_once once read a -1 rowcount there and dropped them)."""
    from reporting_helpers import MECHANISM_CAUSES, documents_escalated, load_small_ledger, of_the_round
    from sqlmodel import col, select
    from test_round_replay import EXPECTED_ESCALATIONS, EXPECTED_MESSAGES, replay

    from duban.db import session_scope
    from models import Escalation, OutboxMessage

    assert engine().dialect.name == "postgresql"
    load_small_ledger(initialised, tmp_path)
    replay(initialised, tmp_path, act=True)
    before = dump()
    replay(initialised, tmp_path, act=False)
    assert dump() == before
    with session_scope() as session:
        everything = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        escalated = session.exec(select(Escalation)).all()
        documents_escalated(everything, escalated)
        messages = of_the_round(everything, escalated)
        assert [(m.created_on.isoformat(), m.kind, m.recipient) for m in messages] == EXPECTED_MESSAGES
        escalations = {
            (e.cause_key, e.level): (e.raised_on.isoformat(), e.resolved_on and e.resolved_on.isoformat())
            for e in session.exec(select(Escalation))
            if e.cause not in MECHANISM_CAUSES
        }
    assert escalations == EXPECTED_ESCALATIONS
