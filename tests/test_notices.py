"""Notices as documents: a unit reads each request it signs for (签收) on its own page, with the text the
outbox sent it, who issued it and how to reach them, what it asks and by when; it signs one there or
all listed after a confirmation; another unit's notice is not found.

One district for the module, as a real programme makes it: the sample ledger, the December round
opened and chased, and the ladder run on the mornings the overdue items reach each level (PT2022-0003
and PT2022-0021 a day late on 1 December, ten working days on 14 December, twenty on 28 December).
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from conftest import PLAN, SAMPLE, Cli
from portal import csrf_of, quick_home, running_portal, sign_in

from duban.reporting.cycle import chase_submissions, escalate_overdue, open_period
from duban.signin import accounts

DAY = date(2023, 1, 16)  # the portal's day: the demo's last day
OFFICE_CONTACT = "联系人：区配套办工作专班（办公室联络员），电话：0391-8120000，邮箱：ptb@xxq.gov.cn"
OFFICE_FULL = "XX区社区配套设施规划建设管理工作领导小组办公室"
USERS = {
    "cg-zhang": ("城关街道", "张三", None),
    "xc-wang": ("西城街道", "王五", None),
    "mz-li": ("民政局", "李四", "reviewer"),
    "pt-zhao": ("区配套办", "赵六", None),
}


@dataclass
class World:
    home: Path
    base: str
    cli: Cli
    clients: dict[str, httpx.Client]

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with closing(sqlite3.connect(f"file:{self.home / 'duban.db'}?mode=ro", uri=True)) as db:
            return db.execute(sql, args).fetchall()

    def form(self, login: str, path: str) -> str:
        """The CSRF token of the page at `path`, as a browser has it."""
        return csrf_of(self.clients[login].get(path).text)


def build(home: Path) -> Cli:
    """The sample district up to 28 December 2022, its people given accounts that day (so no 签收 is yet
    late: the ladder for unsigned notices counts from the day an account is opened)."""
    cli = Cli()
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    for code, unit in (("PT2022-0003", "城关街道"), ("PT2022-0021", "西城街道")):
        cli("item", "transition", code, "--to", "in_progress", "--by", unit, "--as-of", "2022-05-02")
    open_period(date(2022, 12, 1))
    for day in (date(2022, 12, 1), date(2022, 12, 2), date(2022, 12, 5)):
        chase_submissions(day)
    for day in (date(2022, 12, 1), date(2022, 12, 14), date(2022, 12, 28)):
        escalate_overdue(day)
    for login, (unit, name, role) in USERS.items():
        role_option = ["--role", role] if role else []
        cli("user", "add", "--unit", unit, "--login", login, "--name", name, *role_option, "--as-of", "2022-12-28")
    with closing(sqlite3.connect(home / "duban.db")) as db, db:
        db.execute("UPDATE account SET must_change_password = 0")
    return cli


@contextmanager
def district(home: Path) -> Iterator[World]:
    """The district built, a portal on it pinned to DAY, everyone signed in."""
    with quick_home(home):
        cli = build(home)
        with running_portal(DAY) as base:
            clients = {login: sign_in(base, login, change_to=None) for login in USERS}
            try:
                yield World(home, base, cli, clients)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with district(tmp_path_factory.mktemp("notices") / "home") as made:
        yield made


def sent_text(page: str) -> list[str]:
    """The bodies of the messages shown on a notice page, as a reader sees them (tags gone, unescaped)."""
    return [html.unescape(body) for body in re.findall(r'<div class="pre">(.*?)</div>', page, re.S)]


def text_body(world: World, unit: str, key: str) -> str:
    """The text body the outbox holds for `unit` under the notify key `key` (its file channel: no contact
    channel is set for a township)."""
    ((body,),) = world.rows(
        "SELECT body FROM outbox WHERE recipient = ? AND idempotency_key LIKE ? AND channel IN ('file', 'email')",
        unit,
        key + "|%",
    )
    return body


def escalation_id(world: World, unit: str, cause_key: str, level: int) -> int:
    ((found,),) = world.rows(
        "SELECT id FROM escalation WHERE unit = ? AND cause_key = ? AND level = ?", unit, cause_key, level
    )
    return found


# -- a notice is read as it was sent ----------------------------------------------------------------------


def test_a_round_notice_shows_its_text_as_sent_its_issuer_what_it_asks_and_by_when(world: World) -> None:
    page = world.clients["cg-zhang"].get("/notices/round/2022-12")
    assert page.status_code == 200
    opened = text_body(world, "城关街道", "open:2022-12:城关街道")
    reminders = [text_body(world, "城关街道", f"remind:2022-12:城关街道:{n}") for n in (1, 0)]
    assert sent_text(page.text) == [opened, *reminders]  # the notice, then each reminder, in order sent
    assert opened.startswith("城关街道：\n\n2022年12月社区配套设施问题整治进度报送工作现已开始。\n")
    assert opened.endswith(f"\n\n{OFFICE_CONTACT}\n\n{OFFICE_FULL}\n2022年12月1日")  # the issuer's contact
    ((due, items),) = world.rows("SELECT due_on, items FROM submission WHERE period = '2022-12' AND unit = '城关街道'")
    due_day = date.fromisoformat(due)
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text, re.S))
    assert facts["下发单位"] == OFFICE_FULL
    assert facts["联系方式"] == OFFICE_CONTACT
    assert facts["下发日期"] == "2022年12月1日"
    late = ' <span class="tag tag-late">已逾期</span>'  # the portal's day is past it and the report is not in
    assert facts["办理时限"] == f"{due_day.year}年{due_day.month}月{due_day.day}日{late}"
    assert (
        facts["办理事项"] == f"逐项填报{items.count('PT2022-')}项问题的整治进度，报送教体局、民政局、商务局、卫健局审核"
    )
    assert '<a href="/reports/2022-12">2022年12月整治进度报送</a>' in facts["涉及"]
    assert "待签收" in facts["签收状态"]


def test_an_escalation_notice_shows_its_text_as_sent(world: World) -> None:
    found = escalation_id(world, "城关街道", "item:PT2022-0003@2022-11-30", 2)
    page = world.clients["cg-zhang"].get(f"/notices/escalation/{found}")
    assert page.status_code == 200
    ((notice,),) = world.rows("SELECT notice_key FROM escalation WHERE id = ?", found)
    body = text_body(world, "城关街道", notice)
    assert sent_text(page.text) == [body]  # the message that told the unit: one item at level 2 that day
    assert body.startswith(
        "城关街道：\n\n城关街道负责整改的问题PT2022-0003（文庙街社区，养老服务设施）完成时限为2022年11月30日，"
        "截至2022年12月14日仍未销号，已逾期10个工作日。\n现予以挂牌督办（第2级）。"
    )
    assert body.endswith(f"\n\n{OFFICE_CONTACT}\n\n{OFFICE_FULL}\n2022年12月14日")
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text, re.S))
    assert facts["督办级别"] == "挂牌督办（第2级）"
    assert facts["下发单位"] == OFFICE_FULL
    assert facts["办理时限"] == "立即办理"
    assert '<a href="/items/PT2022-0003">问题PT2022-0003</a>' in facts["涉及"]
    assert "联系人：民政局专班联络员，电话：0391-8120102，邮箱：mzj@xxq.gov.cn" in page.text  # its lead department


# -- 签收 ----------------------------------------------------------------------------------------------------


def test_signing_a_notice_on_its_page_records_who_and_when_once(world: World) -> None:
    found = escalation_id(world, "城关街道", "item:PT2022-0003@2022-11-30", 1)
    path = f"/notices/escalation/{found}"
    client = world.clients["cg-zhang"]
    token = world.form("cg-zhang", path)
    for _ in range(2):  # the second is a refresh of the first: nothing more is recorded
        answer = client.post(f"{path}/sign", data={"csrf_token": token})
        assert (answer.status_code, answer.headers["location"]) == (303, path)
        assert world.rows(
            "SELECT unit, person, acknowledged_on FROM acknowledgement WHERE request_kind = 'escalation' "
            "AND request_key = ?",
            str(found),
        ) == [("城关街道", "张三（城关街道）", "2023-01-16")]
    page = client.get(path).text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page, re.S))
    assert "张三（城关街道）于2023年1月16日签收" in facts["签收状态"]
    assert f'action="{path}/sign"' not in page  # no button once signed
    assert f'href="{path}"' not in client.get("/").text  # it left 待签收


def test_sign_all_signs_exactly_those_listed_after_a_confirmation(world: World) -> None:
    client = world.clients["xc-wang"]
    listed = client.get("/notices/sign-all").text
    keys = re.findall(r'<input type="hidden" name="n" value="([^"]+)">', listed)
    # independently: 西城街道's open escalations (not those about signing) and its December round, none signed
    escalations = world.rows(
        "SELECT id FROM escalation WHERE unit = '西城街道' AND resolved_on IS NULL AND cause != 'unacknowledged'"
    )
    expected = {f"escalation|{e}" for (e,) in escalations} | {"round|2022-12"}
    assert sorted(keys) == sorted(expected)
    # PT2022-0017, 0019 and 0022 long overdue (level 3 at once), 0021 at each level, the report, the round
    assert len(keys) == 1 + len(escalations) == 8
    assert f"签收以下<strong>{len(keys)}</strong>件通知" in listed
    assert world.rows("SELECT count(*) FROM acknowledgement WHERE unit = '西城街道'") == [(0,)]  # a GET signs nothing
    form = {"csrf_token": csrf_of(listed), "n": keys}
    done = client.post("/notices/sign-all", data=form)
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert f"已签收{len(keys)}件通知。" in client.get("/").text
    assert world.rows("SELECT count(*) FROM acknowledgement WHERE unit = '西城街道'") == [(len(keys),)]
    again = client.post("/notices/sign-all", data=form)  # a refresh of the POST
    assert again.status_code == 303
    assert world.rows("SELECT count(*) FROM acknowledgement WHERE unit = '西城街道'") == [(len(keys),)]
    assert "所列通知均已签收，本次未重复签收。" in client.get("/").text
    assert "待签收的通知" not in client.get("/").text
    assert "目前没有待签收的通知。" in client.get("/notices/sign-all").text


def test_another_units_notice_is_not_found_and_cannot_be_signed(world: World) -> None:
    theirs = escalation_id(world, "城关街道", "item:PT2022-0003@2022-11-30", 3)
    client = world.clients["xc-wang"]
    assert client.get(f"/notices/escalation/{theirs}").status_code == 404
    token = world.form("xc-wang", "/notices")
    assert client.post(f"/notices/escalation/{theirs}/sign", data={"csrf_token": token}).status_code == 404
    assert client.get("/notices/round/2099-01").status_code == 404
    assert client.get("/notices/nonsense/1").status_code == 404
    # through 全部签收's form too: a key that is not the unit's is passed over
    answer = client.post("/notices/sign-all", data={"csrf_token": token, "n": f"escalation|{theirs}"})
    assert answer.status_code == 303
    assert world.rows("SELECT count(*) FROM acknowledgement WHERE request_key = ?", str(theirs)) == [(0,)]
    # the row's 签收 on 待办 refuses it as well, and answers with a redirect
    refused = client.post("/acknowledge", data={"csrf_token": token, "kind": "escalation", "key": str(theirs)})
    assert (refused.status_code, refused.headers["location"]) == (303, "/")
    assert "该事项不是本单位待签收的事项" in client.get("/").text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/notices/escalation/%C2%B2", 404),  # ² passes str.isdigit() and fails int()
        ("/notices/campaign/%E2%91%A0", 404),  # ①
        ("/notices/gate/XM2022-001:planning:r%C2%B2", 404),
        ("/notices/escalation/99999999999999999999", 404),  # beyond what a database id holds
        ("/campaigns/99999999999999999999999", 422),
        ("/campaigns/99999999999999999999999/export.xlsx", 422),
        ("/items/PT2022-0001/evidence/99999999999999999999", 422),
    ],
)
def test_odd_numbers_in_an_address_are_refused_inside_the_layout(world: World, path: str, status: int) -> None:
    page = world.clients["cg-zhang"].get(path)
    assert page.status_code == status
    assert '<nav class="menu">' in page.text  # a page of the portal, not a server error
