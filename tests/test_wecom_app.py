"""The WeCom self-built app: its client (shared token, typed errors, sign-in codes, address book) and the
`wecom_app` channel, against the look-alike in `wecom_app_fake` (a real HTTP server on 127.0.0.1).

Expected values are counted here by hand from what the look-alike received, not from duban.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, Cli
from fakes import FakeClock
from processes import Spawn, finish
from sqlmodel import select
from test_notifications import queue, rows
from wecom_app_fake import WecomAppServer

from duban.config import TZ
from duban.db import session_scope
from duban.wecom.client import AppClient, Misconfigured, Refused
from duban.wecom.config import WecomConfigError, configured
from models import Account
from notifications.deadletters import KIND
from notifications.dispatch import dispatch
from plans import plan_with

MORNING = datetime(2022, 10, 10, 9, 0, tzinfo=TZ)  # a Monday, in office hours


class Moment:
    """One clock for duban (aware datetimes) and the look-alike (seconds), moved together."""

    def __init__(self, start: datetime) -> None:
        self.start, self.fake = start, FakeClock()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.fake())

    def advance(self, **delta: float) -> None:
        self.fake.advance(timedelta(**delta).total_seconds())

    def to(self, moment: datetime) -> None:
        self.fake.advance((moment - self()).total_seconds())


@pytest.fixture
def moment() -> Moment:
    return Moment(MORNING)


@pytest.fixture
def wecom(monkeypatch: pytest.MonkeyPatch, moment: Moment) -> Iterator[WecomAppServer]:
    with WecomAppServer(clock=moment.fake) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


# -- the client


def test_the_token_is_fetched_once_per_validity_and_shared_by_every_client(
    initialised: Cli, wecom: WecomAppServer, moment: Moment
) -> None:
    app = configured()
    assert app is not None and app.agent_id == 1000002
    with AppClient(app, clock=moment) as one, AppClient(app, clock=moment) as two:
        first = one.access_token()
        assert two.access_token() == first  # from the database, not WeCom
        moment.advance(seconds=7200 - 301)  # still 5 minutes and 1 second to go
        assert one.access_token() == first
        moment.advance(seconds=2)  # inside the last 5 minutes: a new one
        second = two.access_token()
    assert second != first
    assert wecom.token_fetches == 2


def test_an_expired_token_is_refreshed_once_and_the_call_made_again(
    initialised: Cli, wecom: WecomAppServer, moment: Moment
) -> None:
    wecom.add_member("zhangsan", "张三", "13800000001")
    with AppClient(configured(), clock=moment) as client:
        client.access_token()
        wecom.expire_tokens()
        assert client.user_id_for_code(wecom.issue_code("zhangsan")) == "zhangsan"
    assert wecom.token_fetches == 2
    assert [r["errcode"] for r in wecom.requests if r["path"] == "/cgi-bin/auth/getuserinfo"] == [42001, 0]


def test_sign_in_codes_work_once_and_a_non_member_has_no_userid(
    initialised: Cli, wecom: WecomAppServer, moment: Moment
) -> None:
    wecom.add_member("lisi", "李四")
    with AppClient(configured(), clock=moment) as client:
        code = wecom.issue_code("lisi")
        assert client.user_id_for_code(code) == "lisi"
        with pytest.raises(Refused) as used:
            client.user_id_for_code(code)
        assert used.value.errcode == 40029
        assert client.user_id_for_code(wecom.issue_code(None)) is None
        late = wecom.issue_code("lisi")
        moment.advance(seconds=300)
        with pytest.raises(Refused):
            client.user_id_for_code(late)


def test_the_address_book_lists_each_member_once_with_mobiles(
    initialised: Cli, wecom: WecomAppServer, moment: Moment
) -> None:
    wecom.add_department(2, "城关街道")
    wecom.add_member("zhangsan", "张三", "13800000001", (1, 2))
    wecom.add_member("lisi", "李四", "13800000002", (2,))
    with AppClient(configured(), clock=moment) as client:
        book = client.address_book()
    assert book == [
        {"userid": "zhangsan", "name": "张三", "mobile": "13800000001"},
        {"userid": "lisi", "name": "李四", "mobile": "13800000002"},
    ]


def test_an_address_not_trusted_and_a_bad_secret_are_configuration_errors_without_the_secret(
    initialised: Cli, wecom: WecomAppServer, moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    wecom.refuse_ip = True
    with AppClient(configured(), clock=moment) as client, pytest.raises(Misconfigured) as ip:
        client.access_token()
    assert "企业可信IP" in ip.value.reason and ip.value.errcode == 60020
    wecom.refuse_ip = False
    monkeypatch.setenv("DUBAN_WECOM_APP_SECRET", "not-the-secret-at-all")
    with AppClient(configured(), clock=moment) as client, pytest.raises(WecomConfigError) as bad:
        client.access_token()
    assert str(bad.value) == "企业微信应用Secret无效（环境变量 DUBAN_WECOM_APP_SECRET）（errcode 40001）"
    assert "not-the-secret-at-all" not in str(bad.value)


def test_a_partial_configuration_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DUBAN_WECOM_CORP_ID", "DUBAN_WECOM_AGENT_ID", "DUBAN_WECOM_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert configured() is None
    monkeypatch.setenv("DUBAN_WECOM_CORP_ID", "wwduban")
    monkeypatch.setenv("DUBAN_WECOM_APP_SECRET", "s3cret")
    with pytest.raises(WecomConfigError) as missing:
        configured()
    assert str(missing.value) == "企业微信自建应用配置不完整：未设置环境变量 DUBAN_WECOM_AGENT_ID"
    monkeypatch.setenv("DUBAN_WECOM_AGENT_ID", "abc")
    with pytest.raises(WecomConfigError, match="DUBAN_WECOM_AGENT_ID"):
        configured()


# -- the channel

PORTAL = "https://duban.xxq.gov.cn"
APP = [{"type": "wecom_app"}]
PEOPLE = {  # login: (unit, role, WeCom id)
    "cg-zhang": ("城关街道", "clerk", "ZhangSan"),
    "cg-li": ("城关街道", "head", "lisi"),
    "dc-wang": ("东城街道", "clerk", "wangwu"),
    "dc-zhao": ("东城街道", "clerk", "zhaoliu"),
}


@pytest.fixture
def app_live(
    monkeypatch: pytest.MonkeyPatch, cli: Cli, tmp_path: Path, wecom: WecomAppServer
) -> Iterator[WecomAppServer]:
    """Live delivery to the look-alike; 城关街道 and 东城街道 on the app, four people bound (and a fifth without
    an id, a sixth disabled: neither is reached)."""
    monkeypatch.setenv("DUBAN_DELIVERY", "live")
    monkeypatch.setenv("DUBAN_PORTAL_URL", PORTAL)
    monkeypatch.setenv("DUBAN_WECOM_TIMEOUT", "2")
    office = {"区配套办": []}  # the operator hears of dead messages in a file
    cli("init", "--plan", plan_with(tmp_path, {"城关街道": APP, "东城街道": APP, **office}), "--as-of", "2022-04-01")
    for login, (unit, role, userid) in PEOPLE.items():
        wecom.add_member(userid.lower(), login, "")
        cli("user", "add", "--unit", unit, "--login", login, "--name", login, "--role", role, "--wecom-userid", userid)
    cli("user", "add", "--unit", "城关街道", "--login", "cg-none", "--name", "无绑定")
    cli("user", "add", "--unit", "城关街道", "--login", "cg-gone", "--name", "已停用", "--wecom-userid", "gone")
    cli("user", "disable", "cg-gone")
    wecom.add_member("gone", "已停用", "")
    yield wecom


def weekdays(first: datetime, last: datetime) -> list[datetime]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def test_a_month_of_messages_reaches_each_person_once_per_message_and_the_token_once_per_validity(
    app_live: WecomAppServer, moment: Moment
) -> None:
    days = weekdays(MORNING, datetime(2022, 10, 31, 9, 0, tzinfo=TZ))  # 10-10 .. 10-31: 16 working days
    for day in days:
        for hour in (9, 10):  # two messages a day, an hour apart: one token serves both
            moment.to(day.replace(hour=hour))
            for unit in ("城关街道", "东城街道"):
                queue(unit, f"month:{day:%m%d}:{hour}", day=f"{day:%Y-%m-%d}")
            result = dispatch(clock=moment)
            assert (result.sent, result.dead, result.failed) == (4, 0, 0)
    cards = app_live.cards
    assert len(days) == 16 and len(cards) == 16 * 2 * 4
    assert Counter(c["userid"] for c in cards) == {"zhangsan": 32, "lisi": 32, "wangwu": 32, "zhaoliu": 32}
    assert len({(c["userid"], c["at"]) for c in cards}) == len(cards)  # nobody got one message twice
    assert app_live.token_fetches == 16  # 09:00 fetches, 10:00 reuses; the next day the token has expired
    card = cards[0]["textcard"]
    assert card == {
        "title": "督办系统测试消息",
        "description": "城关街道：\n这是督办系统发出的测试消息，用于确认本单位的接收渠道畅通，无需回复。\n"
        "XX区社区配套设施规划建设管理工作领导小组办公室\n2022年10月10日",
        "url": f"{PORTAL}/auth/wecom?next=%2F",
        "btntxt": "详情",
    }
    assert {r.address for r in rows(channel="wecom_app")} == set(PEOPLE)


def test_an_expired_token_is_refreshed_once_by_the_dispatcher(app_live: WecomAppServer, moment: Moment) -> None:
    queue("城关街道", "first")
    dispatch(clock=moment)
    app_live.expire_tokens()
    queue("城关街道", "second")
    result = dispatch(clock=moment)
    assert result.sent == 2
    sends = [r["errcode"] for r in app_live.requests if r["path"] == "/cgi-bin/message/send"]
    assert sends == [0, 0, 42001, 0, 0]  # the first card after expiry is refused once, then all go
    assert app_live.token_fetches == 2
    assert len(app_live.cards) == 4


def test_an_invalid_user_is_dead_with_its_reason_while_the_others_are_sent(
    app_live: WecomAppServer, moment: Moment
) -> None:
    app_live.remove_member("lisi")
    queue("城关街道", "one")
    result = dispatch(clock=moment)
    assert (result.sent, result.dead, result.reported_dead) == (2, 1, 1)  # 张三's card and the operator's report
    by_login = {r.address: r for r in rows(channel="wecom_app")}
    assert by_login["cg-zhang"].status == "sent"
    assert by_login["cg-li"].status == "dead"
    assert by_login["cg-li"].last_error == "企业微信账号 lisi 无效或不在应用可见范围内（invaliduser），该人员未收到"
    assert [c["userid"] for c in app_live.cards] == ["zhangsan"]
    (report,) = rows(kind=KIND)
    assert "invaliduser" in report.body  # the operator is told, as for any dead message


def test_the_31st_card_to_one_person_in_a_minute_is_deferred_not_dropped(
    app_live: WecomAppServer, moment: Moment, cli: Cli
) -> None:
    cli("user", "disable", "cg-li")
    for n in range(31):
        queue("城关街道", f"burst:{n}", urgent=True)
        result = dispatch(clock=moment)
        moment.advance(seconds=1)
    assert (result.sent, result.deferred) == (0, 1)
    assert len(app_live.cards) == 30 and app_live.dropped == []
    (waiting,) = rows(status="queued")
    assert waiting.next_attempt_at == MORNING + timedelta(seconds=60)  # when the first card's minute ends
    moment.to(MORNING + timedelta(seconds=60))
    assert dispatch(clock=moment).sent == 1
    assert len(app_live.cards) == 31 and app_live.dropped == []


def test_an_untrusted_address_and_a_bad_secret_are_dead_at_once_naming_what_to_fix(
    app_live: WecomAppServer, moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_live.refuse_ip = True
    queue("城关街道", "ip")
    queue("东城街道", "ip")
    result = dispatch(clock=moment)
    assert (result.dead, result.sent) == (4, 1)  # the four cards; the sent one is the operator's report
    reasons = {r.last_error for r in rows(channel="wecom_app")}
    assert reasons == {
        "配置错误：服务器出口IP不在企业微信应用的企业可信IP中，请在应用管理中将其加入“企业可信IP”（errcode 60020）"
    }
    assert len(app_live.requests) == 1  # one refused call; the other rows died without asking again
    app_live.refuse_ip = False
    monkeypatch.setenv("DUBAN_WECOM_APP_SECRET", "wrong-secret-value")
    queue("城关街道", "secret")
    dispatch(clock=moment)
    dead = rows(channel="wecom_app", status="dead")[-1]
    assert dead.last_error == "配置错误：企业微信应用Secret无效（环境变量 DUBAN_WECOM_APP_SECRET）（errcode 40001）"


def other_dispatcher(spawn: Spawn, home: Path, moment: datetime) -> subprocess.Popen:
    return spawn(
        [sys.executable, "-m", "duban.cli", "outbox", "dispatch", "--at", moment.isoformat()],
        cwd=ROOT,
        env={**os.environ, "DUBAN_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_dispatchers_at_once_send_nothing_twice_and_fetch_one_token(
    app_live: WecomAppServer, cli: Cli, home: Path, spawn: Spawn
) -> None:
    for n in range(12):
        userid = f"cg{n:02d}"
        app_live.add_member(userid, userid)
        cli(
            "user",
            "add",
            "--unit",
            "城关街道",
            "--login",
            f"cg-extra{n:02d}",
            "--name",
            "人员",
            "--wecom-userid",
            userid,
        )
    queue("城关街道", "race")
    queue("东城街道", "race")
    both = [other_dispatcher(spawn, home, MORNING), other_dispatcher(spawn, home, MORNING)]
    assert [finish(p, 120) for p in both] == [0, 0], [p.stderr.read() for p in both]
    cards = Counter(c["userid"] for c in app_live.cards)
    assert len(cards) == 16 and set(cards.values()) == {1}  # 2 + 12 in 城关街道, 2 in 东城街道: each once
    assert {r.status for r in rows(channel="wecom_app")} == {"sent"}
    assert app_live.token_fetches == 1


def test_file_delivery_writes_the_exact_call_without_secret_or_token(
    cli: Cli, tmp_path: Path, wecom: WecomAppServer, monkeypatch: pytest.MonkeyPatch, home: Path, moment: Moment
) -> None:
    monkeypatch.setenv("DUBAN_PORTAL_URL", PORTAL)
    cli(
        "init",
        "--plan",
        plan_with(tmp_path, {"城关街道": [{"type": "wecom_app", "roles": ["head"]}]}),
        "--as-of",
        "2022-04-01",
    )
    cli(
        "user",
        "add",
        "--unit",
        "城关街道",
        "--login",
        "cg-zhang",
        "--name",
        "张三",
        "--role",
        "clerk",
        "--wecom-userid",
        "zhangsan",
    )
    cli(
        "user",
        "add",
        "--unit",
        "城关街道",
        "--login",
        "cg-li",
        "--name",
        "李四",
        "--role",
        "head",
        "--wecom-userid",
        "lisi",
    )
    out = cli("notify", "test", "--unit", "城关街道").output
    assert "城关街道 → wecom_app:cg-li：已写入" in out and "cg-zhang" not in out  # the channel's role: heads only
    (written,) = (home / "outbox").rglob("*wecom_app.json")
    payload = json.loads(written.read_text(encoding="utf-8"))
    assert payload["params"] == {"access_token": "***"}
    assert payload["json"]["touser"] == "lisi" and payload["json"]["agentid"] == 1000002
    assert payload["json"]["textcard"]["url"] == f"{PORTAL}/auth/wecom?next=%2F"
    assert wecom.secret not in written.read_text(encoding="utf-8")
    assert wecom.requests == []  # file delivery asks WeCom nothing


def test_no_secret_or_token_reaches_the_outbox_files_or_logs(
    app_live: WecomAppServer, moment: Moment, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue("城关街道", "a")
    dispatch(clock=moment)
    app_live.expire_tokens()
    app_live.remove_member("lisi")
    queue("城关街道", "b")
    dispatch(clock=moment)
    tokens = [r["params"]["access_token"] for r in app_live.requests if "access_token" in r["params"]]
    assert tokens
    with session_scope() as session:
        kept = " ".join(f"{r.body}{r.last_error}{r.subject}" for r in rows())
        accounts = session.exec(select(Account)).all()
    files = " ".join(p.read_text(errors="ignore") for p in (home / "outbox").rglob("*") if p.is_file())
    for secret in [app_live.secret, *tokens]:
        assert secret not in kept and secret not in files and secret not in caplog.text
    assert all(app_live.secret not in (a.wecom_userid or "") for a in accounts)
    assert app_live.secret.encode() not in (home / "duban.db").read_bytes()


# -- people's ids


def test_ids_are_bound_one_to_an_account_and_sync_proposes_by_mobile_only_when_confirmed(
    initialised: Cli, wecom: WecomAppServer
) -> None:
    cli = initialised
    cli("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三", "--mobile", "13800000001")
    cli("user", "add", "--unit", "城关街道", "--login", "cg-li", "--name", "李四", "--mobile", "13800000002")
    cli("user", "add", "--unit", "东城街道", "--login", "dc-wang", "--name", "王五", "--mobile", "13800000003")
    cli("user", "add", "--unit", "东城街道", "--login", "dc-zhao", "--name", "赵六")
    refused = cli(
        "user", "add", "--unit", "东城街道", "--login", "dc-bad", "--name", "坏", "--wecom-userid", "a b", status=2
    )
    assert "企业微信账号（UserID）须为1至64位字母、数字或 _ - @ ." in refused.output
    cli("user", "set", "dc-zhao", "--wecom-userid", "ZhaoLiu")
    taken = cli("user", "set", "dc-wang", "--wecom-userid", "zhaoliu", status=2).output
    assert "企业微信账号“zhaoliu”已绑定账号 dc-zhao（赵六），一个企业微信账号只能绑定一个账号" in taken
    wecom.add_department(2, "城关街道")
    wecom.add_member("zhangsan", "张三", "13800000001", (2,))
    wecom.add_member("lisi", "李四", "+86 13800000002", (2,))
    wecom.add_member("zhaoliu", "赵六", "13800000003")  # 王五's phone on 赵六's id, already bound: not proposed
    shown = cli("user", "sync-wecom").output
    assert "zhangsan" in shown and "lisi" in shown and "dc-wang（对应的企业微信账号已绑定其他账号）" in shown
    with session_scope() as session:
        bound = {a.login: a.wecom_userid for a in session.exec(select(Account))}
    assert bound == {
        "cg-zhang": None,
        "cg-li": None,
        "dc-wang": None,
        "dc-zhao": "zhaoliu",
    }  # nothing without --confirm
    assert "已绑定2个账号的企业微信账号" in cli("user", "sync-wecom", "--confirm").output
    with session_scope() as session:
        bound = {a.login: a.wecom_userid for a in session.exec(select(Account))}
    assert bound == {"cg-zhang": "zhangsan", "cg-li": "lisi", "dc-wang": None, "dc-zhao": "zhaoliu"}
    cli("user", "set", "dc-zhao", "--wecom-userid", "")
    assert "dc-zhao" in cli("user", "list").output
    with session_scope() as session:
        assert session.exec(select(Account.wecom_userid).where(Account.login == "dc-zhao")).one() is None


def test_on_postgresql_the_token_is_shared_and_a_person_s_minute_is_counted(
    pg_url: str, cli: Cli, tmp_path: Path, wecom: WecomAppServer, moment: Moment
) -> None:
    from notifications.person_limits import reserve

    cli("init", "--plan", plan_with(tmp_path, {}), "--as-of", "2022-04-01")
    with AppClient(configured(), clock=moment) as one, AppClient(configured(), clock=moment) as two:
        assert one.access_token() == two.access_token()
    assert wecom.token_fetches == 1
    waits = [reserve("zhangsan", MORNING + timedelta(seconds=n)) for n in range(31)]
    assert waits[:30] == [None] * 30 and waits[30] == 30.0  # the first card's minute ends 30 s later
