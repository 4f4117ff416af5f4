"""The engine, sessions and schema migrations (Alembic, from the first table on).

SQLModel's Session is imported when a session is opened: a command that reads with Core alone
(`duban status`, duban/state/tables.py) starts without it and the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine, make_url

from duban import config

if TYPE_CHECKING:
    from sqlmodel import Session

MIGRATIONS = Path(__file__).with_name("migrations")


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL; SQLite gets foreign keys and a busy timeout so writers queue."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def engine() -> Engine:
    return engine_for(config.database_url())


@contextmanager
def session_scope(bind: Engine | None = None) -> Iterator[Session]:
    """A unit of work: committed when the block ends normally, rolled back on any error."""
    from sqlmodel import Session

    with Session(bind or engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def migrate(bind: Engine | None = None) -> None:
    """Bring the schema to the newest migration (creates the database when it is new)."""
    from alembic import command
    from alembic.config import Config

    bind = bind or engine()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with bind.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def insert_once(session: Session, model: type, values: dict, *, key: list[str]) -> bool:
    """INSERT ... ON CONFLICT (key) DO NOTHING; True when this call inserted the row.

    Natural keys make scheduled work idempotent even when two runs race: the second finds the row.
    """
    statement = _insert_once(session.get_bind().dialect, model.__table__, tuple(key), tuple(values))
    # rowcount is -1 when an insert on PostgreSQL adds RETURNING; a returned row is certain
    return session.execute(statement, values).first() is not None


@cache
def _insert_once(dialect: Dialect, table: Table, key: tuple[str, ...], names: tuple[str, ...]) -> TextClause:
    """The statement as text with typed parameters: SQLAlchemy cannot cache an ON CONFLICT insert
    and compiled it again for every row (two thirds of a sweep's time at 30,000 items)."""
    quote = dialect.identifier_preparer.quote
    pk = table.primary_key.columns
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(f':{n}' for n in names)}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in key)}) DO NOTHING "
        f"RETURNING {', '.join(quote(c.name) for c in pk)}"
    )
    return text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names)).columns(*pk)
