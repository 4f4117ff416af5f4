"""What a backup copies: which database, and which files under DUBAN_HOME belong to duban's record."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from duban import config

# Under DUBAN_HOME but not the record: the SQLite database (copied by its own API), a running serve's
# lock, the local Prefect server's own database (run history), and uploads in flight.
NOT_COPIED = frozenset({"serve.lock", "prefect", "uploads"})
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Source:
    home: Path
    url: str

    @property
    def kind(self) -> str:
        name = make_url(self.url).get_backend_name()
        return "postgresql" if name == "postgresql" else name

    @property
    def sqlite_file(self) -> Path | None:
        if self.kind != "sqlite":
            return None
        return Path(make_url(self.url).database or "").resolve()

    def database_files(self) -> set[Path]:
        """The SQLite file and its journals, wherever they are: never copied as plain files."""
        if self.sqlite_file is None:
            return set()
        return {Path(f"{self.sqlite_file}{suffix}") for suffix in SQLITE_SIDE_FILES}

    def files(self) -> Iterator[tuple[str, Path]]:
        """Each regular file of the record under DUBAN_HOME, as (path relative to it, path), in a stable order.
        Links are not followed: nothing duban writes is one."""
        skipped = self.database_files()
        for root, dirs, names in os.walk(self.home):
            base = Path(root)
            if base == self.home:
                dirs[:] = [d for d in dirs if d not in NOT_COPIED]
            dirs.sort()
            for name in sorted(names):
                path = base / name
                if path in skipped or (base == self.home and name in NOT_COPIED):
                    continue
                if path.is_file() and not path.is_symlink():
                    yield path.relative_to(self.home).as_posix(), path


def current() -> Source:
    return Source(config.home(), config.database_url())
