"""Extension requests (延期申请) on the portal, against a real portal on loopback: a township asks from the
item's page (the rule shown, a refusal coming back with what was typed), the lead department and the
Office decide on /extensions (an earlier date, a refusal needs its reason), 待办 and the notices show what
awaits a unit, another unit's request reads as not there, and hostile text stays text.

One database for the module: the sample ledger; the portal's day moves as the test walks through
November 2022. PT2022-0003 (城关街道, led by 民政局) is due 2022-11-30, PT2022-0007 (城关街道, 商务局) 2022-08-31.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import PLAN, SAMPLE, Cli
from playwright.sync_api import Browser, BrowserContext, Page, expect
from portal import Portal, quick_home, running_portal, sign_in, token
from test_portal_browser import add_users, device, follow, inert, press, rows_of, shot
from test_portal_browser import sign_in as browser_sign_in
from test_portal_pages import DESKTOP, PHONE

from duban.signin import accounts

USERS = {
    "cg-zhang": ("城关街道", None),
    "hd-zhao": ("河东镇", None),
    "mz-wang": ("民政局", "reviewer"),
    "pt-staff": ("区配套办", None),
}
HOSTILE = '<script>alert(1)</script>=HYPERLINK("http://e.vil")**x**](http://e.vil)'
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
SHOWN = (  # as an autoescaped page writes it (quotes as numeric references)
    "&lt;script&gt;alert(1)&lt;/script&gt;=HYPERLINK(&#34;http://e.vil&#34;)**x**](http://e.vil)"
)
NOTICE = re.compile(r'<p class="notice" role="status">(.*?)</p>', re.S)


@dataclass
class World:
    home: Path
    portal: Portal
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("portal-extensions") / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role) in USERS.items():
            cli(
                "user",
                "add",
                "--unit",
                unit,
                "--login",
                login,
                "--name",
                f"{login}名",
                *(["--role", role] if role else []),
            )
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(date(2022, 11, 1)) as portal:
            clients = {login: sign_in(portal, login, change_to=None) for login in USERS}
            tokens = {login: token(client) for login, client in clients.items()}
            try:
                yield World(home, portal, clients, tokens)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


def post(world: World, login: str, path: str, **data: str) -> httpx.Response:
    response = world.clients[login].post(path, data={"csrf_token": world.tokens[login], **data})
    assert response.status_code == 303, response.text
    return response


def landed(world: World, login: str, response: httpx.Response) -> str:
    return world.clients[login].get(response.headers["location"].split("#")[0]).text


def said(page: str, pattern: re.Pattern = ERROR) -> str:
    found = pattern.search(page)
    return html.unescape(found.group(1)) if found else ""


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def test_a_township_asks_and_the_lead_department_and_the_office_decide(world: World) -> None:
    world.portal.set_day(date(2022, 11, 1))
    item = world.clients["cg-zhang"].get("/items/PT2022-0003").text
    assert "申请延期" in item and "本问题还可申请2次" in item
    assert "延期申请须在期限届满前（最迟于期限当日）提出" in item
    asked = post(
        world, "cg-zhang", "/items/PT2022-0003/extension", until="2022-12-20", reason=HOSTILE, progress="已完成设计"
    )
    assert asked.headers["location"] == "/extensions/1"
    page = landed(world, "cg-zhang", asked)
    assert said(page, NOTICE) == "已提出延期申请，待民政局审批。"
    assert SHOWN in page and "<script>alert(1)" not in page
    # the same form sent again files nothing new
    again = post(
        world, "cg-zhang", "/items/PT2022-0003/extension", until="2022-12-20", reason=HOSTILE, progress="已完成设计"
    )
    assert said(landed(world, "cg-zhang", again), NOTICE) == "该延期申请已提出，本次未重复申请。"
    assert query(world, "SELECT count(*), person FROM extension_request") == [(1, "cg-zhang名（城关街道）")]
    # another township: not there
    assert world.clients["hd-zhao"].get("/extensions/1").status_code == 404
    assert "PT2022-0003" not in world.clients["hd-zhao"].get("/extensions").text
    # the lead department: on its 待办, among its notices, on /extensions with the forms
    world.portal.set_day(date(2022, 11, 2))
    todo = world.clients["mz-wang"].get("/").text
    assert "待本单位审批的延期申请（1）" in todo and 'href="/extensions/1"' in todo
    assert "问题PT2022-0003延期申请审批通知" in world.clients["mz-wang"].get("/notices").text
    notice = world.clients["mz-wang"].get("/notices/extension/1:s0").text
    assert "延期理由" in notice and SHOWN in notice
    listing = world.clients["mz-wang"].get("/extensions").text
    assert "待本单位审批（1）" in listing and 'value="2022-12-20"' in listing  # the date asked, by default
    refused = post(world, "mz-wang", "/extensions/1/decide", decision="refuse", reason="")
    assert said(landed(world, "mz-wang", refused)) == "不同意延期须说明理由"
    late = post(world, "mz-wang", "/extensions/1/decide", decision="approve", until="2022-12-31")
    page = landed(world, "mz-wang", late)
    assert said(page) == "批准的日期（2022年12月31日）不能晚于申请延期至的日期（2022年12月20日）"
    assert 'value="2022-12-31"' in page  # what was typed comes back
    approved = post(world, "mz-wang", "/extensions/1/decide", decision="approve", until="2022-12-15", reason="")
    assert said(landed(world, "mz-wang", approved), NOTICE) == "已同意，转下一审批单位审批。"
    # the township sees whom it waits for
    assert "区配套办审批" in world.clients["cg-zhang"].get("/").text
    # the Office decides; the plan is revised
    world.portal.set_day(date(2022, 11, 3))
    office = world.clients["pt-staff"].get("/extensions/1").text
    assert 'value="2022-12-15"' in office  # the date the lead department approved
    granted = post(world, "pt-staff", "/extensions/1/decide", decision="approve", until="2022-12-15")
    assert said(landed(world, "pt-staff", granted), NOTICE) == "已批准延期，整治方案已修订。"
    assert query(world, "SELECT deadline, plan_revision FROM ledger_item WHERE code = 'PT2022-0003'") == [
        ("2022-12-15", 2)
    ]
    item = world.clients["cg-zhang"].get("/items/PT2022-0003").text
    assert "2022年12月15日" in item and "已批准延期" in item and "本问题还可申请1次" in item
    assert query(world, "SELECT action, person, via FROM audit_entry WHERE subject = 'extension' ORDER BY id") == [
        ("request", "cg-zhang名", "portal"),
        ("approve", "mz-wang名", "portal"),
        ("approve", "pt-staff名", "portal"),
        ("granted", "pt-staff名", "portal"),
    ]
    # the answer is the township's notice to sign
    assert "问题PT2022-0003延期申请审批结果通知" in world.clients["cg-zhang"].get("/notices").text
    signed = post(world, "cg-zhang", "/notices/extension/1:answer/sign")
    assert said(landed(world, "cg-zhang", signed), NOTICE) == "已签收。"
    assert query(world, "SELECT unit FROM acknowledgement WHERE request_kind = 'extension'") == [("城关街道",)]


def test_a_request_after_the_deadline_comes_back_with_what_was_typed(world: World) -> None:
    world.portal.set_day(date(2022, 9, 1))
    refused = post(
        world, "cg-zhang", "/items/PT2022-0007/extension", until="2022-09-30", reason="资金未到位", progress="已招标"
    )
    assert refused.headers["location"] == "/items/PT2022-0007#extension"
    page = landed(world, "cg-zhang", refused)
    assert said(page) == (
        "问题PT2022-0007的完成时限为2022年8月31日，已过期限，不能再申请延期：延期申请须在期限届满前（最迟于期限当日）提出"
    )
    assert "资金未到位" in page and "已招标" in page and 'value="2022-09-30"' in page
    assert query(world, "SELECT count(*) FROM extension_request WHERE item_code = 'PT2022-0007'") == [(0,)]


def test_who_may_ask_and_decide(world: World) -> None:
    world.portal.set_day(date(2022, 8, 1))
    # the Office decides, it does not ask; another township does not see the item
    office = world.clients["pt-staff"].post(
        "/items/PT2022-0007/extension",
        data={"csrf_token": world.tokens["pt-staff"], "until": "2022-09-30", "reason": "x", "progress": "y"},
    )
    assert office.status_code == 403
    other = world.clients["hd-zhao"].post(
        "/items/PT2022-0007/extension",
        data={"csrf_token": world.tokens["hd-zhao"], "until": "2022-09-30", "reason": "x", "progress": "y"},
    )
    assert other.status_code == 404
    assert "提交延期申请" not in world.clients["pt-staff"].get("/items/PT2022-0007").text


# -- in a real browser, on a phone and on an office PC ---------------------------------------------------

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def serious(page: Page) -> list[str]:
    """axe-core's findings of impact serious or critical on the page."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} {v['impact']}" for v in found if v["impact"] in ("serious", "critical")]


