"""Delivery of the outbox against a real SMTP server and a real WeCom look-alike, faults included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from conftest import ROOT, Cli
from fakes import FakeClock, SmtpServer, WecomServer
from processes import Spawn, finish
from sqlmodel import col, select
from test_plan import TOWNSHIPS

from duban.config import TZ
from duban.db import session_scope
from duban.stored_plan import current_plan
from models import OutboxMessage
from notifications.dispatch import dispatch
from notifications.outbox import notify
from plans import plan_with

MORNING = datetime(2022, 10, 10, 9, 0, tzinfo=TZ)  # a Monday, in office hours
OFFICE = "XX区社区配套设施规划建设管理工作领导小组办公室"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> SmtpServer:
    monkeypatch.setenv("DUBAN_DELIVERY", "live")
    monkeypatch.setenv(
        "DUBAN_SMTP_URL", f"mailto://clerk:s3cret-pw@127.0.0.1:{smtp_server.port}?from=ptb@xxq.gov.cn&name={OFFICE}"
    )
    return smtp_server


def queue(
    recipient: str, key: str, *, kind: str = "test", urgent: bool = False, day: str = "2022-10-10", **context: object
) -> None:
    with session_scope() as session:
        notify(
            session,
            current_plan(session),
            key=key,
            kind=kind,
            recipient=recipient,
            as_of=datetime.fromisoformat(day).date(),
            urgent=urgent,
            **context,
        )


def rows(**where: object) -> list[OutboxMessage]:
    with session_scope() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query))


def at(moment: datetime):  # noqa: ANN201 - a clock
    return lambda: moment


def test_email_arrives_once_with_chinese_subject_html_and_attachment(
    live: SmtpServer, initialised: Cli, tmp_path: Path, home: Path
) -> None:
    from reporting_helpers import load_small_ledger

    load_small_ledger(initialised, tmp_path)
    initialised("tick", "--as-of", "2022-10-01")  # queues the round's notices (and dispatches: a holiday)
    assert {r.status for r in rows(channel="email")} == {"queued"}  # 10-01 is a holiday: they wait
    bulletin = tmp_path / "2022年10月通报.pdf"
    bulletin.write_bytes(b"%PDF-1.4 test")
    queue("教体局", "bulletin-test", attachments=[str(bulletin)])
    result = dispatch(clock=at(MORNING))
    assert (result.sent, result.messages) == (5, 4)  # 4 notices + 1; 教体局 gets its two as one digest
    by_to = {m[1][0]: m[2] for m in live.messages}
    assert sorted(by_to) == ["jtj@xxq.gov.cn", "mzj@xxq.gov.cn"]
    single = by_to["mzj@xxq.gov.cn"]
    assert single["Subject"] == "关于报送2022年10月社区配套设施整治进度的通知"
    # RFC 2047: whitespace between two encoded words is not text (Python's own parser keeps it).
    raw_from = dict(single.raw_items())["From"]
    assert str(make_header(decode_header(raw_from))) == f"{OFFICE} <ptb@xxq.gov.cn>"
    assert single["To"].addresses[0].addr_spec == "mzj@xxq.gov.cn"
    text = single.get_body(("plain",)).get_content()
    assert "于2022年10月10日前报送XX区社区配套设施规划建设管理工作领导小组办公室" in text
    assert "<strong>2</strong>项问题" in single.get_body(("html",)).get_content()
    digest = by_to["jtj@xxq.gov.cn"]
    assert digest["Subject"] == "【督办汇总】教体局共有2条待办事项"
    attachment = next(digest.iter_attachments())
    assert attachment.get_filename() == "2022年10月通报.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"
    # The townships have no channel: their notices are written as .eml files for the Office to see.
    files = sorted(p.name for p in (home / "outbox").rglob("*.eml"))
    assert files == sorted(f"{r.id:06d}-{r.recipient}-file.eml" for r in rows(channel="file"))
    assert dispatch(clock=at(MORNING + timedelta(minutes=5))).sent == 0
    assert len(live.messages) == 2
    # The SMTP password is nowhere in the outbox.
    assert not any("s3cret-pw" in (r.body + (r.body_html or "") + r.last_error) for r in rows())


def test_smtp_down_then_up(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "down-up")
    live.down()
    result = dispatch(clock=at(MORNING))
    [row] = rows()
    assert (result.failed, row.status, row.attempts) == (1, "failed", 1)
    assert "无法连接邮件服务器" in row.last_error and "s3cret-pw" not in row.last_error
    wait = (row.next_attempt_at - MORNING).total_seconds()
    assert 48 <= wait <= 72  # 60 s with ±20 % jitter
    live.up()
    assert dispatch(clock=at(MORNING + timedelta(seconds=30))).sent == 0  # not yet due
    assert dispatch(clock=at(MORNING + timedelta(minutes=2))).sent == 1
    assert len(live.messages) == 1 and rows()[0].status == "sent"


def test_temporary_smtp_refusal_is_retried(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "451")
    live.fail_next(1)
    assert dispatch(clock=at(MORNING)).failed == 1
    assert "邮件服务器拒收（451）" in rows()[0].last_error
    assert dispatch(clock=at(MORNING + timedelta(minutes=5))).sent == 1
    assert len(live.messages) == 1


def test_retries_end_in_dead_and_one_report_to_the_operator(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "never")
    live.down()
    moment = MORNING
    for _ in range(6):  # 09:00 to 14:00, each past the backoff (at most 60 * 2**4 s * 1.2)
        dispatch(clock=at(moment))
        moment += timedelta(hours=1)
    [row] = rows(kind="test")
    assert (row.status, row.attempts) == ("dead", 6)
    [report] = rows(kind="dead_letters")
    assert report.recipient == "区配套办" and report.urgent
    assert "教体局（电子邮件）" in report.body and "无法连接邮件服务器" in report.body
    dispatch(clock=at(moment))
    assert len(rows(kind="dead_letters")) == 1  # reported once, and a failed report is not reported


def test_office_hours_hold_back_all_but_urgent(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "routine")
    queue("民政局", "urgent", urgent=True)
    evening = datetime(2022, 10, 10, 20, 0, tzinfo=TZ)
    result = dispatch(clock=at(evening))
    assert (result.sent, result.waiting) == (1, 1)
    assert [m[1][0] for m in live.messages] == ["mzj@xxq.gov.cn"]
    saturday = datetime(2022, 10, 15, 10, 0, tzinfo=TZ)  # office hours, but not a working day
    assert dispatch(clock=at(saturday)).waiting == 1
    assert dispatch(clock=at(datetime(2022, 10, 17, 8, 30, tzinfo=TZ))).sent == 1


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch, live: SmtpServer, tmp_path: Path, cli: Cli) -> tuple[WecomServer, str]:
    """河东镇 on a WeCom group bot with an @-mention, served by a WeCom look-alike with a fake clock."""
    clock = FakeClock()
    server = WecomServer(clock=clock).start()
    key = server.add_bot()
    monkeypatch.setenv("DUBAN_WECOM_API", server.url)
    monkeypatch.setenv("DUBAN_WECOM_HEDONG", key)
    monkeypatch.setenv("DUBAN_WECOM_TIMEOUT", "1")
    channel = {"type": "wecom", "key_env": "DUBAN_WECOM_HEDONG", "mention_mobiles": ["13800000001"]}
    cli("init", "--plan", plan_with(tmp_path, {"河东镇": [channel]}), "--as-of", "2022-04-01")
    server.clock = clock
    yield server, key
    server.stop()


def test_wecom_markdown_split_mentions_and_file(bot: tuple[WecomServer, str], tmp_path: Path) -> None:
    server, key = bot
    reason = "、".join(f"第{n}项问题的整改进度与现场核查情况不符，请逐项核实后重新填报" for n in range(1, 120))
    queue(
        "河东镇",
        "long",
        kind="report_returned",
        period="2022-10",
        version=2,
        department="教体局",
        reason=reason,
        resubmit_due=MORNING.date(),
    )
    report = tmp_path / "整改完成情况说明.docx"
    report.write_bytes(b"docx")
    queue("河东镇", "with-file", attachments=[str(report)])
    result = dispatch(clock=at(MORNING))
    assert (result.sent, result.messages) == (2, 1)  # two rows, one digest
    delivered = server.delivered
    markdown = [d for d in delivered if d["msgtype"] == "markdown"]
    assert len(markdown) >= 3
    assert all(len(d["content"].encode()) <= 4096 for d in markdown)
    joined = "\n".join(d["content"] for d in markdown)
    assert reason in joined.replace("\n", "")
    assert joined.startswith("**【督办汇总】河东镇共有2条待办事项**")
    mention = next(d for d in delivered if d["msgtype"] == "text")
    assert mention["mentioned_mobile_list"] == ["13800000001"]
    assert [d["content"] for d in delivered if d["msgtype"] == "file"] == ["整改完成情况说明.docx"]
    assert [d["msgtype"] for d in delivered][-2:] == ["text", "file"]
    # The webhook key is nowhere in the outbox: only the variable's name.
    assert {r.address for r in rows()} == {"DUBAN_WECOM_HEDONG"}
    assert not any(key in (r.body + r.last_error + r.idempotency_key) for r in rows())


@pytest.mark.parametrize("fault", [{"errcode": 45009}, {"errcode": -1}, "http500"])
def test_wecom_transient_faults_are_retried_and_delivered_once(bot: tuple[WecomServer, str], fault) -> None:  # noqa: ANN001
    server, key = bot
    server.script(key, [fault])
    queue("河东镇", "transient")
    assert dispatch(clock=at(MORNING)).failed == 1
    [row] = rows()
    assert row.status == "failed" and row.next_attempt_at > MORNING
    assert dispatch(clock=at(MORNING + timedelta(hours=1))).sent == 1
    assert [d["msgtype"] for d in server.delivered] == ["markdown", "text"]  # the message and its mention


def test_wecom_invalid_webhook_is_dead_and_reported(bot: tuple[WecomServer, str]) -> None:
    server, key = bot
    server.remove_bot(key)
    queue("河东镇", "gone")
    assert dispatch(clock=at(MORNING)).dead == 1
    [row] = rows(kind="test")
    assert row.status == "dead" and "errcode 93000" in row.last_error
    [report] = rows(kind="dead_letters")
    assert "企业微信机器人地址无效或已被移除" in report.body
    assert server.delivered == []


def test_wecom_unanswered_request_is_dead_not_repeated(bot: tuple[WecomServer, str]) -> None:
    server, key = bot
    server.script(key, [("delay", 2.0)])  # delivered, but answered after the client's 1 s timeout
    queue("河东镇", "slow")
    assert dispatch(clock=at(MORNING)).dead == 1
    assert "投递结果未知" in rows(kind="test")[0].last_error
    assert server.wait_for(1, timeout=5)
    dispatch(clock=at(MORNING + timedelta(hours=1)))
    time.sleep(0.3)
    assert [d for d in server.delivered if d["msgtype"] == "markdown"].__len__() == 1


def test_the_minute_limit_is_shared_and_defers(
    monkeypatch: pytest.MonkeyPatch, live: SmtpServer, tmp_path: Path, cli: Cli
) -> None:
    clock = FakeClock()
    with WecomServer(clock=clock) as server:
        key = server.add_bot()
        monkeypatch.setenv("DUBAN_WECOM_API", server.url)
        monkeypatch.setenv("DUBAN_WECOM_GROUP", key)
        group = [{"type": "wecom", "key_env": "DUBAN_WECOM_GROUP"}]
        units = TOWNSHIPS + [
            "教体局",
            "民政局",
            "商务局",
            "卫健局",
            "自然资分局",
            "住建局",
            "发改局",
            "财政局",
            "区配套办",
        ]
        cli("init", "--plan", plan_with(tmp_path, dict.fromkeys(units, group)), "--as-of", "2022-04-01")
        for unit in units:
            queue(unit, f"rate:{unit}")
        first = dispatch(clock=at(MORNING))
        assert (first.sent, first.deferred) == (20, 1)
        assert all(r["errcode"] == 0 for r in server.requests)  # never pushed into 45009
        [waiting] = rows(status="queued")
        assert 59 <= (waiting.next_attempt_at - MORNING).total_seconds() <= 61
        assert dispatch(clock=at(MORNING + timedelta(seconds=30))).sent == 0
        clock.advance(61)
        assert dispatch(clock=at(MORNING + timedelta(seconds=61))).sent == 1
        assert len(server.delivered) == 21


def _dispatcher(spawn: Spawn, home: Path, env: dict[str, str], moment: datetime) -> subprocess.Popen:
    return spawn(
        [sys.executable, "-m", "duban.cli", "outbox", "dispatch", "--at", moment.isoformat()],
        cwd=ROOT,
        env={**os.environ, **env, "DUBAN_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _many_units_by_email(tmp_path: Path, cli: Cli) -> list[str]:
    units = TOWNSHIPS + ["发改局", "财政局"]
    cli(
        "init",
        "--plan",
        plan_with(tmp_path, {u: [{"type": "email", "to": f"u{n}@xxq.gov.cn"}] for n, u in enumerate(units)}),
        "--as-of",
        "2022-04-01",
    )
    for unit in units:
        queue(unit, f"race:{unit}")
    return units


def test_two_dispatchers_at_once_send_each_message_once(
    live: SmtpServer, tmp_path: Path, cli: Cli, home: Path, spawn: Spawn
) -> None:
    units = _many_units_by_email(tmp_path, cli)
    env = {"DUBAN_DELIVERY": "live", "DUBAN_SMTP_URL": os.environ["DUBAN_SMTP_URL"]}
    runs = [_dispatcher(spawn, home, env, MORNING) for _ in range(2)]
    for run in runs:
        assert finish(run, 60) == 0, run.stderr.read().decode()
    received = sorted(m[1][0] for m in live.messages)
    assert received == sorted(f"u{n}@xxq.gov.cn" for n in range(len(units)))
    assert {r.status for r in rows()} == {"sent"}


def test_dispatcher_killed_mid_batch(
    bot: tuple[WecomServer, str], tmp_path: Path, cli: Cli, home: Path, spawn: Spawn
) -> None:
    server, key = bot
    channel = [{"type": "wecom", "key_env": "DUBAN_WECOM_HEDONG"}]
    units = TOWNSHIPS
    cli("init", "--plan", plan_with(tmp_path, dict.fromkeys(units, channel)), "--as-of", "2022-04-01")
    for unit in units:
        queue(unit, f"kill:{unit}")
    server.script(key, [("delay", 0.4)] * len(units))
    env = {name: os.environ[name] for name in ("DUBAN_DELIVERY", "DUBAN_WECOM_API", "DUBAN_WECOM_HEDONG")}
    run = _dispatcher(spawn, home, env, MORNING)
    assert server.wait_for(4, timeout=30)
    run.send_signal(signal.SIGKILL)
    finish(run, 10)
    delivered_before = len(server.delivered)
    assert 4 <= delivered_before < len(units)
    # A rerun within the lease leaves the interrupted claim alone; after it, that claim is dead.
    rerun = _dispatcher(spawn, home, env, MORNING + timedelta(minutes=10))
    assert finish(rerun, 60) == 0, rerun.stderr.read().decode()
    counts: dict[str, int] = {}
    for message in server.delivered:
        recipient = message["content"].split("：", 1)[0].split("\n")[-1]
        counts[recipient] = counts.get(recipient, 0) + 1
    for row in rows(kind="test"):
        if row.status == "sent":
            assert counts.get(row.recipient) == 1, row.recipient
        else:
            assert row.status == "dead" and "投递结果未知" in row.last_error, (row.recipient, row.status)
            assert row.attempts == 1  # the interrupted send counted
            assert counts.get(row.recipient, 0) <= 1
    assert max(counts.values()) == 1
    assert len(rows(kind="test", status="dead")) <= 1


def test_two_dispatchers_at_once_on_postgres(
    pg_url: str, live: SmtpServer, tmp_path: Path, cli: Cli, home: Path, spawn: Spawn
) -> None:
    units = _many_units_by_email(tmp_path, cli)
    env = {"DUBAN_DELIVERY": "live", "DUBAN_SMTP_URL": os.environ["DUBAN_SMTP_URL"], "DUBAN_DATABASE_URL": pg_url}
    runs = [_dispatcher(spawn, home, env, MORNING) for _ in range(3)]
    for run in runs:
        assert finish(run, 60) == 0, run.stderr.read().decode()
    assert sorted(m[1][0] for m in live.messages) == sorted(f"u{n}@xxq.gov.cn" for n in range(len(units)))
    assert {r.status for r in rows()} == {"sent"}


def test_outbox_and_notify_commands(live: SmtpServer, initialised: Cli) -> None:
    import json

    assert initialised("notify", "test", "--unit", "教体局").output.strip() == "教体局 → email:jtj@xxq.gov.cn：已送达"
    [mail] = live.messages
    assert mail[2]["Subject"] == "督办系统测试消息"
    out = initialised("notify", "test", "--unit", "河东镇").output
    assert out.startswith("河东镇 → file：已写入") and "未实际发送" in out
    live.down()
    out = initialised("notify", "test", "--unit", "民政局").output
    assert out.startswith("民政局 → email:mzj@xxq.gov.cn：发送失败，将重试（无法连接邮件服务器")
    listed = json.loads(initialised("outbox", "--status", "failed", "--json").output)
    assert [(m["recipient"], m["attempts"]) for m in listed] == [("民政局", 1)]
    failed_id = listed[0]["id"]
    assert "只有“失败待重试”或“无法送达”的消息可以重发" in initialised("outbox", "retry", "1", status=2).output
    initialised("outbox", "retry", failed_id)
    [again] = rows(id=failed_id)
    assert (again.status, again.attempts, again.next_attempt_at) == ("queued", 0, None)
    assert "消息队列中没有编号为999的消息" in initialised("outbox", "retry", "999", status=2).output
    live.up()
    out = initialised("outbox", "dispatch").output  # now: a test message is urgent, office hours or not
    assert out.startswith("已投递1条（1次发送）")
    assert len(live.messages) == 2


def test_outbox_lists_the_newest_and_says_how_many_it_left_out(imported: Cli, home: Path) -> None:
    import json
    import sqlite3

    imported("tick", "--as-of", "2022-05-01")  # the round opens: every unit is told
    with sqlite3.connect(home / "duban.db") as db:
        ids = [i for (i,) in db.execute("select id from outbox order by id desc")]
    assert len(ids) > 3
    assert [m["id"] for m in json.loads(imported("outbox", "--limit", "2", "--json").output)] == ids[:2]
    assert [m["id"] for m in json.loads(imported("outbox", "--limit", "0", "--json").output)] == ids
    assert f"共 {len(ids)} 条，仅显示最新 2 条（--limit 0 显示全部）" in imported("outbox", "--limit", "2").output
    assert "仅显示" not in imported("outbox", "--limit", "0").output
