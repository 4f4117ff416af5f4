"""Delivery faults found by a hostile tester, against the real SMTP server and the WeCom look-alike.

Each case ends with every message delivered exactly once or dead with its reason, and the operator
told (a dead-letter report) or, when even that cannot reach them, a file, a warning and a Failed run.
Expected values are counted here, from what the fake servers received, not from duban.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, Cli
from fakes import FakeClock, SilentServer, SmtpServer, WecomServer
from sqlmodel import select
from test_notifications import at, queue, rows
from test_plan import DEPARTMENTS, TOWNSHIPS

from duban.config import TZ
from duban.db import session_scope
from duban.stored_plan import current_plan, plan_in_force
from models import WecomSend
from notifications.dispatch import _claim, _due_groups, dispatch
from notifications.markdown import place_lines
from notifications.outbox import notify
from notifications.render import environment
from plans import plan_with

MORNING = datetime(2022, 10, 10, 9, 0, tzinfo=TZ)  # a Monday, in office hours
OFFICE = "XX区社区配套设施规划建设管理工作领导小组办公室"
PASSWORD = "s3cret-pw"
LONG_REASON = "、".join(f"第{n}项问题的整改进度与现场核查情况不符，请逐项核实后重新填报" for n in range(1, 120))


def smtp_url(port: int, password: str = PASSWORD) -> str:
    return f"mailto://clerk:{password}@127.0.0.1:{port}?from=ptb@xxq.gov.cn&name={OFFICE}"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> SmtpServer:
    monkeypatch.setenv("DUBAN_DELIVERY", "live")
    monkeypatch.setenv("DUBAN_SMTP_URL", smtp_url(smtp_server.port))
    return smtp_server


class Bots:
    """The WeCom look-alike (with a fake clock) and the plan's units put on its bots."""

    def __init__(self, server: WecomServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, cli: Cli, folder: Path):
        self.server, self.clock, self._env, self._cli, self._folder = server, clock, monkeypatch, cli, folder

    def bot(self, *variables: str) -> str:
        """A new bot whose key is held by each of `variables`."""
        key = self.server.add_bot()
        for name in variables:
            self._env.setenv(name, key)
        return key

    def init(self, channels: dict[str, list[dict]]) -> None:
        self._cli("init", "--plan", plan_with(self._folder, channels), "--as-of", "2022-04-01")


@pytest.fixture
def bots(monkeypatch: pytest.MonkeyPatch, live: SmtpServer, tmp_path: Path, cli: Cli) -> Iterator[Bots]:
    clock = FakeClock()
    with WecomServer(clock=clock) as server:
        monkeypatch.setenv("DUBAN_WECOM_API", server.url)
        monkeypatch.setenv("DUBAN_WECOM_TIMEOUT", "1")
        yield Bots(server, clock, monkeypatch, cli, tmp_path)


def wecom(variable: str, mentions: tuple[str, ...] = ()) -> list[dict]:
    return [{"type": "wecom", "key_env": variable, "mention_mobiles": list(mentions)}]


