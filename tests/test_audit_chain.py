"""The audit log's hash chain: clean after a realistic run, and a row changed or removed behind duban's back
(as someone with the database's own rights could) is named by `duban audit verify`, on SQLite and
PostgreSQL; the chain holds while several processes append at once; the migration chains what was there.

Digests are recomputed here with hashlib's own SM3 over the canonical form the README states (previous
digest in hex, then the entry as JSON with sorted keys and no spaces), independently of duban.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import EVIDENCE, PLAN, ROOT, SAMPLE, Cli, sample_rows
from processes import Spawn
from reporting_helpers import submit
from sqlalchemy import create_engine, text

from duban import config

SQLITE_UNGUARDED = ("DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete")
PG_UNGUARDED = ("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",)
BEIJING = ZoneInfo("Asia/Shanghai")
COLUMNS = "id, seq, sm3, at, effective_on, actor, subject, subject_key, action, before, after, note, person, via"


def _sql(statement: str, **params: object) -> list:
    engine = create_engine(config.database_url())
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _verify(cli: Cli, status: int) -> dict:
    return json.loads(cli("audit", "verify", "--json", status=status).output)


def _run(cli: Cli, tmp_path: Path) -> None:
    """The sample district from filing into May: plans, transitions with evidence, a report, the round's
    days (requests, reminders, escalations, the bulletin), a portal-style note on an account."""
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    on = ["--by", "城关街道", "--as-of", "2022-04-20"]
    for code in ("PT2022-0001", "PT2022-0003"):
        cli("item", "transition", code, "--to", "in_progress", *on)
    cli("replay", "--from", "2022-05-01", "--to", "2022-05-06")
    submit(cli, tmp_path, "城关街道", "2022-05", "2022-05-06")
    move = ["item", "transition", "PT2022-0001", "--evidence", EVIDENCE, "--note", "已完成。"]
    cli(*move, "--to", "close_requested", "--by", "城关街道", "--as-of", "2022-05-09")
    cli("replay", "--from", "2022-05-07", "--to", "2022-05-12")
    cli("user", "add", "--unit", "区配套办", "--login", "a-audit", "--name", "审计员", "--role", "auditor")


def _entries() -> list[dict]:
    return [row._asdict() for row in _sql(f"SELECT {COLUMNS} FROM audit_entry ORDER BY seq")]


def _utc(at: object) -> datetime:
    """The stored time as a UTC datetime (SQLite gives text, PostgreSQL an aware datetime)."""
    if isinstance(at, str):
        return datetime.fromisoformat(at).replace(tzinfo=UTC)
    return at.astimezone(UTC)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _sm3(previous: str, row: dict) -> str:
    """The digest as the README defines it, computed with hashlib (OpenSSL's SM3)."""
    values = {
        "seq": row["seq"],
        "at": _utc(row["at"]).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "effective_on": str(row["effective_on"]),
        "actor": row["actor"],
        "subject": row["subject"],
        "key": row["subject_key"],
        "action": row["action"],
        "before": _json(row["before"]),
        "after": _json(row["after"]),
        "note": row["note"],
        "person": row["person"],
        "via": row["via"],
    }
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.new("sm3", previous.encode() + canonical.encode()).hexdigest()


def _chain_recomputed(entries: list[dict]) -> str:
    previous = "0" * 64
    for n, row in enumerate(entries, start=1):
        assert row["seq"] == n
        assert row["sm3"] == _sm3(previous, row), f"entry {n}"
        previous = row["sm3"]
    return previous


def _named(row: dict, action_label: str, reason: str, verified: int) -> str:
    shown = _utc(row["at"]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"审计日志校验未通过：序号{row['seq']}（编号{row['id']}，问题{row['subject_key']}，{action_label}，"
        f"记录于{shown}）：{reason}。此前{verified}条一致。\n"
    )


def _tampered_and_named(cli: Cli, unguarded: tuple[str, ...]) -> None:
    """One row's `after` changed, then (that put back) one row deleted: each named, exit status 1."""
    entries = _entries()
    head = _chain_recomputed(entries)
    assert _verify(cli, 0) == {"entries": len(entries), "head": head, "broken": None}
    clean = cli("audit", "verify").output
    assert clean == f"审计日志完整：共{len(entries)}条，逐条校验一致。链头：{len(entries)}:{head}（请另行记录）\n"

    # the refusal stays for duban itself
    for statement in ("UPDATE audit_entry SET note = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(Exception, match="append-only"):
            _sql(statement)

    for statement in unguarded:  # what a database administrator can do
        _sql(statement)
    creates = [e for e in entries if e["subject"] == "item" and e["action"] == "create"]
    changed = creates[20]
    original = _json(changed["after"])
    _sql(
        "UPDATE audit_entry SET after = :after WHERE id = :id",
        after=json.dumps(original | {"description": "已整改"}, ensure_ascii=False),
        id=changed["id"],
    )
    result = cli("audit", "verify", status=1)
    assert result.output == _named(changed, "建账", "内容与校验值不符", changed["seq"] - 1)
    found = _verify(cli, 1)["broken"]
    assert found == {
        "seq": changed["seq"],
        "reason": "内容与校验值不符",
        "id": changed["id"],
        "subject": "item",
        "key": changed["subject_key"],
        "action": "create",
        "at": _utc(changed["at"]).isoformat(),
    }
    _sql(
        "UPDATE audit_entry SET after = :after WHERE id = :id",
        after=json.dumps(original, ensure_ascii=False),
        id=changed["id"],
    )
    assert _verify(cli, 0)["broken"] is None  # put back exactly: the chain holds again

    removed, following = creates[30], next(e for e in entries if e["seq"] == creates[30]["seq"] + 1)
    _sql("DELETE FROM audit_entry WHERE id = :id", id=removed["id"])
    result = cli("audit", "verify", status=1)
    assert result.output == _named(following, "建账", f"之前缺少序号为{removed['seq']}的条目", removed["seq"] - 1)

    last = _entries()[-1]  # and the newest entry removed: the head shows the log ends short
    _sql("DELETE FROM audit_entry WHERE id = :id", id=last["id"])
    assert _verify(cli, 1)["broken"]["seq"] == removed["seq"] + 1  # still the first break that is named


def test_verify_names_a_changed_and_a_deleted_row_on_sqlite(cli: Cli, tmp_path: Path) -> None:
    _run(cli, tmp_path)
    kinds = {(e["subject"], e["action"]) for e in _entries()}
    assert {("item", "create"), ("item", "transition"), ("submission", "submit"), ("account", "add")} <= kinds
    _tampered_and_named(cli, SQLITE_UNGUARDED)


def test_verify_names_a_changed_and_a_deleted_row_on_postgres(pg_url: str, cli: Cli, tmp_path: Path) -> None:
    _run(cli, tmp_path)
    _tampered_and_named(cli, PG_UNGUARDED)


def test_the_newest_entries_removed_are_named_by_the_head(cli: Cli) -> None:
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    count = _verify(cli, 0)["entries"]
    for statement in SQLITE_UNGUARDED:
        _sql(statement)
    _sql("DELETE FROM audit_entry WHERE seq > :kept", kept=count - 2)
    assert _verify(cli, 1)["broken"] == {
        "seq": count,
        "reason": f"日志末尾缺少条目：链头记录至序号{count}，日志止于序号{count - 2}",
    }


def test_a_log_cut_and_its_head_rewritten_by_the_database_is_shown_by_an_anchor_kept_outside(
    cli: Cli, tmp_path: Path
) -> None:
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    taken = json.loads(cli("backup", "--to", tmp_path / "backups", "--json").output)
    entries = _entries()
    anchor = f"{len(entries)}:{_chain_recomputed(entries)}"
    assert taken["audit_head"] == anchor  # what the backup prints, to be written down elsewhere
    assert _verify(cli, 0)["entries"] == len(entries)
    # as a database administrator: the last two entries gone and the head rewritten to match
    for statement in SQLITE_UNGUARDED:
        _sql(statement)
    _sql("DELETE FROM audit_entry WHERE seq > :kept", kept=len(entries) - 2)
    _sql("UPDATE audit_head SET seq = :seq, sm3 = :sm3 WHERE id = 1", seq=len(entries) - 2, sm3=entries[-3]["sm3"])
    assert _verify(cli, 0)["broken"] is None  # the chain alone cannot tell
    found = json.loads(cli("audit", "verify", "--json", "--anchor", anchor, status=1).output)["broken"]
    assert found == {
        "seq": len(entries),
        "reason": f"日志止于序号{len(entries) - 2}，另行记录的链头为序号{len(entries)}：末尾的条目已被删除",
    }
    refused = cli("audit", "verify", "--anchor", "12:x", status=2).output
    assert "格式应为 序号:64位校验值" in refused


# -- the migration ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_chains_the_entries_already_there_in_id_order(
    backend: str, cli: Cli, request: pytest.FixtureRequest
) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from duban.db import MIGRATIONS, engine

    if backend == "postgresql":
        request.getfixturevalue("pg_url")
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    chained = {e["id"]: (e["seq"], e["sm3"]) for e in _entries()}
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
    columns = {column["name"] for column in inspect(engine()).get_columns("audit_entry")}
    assert "seq" not in columns and "sm3" not in columns and not inspect(engine()).has_table("audit_head")
    with pytest.raises(Exception, match="append-only"):  # the triggers are back after the downgrade
        _sql("DELETE FROM audit_entry")

    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")  # migrates up again: 0013 chains the old rows
    entries = _entries()
    assert [e["id"] for e in entries] == sorted(chained)  # in id order
    assert {e["id"]: (e["seq"], e["sm3"]) for e in entries} == chained  # the same chain a new log gets
    assert _verify(cli, 0)["head"] == _chain_recomputed(entries)
    with pytest.raises(Exception, match="append-only"):
        _sql("UPDATE audit_entry SET note = 'x'")


# -- concurrent writers -----------------------------------------------------------------------------------

WRITER = """
import sys
from datetime import date

from duban import audit
from duban.db import session_scope

name, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    with session_scope() as session, audit.entered_by(name, "portal"):
        audit.record(session, actor="区配套办", subject="export", key=f"{name}-{n}", action="items",
                     effective_on=date(2022, 5, 3), note="并发写入")
        audit.record(session, actor="区配套办", subject="download", key=f"{name}-{n}", action="evidence",
                     effective_on=date(2022, 5, 3))
"""
WRITES = 40


def _revised_ledger(path: Path) -> Path:
    """The sample with every description changed: the import's bulk path writes an entry per row at once."""
    rows = sample_rows()
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        import csv

        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(row | {"问题描述": row["问题描述"] + "（已核实）"})
    return path


def _concurrent(cli: Cli, tmp_path: Path, spawn: Spawn) -> None:
    """Two portal-like writers and a flow (a replay) and a bulk import, at once, each its own process."""
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    before = _verify(cli, 0)["entries"]
    env = os.environ | {"PYTHONPATH": str(ROOT), "PREFECT_API_URL": ""}
    env.pop("PREFECT_API_URL")
    commands = [
        [sys.executable, "-c", WRITER, "甲", str(WRITES)],
        [sys.executable, "-c", WRITER, "乙", str(WRITES)],
        [sys.executable, "-m", "duban.cli", "replay", "--from", "2022-05-01", "--to", "2022-05-04", "--no-engine"],
        [sys.executable, "-m", "duban.cli", "ledger", "import", str(_revised_ledger(tmp_path / "r.csv")), "--as-of",
         "2022-05-02", "--no-engine"],
    ]  # fmt: skip
    running = [spawn(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for c in commands]
    outputs = [p.communicate(timeout=300)[0].decode() for p in running]  # past it, spawn's teardown kills
    assert [p.returncode for p in running] == [0, 0, 0, 0], outputs
    entries = _entries()
    assert _verify(cli, 0) == {"entries": len(entries), "head": _chain_recomputed(entries), "broken": None}
    for name in ("甲", "乙"):
        keys = [e["subject_key"] for e in entries if e["person"] == name and e["subject"] == "export"]
        assert keys == [f"{name}-{n}" for n in range(WRITES)]
    updates = [e for e in entries if e["subject"] == "item" and e["action"] == "update"]
    coded = sum(1 for row in sample_rows() if row["问题编号"])  # rows without a code are filed anew
    assert len(updates) == coded
    assert len(entries) > before + 4 * WRITES + coded


def test_the_chain_holds_under_concurrent_writers_on_sqlite(cli: Cli, tmp_path: Path, spawn: Spawn) -> None:
    _concurrent(cli, tmp_path, spawn)


def test_the_chain_holds_under_concurrent_writers_on_postgres(
    pg_url: str, cli: Cli, tmp_path: Path, spawn: Spawn
) -> None:
    _concurrent(cli, tmp_path, spawn)
