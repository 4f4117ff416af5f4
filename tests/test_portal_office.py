"""The Office's pages over real HTTP and in a real browser: the campaign form refuses before it counts
and keeps what was typed, the outbox and the bulletins speak the glossary's words, a bulletin downloads
under its Chinese title, and the dashboard's charts stay readable and whole on a phone and a desktop.

One database for the module: the sample ledger, the May and June rounds, two monthly bulletins (the
trend has two months), messages in the outbox in every state.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from chinese_calendar.constants import holidays
from conftest import EVIDENCE, PLAN, SAMPLE, Cli
from playwright.sync_api import Browser, BrowserContext
from portal import PASSWORD, quick_home, running_portal, sign_in, token
from test_portal_browser import device, press, shot

from duban.signin import accounts

DAY = date(2022, 6, 15)  # the portal's day
ACCOUNTS = {"pt-staff": ("区配套办", "staff"), "qz-liu": ("区长", "leader"), "cg-zhang": ("城关街道", "clerk")}
TITLES = {  # the bulletins' titles, as the plan's wording makes them
    1: "关于2022年5月全区社区配套设施问题整治工作进展情况的通报",
    2: "关于2022年6月全区社区配套设施问题整治工作进展情况的通报",
}
RAW = re.compile(r"\b(sent|queued|sending|failed|dead|email|wecom|file|docx|pdf|xlsx|none|true|false)\b", re.I)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


@dataclass
class World:
    home: Path
    base: str
    office: httpx.Client
    csrf: str
    newest: list[int]  # the outbox's newest five: sent, sent, failed, dead, sending


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("portal-office") / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role) in ACCOUNTS.items():
            cli("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名", "--role", role)
        cli("tick", "--as-of", "2022-05-01")
        cli("bulletin", "--period", "2022-05", "--as-of", "2022-05-16")
        for code, lead in (("PT2022-0061", "教体局"), ("PT2022-0062", "民政局")):  # 柳林镇 done: a bar of 100 %
            on = ["--as-of", "2022-05-20"]
            cli("item", "transition", code, "--to", "in_progress", "--by", "柳林镇", *on)
            cli(
                "item",
                "transition",
                code,
                "--to",
                "close_requested",
                "--by",
                "柳林镇",
                "--note",
                "已整改",
                "--evidence",
                EVIDENCE,
                *on,
            )
            cli("item", "transition", code, "--to", "verified", "--by", lead, *on)
            cli("item", "transition", code, "--to", "closed", "--by", "区配套办", *on)
        cli("tick", "--as-of", "2022-06-01")
        cli("bulletin", "--period", "2022-06", "--as-of", "2022-06-15")
        scope = ["--township", "城关街道", "--category", "社区用房", "--due", "2022-06-24", "--as-of", "2022-06-14"]
        cli("campaign", "start", "--title", "城关街道社区用房督导", *scope)  # campaign 1
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
            # the newest messages (the outbox's first page) in every state, as the sender leaves them (no mail
            # server in this module)
            newest = [n for (n,) in db.execute("SELECT id FROM outbox ORDER BY id DESC LIMIT 5")]
            for status, ids in (("sent", newest[:2]), ("failed", newest[2:3]), ("dead", newest[3:4])):
                db.executemany("UPDATE outbox SET status = ? WHERE id = ?", [(status, n) for n in ids])
            db.execute("UPDATE outbox SET status = 'sending' WHERE id = ?", (newest[4],))
            db.executemany(
                "UPDATE outbox SET attempts = 3, last_error = '连接超时' WHERE id = ?", [(n,) for n in newest[2:4]]
            )
        with running_portal(DAY) as base:
            office = sign_in(base, "pt-staff", change_to=None)
            try:
                yield World(home, base, office, token(office, "/campaigns"), newest)
            finally:
                office.close()
                accounts._dummy.cache_clear()


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


class _Text(HTMLParser):
    """The text a reader sees: character data outside <script>, <style> and <title> (no attribute values)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.hidden += tag in ("script", "style", "head")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style", "head")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def alert(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    assert found, "no error shown"
    return html.unescape(found.group(1)).strip()


