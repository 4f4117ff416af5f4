"""考核 on the portal, against a real portal on loopback: the Office and the leaders read every unit's score
and rank, a unit only its own (another's reads as not there), a unit contests a line, the Office strikes
it and the score rises by exactly the line's points; hostile text stays text; then in a real browser on
a phone and an office PC.

The world is tests/test_assessment.py's October (the small ledger; 河东镇 reports late and is returned,
河西镇 never reports, 民政局 reports on time; the 10-13 sweep), whose scores that module computes by hand
from the plan's rules: on 10-31, 河东镇 87 (11th of 12 townships), 河西镇 78.5 (12th), 民政局 92 (6th of 8
departments); the ten other townships lose only their 工作专班 document (-2, its level-3 escalation -2,
a red card -3): 93, first.
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
from urllib.parse import quote

import httpx
import pytest
from conftest import PLAN, Cli
from playwright.sync_api import Browser, BrowserContext, Page, expect
from portal import Portal, quick_home, running_portal, sign_in, token
from reporting_helpers import load_small_ledger, review, submit
from test_assessment import HEDONG, october_steps
from test_portal_browser import add_users, device, follow, inert, press, rows_of, shot
from test_portal_browser import sign_in as browser_sign_in
from test_portal_extensions import serious
from test_portal_pages import DESKTOP, PHONE

from duban.signin import accounts

USERS = {
    "hd-zhao": ("河东镇", None),
    "hx-qian": ("河西镇", None),
    "mz-wang": ("民政局", "reviewer"),
    "pt-staff": ("区配套办", None),
    "qz-liu": ("区长", None),
}
RETURNED = "report_returned:2022-10:v1:民政局:2022-10-12"  # 河东镇's report returned by 民政局: -0.5
HEXI_MISSING = "report_missing:2022-10:河西镇:2022-10-31"
HOSTILE = '<script>alert(1)</script>=HYPERLINK("http://e.vil","点我")'
SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;=HYPERLINK(&#34;http://e.vil&#34;,&#34;点我&#34;)"
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
NOTICE = re.compile(r'<p class="notice" role="status">(.*?)</p>', re.S)
ROW = re.compile(
    r'<td data-label="排名" class="num">(\d+)</td>\s*<td data-label="单位"><a href="([^"]+)">([^<]+)</a></td>\s*'
    r'<td data-label="得分" class="num">([^<]+)</td>'
)
OTHER_TOWNSHIPS = [
    "城关街道",
    "东城街道",
    "西城街道",
    "南关街道",
    "北关街道",
    "新城街道",
    "青山镇",
    "白云镇",
    "石桥镇",
    "柳林镇",
]


@dataclass
class World:
    home: Path
    portal: Portal
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]


def october_walk(cli: Cli, work: Path) -> None:
    """tests/test_assessment.py's October, then the accounts (opened after the month, so that no notice is
    asked of anyone in it)."""
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    october_steps(cli, work)
    for login, (unit, role) in USERS.items():
        role_option = ["--role", role] if role else []
        cli(
            "user",
            "add",
            "--unit",
            unit,
            "--login",
            login,
            "--name",
            f"{login}名",
            *role_option,
            "--as-of",
            "2022-11-01",
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("portal-assessment")
    home = work / "home"
    with quick_home(home):
        october_walk(Cli(), work)
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(date(2022, 10, 31)) as portal:
            clients = {login: sign_in(portal, login, change_to=None) for login in USERS}
            tokens = {login: token(client) for login, client in clients.items()}
            try:
                yield World(home, portal, clients, tokens)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


def get(world: World, login: str, path: str, status: int = 200) -> str:
    response = world.clients[login].get(path)
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    return response.text


def post(world: World, login: str, path: str, status: int = 303, **data: str) -> httpx.Response:
    response = world.clients[login].post(path, data={"csrf_token": world.tokens[login], **data})
    assert response.status_code == status, response.text[:300]
    return response


def landed(world: World, login: str, response: httpx.Response) -> str:
    return get(world, login, response.headers["location"].split("#")[0])


def said(page: str, pattern: re.Pattern = ERROR) -> str:
    found = pattern.search(page)
    return html.unescape(found.group(1)) if found else ""


def scores(page: str) -> dict[str, tuple[int, str]]:
    return {unit: (int(rank), score) for rank, _link, unit, score in ROW.findall(page)}


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def page_of(unit: str, period: str = "2022-10") -> str:
    return f"/assessment/{quote(unit)}?period={period}"


def test_the_office_and_the_leaders_see_every_units_score_and_rank(world: World) -> None:
    world.portal.set_day(date(2022, 10, 31))
    for login in ("pt-staff", "qz-liu"):
        page = get(world, login, "/assessment")  # this month by default
        assert "<h1>考核 · 2022年10月</h1>" in page
        shown = scores(page)
        assert shown["河东镇"] == (11, "87分")
        assert shown["河西镇"] == (12, "78.5分")
        assert shown["民政局"] == (6, "92分")
        assert all(shown[name] == (1, "93分") for name in OTHER_TOWNSHIPS)
        assert len(shown) == 20  # 12 townships, 8 departments
        assert ROW.search(page).group(2) == "/assessment/%E5%9F%8E%E5%85%B3%E8%A1%97%E9%81%93?period=2022-10"
        # 河西镇's cards: the missing report's yellow, then three reds (see test_assessment)
        assert '黄牌1张</span> <span class="tag card-red">红牌3张' in page
        assert "None" not in page and "Decimal" not in page
    # the quarter as a choice: the same scores here (nothing happened before October)
    assert scores(get(world, "pt-staff", "/assessment?period=2022-Q4"))["河西镇"] == (12, "78.5分")
    # a department's own page, through the Office's link
    page = get(world, "pt-staff", page_of("民政局"))
    assert "<strong>92分</strong>" in page and "第6名（共8个牵头部门）" in page


def test_a_unit_sees_only_its_own_score_with_every_line(world: World) -> None:
    world.portal.set_day(date(2022, 10, 31))
    hd = world.clients["hd-zhao"]
    led = hd.get("/assessment")
    assert led.status_code == 303 and led.headers["location"] == "/assessment/%E6%B2%B3%E4%B8%9C%E9%95%87?period="
    page = get(world, "hd-zhao", led.headers["location"])
    assert "<h1>河东镇考核 · 2022年10月</h1>" in page
    assert "<strong>87分</strong>" in page and "第11名（共12个镇办）" in page
    lines = re.findall(
        r'<td data-label="日期" class="date">([^<]+)</td>\s*<td data-label="事由">([^<]+)</td>\s*'
        r'<td data-label="分值" class="num">([^<]+)</td>\s*<td data-label="承担方式">([^<]+)</td>',
        page,
    )
    assert sorted(lines) == sorted(
        [
            ("2022年10月11日", "报表逾期报送", "-1.5", "主办"),
            ("2022年10月12日", "报表被退回", "-0.5", "主办"),
            ("2022年10月13日", "红牌警示", "-3", "主办"),
            ("2022年10月13日", "黄牌警示", "-1", "主办"),
            ("2022年10月13日", "被督办", "-2", "主办"),
            ("2022年10月13日", "被督办", "-1", "主办"),
            ("2022年10月13日", "长效机制文件逾期", "-2", "主办"),
            ("2022年10月31日", "问题逾期未完成整改", "-1", "主办"),
            ("2022年10月31日", "问题逾期未完成整改", "-1", "主办"),
        ]
    )
    assert page.count('<button type="submit" class="secondary">提出申诉</button>') == 9  # one form a line
    assert '<a href="/items/A-2">' in page  # each line leads to its item, report or document
    # the trend: nothing before October, then 87 and 11th
    trend = re.findall(r'\?period=(2022-\d\d)">[^<]+</a></td><td data-label="得分" class="num">([^<]+)</td>'
                       r'<td data-label="排名" class="num">([^<]+)</td>', page)  # fmt: skip
    assert trend == [(f"2022-{m:02d}", "100分", "第1名") for m in range(4, 10)] + [("2022-10", "87分", "第11名")]
    offered = re.findall(r'<option value="([^"]+)"', page)  # the programme's periods begun by 10-31, newest first
    assert offered == [*(f"2022-{m:02d}" for m in range(10, 3, -1)), "2022-Q4", "2022-Q3", "2022-Q2", "2022"]
    # another unit's page, the appeals, an unknown unit: not there, or not for a unit
    assert hd.get(page_of("河西镇")).status_code == 404
    assert hd.get(page_of("民政局")).status_code == 404
    assert hd.get(page_of("某某镇")).status_code == 404
    assert hd.get("/assessment/appeals").status_code == 403
    assert world.clients["pt-staff"].get(page_of("某某镇")).status_code == 404
    assert world.clients["mz-wang"].get(page_of("河东镇")).status_code == 404
    mz = get(world, "mz-wang", page_of("民政局"))
    assert "<strong>92分</strong>" in mz and "协办" in mz  # overdue, as their lead department
    # a leader reads, with no form to contest or decide
    leader = get(world, "qz-liu", page_of("河东镇"))
    assert "<strong>87分</strong>" in leader and '<form method="post" action="/assessment' not in leader


def test_a_bad_or_future_period_is_a_clear_message(world: World) -> None:
    world.portal.set_day(date(2022, 10, 31))
    page = get(world, "pt-staff", "/assessment?period=2022-13", status=400)
    assert said(page) == "考核期格式有误，应为 2022-10（月）、2022-Q4（季度）或 2022（年度）"
    page = get(world, "pt-staff", "/assessment?period=" + quote("请致电400-000-0000"), status=400)
    assert "400-000-0000" not in page  # what a link typed is not repeated on the page
    page = get(world, "hd-zhao", page_of("河东镇", "2022-11"), status=400)
    assert said(page) == "2022年11月尚未开始，没有考核结果；请选择已开始的月份、季度或年度"
    assert '<option value="2022-10">2022年10月</option>' in page  # the chooser is still there


def test_a_township_contests_a_line_and_the_office_strikes_it(world: World) -> None:
    world.portal.set_day(date(2022, 11, 1))
    appeal = f"/assessment/{quote('河东镇')}/appeal"
    # refused: no reason (the form comes back), another unit's line, another unit's address, the Office
    empty = post(world, "hd-zhao", appeal, key=RETURNED, reason="  ", period="2022-10")
    assert empty.headers["location"] == "/assessment/%E6%B2%B3%E4%B8%9C%E9%95%87?period=2022-10#appeal-form"
    assert said(landed(world, "hd-zhao", empty)) == "提出申诉须说明理由"
    theirs = post(world, "hd-zhao", appeal, key=HEXI_MISSING, reason="不是我们的", period="2022-10")
    page = landed(world, "hd-zhao", theirs)
    assert said(page) == f"河东镇的考核结果中没有扣分项“{HEXI_MISSING}”"
    assert "你填写的申诉理由：不是我们的" in page  # what was typed is kept
    post(world, "hd-zhao", f"/assessment/{quote('河西镇')}/appeal", 404, key=HEXI_MISSING, reason="代为申诉")
    post(world, "pt-staff", appeal, 403, key=RETURNED, reason="代为申诉")
    post(world, "qz-liu", appeal, 403, key=RETURNED, reason="代为申诉")
    assert query(world, "SELECT count(*) FROM assessment_appeal") == [(0,)]

    for notice in ("已提出申诉，编号1，待区配套办裁定。", "该扣分项已提出申诉（编号1），本次未重复申诉。"):
        sent = post(world, "hd-zhao", appeal, key=RETURNED, reason=HOSTILE, period="2022-10")
        page = landed(world, "hd-zhao", sent)
        assert said(page, NOTICE) == notice
    assert SHOWN in page and "<script>alert(1)" not in page
    assert '<span class="tag tag-late">待裁定</span>（编号1）' in page
    assert page.count('<button type="submit" class="secondary">提出申诉</button>') == 8  # the contested line has none
    # a second, different appeal on the same line: refused, the reason kept beside the line
    again = post(world, "hd-zhao", appeal, key=RETURNED, reason="补充理由", period="2022-10")
    page = landed(world, "hd-zhao", again)
    assert said(page) == "河东镇已于2022-11-01对该扣分项提出申诉（编号1），不能重复申诉"
    assert ">补充理由</textarea>" in page
    assert query(world, "SELECT id, unit, line_key, state, reason FROM assessment_appeal") == [
        (1, "河东镇", RETURNED, "pending", HOSTILE)
    ]

    # the Office: 待办 counts it, the list shows it, and it decides
    world.portal.set_day(date(2022, 11, 3))
    assert "待裁定的考核申诉（1）" in get(world, "pt-staff", "/")
    listing = get(world, "pt-staff", "/assessment/appeals")
    assert "待裁定（1）" in listing and SHOWN in listing and "2022年10月12日报表被退回" in listing
    decide = "/assessment/appeals/1/decide"
    assert f'action="{decide}"' in get(world, "pt-staff", page_of("河东镇"))  # also beside the line
    assert f'action="{decide}"' not in get(world, "qz-liu", page_of("河东镇"))
    there = post(world, "pt-staff", decide, decision="strike", reason="", **{"from": "unit"})
    assert there.headers["location"] == "/assessment/%E6%B2%B3%E4%B8%9C%E9%95%87?period=2022-10#appeal-1"
    post(world, "qz-liu", decide, 403, decision="strike", reason="领导代为裁定")
    post(world, "hd-zhao", decide, 403, decision="strike", reason="自行裁定")
    blank = post(world, "pt-staff", decide, decision="strike", reason="")
    assert said(landed(world, "pt-staff", blank)) == "裁定申诉须说明理由"
    for notice in ("已裁定河东镇的申诉1：撤销扣分，该项不再计分。", "申诉1已裁定，本次未重复登记。"):
        struck = post(world, "pt-staff", decide, decision="strike", reason="退回系因部门误判。")
        assert said(landed(world, "pt-staff", struck), NOTICE) == notice
    changed = post(world, "pt-staff", decide, decision="uphold", reason="改判")
    assert said(landed(world, "pt-staff", changed)) == "申诉1已于2022-11-03裁定为“撤销扣分”"
    assert "待裁定的考核申诉" not in get(world, "pt-staff", "/")

    # the score rises by exactly the line's 0.5; the line stays shown, struck, with the answer
    assert scores(get(world, "pt-staff", "/assessment?period=2022-10"))["河东镇"] == (11, "87.5分")
    page = get(world, "hd-zhao", page_of("河东镇"))
    assert "<strong>87.5分</strong>" in page and "<del>-0.5</del> 0" in page
    assert "裁定理由：退回系因部门误判。" in page and '<span class="tag">撤销扣分</span>（编号1）' in page
    assert query(
        world, "SELECT actor, action, person, via FROM audit_entry WHERE subject = 'assessment_appeal' ORDER BY id"
    ) == [("河东镇", "appeal", "hd-zhao名", "portal"), ("区配套办", "appeal_struck", "pt-staff名", "portal")]


# -- in a real browser: the township on a phone, the Office on an office PC -----------------------------

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_in_a_browser_a_township_contests_a_line_and_the_office_strikes_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
    load_small_ledger(cli, tmp_path)
    cli("tick", "--as-of", "2022-10-01")
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-11", HEDONG)
    submit(cli, tmp_path, "民政局", "2022-10", "2022-10-10")
    review(cli, "民政局", "河东镇", "2022-10-12", accept=False, reason="进度与实际不符。")
    cli("tick", "--as-of", "2022-10-13")
    add_users(cli, monkeypatch, ("河东镇", "hd-zhao", "赵六"), ("区配套办", "pt-wang", "王五"))
    with running_portal(date(2022, 11, 1)) as portal:
        township = device(browser, people, PHONE)
        browser_sign_in(township, portal.url, "hd-zhao", first=True)
        follow(township, township.locator("nav.menu").get_by_role("link", name="考核"))
        expect(township.locator("main h1")).to_have_text("河东镇考核 · 2022年11月")  # this month by default
        choose_october(township)
        expect(township.locator("section.summary strong")).to_have_text("87分")
        assert serious(township) == []
        shot(township, "assessment-unit-phone.png", full_page=True)
        row = township.locator("table.lines tbody tr", has_text="报表被退回")
        row.locator("summary", has_text="申诉").click()  # the form opens under its line
        row.get_by_label("申诉理由").fill(XSS)
        shot(township, "assessment-contest-phone.png")
        press(township, row.get_by_role("button", name="提出申诉"))
        expect(township.locator("p.notice")).to_have_text("已提出申诉，编号1，待区配套办裁定。")
        row = township.locator("table.lines tbody tr", has_text="报表被退回")
        expect(row.locator("td[data-label='申诉'] .pre").first).to_have_text(f"申诉理由：{XSS}")
        inert(township)
        assert serious(township) == []
        shot(township, "assessment-contested-phone.png", full_page=True)

        portal.set_day(date(2022, 11, 3))
        office = device(browser, people, DESKTOP)
        browser_sign_in(office, portal.url, "pt-wang", first=True)
        expect(office.locator("main")).to_contain_text("待裁定的考核申诉（1）")
        follow(office, office.get_by_role("link", name="逐项维持或撤销扣分"))
        inert(office)
        assert serious(office) == []
        shot(office, "assessment-appeals-desktop.png", full_page=True)
        office.get_by_label("裁定理由（必填）").fill("退回系因部门误判。")
        press(office, office.get_by_role("button", name="撤销扣分"))
        expect(office.locator("p.notice")).to_have_text("已裁定河东镇的申诉1：撤销扣分，该项不再计分。")
        follow(office, office.locator("nav.menu").get_by_role("link", name="考核"))
        choose_october(office)
        townships = rows_of(office.locator("table[aria-label='镇办考核得分及排名']"))
        assert ["11", "河东镇", "87.5分", "-12.5", "0", "黄牌1张 红牌1张", "—"] in townships
        assert serious(office) == []
        shot(office, "assessment-overview-desktop.png", full_page=True)

        township.reload()
        expect(township.locator("section.summary strong")).to_have_text("87.5分")
        row = township.locator("table.lines tbody tr", has_text="报表被退回")
        expect(row.locator("del")).to_have_text("-0.5")
        shot(township, "assessment-struck-phone.png", full_page=True)
        desk = device(browser, people, DESKTOP)  # the township's page on an office PC
        browser_sign_in(desk, portal.url, "hd-zhao", first=False)
        follow(desk, desk.locator("nav.menu").get_by_role("link", name="考核"))
        choose_october(desk)
        expect(desk.locator("section.summary strong")).to_have_text("87.5分")
        assert serious(desk) == []
        shot(desk, "assessment-unit-desktop.png", full_page=True)
        for page in (township, office, desk):
            assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def choose_october(page: Page) -> None:
    page.get_by_label("考核期").select_option("2022-10")
    press(page, page.get_by_role("button", name="查看"))
    expect(page.locator("main h1")).to_contain_text("2022年10月")
