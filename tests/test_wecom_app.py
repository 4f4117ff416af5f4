"""The WeCom self-built app: its client (shared token, typed errors, sign-in codes, address book) and the
`wecom_app` channel, against the look-alike in `wecom_app_fake` (a real HTTP server on 127.0.0.1).

Expected values are counted here by hand from what the look-alike received, not from duban.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from conftest import Cli
from fakes import FakeClock
from wecom_app_fake import WecomAppServer

from duban.config import TZ
from duban.wecom.client import AppClient, Misconfigured, Refused
from duban.wecom.config import WecomConfigError, configured

MORNING = datetime(2022, 10, 10, 9, 0, tzinfo=TZ)  # a Monday, in office hours


class Moment:
    """One clock for duban (aware datetimes) and the look-alike (seconds), moved together."""

    def __init__(self, start: datetime) -> None:
        self.start, self.fake = start, FakeClock()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.fake())

    def advance(self, **delta: float) -> None:
        self.fake.advance(timedelta(**delta).total_seconds())


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