def field_of(page: str, name: str) -> str:
    """The <input> element named `name`, as the page has it."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, name
    return found.group(0)


# -- the campaign form ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "field", "error"),
    [
        ({"title": "", "due": "2022-06-30"}, "title", "请填写督导名称"),
        (
            {"title": "幼儿园专项督导", "due": "2022-06-10"},
            "due",
            "反馈截止日期（2022年6月10日）须晚于发起日期（2022年6月15日）",
        ),
        (
            {"title": "幼儿园专项督导", "due": "2022-06-15"},
            "due",
            "反馈截止日期（2022年6月15日）须晚于发起日期（2022年6月15日）",
        ),
        (
            {"title": "幼儿园专项督导", "due": "9999-12-31"},
            "due",
            f"反馈截止日期（9999-12-31）超出工作日历的年份范围，须在{min(holidays).year}年至{max(holidays).year}年之间",
        ),
    ],
    ids=["empty-title", "due-before-start", "due-on-start", "due-beyond-the-calendar"],
)
def test_the_campaign_form_refuses_before_it_counts(world: World, typed: dict, field: str, error: str) -> None:
    before = query(world.home, "SELECT count(*) FROM campaign")
    preview = world.office.get("/campaigns/new", params=typed | {"categories": "education", "preview": "1"})
    assert preview.status_code == 200
    assert "确认发起督导" not in preview.text and 'id="scope-count"' not in preview.text
    assert f'<p class="error" id="{field}-error">{html.escape(error)}</p>' in preview.text
    form = typed | {"categories": "education", "key_only": "1", "csrf_token": world.csrf}
    response = world.office.post("/campaigns/new", data=form)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/campaigns/new?")
    page = world.office.get(response.headers["location"]).text
    assert f'<p class="error" id="{field}-error">{html.escape(error)}</p>' in page
    assert 'aria-invalid="true"' in field_of(page, field)
    assert f'value="{typed["title"]}"' in field_of(page, "title")  # what was typed, kept
    assert f'value="{typed["due"]}"' in field_of(page, "due")
    assert 'value="education" checked' in page and 'name="key_only" value="1" checked' in page
    assert query(world.home, "SELECT count(*) FROM campaign") == before
    again = world.office.get(response.headers["location"]).text  # the message is said once
    assert f'id="{field}-error"' not in again


def test_a_valid_campaign_form_counts_then_starts(world: World) -> None:
    typed = {"title": "幼儿园专项督导", "due": "2022-06-30", "categories": "education"}
    preview = world.office.get("/campaigns/new", params=typed | {"preview": "1"})
    count = int(re.search(r'id="scope-count">(\d+)<', preview.text).group(1))
    assert (
        count
        == query(
            world.home,
            "SELECT count(*) FROM ledger_item WHERE category = 'education' AND status NOT IN ('closed', 'cancelled')",
        )[0][0]
    )
    response = world.office.post("/campaigns/new", data=typed | {"csrf_token": world.csrf})
    ((started,),) = query(world.home, "SELECT id FROM campaign WHERE title = '幼儿园专项督导'")
    assert (response.status_code, response.headers["location"]) == (303, f"/campaigns/{started}")
    page = world.office.get(f"/campaigns/{started}").text
    assert "专项督导已发起，已通知相关单位。" in page and "反馈截止：<b>2022年6月30日</b>" in page
    assert '<table class="cards">' in page and 'data-label="督办级别">—<' in page


def test_a_refused_campaign_answer_comes_back_with_what_was_typed(world: World) -> None:
    codes = [c for (c,) in query(world.home, "SELECT item_code FROM campaign_item WHERE campaign_id = 1 ORDER BY id")]
    first, second = codes[:2]
    typed = {
        f"g.{first}": "已清退两户商户",
        f"m.{first}": "6月底前全部收回",
        f"d.{first}": "2022-06-30",
        f"g.{second}": "已完成现场核查",
        f"m.{second}": "督促产权单位移交",
        f"d.{second}": "2022-06-01",  # before the campaign started: refused
    }
    township = sign_in(world.base, "cg-zhang", change_to=None)
    response = township.post("/campaigns/1", data=typed | {"csrf_token": token(township, "/campaigns/1")})
    assert (response.status_code, response.headers["location"]) == (303, "/campaigns/1")
    page = township.get("/campaigns/1").text
    township.close()
    assert alert(page).startswith("督导反馈提交失败，未保存任何数据。")
    for name in (f"g.{first}", f"m.{second}"):
        area = re.search(rf'<textarea name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', page)
        assert area and area.group(1) == typed[name], name
    marked = field_of(page, f"d.{second}")
    assert 'value="2022-06-01"' in marked and 'aria-invalid="true"' in marked
    assert "aria-invalid" not in field_of(page, f"d.{first}")
    assert query(world.home, "SELECT count(*) FROM campaign_item WHERE first_responded_on IS NOT NULL") == [(0,)]


# -- the outbox and the bulletins ------------------------------------------------------------------------


def test_the_outbox_speaks_the_glossarys_words(world: World) -> None:
    page = world.office.get("/outbox").text
    words = visible(page)
    assert RAW.findall(words) == []
    for label in ("已发送", "待发送", "失败待重试", "无法送达", "发送中", "电子邮件", "本地存档"):
        assert label in words, label
    ((first,),) = query(world.home, "SELECT created_on FROM outbox WHERE id = ?", world.newest[0])
    year, month, day = (int(p) for p in first.split("-"))
    assert f"{year}年{month}月{day}日" in words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", words)
    assert '<table class="cards">' in page and 'data-label="状态"' in page


def test_a_message_is_requeued_by_a_post_that_answers_303(world: World) -> None:
    sent, failed = world.newest[0], world.newest[2]
    response = world.office.post(f"/outbox/{failed}/retry", data={"csrf_token": world.csrf})
    assert (response.status_code, response.headers["location"]) == (303, "/outbox?status=queued")
    assert f"第{failed}号消息已重新排队，将再次发送" in world.office.get(response.headers["location"]).text
    assert query(world.home, "SELECT status FROM outbox WHERE id = ?", failed) == [("queued",)]
    refused = world.office.post(f"/outbox/{sent}/retry", data={"csrf_token": world.csrf})  # sent: nothing to retry
    assert (refused.status_code, refused.headers["location"]) == (303, "/outbox")
    said = f"第{sent}号消息的状态为“已发送”，只有“失败待重试”或“无法送达”的消息可以重发"
    assert html.escape(said) in world.office.get("/outbox").text
    assert query(world.home, "SELECT status FROM outbox WHERE id = ?", sent) == [("sent",)]


def test_the_bulletins_are_offered_in_chinese_and_download_under_their_titles(world: World) -> None:
    page = world.office.get("/bulletins").text
    words = visible(page)
    assert RAW.findall(words) == [], [words[max(0, m.start() - 80) : m.end() + 80] for m in RAW.finditer(words)]
    assert "X区配套办〔2022〕1号" in words and "X区配套办〔2022〕2号" in words
    assert "Word文档" in words and "PDF文档" in words and "DOCX" not in words
    assert "2022年6月15日" in words
    for kind, media in (("pdf", "application/pdf"), ("docx", "application/vnd.openxmlformats")):
        response = world.office.get(f"/bulletins/1/{kind}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        expected = f"attachment; filename*=UTF-8''{quote(TITLES[1] + '.' + kind)}"
        assert response.headers["content-disposition"] == expected
    annex = world.office.get("/bulletins/2/annex-附件.xlsx")
    assert annex.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(TITLES[2] + '（附件）.xlsx')}"
    assert (world.home / "bulletins" / "2022-001-monthly-2022-05.pdf").is_file()  # the name on disk stays


# -- the dashboard's charts ----------------------------------------------------------------------------

MEASURE = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  return {
    id: svg.id, role: svg.getAttribute('role'), title: svg.querySelector('title')?.textContent,
    box: [box.left, box.top, box.right, box.bottom],
    texts: [...svg.querySelectorAll('text')].map(t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
              rect: [r.left, r.top, r.right, r.bottom]};
    }),
  };
})"""


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_dashboards_charts_are_readable_and_whole(
    world: World, browser: Browser, people: list[BrowserContext], size: dict
) -> None:
    page = device(browser, people, size)
    page.goto(world.base + "/login?next=/dashboard")
    page.get_by_label("登录名").fill("qz-liu")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    press(page, page.get_by_role("button", name="登录"))
    assert page.url.endswith("/dashboard")
    charts = page.evaluate(MEASURE)
    assert [(c["id"], c["role"], c["title"]) for c in charts] == [
        ("chart-townships", "img", "图1　各镇办整治完成率"),
        ("chart-months", "img", "图2　全区整治完成率月度趋势"),
    ]
    width = size["viewport"]["width"]
    labels = {c["id"]: [t["text"] for t in c["texts"]] for c in charts}
    assert labels["chart-months"][0::2] == ["2022年5月", "2022年6月"]
    assert len(labels["chart-townships"]) == 2 * 12  # a label and a value for each township
    assert labels["chart-townships"][-2:] == ["柳林镇", "100%"]  # the longest bar, its value still inside
    for chart in charts:
        left, top, right, bottom = chart["box"]
        assert left >= 0 and right <= width, chart["box"]
        for text in chart["texts"]:
            assert text["px"] >= 12, (size, chart["id"], text)
            t_left, t_top, t_right, t_bottom = text["rect"]
            assert left <= t_left and t_right <= right and top <= t_top and t_bottom <= bottom, (chart["id"], text)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#chart-townships-heading").scroll_into_view_if_needed()
    shot(page, f"dashboard-charts-{'phone' if size is PHONE else 'desktop'}.png")
