"""duban/state/tables.py: the Core clauses `duban status` reads name real columns of the models' tables, typed
alike, and read what a Session has not flushed yet, as the ORM's queries did."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import PLAN, Cli
from sqlmodel import Session, SQLModel

from duban import audit
from duban.db import engine_for, migrate
from duban.plan import fingerprint
from duban.state.status import kept_state_answers
from duban.state.tables import READ_TABLES, execute
from duban.stored_plan import NotInitialised, current_plan
from models import ProgrammeRecord


def test_every_column_read_is_the_models_column_of_that_type() -> None:
    for clause in READ_TABLES:
        table = SQLModel.metadata.tables[clause.name]
        for column in clause.columns:
            assert column.name in table.c, f"{clause.name}.{column.name}"
            kept = table.c[column.name].type
            assert column.type._type_affinity is kept._type_affinity, f"{clause.name}.{column.name}: {kept}"


def test_a_session_is_read_with_what_it_has_not_flushed(tmp_path: Path) -> None:
    """A plan added in this session and not flushed is the plan in force to it, and an item's change
    added alike moves the day the kept state answers from."""
    engine = engine_for(f"sqlite:///{tmp_path / 'duban.db'}")
    migrate(engine)
    source = PLAN.read_text(encoding="utf-8")
    with Session(engine) as session:
        with pytest.raises(NotInitialised):
            current_plan(session)
        session.add(
            ProgrammeRecord(
                code="P", title="t", source=source, fingerprint=fingerprint(source), loaded_at=datetime.now(UTC)
            )
        )
        assert current_plan(session).programme.title
        assert kept_state_answers(session, date(2022, 4, 1))
        audit.record(session, actor="办公室", subject="item", key="X-1", action="update", effective_on=date(2022, 5, 6))
        assert not kept_state_answers(session, date(2022, 5, 5))
        assert kept_state_answers(session, date(2022, 5, 6))


def test_a_connection_reads_the_plan_the_cli_loaded(cli: Cli, home: Path) -> None:
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    with engine_for(f"sqlite:///{home / 'duban.db'}").connect() as connection:
        plan = current_plan(connection)
        rows = execute(connection, READ_TABLES[0].select()).all()
    assert [(r.code, r.source) for r in rows] == [(plan.programme.code, PLAN.read_text(encoding="utf-8"))]
