"""`duban backup` and `duban restore` on real parts: backups taken while a replay runs (its own process:
requests, reminders, messages and their files) and clerks file close-outs through the portal, each
restored into an empty home with the same status and files; tampered and non-empty targets refused; the
scheduled flow keeping N copies here and in a second place; and the same on a real PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import yaml
from conftest import EVIDENCE, PLAN, ROOT, SAMPLE, Cli, sample_rows
from cryptography.hazmat.primitives import hashes
from pgcluster import PostgresCluster
from portal import csrf_of, quick_home, running_portal, sign_in
from processes import Spawn

DAY = date(2022, 6, 1)
WAIT = 60  # seconds any wait on the writer may take before the test fails
VERSIONS = Path(__file__).resolve().parents[1] / "duban" / "migrations" / "versions"
DUBAN = [sys.executable, "-m", "duban.cli"]
HEAD = max(p.name.split("_")[0] for p in VERSIONS.glob("[0-9]*_*.py"))  # the newest migration's number


def sm3(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def files_under(home: Path) -> dict[str, bytes]:
    """Every file under a home but the SQLite database, by relative path: what 'the same files' means."""
    return {
        p.relative_to(home).as_posix(): p.read_bytes()
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("duban.db")
    }


def status_now() -> dict:
    """`duban status --json` as the writer sees it right after its commit (duban's own function)."""
    from duban.db import session_scope
    from duban.state.status import summary
    from duban.stored_plan import current_plan

    with session_scope() as session:
        data = summary(session, current_plan(session), DAY)
    return json.loads(json.dumps(data, ensure_ascii=False, default=lambda v: v.isoformat()))


def status_json(cli: Cli) -> dict:
    return json.loads(cli("status", "--json", "--as-of", DAY).output)


def statuses(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM ledger_item GROUP BY status").fetchall())


class Writer(threading.Thread):
    """Close-outs through the portal, one after another, as the townships' clerks file them: each item to
    整改中, then to 申请销号 with an evidence file of its own uploaded. After each answer it records the
    status, so that any snapshot can be matched to the state after exactly `ops` commits (the replay
    beside it changes no item: it opens the round, sends requests and reminders, escalates)."""

    def __init__(self, base: str, clerks: dict[str, httpx.Client]) -> None:
        super().__init__(daemon=True)
        self.base, self.clerks = base, clerks
        self.states = [status_now()]
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for row in [r for r in sample_rows() if r["问题编号"] and r["整改措施"]]:
                for step in ("in_progress", "close_requested"):
                    if self.stop.is_set():
                        return
                    self.move(row["问题编号"], row["镇办"], step)
                    self.states.append(status_now())
        except BaseException as exc:  # reported by the test
            self.error = exc

    def move(self, code: str, township: str, target: str) -> None:
        clerk = self.clerks[township]
        path = f"/items/{quote(code)}"
        form = {"target": target, "csrf_token": csrf_of(clerk.get(path).text)}
        files = None
        if target == "close_requested":
            form["note"] = "整改完成，申请销号"
            text = f"{code} 已按整改方案完成整改。\n" * 200
            files = [("evidence", (f"{code}-整改完成情况说明.txt", text.encode(), "text/plain"))]
        answer = clerk.post(f"{path}/transition", data=form, files=files)
        assert answer.status_code == 303, answer.status_code
        assert "已办理" in clerk.get(answer.headers["location"]).text, (code, target)

    def wait_for(self, ops: int) -> None:
        deadline = time.monotonic() + WAIT
        while len(self.states) - 1 < ops:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"the writer did not reach {ops} commits"
            time.sleep(0.01)


def audit_log(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT seq, sm3 FROM audit_entry ORDER BY seq").fetchall()


def messages(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


@pytest.fixture
def writing_home(imported: Cli, home: Path) -> Path:
    """The sample district in WAL mode, as `duban portal` leaves the database."""
    with sqlite3.connect(home / "duban.db") as conn:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    return home


def test_a_backup_taken_during_a_replay_with_the_portal_writing_restores_the_same_state(
    writing_home: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawn: Spawn
) -> None:
    home = writing_home
    baseline = statuses(home / "duban.db")
    townships = sorted({r["镇办"] for r in sample_rows() if r["问题编号"] and r["整改措施"]})
    with quick_home(home):
        for n, township in enumerate(townships):
            cli("user", "add", "--unit", township, "--login", f"bk-{n:02d}", "--name", f"备份{n:02d}")
        with running_portal(DAY) as base:
            clerks = {t: sign_in(base, f"bk-{n:02d}") for n, t in enumerate(townships)}
            env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PYTHONPATH": str(ROOT)}
            days = ["--from", "2022-05-01", "--to", "2022-05-12", "--no-engine"]
            replay = spawn([*DUBAN, "replay", *days], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            writer = Writer(base, clerks)
            writer.start()
            taken = []  # (folder, commits recorded before it began, after it ended, when it began, replay running)
            try:
                deadline = time.monotonic() + WAIT
                while messages(home / "duban.db") == 0:  # the replay under way: its first requests queued
                    assert replay.poll() is None and time.monotonic() < deadline, "the replay queued nothing"
                    time.sleep(0.05)
                for round_ in range(3):
                    writer.wait_for(2 + 4 * round_)
                    before, began = len(writer.states) - 1, time.time()
                    # its own process, as the scheduled flow or an operator's command runs beside the portal
                    output = subprocess.run(
                        [*DUBAN, "backup", "--to", str(tmp_path / "backups")],
                        env=env, capture_output=True, text=True, check=True, timeout=WAIT,
                    ).stdout  # fmt: skip
                    folder = Path(output.split("已备份到 ")[1].split("：")[0])
                    taken.append((folder, before, len(writer.states) - 1, began, replay.poll() is None))
                writer.wait_for(taken[-1][2] + 2)  # and still writing after the last one
            finally:
                writer.stop.set()
                writer.join(timeout=WAIT)
                said = replay.communicate(timeout=300)[0].decode()  # past five minutes, spawn's teardown kills it
                for client in clerks.values():
                    client.close()
    assert not writer.is_alive() and writer.error is None, writer.error
    assert replay.returncode == 0, said
    assert any(after > before for _, before, after, *_ in taken)  # the portal's commits landed while a backup ran
    assert any(running for *_, running in taken)  # the replay ran on after a backup
    folders = [folder for folder, *_ in taken]
    assert len(set(folders)) == 3 and all(f.parent == tmp_path / "backups" for f in folders)
    original, log = files_under(home), audit_log(home / "duban.db")
    written = {path: (home / path).stat().st_mtime for path in original}
    sent = messages(home / "duban.db")
    assert any(0 < messages(f / "database/duban.db") < sent for f in folders)  # copied in the replay's middle

    compared = 0  # files written before a backup began, compared byte for byte
    for n, (folder, before, after, began, _) in enumerate(taken):
        target = tmp_path / f"restored-{n}"
        monkeypatch.setenv("DUBAN_HOME", str(target))
        output = cli("restore", folder).output
        assert f"已校验并恢复备份 {folder}" in output
        assert "现状数据与审计日志核查（duban check）：通过（各问题的现状数据与审计日志一致）" in output
        assert "审计日志完整性校验（duban audit verify）：通过" in output
        # One moment of the home's history: the log copied is the start of the log the home went on to keep.
        copied = audit_log(target / "duban.db")
        assert copied == log[: len(copied)]
        # The snapshot is the state after exactly `ops` of the writer's commits, taken during the backup.
        counts = statuses(target / "duban.db")
        ops = counts.get("in_progress", 0) - baseline.get("in_progress", 0) + 2 * counts.get("close_requested", 0)
        assert before <= ops <= after + 1
        assert status_json(cli) == writer.states[ops]
        assert "各问题的现状数据与审计日志一致" in cli("check").output
        # The same files, byte for byte: every one written before the backup began, and every evidence file
        # the restored database names. A file still being written as the walk passed may be copied short:
        # no row of the copy names it (it is written before the row naming it commits).
        restored = files_under(target)
        assert restored.keys() <= original.keys()
        finished = {path for path, at in written.items() if at < began - 1}
        assert finished <= restored.keys()
        compared += len(finished)
        with sqlite3.connect(target / "duban.db") as conn:
            named = {row[0] for row in conn.execute("SELECT stored_as FROM evidence")}
        assert len(named) == counts.get("close_requested", 0)
        assert all(restored[path] == original[path] for path in finished | named)
        # The manifest lists each file with its size and SM3, computed here independently.
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["database"] == "sqlite" and manifest["duban_version"] == "0.1.0"
        assert manifest["revision"] == HEAD
        listed = {f["path"]: (f["size"], f["sm3"]) for f in manifest["files"]}
        on_disk = {
            p.relative_to(folder).as_posix(): (p.stat().st_size, sm3(p.read_bytes()))
            for p in folder.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        }
        assert listed == on_disk
        assert {f"home/{path}" for path in restored} | {"database/duban.db"} == set(listed)
    assert compared > 0


@pytest.fixture
def backed_up(imported: Cli, home: Path, tmp_path: Path) -> Path:
    """One backup of the sample district with one close-out request and its evidence."""
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-01")
    imported(
        "item", "transition", "PT2022-0001", "--to", "close_requested", "--by", "城关街道",
        "--as-of", DAY, "--note", "完成", "--evidence", EVIDENCE,
    )  # fmt: skip
    imported("backup", "--to", tmp_path / "backups")
    [folder] = (tmp_path / "backups").iterdir()
    return folder


EVIDENCE_COPY = f"home/evidence/PT2022-0001/{hashlib.sha256(EVIDENCE.read_bytes()).hexdigest()[:16]}.txt"


def test_a_changed_missing_or_added_file_is_refused_by_name_and_nothing_restored(
    backed_up: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "empty-home"
    monkeypatch.setenv("DUBAN_HOME", str(target))
    evidence = backed_up / EVIDENCE_COPY
    data = evidence.read_bytes()
    refused = f"错误：备份 {backed_up} 未通过校验，未恢复任何内容："

    evidence.write_bytes(data[:-1] + b"X")  # same size, one byte changed
    output = cli("restore", backed_up, status=2).output
    assert refused in output and f"{EVIDENCE_COPY}：内容已被改动（SM3 摘要与清单不符）" in output
    assert not target.exists()

    evidence.unlink()
    (backed_up / "home" / "extra.txt").write_text("多出来的文件", encoding="utf-8")
    output = cli("restore", backed_up, status=2).output
    assert f"{EVIDENCE_COPY}：文件缺失" in output and "home/extra.txt：清单中没有此文件" in output
    assert not target.exists()

    evidence.write_bytes(data)
    (backed_up / "home" / "extra.txt").unlink()
    (backed_up / "database" / "duban.db").write_bytes((backed_up / "database" / "duban.db").read_bytes() + b"\0")
    output = cli("restore", backed_up, status=2).output
    assert "database/duban.db：大小不符" in output and not target.exists()

    (backed_up / "manifest.json").unlink()
    output = cli("restore", backed_up, status=2).output
    assert f"错误：{backed_up} 中没有备份清单 manifest.json" in output and not target.exists()


def test_restore_refuses_a_home_that_is_not_empty(
    backed_up: Path, home: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files_under(home), (home / "duban.db").read_bytes()
    output = cli("restore", backed_up, status=2).output
    assert f"错误：DUBAN_HOME（{home}）不是空的（已有 duban.db、evidence）：恢复只能写入空的 DUBAN_HOME" in output
    assert (files_under(home), (home / "duban.db").read_bytes()) == before

    other = tmp_path / "other"
    other.mkdir()
    (other / "笔记.txt").write_text("留存", encoding="utf-8")
    monkeypatch.setenv("DUBAN_HOME", str(other))
    assert "不是空的（已有 笔记.txt）" in cli("restore", backed_up, status=2).output
    assert sorted(os.listdir(other)) == ["笔记.txt"]

    empty = tmp_path / "empty"
    empty.mkdir()  # an empty folder is an empty home
    monkeypatch.setenv("DUBAN_HOME", str(empty))
    assert "通过" in cli("restore", backed_up).output
    assert (empty / EVIDENCE_COPY.removeprefix("home/")).read_bytes() == EVIDENCE.read_bytes()


def test_a_home_restored_elsewhere_sends_its_queued_bulletin_with_its_own_files(
    imported: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued message names its attachments relative to DUBAN_HOME: restored into another folder, with the
    old home gone, the bulletin goes out with the restored home's files."""
    imported("bulletin", "--period", "2022-05", "--as-of", "2022-06-10", "--no-engine")
    issued = {p.name: p.read_bytes() for p in (home / "bulletins").iterdir() if p.suffix in (".pdf", ".docx", ".xlsx")}
    imported("backup", "--to", tmp_path / "backups")
    [folder] = (tmp_path / "backups").iterdir()
    shutil.rmtree(home)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("DUBAN_HOME", str(elsewhere))
    imported("restore", folder)
    imported("outbox", "dispatch", "--at", "2022-06-10T09:00")
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (elsewhere / "outbox").rglob("*.eml")
    ]
    bulletins = [mail for mail in mails if "通报" in mail["Subject"]]
    assert bulletins and not home.exists()
    for mail in bulletins:
        sent = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
        assert sent == issued


def test_a_backup_never_overwrites_one_and_never_goes_inside_the_home(
    backed_up: Path, home: Path, cli: Cli, tmp_path: Path
) -> None:
    from datetime import datetime

    from duban.backup.take import take
    from duban.config import TZ

    at = datetime(2022, 6, 1, 2, 0, tzinfo=TZ)
    first, second = take(tmp_path / "same-second", now=at), take(tmp_path / "same-second", now=at)
    assert (first.folder.name, second.folder.name) == ("20220601-020000", "20220601-020000-2")
    assert sorted(os.listdir(tmp_path / "same-second")) == ["20220601-020000", "20220601-020000-2"]
    output = cli("backup", "--to", home / "backups", status=2).output
    assert f"错误：备份位置 {home / 'backups'} 在 DUBAN_HOME（{home}）之内" in output
    assert not (home / "backups").exists()


# -- the scheduled flow ----------------------------------------------------------------------------


def test_the_backup_flow_keeps_n_copies_here_and_in_the_second_place(
    prefect_server: None, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.backup import backup

    monkeypatch.delenv("DUBAN_BACKUP_DIR", raising=False)
    monkeypatch.delenv("DUBAN_BACKUP_COPY_TO", raising=False)
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    plan["backup"] = {"keep": 2}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    cli("init", "--plan", tmp_path / "plan.yaml", "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")

    state = backup(return_state=True)
    assert state.is_failed() and "未设置 DUBAN_BACKUP_DIR" in state.message

    here, there = tmp_path / "backups", tmp_path / "mounted"
    monkeypatch.setenv("DUBAN_BACKUP_DIR", str(here))
    monkeypatch.setenv("DUBAN_BACKUP_COPY_TO", str(there))
    state = backup(return_state=True)  # the second place is not mounted: the local copy is made all the same
    assert state.is_failed() and f"第二备份位置 {there}（DUBAN_BACKUP_COPY_TO）不存在或不是文件夹" in state.message
    [kept] = os.listdir(here)

    there.mkdir()
    runs = [backup() for _ in range(3)]  # run again and again the same day: each a copy of its own
    names = [Path(run["backup"]).name for run in runs]
    assert len(set(names + [kept])) == 4
    assert [(run["removed"], run["removed_there"]) for run in runs] == [(0, 0), (1, 0), (1, 1)]
    assert sorted(os.listdir(here)) == sorted(os.listdir(there)) == sorted(names[1:])
    for name in names[1:]:
        assert files_under(here / name) == files_under(there / name)
        assert (here / name / "database/duban.db").read_bytes() == (there / name / "database/duban.db").read_bytes()
    assert runs[-1]["copied_to"] == str(there / names[-1])

    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "restored"))
    assert "现状数据与审计日志核查（duban check）：通过" in cli("restore", there / names[-1]).output


# -- PostgreSQL ------------------------------------------------------------------------------------


def test_postgres_backup_and_restore(
    pg_url: str, pg_cluster: PostgresCluster, cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    cli("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-01")
    cli(
        "item", "transition", "PT2022-0001", "--to", "close_requested", "--by", "城关街道",
        "--as-of", DAY, "--note", "完成", "--evidence", EVIDENCE,
    )  # fmt: skip
    original, original_files = status_json(cli), files_under(home)
    cli("backup", "--to", tmp_path / "backups")
    [folder] = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"] == "postgresql"
    assert {f["path"] for f in manifest["files"]} == {"database/duban.dump", EVIDENCE_COPY}
    assert (folder / "database/duban.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    # A SQLite home is no place for it.
    monkeypatch.delenv("DUBAN_DATABASE_URL")
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "sqlite-home"))
    output = cli("restore", folder, status=2).output
    assert "此备份是 PostgreSQL 数据库，当前配置的是 SQLite" in output and not (tmp_path / "sqlite-home").exists()

    missing = pg_cluster.url("t_never_created")
    monkeypatch.setenv("DUBAN_DATABASE_URL", missing)
    output = cli("restore", folder, status=2).output
    assert f"错误：无法连接数据库 127.0.0.1:{pg_cluster.port}/t_never_created：" in output

    fresh = pg_cluster.create_database("t_restored_" + os.urandom(4).hex())
    monkeypatch.setenv("DUBAN_DATABASE_URL", fresh)
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "restored"))
    output = cli("restore", folder).output
    assert "现状数据与审计日志核查（duban check）：通过" in output
    assert status_json(cli) == original
    assert files_under(tmp_path / "restored") == original_files

    # The database now holds duban's tables: a second restore there is refused, naming it and them.
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "again"))
    output = cli("restore", folder, status=2).output
    assert f"数据库 127.0.0.1:{pg_cluster.port}/{fresh.rsplit('/', 1)[1]} 不是空的（已有" in output
    assert "public.alembic_version" in output and not (tmp_path / "again").exists()


def test_the_postgres_password_goes_in_the_environment_never_on_the_command_line() -> None:
    from duban.backup.postgres import connection

    args, env = connection("postgresql+psycopg://duban:s3cret-Pass@db.example:5433/duban?sslmode=require")
    assert args == ["--dbname=duban", "--host=db.example", "--port=5433", "--username=duban", "--no-password"]
    assert env["PGPASSWORD"] == "s3cret-Pass" and env["PGSSLMODE"] == "require"
    assert not any("s3cret" in arg for arg in args)


def test_pg_dump_is_found_like_the_test_cluster_finds_postgres() -> None:
    from pgcluster import find_pg_bin

    from duban.backup.postgres import tool

    assert tool("pg_dump") == find_pg_bin() / "pg_dump"


def test_a_restored_copy_that_fails_duban_check_is_reported_with_exit_status_1(
    imported: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(home / "duban.db") as conn:  # kept state changed behind duban's back
        conn.execute("UPDATE ledger_item SET status = 'closed' WHERE code = 'PT2022-0002'")
    imported("backup", "--to", tmp_path / "backups")
    [folder] = (tmp_path / "backups").iterdir()
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "restored"))
    output = imported("restore", folder, status=1).output
    said = "现状数据与审计日志核查（duban check）：未通过（1处不一致（PT2022-0002）：请运行 duban check 查看）"
    assert said in output
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "restored-again"))
    report = json.loads(imported("restore", folder, "--json", status=1).output)
    with closing(sqlite3.connect(home / "duban.db")) as conn:
        ((entries,),) = conn.execute("SELECT count(*) FROM audit_entry").fetchall()
    assert report["checks"] == [
        {
            "name": "现状数据与审计日志核查（duban check）",
            "passed": False,
            "detail": "1处不一致（PT2022-0002）：请运行 duban check 查看",
        },
        {
            "name": "审计日志完整性校验（duban audit verify）",
            "passed": True,
            "detail": f"审计日志共{entries}条，校验一致",
        },
    ]
    assert (report["database"], report["files"], report["migrated"]) == ("sqlite", 1, False)


def test_a_backup_of_an_older_schema_is_upgraded_and_one_of_an_unknown_schema_refused(
    home: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command
    from alembic.config import Config

    from duban.db import MIGRATIONS, engine

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0011")
    cli("backup", "--to", tmp_path / "backups")
    [folder] = (tmp_path / "backups").iterdir()
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["revision"] == "0011"

    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "restored"))
    report = json.loads(cli("restore", folder, "--json").output)
    assert report["migrated"] is True and report["revision"] == "0011"
    with sqlite3.connect(tmp_path / "restored" / "duban.db") as conn:
        [(revision,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert revision == HEAD

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["revision"] = "9999"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "newer"))
    output = cli("restore", folder, status=2).output
    assert "错误：备份的数据库版本（9999）比本程序新，或不是 duban 的：请先升级 duban 再恢复" in output
    assert not (tmp_path / "newer").exists()
