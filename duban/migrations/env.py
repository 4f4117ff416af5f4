"""Alembic environment: runs on the connection duban hands it (see duban.db.migrate)."""

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401 - registers the tables on SQLModel.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    from duban.db import engine

    connection = engine().connect()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
