"""A real, throwaway PostgreSQL cluster for the test suite (standard library only).

Why: duban runs on PostgreSQL in production, so tests that touch SQL should run against the
real server rather than SQLite.  Each cluster lives in its own temp dir, listens only on
127.0.0.1 (plus a private unix socket dir) on a free port, and is deleted by ``stop()``.

Tests run as root on CI, and ``initdb`` refuses to run as root, so when ``geteuid() == 0`` the
server tools run as the ``postgres`` system user (via ``runuser``) and the temp dir is chowned
to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

DB_USER = "duban"
SYSTEM_USER = "postgres"  # the Debian package's system user, used when we are root
_DEBIAN_ROOT = Path("/usr/lib/postgresql")


def _major(version_dir: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<major>: numeric, so 16 beats 9.6."""
    try:
        return tuple(int(part) for part in version_dir.name.split("."))
    except ValueError:
        return (-1,)


def find_pg_bin() -> Path | None:
    """The PostgreSQL bin dir (newest Debian one first), or None when not installed."""
    debian = [p.parent for p in _DEBIAN_ROOT.glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()]
    if debian:
        return max(debian, key=lambda b: _major(b.parent))
    found = shutil.which("initdb")
    if found:
        # /usr/local/bin/initdb may be a symlink: resolve so pg_ctl/createdb sit next to it.
        bin_dir = Path(found).resolve().parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    return None


def _free_port() -> int:
    """Ask the kernel for an unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """Environment without PG* variables, so a developer's PGHOST/PGDATA cannot leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class PostgresCluster:
    """initdb + pg_ctl in a temp dir; use as a context manager or call start()/stop()."""

    def __init__(self, base_dir: Path | None = None) -> None:
        self.base_dir = base_dir  # parent for the temp dir; default is the system temp dir
        self.port: int = 0
        self.root: Path | None = None  # the temp dir, None once removed
        self._bin: Path | None = None
        self._as_root = os.geteuid() == 0

    # -- paths -------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "cluster not started"
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        assert self.root is not None, "cluster not started"
        return self.root / "postgres.log"

    # -- helpers -----------------------------------------------------------------------
    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool, as the postgres system user when we are root."""
        assert self._bin is not None and self.root is not None
        cmd = [str(self._bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        # cwd inside our temp dir: the postgres user may not be able to enter the caller's cwd.
        return subprocess.run(cmd, cwd=self.root, env=_clean_env(), capture_output=True, text=True, timeout=120)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, AssertionError):
            return "(no server log)"

    def _fail(self, what: str, proc: subprocess.CompletedProcess[str]) -> RuntimeError:
        return RuntimeError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}\n"
            f"--- server log tail ---\n{self._log_tail()}"
        )

    def _check_traversable(self, path: Path, uid: int) -> None:
        """As root, fail clearly if the postgres user cannot reach `path` (e.g. pytest's 0700 tmp)."""
        for d in [path, *path.parents]:
            st = d.stat()
            if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
                raise RuntimeError(f"{d} is not searchable by the {SYSTEM_USER!r} user; pass a base_dir it can reach")

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """initdb + pg_ctl start; on failure clean up and raise RuntimeError with the log tail."""
        self._bin = find_pg_bin()
        if self._bin is None:
            raise RuntimeError("PostgreSQL server binaries (initdb/pg_ctl) not found")
        self.root = Path(tempfile.mkdtemp(prefix="duban-pg-", dir=self.base_dir))
        try:
            self._start()
        except BaseException:
            self.stop()  # a half-started cluster must not leak a server or a temp dir
            raise

    def _start(self) -> None:
        assert self.root is not None
        sock_dir = self.root / "s"  # short name: unix socket paths are limited to ~107 bytes
        sock_dir.mkdir()
        if self._as_root:
            try:
                pw = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise RuntimeError(f"running as root but there is no {SYSTEM_USER!r} user to run initdb as") from None
            self._check_traversable(self.root.parent, pw.pw_uid)
            for d in (self.root, sock_dir):
                os.chown(d, pw.pw_uid, pw.pw_gid)

        base = ["-D", str(self.data_dir), "-A", "trust", "-U", DB_USER, "-E", "UTF8", "--no-sync"]
        proc = self._run("initdb", *base, "--locale=C.UTF-8")
        if proc.returncode != 0:  # e.g. C.UTF-8 missing on this libc: plain C is always there
            shutil.rmtree(self.data_dir, ignore_errors=True)
            proc = self._run("initdb", *base, "--locale=C")
            if proc.returncode != 0:
                raise self._fail("initdb", proc)

        self.port = _free_port()
        opts = (
            f"-p {self.port} -k {sock_dir} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        start = ["start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log_file)]
        proc = self._run("pg_ctl", *start, "-o", opts)
        if proc.returncode != 0:
            raise self._fail("pg_ctl start", proc)

    def stop(self) -> None:
        """Stop the server if it runs (fast, then immediate) and remove the temp dir; idempotent."""
        if self.root is None:
            return
        try:
            if self._bin is not None and (self.data_dir / "postmaster.pid").exists():
                for mode in ("fast", "immediate"):
                    proc = self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))
                    if proc.returncode == 0:
                        break
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for a database in this cluster."""
        return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create database `name` (owned by the duban role) and return its SQLAlchemy URL."""
        proc = self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, name)
        if proc.returncode != 0:
            raise self._fail(f"createdb {name}", proc)
        return self.url(name)
