"""pg_dump and pg_restore for a PostgreSQL database named by a SQLAlchemy URL.

The password goes to the tools in the environment (PGPASSWORD), never on their command line, where
any user of the machine could read it in the process list, and never in a message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from duban.backup import BackupRefused

DEBIAN = Path("/usr/lib/postgresql")
LISTED = 5  # tables named when a database is not empty


def tool(name: str) -> Path:
    """The newest Debian PostgreSQL's client (a dump must come from a pg_dump at least as new as the
    server), else the one on PATH."""
    versions = [p for p in DEBIAN.glob(f"*/bin/{name}") if p.is_file()]
    if versions:
        return max(versions, key=lambda p: _major(p.parent.parent.name))
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"找不到 PostgreSQL 客户端程序 {name}：请安装 postgresql-client（与数据库服务器同一版本或更新）"
        )
    return Path(found)


def _major(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)


def connection(url: str) -> tuple[list[str], dict[str, str]]:
    """The tools' connection options and their environment: the password only in PGPASSWORD."""
    parsed = make_url(url)
    args = [f"--dbname={parsed.database}"]
    host = parsed.host or parsed.query.get("host")
    if host:
        args.append(f"--host={host}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={parsed.username}")
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    if "sslmode" in parsed.query:
        env["PGSSLMODE"] = str(parsed.query["sslmode"])
    return [*args, "--no-password"], env


def dump(url: str, target: Path) -> None:
    """The whole database in pg_dump's custom format: one consistent snapshot, whatever writes meanwhile."""
    args, env = connection(url)
    _run([str(tool("pg_dump")), "--format=custom", f"--file={target}", *args], env, url, "pg_dump")


def restore(url: str, source: Path) -> None:
    """Into an empty database, all or nothing (one transaction), owned by the user restoring it."""
    args, env = connection(url)
    command = [str(tool("pg_restore")), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([*command, *args, str(source)], env, url, "pg_restore")


RELATIONS = text(
    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1"
)


def tables(url: str) -> list[str]:
    """The tables, views and sequences the database already holds, outside PostgreSQL's own schemas."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(RELATIONS))
    except DBAPIError as exc:
        said = str(exc.orig).strip().splitlines()[0] if exc.orig else ""
        raise BackupRefused(f"无法连接数据库 {shown(url)}：{said}") from None
    finally:
        engine.dispose()


def shown(url: str) -> str:
    """The database as a message may name it: never its password."""
    parsed: URL = make_url(url)
    return f"{parsed.host or 'localhost'}{f':{parsed.port}' if parsed.port else ''}/{parsed.database}"


def _run(command: list[str], env: dict[str, str], url: str, name: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        said = result.stderr.strip()
        password = make_url(url).password
        if password:
            said = said.replace(str(password), "***")
        raise BackupRefused(f"{name} 失败（数据库 {shown(url)}，退出码 {result.returncode}）：{said[-2000:]}")
