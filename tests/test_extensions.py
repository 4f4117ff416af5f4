"""Extension requests (延期申请) from the terminal: filing, the approvers in turn, the plan revised and the
ladder counting from the new date, refusals, the rules' messages, 报领导小组, running twice, hostile text.

Expected values are worked out by hand from the sample ledger and the plan: PT2022-0003 (城关街道,
养老服务设施, led by 民政局, due 2022-11-30), PT2022-0026 (南关街道, 民政局, due 2022-11-30), PT2022-0007
(城关街道, 便民商业设施, 商务局, due 2022-08-31), PT2022-0005 (城关街道, 幼儿园, 教体局, due 2022-12-31: a
scope only the leadership group may move). December 2022 has no holiday: working days are Monday to Friday.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from conftest import PLAN, SAMPLE, Cli
from openpyxl import load_workbook

DB_EXCLUDED = ("extension_request", "extension_decision", "audit_entry", "audit_head")


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def digest(home: Path) -> str:
    """Every row of every table but the requests' own, the audit log and the request's messages."""
    h = hashlib.sha256()
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            if table in DB_EXCLUDED:
                continue
            where = " WHERE kind != 'extension'" if table == "outbox" else ""
            for row in db.execute(f"SELECT * FROM {table}{where} ORDER BY rowid"):  # noqa: S608 - our own names
                h.update(repr(row).encode())
    return h.hexdigest()


def listed(cli: Cli, *args: str) -> list[dict]:
    return json.loads(cli("extension", "list", "--json", *args).output)["requests"]


def light_of(cli: Cli, code: str, as_of: str) -> tuple[str, str]:
    data = json.loads(cli("status", "--as-of", as_of, "--json").output)
    row = next(r for r in data["item_lights"] if r["code"] == code)
    return row["deadline"], row["light"]


def ask(cli: Cli, code: str, until: str, as_of: str, by: str = "城关街道", status: int = 0, **extra: str) -> str:
    args = ["extension", "request", code, "--until", until, "--by", by, "--as-of", as_of]
    args += ["--reason", extra.get("reason", "开发企业资金未到位"), "--progress", extra.get("progress", "已完成设计")]
    if "milestone" in extra:
        args += ["--milestone", extra["milestone"]]
    return cli(*args, status=status).output.strip()


def decide(cli: Cli, number: int, by: str, as_of: str, *how: str, status: int = 0) -> str:
    return cli("extension", "decide", number, "--by", by, "--as-of", as_of, *how, status=status).output.strip()


def escalations(home: Path, *codes: str) -> list[tuple]:
    marks = ",".join("?" * len(codes))
    return query(
        home,
        f"SELECT cause_key, level, raised_on, resolved_on, missed_due FROM escalation "  # noqa: S608
        f"WHERE item_code IN ({marks}) ORDER BY cause_key, level",
        *codes,
    )


def test_approved_by_both_moves_the_deadline_and_the_ladder(imported: Cli, home: Path) -> None:
    cli = imported
    # PT2022-0026: asked and granted (to an earlier date than asked) before its deadline.
    assert ask(cli, "PT2022-0026", "2022-12-20", "2022-11-20", by="南关街道") == (
        "已提出第1号延期申请：问题PT2022-0026申请延至2022年12月20日，待民政局审批。"
    )
    assert (
        decide(cli, 1, "民政局", "2022-11-22", "--approve") == "已同意，第1号延期申请转区配套办（领导小组办公室）审批。"
    )
    assert decide(cli, 1, "区配套办", "2022-11-24", "--approve", "--until", "2022-12-09") == (
        "第1号延期申请已批准：问题PT2022-0026延至2022年12月9日（整治方案第2版）。"
    )
    # PT2022-0003: asked on its deadline day; still pending when the deadline passes: the clock runs.
    assert ask(cli, "PT2022-0003", "2022-12-20", "2022-11-30") == (
        "已提出第2号延期申请：问题PT2022-0003申请延至2022年12月20日，待民政局审批。"
    )
    cli("tick", "--as-of", "2022-12-01")
    assert escalations(home, "PT2022-0003", "PT2022-0026") == [
        ("item:PT2022-0003@2022-11-30", 1, "2022-12-01", None, "2022-11-30"),
    ]
    assert decide(cli, 2, "民政局", "2022-12-02", "--approve", "--until", "2022-12-15") == (
        "已同意，第2号延期申请转区配套办（领导小组办公室）审批。"
    )
    assert decide(cli, 2, "区配套办", "2022-12-05", "--approve") == (
        "第2号延期申请已批准：问题PT2022-0003延至2022年12月15日（整治方案第2版）。"
    )
    # the old date's escalation is resolved with the grant
    assert escalations(home, "PT2022-0003") == [
        ("item:PT2022-0003@2022-11-30", 1, "2022-12-01", "2022-12-05", "2022-11-30")
    ]
    assert query(home, "SELECT deadline, plan_revision FROM ledger_item WHERE code = 'PT2022-0003'") == [
        ("2022-12-15", 2)
    ]
    assert query(
        home,
        "SELECT p.revision, p.deadline, p.made_by, p.effective_on FROM rectification_plan p "
        "JOIN ledger_item i ON i.id = p.item_id WHERE i.code = 'PT2022-0003' ORDER BY p.revision",
    ) == [
        (1, "2022-11-30", "区配套办", "2022-04-08"),
        (2, "2022-12-15", "区配套办", "2022-12-05"),
    ]  # imported by the Office
    cli("tick", "--as-of", "2022-12-12")  # Monday: PT2022-0026 is one working day past 2022-12-09 (Friday)
    cli("tick", "--as-of", "2022-12-15")  # PT2022-0003's new deadline: not late yet
    cli("tick", "--as-of", "2022-12-16")  # one working day past 2022-12-15
    assert escalations(home, "PT2022-0003", "PT2022-0026") == [
        ("item:PT2022-0003@2022-11-30", 1, "2022-12-01", "2022-12-05", "2022-11-30"),
        ("item:PT2022-0003@2022-12-15", 1, "2022-12-16", None, "2022-12-15"),
        ("item:PT2022-0026@2022-12-09", 1, "2022-12-12", None, "2022-12-09"),
    ]
    # the status of a past day is the plan then in force (from the log); today's the new one
    assert light_of(cli, "PT2022-0003", "2022-12-02") == ("2022-11-30", "red")
    assert light_of(cli, "PT2022-0003", "2022-12-16") == ("2022-12-15", "red")
    assert json.loads(cli("check", "--json", "--as-of", "2022-12-16").output)["differences"] == []
    # who did what, on the record (the assessment reads it)
    assert query(
        home,
        "SELECT actor, action, effective_on, json_extract(after, '$.until'), json_extract(after, '$.state') "
        "FROM audit_entry WHERE subject = 'extension' AND subject_key = '2' ORDER BY id",
    ) == [
        ("城关街道", "request", "2022-11-30", "2022-12-20", "pending"),
        ("民政局", "approve", "2022-12-02", "2022-12-15", "pending"),
        ("区配套办", "approve", "2022-12-05", "2022-12-15", "granted"),
        ("区配套办", "granted", "2022-12-05", "2022-12-15", "granted"),
    ]
    assert query(home, "SELECT DISTINCT person, via FROM audit_entry WHERE subject = 'extension'") == [("", "cli")]
    # each step told whoever acts next, and the answer told the asking unit
    assert query(
        home,
        "SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'extension:2:%' ORDER BY id",
    ) == [
        ("extension:2:s0|民政局|email:mzj@xxq.gov.cn",),
        ("extension:2:s1|区配套办|email:ptb@xxq.gov.cn",),
        ("extension:2:answer|城关街道|file:",),
    ]


def test_a_refused_request_changes_nothing(imported: Cli, home: Path) -> None:
    cli = imported
    before = digest(home)
    ask(cli, "PT2022-0007", "2022-09-30", "2022-08-20")
    assert decide(cli, 1, "区配套办", "2022-08-22", "--approve", status=2).endswith(
        "第1号延期申请当前由商务局（牵头部门）审批，“区配套办”不能审批"
    )
    assert decide(cli, 1, "商务局", "2022-08-22", "--refuse", status=2) == "错误：不同意延期须说明理由"
    assert decide(cli, 1, "商务局", "2022-08-22", "--refuse", "--reason", "理由不充分，请按期完成") == (
        "第1号延期申请未获批准，原定期限2022年8月31日不变。"
    )
    assert digest(home) == before
    assert query(home, "SELECT deadline, plan_revision FROM ledger_item WHERE code = 'PT2022-0007'") == [
        ("2022-08-31", 1)
    ]
    (row,) = listed(cli)
    assert (row["state"], row["granted_until"], row["decided_on"], row["next"]) == ("refused", None, "2022-08-22", None)
    assert [(s["unit"], s["decision"], s["reason"]) for s in row["steps"]] == [
        ("商务局", "refused", "理由不充分，请按期完成"),
        ("区配套办", None, ""),
    ]
    assert query(home, "SELECT recipient, subject FROM outbox WHERE idempotency_key LIKE 'extension:1:answer|%'") == [
        ("城关街道", "问题PT2022-0007延期申请未获批准")
    ]
    assert query(
        home, "SELECT action, json_extract(after, '$.state') FROM audit_entry WHERE subject = 'extension' ORDER BY id"
    ) == [("request", "pending"), ("refuse", "refused"), ("refused", "refused")]


def test_the_rules_refuse_with_clear_messages(imported: Cli, home: Path) -> None:
    cli = imported
    assert ask(cli, "PT2022-0007", "2022-09-30", "2022-09-01", status=2) == (
        "错误：问题PT2022-0007的完成时限为2022年8月31日，已过期限，不能再申请延期：延期申请须在期限届满前（最迟于期限当日）提出"
    )
    assert ask(cli, "PT2022-0004", "2022-09-30", "2022-06-01", status=2) == (
        "错误：问题PT2022-0004尚未制定整治方案，没有可以延期的完成时限：请先制定整治方案（一事一案），完成时限以方案为准"
    )
    assert ask(cli, "PT2022-0007", "2022-09-30", "2022-08-01", by="河东镇", status=2) == (
        "错误：“河东镇”不能为问题PT2022-0007申请延期：只有责任单位城关街道或牵头部门商务局可以申请"
    )
    assert ask(cli, "PT2022-0007", "2022-08-31", "2022-08-01", status=2) == (
        "错误：申请延期至的日期（2022年8月31日）须晚于问题PT2022-0007的完成时限（2022年8月31日）"
    )
    assert ask(cli, "PT2022-0007", "2022-09-30", "2022-08-01", reason="  ", status=2) == "错误：须填写延期理由"
    assert ask(cli, "PT2022-0007", "2022-09-30", "2022-08-01", milestone="选址", status=2) == (
        "错误：问题PT2022-0007的现行整治方案中没有时间节点“选址”。该方案没有时间节点"
    )
    assert query(home, "SELECT count(*) FROM extension_request") == [(0,)]
    # on the deadline day itself it is in time; a second while the first is pending is refused
    ask(cli, "PT2022-0007", "2022-09-30", "2022-08-31")
    assert ask(cli, "PT2022-0007", "2022-09-15", "2022-08-31", status=2) == (
        "错误：问题PT2022-0007的完成时限已有一项延期申请正在审批（第1号，城关街道于2022年8月31日提出），审批完成前不能再次申请"
    )
    decide(cli, 1, "商务局", "2022-09-01", "--refuse", "--reason", "不予延期")
    assert (
        decide(cli, 1, "区配套办", "2022-09-01", "--approve", status=2) == "错误：第1号延期申请已未批准延期，不能再审批"
    )
    # at most two per item (the plan's max_per_item)
    ask(cli, "PT2022-0006", "2022-10-31", "2022-09-01")
    decide(cli, 2, "民政局", "2022-09-02", "--refuse", "--reason", "不予延期")
    ask(cli, "PT2022-0006", "2022-10-15", "2022-09-05")
    decide(cli, 3, "民政局", "2022-09-06", "--refuse", "--reason", "不予延期")
    assert ask(cli, "PT2022-0006", "2022-10-10", "2022-09-07", status=2) == (
        "错误：问题PT2022-0006已申请延期2次，已达实施方案规定的上限（每项问题最多申请2次）"
    )
    # an approver may grant an earlier date, never a later one or one not after the old deadline
    ask(cli, "PT2022-0026", "2022-12-20", "2022-11-01", by="南关街道")
    assert decide(cli, 4, "民政局", "2022-11-02", "--approve", "--until", "2022-12-31", status=2) == (
        "错误：批准的日期（2022年12月31日）不能晚于申请延期至的日期（2022年12月20日）"
    )
    decide(cli, 4, "民政局", "2022-11-02", "--approve", "--until", "2022-12-10")
    assert decide(cli, 4, "区配套办", "2022-11-03", "--approve", "--until", "2022-12-15", status=2) == (
        "错误：批准的日期（2022年12月15日）不能晚于上一步审批同意的日期（2022年12月10日）"
    )
    assert decide(cli, 4, "区配套办", "2022-11-03", "--approve", "--until", "2022-11-30", status=2) == (
        "错误：批准的日期（2022年11月30日）须晚于原定期限（2022年11月30日）"
    )
    assert decide(cli, 4, "区配套办", "2022-11-03", status=2) == (
        "错误：须指定审批结果：--approve（同意）或 --refuse（不同意，并用 --reason 说明理由）"
    )


def test_a_milestone_is_moved_within_the_plan(imported: Cli, home: Path) -> None:
    cli = imported
    cli("item", "plan", "PT2022-0026", "--by", "民政局", "--as-of", "2022-05-01",
        "--milestone", "2022-08-31:完成选址", "--milestone", "2022-10-31:主体完工")  # fmt: skip
    assert ask(cli, "PT2022-0026", "2022-12-10", "2022-08-01", by="南关街道", milestone="2", status=2) == (
        "错误：时间节点不能晚于问题PT2022-0026的完成时限（2022年11月30日）：如需推迟完成时限，请申请延长问题的完成时限"
    )
    ask(cli, "PT2022-0026", "2022-09-30", "2022-08-01", by="南关街道", milestone="完成选址")
    decide(cli, 1, "民政局", "2022-08-02", "--approve")
    assert decide(cli, 1, "区配套办", "2022-08-03", "--approve") == (
        "第1号延期申请已批准：问题PT2022-0026延至2022年9月30日（整治方案第3版）。"
    )
    assert query(
        home,
        "SELECT m.seq, m.title, m.due, p.deadline FROM plan_milestone m JOIN rectification_plan p ON p.id = m.plan_id "
        "JOIN ledger_item i ON i.id = p.item_id WHERE i.code = 'PT2022-0026' AND p.revision = 3 ORDER BY m.seq",
    ) == [(1, "完成选址", "2022-09-30", "2022-11-30"), (2, "主体完工", "2022-10-31", "2022-11-30")]


def test_a_kindergarten_deadline_goes_to_the_leadership_group(imported: Cli, home: Path) -> None:
    cli = imported
    assert ask(cli, "PT2022-0005", "2023-03-31", "2022-12-01") == (
        "已提出第1号延期申请（报领导小组）：问题PT2022-0005申请延至2023年3月31日，待教体局审批。"
    )
    assert decide(cli, 1, "教体局", "2022-12-02", "--approve") == "已同意，第1号延期申请转区配套办（报领导小组）审批。"
    (row,) = listed(cli)
    assert row["protected"] is True
    assert [(s["role"], s["unit"]) for s in row["steps"]] == [
        ("lead_department", "教体局"),
        ("leadership_group", "区配套办"),
    ]
    (body,) = query(home, "SELECT body FROM outbox WHERE idempotency_key LIKE 'extension:1:s1|区配套办|%'")[0]
    assert "该事项的最终完成时限须由领导小组决定，请报领导小组后在督办平台登记领导小组的决定。" in body
    assert decide(cli, 1, "区配套办", "2022-12-09", "--approve", "--until", "2023-01-31") == (
        "第1号延期申请已批准：问题PT2022-0005延至2023年1月31日（整治方案第2版）。"
    )
    (answer,) = query(home, "SELECT body FROM outbox WHERE idempotency_key LIKE 'extension:1:answer|城关街道|%'")[0]
    assert "第1号延期申请经领导小组审批同意，问题PT2022-0005的完成时限由2022年12月31日延至2023年1月31日" in answer
    # a lead department asking for an item it leads does not decide its own request: the Office does
    assert ask(cli, "PT2022-0006", "2022-10-31", "2022-09-01", by="民政局") == (
        "已提出第2号延期申请：问题PT2022-0006申请延至2022年10月31日，待区配套办审批。"
    )
    # a community premises item's final date too; but one of its milestones is not the final date
    cli("item", "plan", "PT2022-0001", "--by", "民政局", "--as-of", "2022-05-01", "--milestone", "2022-06-15:解除租赁")
    ask(cli, "PT2022-0001", "2022-06-25", "2022-06-01", milestone="解除租赁")
    rows = {r["item"]: r for r in listed(cli)}
    assert rows["PT2022-0001"]["protected"] is False
    assert [s["role"] for s in rows["PT2022-0001"]["steps"]] == ["lead_department", "office"]


def test_twice_changes_nothing(imported: Cli, home: Path) -> None:
    cli = imported
    ask(cli, "PT2022-0003", "2022-12-20", "2022-11-01")
    counts = (
        "SELECT (SELECT count(*) FROM extension_request), (SELECT count(*) FROM outbox), "
        "(SELECT count(*) FROM audit_entry), (SELECT count(*) FROM extension_decision)"
    )
    first = query(home, counts)
    assert ask(cli, "PT2022-0003", "2022-12-20", "2022-11-01") == "第1号延期申请已于2022年11月1日提出，本次未重复申请。"
    assert query(home, counts) == first
    decide(cli, 1, "民政局", "2022-11-02", "--approve", "--until", "2022-12-10")
    after_one = query(home, counts)
    assert decide(cli, 1, "民政局", "2022-11-02", "--approve", "--until", "2022-12-10") == (
        "民政局已审批第1号延期申请，本次未重复登记。"
    )
    assert query(home, counts) == after_one


@pytest.fixture
def wecom(cli: Cli, tmp_path: Path) -> Cli:
    """The sample plan with a WeCom group bot for 民政局 beside its email."""
    text = PLAN.read_text(encoding="utf-8")
    text = text.replace(
        "{type: email, to: mzj@xxq.gov.cn}", "{type: email, to: mzj@xxq.gov.cn}, {type: wecom, key_env: MZJ_BOT}"
    )
    assert "MZJ_BOT" in text
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    cli("init", "--plan", plan, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    return cli


SCRIPT = "<script>x</script>"  # with MARKDOWN, within the 40 characters a bulletin shows of a reason
FORMULA = '=HYPERLINK("http://evil.example","点此")'
MARKDOWN = "**x**](http://e.vil)"


def test_hostile_text_is_text_in_messages_and_the_bulletin(wecom: Cli, home: Path, tmp_path: Path) -> None:
    cli = wecom
    ask(cli, "PT2022-0003", "2022-12-20", "2022-11-01", reason=FORMULA, progress=SCRIPT + MARKDOWN)
    ask(cli, "PT2022-0026", "2022-12-20", "2022-11-02", by="南关街道", reason=SCRIPT + MARKDOWN)
    decide(cli, 2, "民政局", "2022-11-03", "--refuse", "--reason", MARKDOWN)
    bodies = dict(
        query(home, "SELECT channel, body FROM outbox WHERE idempotency_key LIKE 'extension:1:s0|%' ORDER BY channel")
    )
    assert f"延期理由：{FORMULA}" in bodies["email"] and f"目前进展：{SCRIPT}{MARKDOWN}" in bodies["email"]
    assert "＊＊x＊＊］(http://e.vil)" in bodies["wecom"] and "**x**" not in bodies["wecom"]
    assert "＜script＞" in bodies["wecom"] and "<script>" not in bodies["wecom"]
    (html,) = query(home, "SELECT body_html FROM outbox WHERE idempotency_key LIKE 'extension:1:s0|%|email:%'")[0]
    assert "&lt;script&gt;x&lt;/script&gt;" in html and SCRIPT not in html
    # the bulletin of November: one pending, one refused, each reason as text
    out = tmp_path / "bulletins"
    cli("bulletin", "--period", "2022-11", "--as-of", "2022-12-12", "--out", out)
    (figures,) = query(home, "SELECT figures FROM bulletin")[0]
    e = json.loads(figures)["extensions"]
    assert (e["window"], e["granted"], e["refused"], e["pending"]) == (["2022-11-01", "2022-11-30"], 0, 1, 1)
    page = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "六、延期申请情况" in page and "表8  延期申请情况" in page
    assert (
        "2022年11月1日至2022年11月30日，批准延期0项，不予延期1项；截至2022年11月30日，尚在审批中的延期申请1项。" in page
    )
    assert "&lt;script&gt;x&lt;/script&gt;**x**](http://e.vil)" in page and SCRIPT not in page
    book = load_workbook(next(out.glob("*-附件.xlsx")))
    sheet = book[next(name for name in book.sheetnames if name.endswith("延期申请情况清单"))]
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row if c.value}
    assert cells[FORMULA] == "s"  # a string, never a formula
    assert cells[SCRIPT + MARKDOWN] == "s"


def test_on_postgresql_twice_changes_nothing_and_the_notices_follow(pg_url: str, cli: Cli) -> None:
    from datetime import date

    from duban.db import engine, session_scope
    from duban.desk import acknowledge

    assert engine().dialect.name == "postgresql"
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    ask(cli, "PT2022-0005", "2023-03-31", "2022-12-01")
    assert ask(cli, "PT2022-0005", "2023-03-31", "2022-12-01") == "第1号延期申请已于2022年12月1日提出，本次未重复申请。"
    with session_scope() as session:
        asked = [
            (r.kind, r.key, r.unit) for r in acknowledge.requests(session, date(2022, 12, 1)) if r.kind == "extension"
        ]
    assert asked == [("extension", "1:s0", "教体局")]
    decide(cli, 1, "教体局", "2022-12-02", "--approve")
    decide(cli, 1, "区配套办", "2022-12-05", "--refuse", "--reason", "领导小组研究不同意延期")
    assert decide(cli, 1, "区配套办", "2022-12-05", "--refuse", "--reason", "领导小组研究不同意延期") == (
        "区配套办已审批第1号延期申请，本次未重复登记。"
    )
    with session_scope() as session:
        asked = [
            (r.kind, r.key, r.unit) for r in acknowledge.requests(session, date(2022, 12, 5)) if r.kind == "extension"
        ]
        acknowledge.acknowledge(
            session, unit="城关街道", kind="extension", key="1:answer", as_of=date(2022, 12, 5), person="张三"
        )
    assert asked == [("extension", "1:answer", "城关街道")]
    with session_scope() as session:
        assert [r for r in acknowledge.requests(session, date(2022, 12, 6)) if r.kind == "extension"] == []
    (row,) = listed(cli)
    assert (row["state"], row["protected"], row["decided_on"]) == ("refused", True, "2022-12-05")


def test_the_plan_section_is_checked() -> None:
    from duban.plan import PlanError, parse_plan

    text = PLAN.read_text(encoding="utf-8")
    bad = text.replace(
        "    - {category: education, facility_type: 幼儿园}\n    - {category: community_premises}\n",
        "    - {category: schools}\n    - {category: education, facility_type: 大学}\n",
    )
    bad = bad.replace("approvers: [lead_department, office]", "approvers: [office, office]")
    with pytest.raises(PlanError) as refused:
        parse_plan(bad, "plan.yaml")
    assert str(refused.value) == (
        "方案文件 plan.yaml 有误：\n  - extensions.approvers：审批单位不能重复（值：['office', 'office']）"
    )
    with pytest.raises(PlanError) as refused:
        parse_plan(bad.replace("approvers: [office, office]", "approvers: [office]"), "plan.yaml")
    assert str(refused.value) == (
        "方案文件 plan.yaml 有误：\n"
        "  - extensions.leadership_group_only[0].category：未知类别“schools”；"
        "extensions.leadership_group_only[1].facility_type：“大学”不是教育设施的设施类型"
    )
