"""Where duban keeps its data, and what day it is in the district."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def home() -> Path:
    """`DUBAN_HOME` holds the default database and everything duban writes."""
    return _resolved(os.environ.get("DUBAN_HOME", ".duban"), os.getcwd())


@cache
def _resolved(folder: str, cwd: str) -> Path:
    """Resolved once per setting and working folder: every page asks for the database's address."""
    return (Path(cwd) / folder).resolve()


def database_url() -> str:
    """`DUBAN_DATABASE_URL` (any SQLAlchemy URL) wins over the SQLite file in `DUBAN_HOME`."""
    url = os.environ.get("DUBAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'duban.db'}"


def today() -> date:
    """The calendar date in Asia/Shanghai: the default `as_of` of every command."""
    return datetime.now(TZ).date()