def dispatcher(home: Path, moment: datetime) -> subprocess.CompletedProcess:
    """Another dispatcher: `duban outbox dispatch` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "outbox", "dispatch", "--at", moment.isoformat()],
        cwd=ROOT,
        env={**os.environ, "DUBAN_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


# -- 1. a send of several WeCom calls stopped by the minute's limit


def test_a_digest_stopped_by_the_minute_limit_resumes_with_only_the_parts_not_sent(
    bots: Bots, tmp_path: Path, home: Path
) -> None:
    fillers = [u for u in TOWNSHIPS if u != "河东镇"] + DEPARTMENTS[:7]
    assert len(fillers) == 18  # 18 of the bot's 20 calls this minute: two left for the digest
    bots.bot("DUBAN_WECOM_GROUP")
    bots.init(
        {**{u: wecom("DUBAN_WECOM_GROUP") for u in fillers}, "河东镇": wecom("DUBAN_WECOM_GROUP", ("13800000001",))}
    )
    for unit in fillers:
        queue(unit, f"filler:{unit}")
    returned = {"period": "2022-10", "version": 2, "department": "教体局", "resubmit_due": MORNING.date()}
    queue("河东镇", "long", kind="report_returned", reason=LONG_REASON, **returned)
    report = tmp_path / "整改完成情况说明.docx"
    report.write_bytes(b"docx")
    queue("河东镇", "with-file", attachments=[str(report)])

    first = dispatch(clock=at(MORNING))
    assert (first.sent, first.deferred, first.failed, first.dead) == (18, 2, 0, 0)
    assert all(r["errcode"] == 0 for r in bots.server.requests)  # never pushed into 45009
    early = bots.server.delivered[18:]
    assert [d["msgtype"] for d in early] == ["markdown", "markdown"]  # 2 parts of the digest, then the limit
    assert early[0]["content"].startswith("**【督办汇总】河东镇共有2条待办事项**")
    digest = rows(recipient="河东镇")
    assert [(r.status, r.attempts) for r in digest] == [("queued", 0), ("queued", 0)]  # deferred, not failed
    for row in digest:
        assert 59 <= (row.next_attempt_at - MORNING).total_seconds() <= 61
        assert "本分钟发送量已达上限" in row.last_error and "已发送2/" in row.last_error

    queue("河东镇", "later")  # a new message for the same address waits its own turn, not inside the digest
    bots.clock.advance(61)
    out = dispatcher(home, MORNING + timedelta(seconds=61)).stdout
    assert out.startswith("已投递3条（2次发送）"), out

    mine = bots.server.delivered[18:]
    contents = [d["content"] for d in mine if d["msgtype"] != "text"]  # a mention's text is the same each send
    assert len(contents) == len(set(contents))  # no part twice
    markdown = [d["content"] for d in mine if d["msgtype"] == "markdown"]
    assert "".join(markdown).replace("\n", "").count(LONG_REASON) == 1
    mentions = [d for d in mine if d["msgtype"] == "text"]
    assert [m["mentioned_mobile_list"] for m in mentions] == [["13800000001"], ["13800000001"]]  # one a send
    assert [d["content"] for d in mine if d["msgtype"] == "file"] == ["整改完成情况说明.docx"]
    singles = [c for c in markdown if c.startswith("**督办系统测试消息**\n河东镇：")]
    assert len(singles) == 1  # the later message, on its own
    assert {r.status for r in rows()} == {"sent"}


# -- 4. the minute is counted per key, not per variable


def test_two_variables_holding_one_key_share_its_minute(bots: Bots) -> None:
    units = TOWNSHIPS + DEPARTMENTS + ["区配套办", "区长"]
    assert len(units) == 22
    key = bots.bot("DUBAN_WECOM_A", "DUBAN_WECOM_B")
    bots.init({u: wecom("DUBAN_WECOM_A" if n % 2 else "DUBAN_WECOM_B") for n, u in enumerate(units)})
    for unit in units:
        queue(unit, f"shared:{unit}")
    result = dispatch(clock=at(MORNING))
    assert (result.sent, result.deferred) == (20, 2)
    assert len(bots.server.delivered) == 20
    assert all(r["errcode"] == 0 for r in bots.server.requests)  # the bot never answered 45009
    with session_scope() as session:
        counted = set(session.exec(select(WecomSend.bot)))
    assert len(counted) == 1  # one bot, whichever variable named it
    assert not any(key in bot or "DUBAN_WECOM" in bot for bot in counted)  # neither the key nor a name


# -- 2. SMTP 4xx at any stage is temporary, 5xx permanent


def test_a_busy_mailbox_at_rcpt_is_retried_and_delivered_once(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "greylisted")
    live.fail_rcpt_next(1, 450)
    assert dispatch(clock=at(MORNING)).failed == 1
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "邮件服务器拒收（450）：收件地址 jtj@xxq.gov.cn，暂时性错误，将重试"
    assert 48 <= (row.next_attempt_at - MORNING).total_seconds() <= 72  # the first backoff, 60 s ± 20 %
    assert dispatch(clock=at(MORNING + timedelta(minutes=5))).sent == 1
    assert [m[1] for m in live.messages] == [["jtj@xxq.gov.cn"]]


def test_an_unknown_mailbox_at_rcpt_is_dead_and_reported(live: SmtpServer, initialised: Cli) -> None:
    queue("教体局", "no-such-user")
    live.fail_rcpt_next(1, 550)
    result = dispatch(clock=at(MORNING))
    assert (result.dead, result.reported_dead) == (1, 1)
    [row] = rows(kind="test")
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == "邮件服务器拒收（550）：收件地址 jtj@xxq.gov.cn，永久性错误，不再重试"
    [(_, to, report)] = live.messages  # only the operator's report arrived
    assert to == ["ptb@xxq.gov.cn"] and report["Subject"] == "【系统提示】1条消息未能送达"
    assert "邮件服务器拒收（550）" in report.get_body(("plain",)).get_content()


def test_a_mailbox_busy_to_the_last_attempt_is_dead_and_says_it_is_not_retried(
    live: SmtpServer, initialised: Cli
) -> None:
    queue("教体局", "always-busy")
    live.fail_rcpt_next(6, 450)  # the plan's notifications.max_attempts
    moment = MORNING
    for n in range(1, 7):  # each an hour on, past the backoff (at most 60 * 2**4 s * 1.2)
        dispatch(clock=at(moment))
        moment += timedelta(hours=1)
        [row] = rows(kind="test")
        if n < 6:
            assert (row.status, row.attempts) == ("failed", n)
            assert row.last_error == "邮件服务器拒收（450）：收件地址 jtj@xxq.gov.cn，暂时性错误，将重试"
    assert (row.status, row.attempts) == ("dead", 6)
    assert row.last_error == "邮件服务器拒收（450）：收件地址 jtj@xxq.gov.cn，暂时性错误，已尝试6次，不再自动重试"
    [(_, to, report)] = live.messages  # the operator's report, saying the same
    assert to == ["ptb@xxq.gov.cn"]
    text = report.get_body(("plain",)).get_content()
    assert "已尝试6次，不再自动重试" in text and "将重试" not in text


def test_a_claim_left_by_a_killed_dispatcher_is_dead_with_its_attempt_counted(
    live: SmtpServer, initialised: Cli
) -> None:
    queue("教体局", "claimed-then-killed")
    [group] = _due_groups(plan_in_force(), MORNING, 10, None)
    assert len(_claim(group, MORNING)) == 1  # a dispatcher took it, then died before any outcome
    assert dispatch(clock=at(MORNING + timedelta(minutes=10))).dead == 1  # past the five-minute lease
    [row] = rows(kind="test")
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == "发送过程中断（进程终止），投递结果未知；为免重复不再自动重发，请人工核实"
    assert [m[1] for m in live.messages] == [["ptb@xxq.gov.cn"]]  # never sent again; the operator told


# -- 7. SMTP timeouts: configurable, and honest about what happened


def test_a_server_silent_after_the_content_is_dead_not_repeated(
    live: SmtpServer, initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_SMTP_TIMEOUT", "1")
    queue("教体局", "slow-ack")
    live.answer_data_after(3)
    assert dispatch(clock=at(MORNING)).dead == 1
    [row] = rows(kind="test")
    assert row.last_error == (
        f"邮件内容已发出，但邮件服务器 127.0.0.1:{live.port} 未确认收到（TimeoutError，等待1秒），"
        "投递结果未知；为免重复不再重试，请人工核实"
    )
    dispatch(clock=at(MORNING + timedelta(hours=1)))
    time.sleep(0.3)
    received = sorted(m[1][0] for m in live.messages)
    assert received == ["jtj@xxq.gov.cn", "ptb@xxq.gov.cn"]  # once to the unit, and the operator told


def test_a_server_that_never_greets_cannot_be_connected_to_within_the_timeout(
    live: SmtpServer, initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_SMTP_TIMEOUT", "0.5")
    with SilentServer() as silent:
        monkeypatch.setenv("DUBAN_SMTP_URL", smtp_url(silent.port))
        queue("教体局", "hung-relay")
        started = time.monotonic()
        assert dispatch(clock=at(MORNING)).failed == 1
        assert time.monotonic() - started < 5  # not the 20 s default
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == f"无法连接邮件服务器 127.0.0.1:{silent.port}（TimeoutError，等待0.5秒），将重试"


# -- 8. configuration errors are dead at once, with a clear reason and no secret


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        (
            "DUBAN_SMTP_URL",
            f"mailto://clerk:{PASSWORD}@127.0.0.1:25?from=not-an-address",
            "配置错误：DUBAN_SMTP_URL 不是有效的 mailto:// 或 mailtos:// 地址（apprise 无法解析）",
        ),
        (
            "DUBAN_SMTP_URL",
            f"mailto://clerk:{PASSWORD}@127.0.0.1:99999?from=ptb@xxq.gov.cn",
            "配置错误：DUBAN_SMTP_URL 的端口 99999 无效",
        ),
        ("DUBAN_SMTP_URL", "", "配置错误：未配置邮件服务器（环境变量 DUBAN_SMTP_URL）"),
        (
            "DUBAN_SMTP_TIMEOUT",
            "twenty",
            "配置错误：环境变量 DUBAN_SMTP_TIMEOUT 应为 0 到 600 之间的秒数（如 20），现为“twenty”",
        ),
    ],
)
def test_a_configuration_error_is_dead_at_once(
    live: SmtpServer,
    initialised: Cli,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    reason: str,
) -> None:
    monkeypatch.setenv(variable, value)
    queue("教体局", "misconfigured")
    result = dispatch(clock=at(MORNING))
    [row] = rows(kind="test")
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, reason)
    # The operator is on email too, so the report cannot reach them: it is written down instead.
    [report] = rows(kind="dead_letters")
    assert (report.status, report.last_error) == ("dead", reason)
    [written] = result.undeliverable
    assert written.parent == home / "outbox" / "undeliverable"
    text = written.read_text(encoding="utf-8")
    assert "收件单位：教体局（电子邮件）；消息：督办系统测试消息；原因：" + reason in text
    assert PASSWORD not in text + row.last_error
    assert live.messages == []


# -- 5. a claim respects the retry time


def test_a_row_deferred_by_another_dispatcher_cannot_be_claimed_before_its_time(
    live: SmtpServer, initialised: Cli
) -> None:
    queue("教体局", "race")
    [group] = _due_groups(plan_in_force(), MORNING, 1000, None)  # dispatcher A has read it as due ...
    live.fail_next(1)
    assert dispatch(clock=at(MORNING)).failed == 1  # ... dispatcher B tried it first: due again in a minute
    assert _claim(group, MORNING + timedelta(seconds=1)) == []  # so A's claim a moment later takes nothing
    [row] = rows()
    assert row.status == "failed"
    assert dispatch(clock=at(MORNING + timedelta(minutes=5))).sent == 1
    assert len(live.messages) == 1


# -- 6. a day's dispatch drains what is due


def test_tick_delivers_every_message_due_that_day(initialised: Cli) -> None:
    units = TOWNSHIPS[:10]
    with session_scope() as session:
        plan = current_plan(session)
        for n in range(1010):
            unit = units[n % len(units)]
            notify(session, plan, key=f"bulk:{n}", kind="test", recipient=unit, as_of=MORNING.date())
    initialised("tick", "--as-of", "2022-10-10")
    statuses = [r.status for r in rows(kind="test")]
    assert len(statuses) == 1010 and set(statuses) == {"sent"}


# -- 9. WeCom markdown: clerk text is inert and literal


HOSTILE = '第一行[点此](http://evil.example/x)<@all>\r\n# 假标题\n<font color="info">绿色</font> **粗** `码` &lt; > 引'


def test_clerk_text_in_wecom_markdown_is_inert_and_stays_in_its_quote(bots: Bots) -> None:
    bots.bot("DUBAN_WECOM_HEDONG")
    bots.init({"河东镇": wecom("DUBAN_WECOM_HEDONG")})
    returned = {"period": "2022-10", "version": 2, "resubmit_due": MORNING.date()}
    queue("河东镇", "hostile", kind="report_returned", department="教体局", reason=HOSTILE, **returned)
    assert dispatch(clock=at(MORNING)).sent == 1
    [message] = bots.server.delivered
    assert message["content"] == (
        "**报表退回**\n"
        "河东镇：你单位2022年10月整治进度（第2版）经教体局审核予以退回。\n"
        "> 退回理由：第一行［点此］(http://evil.example/x)＜@all＞\n"
        "> ＃ 假标题\n"
        '> ＜font color="info"＞绿色＜/font＞ ＊＊粗＊＊ ｀码｀ ＆lt; ＞ 引\n'
        "\n"
        '请修改后<font color="warning">于2022年10月10日前</font>重新报送。\n'
        "联系人：教体局专班联络员，电话：0391-8120101，邮箱：jtj@xxq.gov.cn"  # the issuer's contact, from the plan
    )


def test_any_wecom_template_escapes_by_default() -> None:
    """A template nobody has written yet: its values are made inert without asking."""
    template = environment(markdown=True).from_string("**通知：{{ title }}**\n> {{ note }}")
    shown = place_lines(template.render(title="专项\n# 督导", note="甲\n乙<@all>"))
    assert shown == "**通知：专项 ＃ 督导**\n> 甲\n> 乙＜@all＞"


# -- 10. the campaign bulletin's WeCom summary


def test_the_campaign_bulletin_summary_gives_its_figures(bots: Bots, live: SmtpServer) -> None:
    bots.bot("DUBAN_WECOM_HEDONG")
    bots.init({"河东镇": wecom("DUBAN_WECOM_HEDONG")})
    figures = {"items": 7, "units": 3, "on_time": 3, "late": 1, "missing": 3, "closed_since": 0}
    bulletin = {"title": "关于城镇居住区幼儿园专项督导情况的通报", "doc_number": "X区配套办〔2022〕2号"}
    for unit in ("河东镇", "教体局"):
        queue(
            unit,
            "campaign-bulletin",
            kind="bulletin",
            campaign={**figures, "missing_units": "河西镇、白云镇"},
            **bulletin,
        )
    assert dispatch(clock=at(MORNING)).sent == 2
    [summary] = bots.server.delivered
    assert summary["content"] == (
        "**【通报】关于城镇居住区幼儿园专项督导情况的通报**（X区配套办〔2022〕2号）\n"
        '督导问题 7 项，按期反馈 3 项，逾期反馈 1 项，<font color="warning">未反馈 3 项</font>。\n'
        "> 未反馈单位：河西镇、白云镇\n"
        "正式文件已通过邮件印发，请各单位对照通报要求抓好整改落实。"
    )
    [(_, _, mail)] = live.messages
    assert (
        "截至2022年10月10日：本次督导问题7项，按期反馈3项，逾期反馈1项，未反馈3项（未反馈单位：河西镇、白云镇）。"
        in mail.get_body(("plain",)).get_content()
    )
    assert "本次督导问题<strong>7</strong>项" in mail.get_body(("html",)).get_content()


# -- 11. mail headers built from data are one line


def test_a_title_with_line_breaks_makes_one_subject_and_no_header(live: SmtpServer, initialised: Cli) -> None:
    title = "专项\r\n督导\nBcc: victim@evil.example\r\nX-Injected: yes"
    item = {"code": "A-1", "township": "河东镇", "community": "幸福社区", "unit": "教体局"}
    queue("教体局", "crlf", kind="campaign_request", title=title, items=[item], due=MORNING.date(), campaign_id=1)
    assert dispatch(clock=at(MORNING)).sent == 1
    [(_, to, mail)] = live.messages
    assert to == ["jtj@xxq.gov.cn"]
    assert mail["Subject"] == "关于开展专项 督导 Bcc: victim@evil.example X-Injected: yes的通知"
    assert mail["Bcc"] is None and mail["X-Injected"] is None


# -- 3. when the operator cannot be told either


def test_an_undeliverable_report_fails_the_run_writes_a_file_and_warns(
    prefect_server: None, bots: Bots, live: SmtpServer, home: Path, cli: Cli
) -> None:
    from flows.delivery import dispatch_outbox

    key = bots.bot("DUBAN_WECOM_OFFICE")
    bots.init({"区配套办": wecom("DUBAN_WECOM_OFFICE")})  # the operator only on a WeCom group ...
    bots.server.remove_bot(key)  # ... whose bot was removed
    queue("教体局", "unknown-user")
    live.fail_rcpt_next(1, 550)
    state = dispatch_outbox(at=MORNING, return_state=True)
    assert state.is_failed()
    assert "1份未送达消息报告未能送达操作员" in state.message
    [dead] = rows(kind="test")
    [report] = rows(kind="dead_letters")
    assert (dead.status, report.status) == ("dead", "dead")
    assert report.last_error == "企业微信机器人地址无效或已被移除（DUBAN_WECOM_OFFICE，errcode 93000）"
    [written] = (home / "outbox" / "undeliverable").iterdir()
    text = written.read_text(encoding="utf-8")
    assert f"未能送达区配套办（wecom:DUBAN_WECOM_OFFICE）。\n原因：{report.last_error}" in text
    assert f"收件单位：教体局（电子邮件）；消息：督办系统测试消息；原因：{dead.last_error}" in text
    assert key not in text and PASSWORD not in text
    warning = "警告：1份未送达消息报告未能送达区配套办"
    assert warning in cli("outbox").output
    assert warning in cli("status", "--as-of", "2022-10-10").output
    # A later run has nothing new to say: it completes; the warning stays until the report goes.
    assert dispatch_outbox(at=MORNING + timedelta(hours=1), return_state=True).is_completed()
    bots.server.add_bot(key)
    cli("outbox", "retry", report.id)
    assert dispatch(clock=at(MORNING + timedelta(hours=2))).sent == 1
    assert bots.server.delivered[0]["content"].startswith('**<font color="warning">1条消息未能送达</font>**')
    assert warning not in cli("outbox").output


def test_duban_outbox_dispatch_fails_and_names_the_file_when_the_operator_cannot_be_told(
    bots: Bots, live: SmtpServer, home: Path, cli: Cli
) -> None:
    key = bots.bot("DUBAN_WECOM_OFFICE")
    bots.init({"区配套办": wecom("DUBAN_WECOM_OFFICE")})  # the operator only on a WeCom group ...
    bots.server.remove_bot(key)  # ... whose bot was removed
    queue("教体局", "unknown-user")
    live.fail_rcpt_next(1, 550)
    out = cli("outbox", "dispatch", "--at", MORNING.isoformat(), status=2).output
    [written] = (home / "outbox" / "undeliverable").iterdir()
    assert "无法送达2条" in out  # the unit's message and the report of it
    assert f"错误：1份未送达消息报告未能送达操作员，详见 {written}" in out
    # a later dispatch has nothing new to say: it succeeds; `duban outbox` keeps warning
    assert "无法送达0条" in cli("outbox", "dispatch", "--at", (MORNING + timedelta(hours=1)).isoformat()).output
    assert "警告：1份未送达消息报告未能送达区配套办" in cli("outbox").output