def test_in_a_browser_a_township_asks_and_the_lead_department_and_the_office_decide(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    add_users(
        imported,
        monkeypatch,
        ("城关街道", "cg-zhang", "张三"),
        ("民政局", "mz-li", "李四", "reviewer"),
        ("区配套办", "pt-wang", "王五"),
    )
    with running_portal(date(2022, 11, 1)) as portal:
        township = device(browser, people, PHONE)
        browser_sign_in(township, portal.url, "cg-zhang", first=True)
        township.goto(portal.url + "/items/PT2022-0003")
        expect(township.locator("#extension")).to_be_visible()
        township.get_by_label("申请延期至").fill("2022-12-20")
        township.get_by_label("延期理由").fill(XSS)
        township.get_by_label("目前进展").fill("已完成改造设计，正在办理施工许可。")
        shot(township, "extension-ask-phone.png", full_page=True)
        press(township, township.get_by_role("button", name="提交延期申请"))
        assert township.url.endswith("/extensions/1")
        expect(township.locator("p.notice")).to_have_text("已提出延期申请，待民政局审批。")
        expect(township.locator("dd.pre").first).to_have_text(XSS)
        inert(township)
        assert serious(township) == []
        shot(township, "extension-asked-phone.png", full_page=True)

        portal.set_day(date(2022, 11, 2))
        department = device(browser, people, DESKTOP)
        browser_sign_in(department, portal.url, "mz-li", first=True)
        follow(department, department.locator("nav.menu").get_by_role("link", name="延期申请"))
        expect(department.locator("main h2").first).to_have_text("待本单位审批（1）")
        assert department.get_by_label("同意延期至").input_value() == "2022-12-20"
        department.get_by_label("同意延期至").fill("2022-12-15")
        inert(department)
        assert serious(department) == []
        shot(department, "extension-decide-desktop.png", full_page=True)
        press(department, department.get_by_role("button", name="同意", exact=True))
        expect(department.locator("p.notice")).to_have_text("已同意，转下一审批单位审批。")

        portal.set_day(date(2022, 11, 3))
        office = device(browser, people, PHONE)
        browser_sign_in(office, portal.url, "pt-wang", first=True)
        office.goto(portal.url + "/extensions/1")
        assert office.get_by_label("同意延期至").input_value() == "2022-12-15"
        assert serious(office) == []
        shot(office, "extension-office-phone.png", full_page=True)
        press(office, office.get_by_role("button", name="同意", exact=True))
        expect(office.locator("p.notice")).to_have_text("已批准延期，整治方案已修订。")
        expect(office.locator("h1 .tag").first).to_have_text("已批准延期")

        township.goto(portal.url + "/items/PT2022-0003")
        expect(township.locator("section.summary")).to_contain_text("2022年12月15日")
        steps = rows_of(township.locator("#extension ~ .table-wrap table").first)
        assert steps == [
            ["第1号", "PT2022-0003", "城关街道", "2022-11-30", "2022-12-20", "2022-12-15", "已批准延期", "—"]
        ]
        shot(township, "extension-granted-phone.png", full_page=True)
        for page in (township, department, office):
            assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
