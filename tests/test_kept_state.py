"""The state each item keeps and the state its audit log tells agree; `duban check` finds where not.

After the whole 2022 programme is replayed (the demo's synthetic units: plans, reports, close-outs,
campaigns), today's answer (read from the kept state) must equal the answer rebuilt from the log,
on SQLite and on PostgreSQL. Then the database is broken by hand and `check` must name each broken
field, and `check --repair` must put back exactly what the log says. The year's audit log passes
`duban audit verify` (its chain recomputed here independently), and one entry changed directly in the
database, as its administrator could, is named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from conftest import EVIDENCE, ROOT, Cli
from sqlalchemy import create_engine, text
from test_audit_chain import PG_UNGUARDED, SQLITE_UNGUARDED, _chain_recomputed, _entries, _utc

from duban import config


def _status(cli: Cli, day: str) -> dict:
    return json.loads(cli("status", "--json", "--as-of", day).output)


def _check(cli: Cli, *args: str, status: int = 0) -> dict:
    return json.loads(cli("check", "--json", *args, status=status).output)


def _sql(statement: str, **params: object) -> list:
    engine = create_engine(config.database_url())
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _overdue_work(day: str) -> list:
    from duban.db import session_scope
    from duban.reporting.escalation import overdue_work
    from duban.stored_plan import current_plan

    with session_scope() as session:
        return overdue_work(session, current_plan(session), date.fromisoformat(day))


def _replay_2022() -> None:
    replay = [sys.executable, str(ROOT / "scripts/replay_2022.py")]
    subprocess.run(replay, check=True, env=os.environ.copy(), timeout=900)  # SIGKILLed past 15 minutes


def _agree_after_the_year(cli: Cli, unguarded: tuple[str, ...]) -> None:
    _replay_2022()
    _october_bulletin_reports_the_mechanism()
    _the_years_requests(cli)
    assert _check(cli) == {"differences": [], "repaired_items": 0}
    today = _status(cli, "2022-12-31")  # no change is dated later: the kept state answers
    swept = _overdue_work("2022-12-30")
    assert {c.cause for c in swept} == {"overdue_item", "overdue_milestone"}
    assert today["items"]["total"] == 66
    assert today["items"]["by_status"]["closed"] > 0 and today["items"]["by_status"]["in_progress"] > 0
    # one change in January: the same day, 2022-12-31, is now a past date, answered from the log
    cli(
        "item", "transition", "PT2022-0003", "--to", "close_requested", "--by", "城关街道",
        "--as-of", "2023-01-05", "--note", "已竣工。", "--evidence", EVIDENCE,
    )  # fmt: skip
    assert _status(cli, "2022-12-31") == today
    assert _overdue_work("2022-12-30") == swept  # the sweep's SQL and the replayed log select alike
    assert _status(cli, "2023-01-05")["items"]["by_status"]["close_requested"] == (
        today["items"]["by_status"]["close_requested"] + 1
    )
    assert _check(cli) == {"differences": [], "repaired_items": 0}
    _the_years_log_verifies_and_names_a_changed_entry(cli, unguarded)


def _verify(cli: Cli, status: int) -> dict:
    return json.loads(cli("audit", "verify", "--json", status=status).output)


def _the_years_log_verifies_and_names_a_changed_entry(cli: Cli, unguarded: tuple[str, ...]) -> None:
    """`duban audit verify` over the whole year's log, the head recomputed with hashlib's SM3; then one
    entry from the middle of the year changed behind duban's back is named (exit status 1), and put back."""
    entries = _entries()
    days = sorted(str(e["effective_on"]) for e in entries)
    assert days[0] <= "2022-04-08" and days[-1] == "2023-01-05"  # filed in April, to the January change
    assert _verify(cli, 0) == {"entries": len(entries), "head": _chain_recomputed(entries), "broken": None}
    changed = entries[len(entries) // 2]
    for statement in unguarded:  # what a database administrator can do
        _sql(statement)
    _sql("UPDATE audit_entry SET note = :note WHERE id = :id", note=changed["note"] + "。", id=changed["id"])
    assert _verify(cli, 1)["broken"] == {
        "seq": changed["seq"],
        "reason": "内容与校验值不符",
        "id": changed["id"],
        "subject": changed["subject"],
        "key": changed["subject_key"],
        "action": changed["action"],
        "at": _utc(changed["at"]).isoformat(),
    }
    _sql("UPDATE audit_entry SET note = :note WHERE id = :id", note=changed["note"], id=changed["id"])
    assert _verify(cli, 0)["broken"] is None


def _the_years_requests(cli: Cli) -> None:
    """The replay's requests (scripts/replay_requests.py) as duban kept them, and the year's assessment alike
    from the kept state and from the log, 南关街道's contested line struck."""
    requests = json.loads(cli("extension", "list", "--json").output)["requests"]
    assert sorted((r["item"], r["state"], r["granted_until"], r["protected"]) for r in requests) == [
        ("PT2022-0027", "granted", "2022-12-31", True),
        ("PT2022-0046", "granted", "2022-09-30", False),
        ("PT2022-0051", "refused", None, False),
    ]
    # PT2022-0046 closed within its new date: never escalated; PT2022-0051 refused, finished late: escalated
    escalated = {code for (code,) in _sql("SELECT DISTINCT item_code FROM escalation WHERE item_code IS NOT NULL")}
    assert "PT2022-0046" not in escalated and "PT2022-0051" in escalated
    [moved] = json.loads(cli("item", "reassignments", "--json").output)
    assert (moved["item"], moved["state"], moved["to"]["township"]) == ("PT2022-0048", "approved", "河西镇")
    year = ["assess", "--period", "2022", "--as-of", "2022-12-31", "--json"]
    kept = json.loads(cli(*year).output)
    assert kept == json.loads(cli(*year, "--from-log").output)
    nanguan = next(u for u in kept["units"] if u["unit"] == "南关街道")
    [struck] = [line for line in nanguan["lines"] if line["struck"]]
    assert (struck["link"], struck["charged"], struck["points"]) == ("/campaigns/2", -0.5, 0.0)


def _october_bulletin_reports_the_mechanism() -> None:
    """The demo's October bulletin (issued 2022-10-11): the milestone table and the mechanism's section
    from duban's own rows, as the replay's scripted story (scripts/replay_mechanism.py) made them."""
    [page] = (config.home() / "bulletins").glob("*-monthly-2022-10.html")
    text = page.read_text(encoding="utf-8")
    assert "以牵头部门报告为准" not in text
    assert "五、长效机制建设和运行情况" in text
    # 工作专班 due 04-30: 17 owners, 石桥镇 (05-10) and 柳林镇 (05-20) late; 住建局's mechanism issued 07-22
    assert "已印发并经核验17个（其中逾期印发：石桥镇、柳林镇）" in text
    assert "已印发并经核验1个（其中逾期印发：住建局）" in text
    # special plans by 10-11: 教体局 issued 09-28; 民政局 报审中 since 09-20; 卫健局 and 商务局 drafting
    assert "已印发1个，报审中1个，起草中2个，未启动0个" in text
    # 商务局's opinion on 河东·江畔花园's handover agreement was due 09-27 and is signed only on 10-11
    assert "截至2022年10月11日逾期未签署会签意见的单位：商务局" in text
    assert "补充社区卫生服务站预留用房的布置要求后重新提交" in text  # 卫健局's rejection of 城关·学府里


def test_kept_state_and_log_agree_after_the_2022_replay_on_sqlite(imported: Cli) -> None:
    _agree_after_the_year(imported, SQLITE_UNGUARDED)


def test_kept_state_and_log_agree_after_the_2022_replay_on_postgresql(pg_url: str, imported: Cli) -> None:
    assert config.database_url() == pg_url
    _agree_after_the_year(imported, PG_UNGUARDED)


def test_check_names_every_field_broken_by_hand_and_repair_puts_the_log_back(imported: Cli) -> None:
    cli = imported
    cli("item", "plan", "PT2022-0007", "--by", "区配套办", "--as-of", "2022-05-10",
        "--measures", "新建社区用房", "--deadline", "2022-11-30", "--milestone", "2022-08-31:完成主体施工")  # fmt: skip
    before = _status(cli, "2022-05-10")
    assert _check(cli) == {"differences": [], "repaired_items": 0}
    kept = {
        code: (status, progress, deadline, revision)
        for code, status, progress, deadline, revision in _sql(
            "SELECT code, status, progress, deadline, plan_revision FROM ledger_item"
            " WHERE code IN ('PT2022-0007', 'PT2022-0012')"
        )
    }
    assert kept["PT2022-0007"][0] == "planned" and str(kept["PT2022-0007"][2]) == "2022-11-30"
    _sql("UPDATE ledger_item SET status = 'closed', progress = 100 WHERE code = 'PT2022-0007'")
    _sql("UPDATE ledger_item SET deadline = '2030-01-01', township = '河东镇' WHERE code = 'PT2022-0012'")
    _sql("DELETE FROM plan_milestone")

    found = _check(cli, status=1)["differences"]
    assert found == [
        {"code": "PT2022-0007", "field": "status", "kept": "closed", "logged": "planned"},
        {"code": "PT2022-0007", "field": "progress", "kept": 100, "logged": kept["PT2022-0007"][1]},
        {"code": "PT2022-0007", "field": "plan", "kept": "（无）", "logged": "2022-08-31 完成主体施工"},
        {"code": "PT2022-0012", "field": "township", "kept": "河东镇", "logged": _township("PT2022-0012")},
        {"code": "PT2022-0012", "field": "deadline", "kept": "2030-01-01", "logged": str(kept["PT2022-0012"][2])},
    ]
    table = cli("check", status=1).output
    assert "现状数据与审计日志不一致（5处）" in table and "PT2022-0012" in table and "镇办" in table

    repaired = _check(cli, "--repair", "--as-of", "2022-05-11")
    assert repaired["repaired_items"] == 2
    remaining = _check(cli, status=1)["differences"]  # the deleted milestone rows cannot come back from a field
    assert remaining == [found[2]]
    assert _status(cli, "2022-05-10") == before
    audit = _sql("SELECT actor, subject, action, note FROM audit_entry WHERE subject = 'ledger' AND action = 'repair'")
    assert [tuple(row) for row in audit] == [("区配套办", "ledger", "repair", "按审计日志修复2项问题的现状数据")]


def _township(code: str) -> str:
    row = next(r for r in _sample_rows() if r["问题编号"] == code)
    return row["镇办"]


def _downgrade_to(revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from duban.db import MIGRATIONS, engine

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_an_old_database_gets_its_deadlines_from_the_plans_when_migrated(imported: Cli, home: Path) -> None:
    """Migration 0007 fills each item's deadline and revision from its newest plan."""
    rows = _sql(
        "SELECT i.code, p.deadline, p.revision FROM ledger_item i JOIN rectification_plan p ON p.item_id = i.id"
    )
    expected = {code: (str(deadline), revision) for code, deadline, revision in rows}
    _downgrade_to("0009")  # what came after 0009, undone by its own migrations; what came before, by hand below
    _sql("UPDATE ledger_item SET deadline = NULL, plan_revision = 0")
    _sql("DROP INDEX ix_audit_entry_subject_key_day")
    _sql("DROP INDEX ix_audit_entry_subject_day")
    _sql("DROP INDEX ix_ledger_item_deadline")
    _sql("DROP INDEX ix_escalation_open")
    _sql("DROP INDEX ix_outbox_claimed_by")
    _sql("ALTER TABLE ledger_item DROP COLUMN plan_revision")
    _sql("ALTER TABLE ledger_item DROP COLUMN deadline")
    for table in ("signature", "waiver", "project_gate", "project", "deliverable"):  # what 0009 added
        _sql(f"DROP TABLE {table}")
    for table in ("acknowledgement", "web_session", "account"):  # and what 0008 added after it
        _sql(f"DROP TABLE {table}")
    _sql("ALTER TABLE audit_entry DROP COLUMN person")
    _sql("ALTER TABLE audit_entry DROP COLUMN via")
    _sql("UPDATE alembic_version SET version_num = '0006'")
    from conftest import PLAN

    imported("init", "--plan", PLAN, "--as-of", "2022-04-09")
    migrated = _sql("SELECT code, deadline, plan_revision FROM ledger_item WHERE plan_revision > 0")
    assert {code: (str(deadline), revision) for code, deadline, revision in migrated} == expected
    assert len(expected) == sum(1 for r in _sample_plans() if r)
    assert _check(imported) == {"differences": [], "repaired_items": 0}


def _sample_plans() -> list[bool]:
    return [bool(r["完成时限"]) for r in _sample_rows()]


def test_a_close_logged_before_0007_still_means_progress_100(imported: Cli) -> None:
    """Entries written before the kept state did not carry the progress a close sets."""
    _sql("UPDATE ledger_item SET status = 'closed', progress = 100 WHERE code = 'PT2022-0009'")
    _sql(
        "INSERT INTO audit_entry (at, effective_on, actor, subject, subject_key, action, before, after, note, seq, sm3)"
        " VALUES ('2022-06-01 10:00:00', '2022-06-01', '区配套办', 'item', 'PT2022-0009', 'transition',"
        """ '{"status": "verified"}', '{"status": "closed", "action": "销号"}', '',"""
        " (SELECT max(seq) + 1 FROM audit_entry), '')"
    )
    assert _check(imported) == {"differences": [], "repaired_items": 0}


def test_status_near_the_end_of_the_calendar_s_last_year(imported: Cli) -> None:
    """The yellow bound stops where the official calendar does (it knows years up to 2026)."""
    lights = _status(imported, "2026-12-28")["lights"]
    planned = sum(1 for r in _sample_rows() if r["完成时限"])
    assert lights == {"green": 0, "yellow": 0, "red": planned, "none": 66 - planned}


def _sample_rows() -> list[dict]:
    from conftest import sample_rows

    return sample_rows()
