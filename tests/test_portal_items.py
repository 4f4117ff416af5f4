"""The item list and the item page as their people use them, against a real portal on loopback.

Search (code, community, description) and filters (township, lead department, category, light, status,
key item), alone and combined, kept in the pager's links; paging clamped to the last page; the township's
scope held by the list, the search and the export; every list's .xlsx export read back with openpyxl
(the filtered rows, Chinese headers and values, no formula, a Chinese file name); the item page's summary
card (light, working days overdue counted with chinese_calendar here, supervision level, next step); a
reviewer sees the close-out request before deciding and 退回整改 asks on its own page; a refused
transition answers 303 and the typed note is on the next page; the outbox pages; and on a 390 px phone
nothing lies beyond the right edge.

One database for the module, on the portal's day 2022-07-15 (ticked that day: items past their deadline
escalated). The plan is the sample's with 10 rows a page and evidence up to 1 MB, so that paging and the
evidence limit are reached with the sample ledger.
"""

from __future__ import annotations

import csv
import html
import io
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote

import chinese_calendar
import httpx
import pytest
from conftest import EVIDENCE, PLAN, SAMPLE, Cli
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext
from portal import PASSWORD, quick_home, running_portal, sign_in, token
from sqlmodel import col
from test_portal_browser import shot

from duban.db import engine_for, session_scope
from duban.items import search as item_search
from duban.items.search import Filters
from duban.signin import accounts
from duban.state.status import Lights
from models import LedgerItem

DAY = date(2022, 7, 15)
PER_PAGE = 10
EVIDENCE_MAX = 1024 * 1024
USERS = {
    "cg-zhang": ("城关街道", None),
    "xc-li": ("西城街道", None),
    "mz-wang": ("民政局", "reviewer"),
    "pt-staff": ("区配套办", None),
}
LEADS = {  # the plan's lead department of each category (DOMAIN.md; the canteen's set in the plan file)
    "education": "教体局",
    "community_premises": "民政局",
    "elderly_care": "民政局",
    "convenience_commerce": "商务局",
    "sports": "教体局",
    "health": "卫健局",
    "canteen": "民政局",
}
ASKED = "已收回用房，恢复社区服务功能。"
FORMULA = '=HYPERLINK("http://evil.example","点此")'
ITEM_LINK = re.compile(r'<a href="/items/(PT[0-9-]+)">')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class World:
    home: Path
    base: str
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("portal-items")
    plan = root / "plan.yaml"
    text = PLAN.read_text(encoding="utf-8")
    text = text.replace("page_rows: 100", f"page_rows: {PER_PAGE}")
    text = text.replace("\n  max_bytes: 20971520", f"\n  max_bytes: {EVIDENCE_MAX}")  # evidence's, not uploads'
    assert f"max_bytes: {EVIDENCE_MAX}" in text and "upload_max_bytes: 52428800" in text
    plan.write_text(text, encoding="utf-8")
    home = root / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", plan, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role) in USERS.items():
            role_option = ["--role", role] if role else []
            cli("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名", *role_option)
        on = ["--by", "城关街道", "--as-of", "2022-04-20"]
        for code in ("PT2022-0001", "PT2022-0003"):
            cli("item", "transition", code, "--to", "in_progress", *on)
        cli("tick", "--as-of", "2022-05-01")  # the 2022-05 round: every unit has a submission
        move = ["item", "transition", "PT2022-0001", "--evidence", EVIDENCE]
        cli(*move, "--to", "close_requested", "--by", "城关街道", "--as-of", "2022-05-09", "--note", "已清退商户。")
        cli(*move[:3], "--to", "in_progress", "--by", "民政局", "--as-of", "2022-05-10", "--note", "请补充照片")
        cli(*move, "--to", "close_requested", "--by", "城关街道", "--as-of", "2022-05-11", "--note", ASKED)
        scope = ["--township", "城关街道", "--category", "社区用房", "--due", "2022-07-14"]
        cli("campaign", "start", "--title", "城关街道社区用房督导", *scope, "--as-of", "2022-07-13")
        cli("tick", "--as-of", DAY.isoformat())
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(DAY) as base:
            clients = {login: sign_in(base, login, change_to=None) for login in USERS}
            tokens = {login: token(client) for login, client in clients.items()}
            try:
                yield World(home, base, clients, tokens)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


# --- helpers -------------------------------------------------------------------------------------------


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def codes(world: World, where: str = "1 = 1", *args: object) -> list[str]:
    return [c for (c,) in query(world, f"SELECT code FROM ledger_item WHERE {where} ORDER BY code", *args)]


def listed(client: httpx.Client, **params: str) -> list[str]:
    """Every code the list shows for these filters, page by page (by its own 下一页 links)."""
    found: list[str] = []
    page = client.get("/items", params=params)
    while True:
        assert page.status_code == 200, page.text[:300]
        found += ITEM_LINK.findall(page.text)
        following = re.search(r'<a href="(/items\?[^"]*)">下一页</a>', page.text)
        if not following:
            return found
        page = client.get(html.unescape(following.group(1)))


def error_of(response: httpx.Response) -> str:
    found = ERROR.search(response.text)
    assert found, f"no error shown ({response.status_code}): {response.text[:300]}"
    return html.unescape(found.group(1)).strip()


def sample() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def working_days_after(start: date, end: date) -> int:
    """Working days in (start, end], by the official calendar (the plan adds no days in 2022)."""
    day, n = start, 0
    while day < end:
        day += timedelta(days=1)
        n += chinese_calendar.is_workday(day)
    return n


def red(world: World) -> list[str]:
    """Items past their deadline on DAY and not closed or cancelled, from the table itself."""
    return codes(world, "deadline < ? AND status NOT IN ('closed', 'cancelled')", DAY.isoformat())


def workbook(response: httpx.Response) -> list[list]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate  # text stays text, whatever it starts with
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def filename(response: httpx.Response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    return unquote(disposition.split("''", 1)[1])


# --- search and filters --------------------------------------------------------------------------------


def test_a_search_finds_the_community_and_the_description(world: World) -> None:
    expected = sorted(r["问题编号"] for r in sample() if "红旗" in r["社区"] or "红旗" in r["问题描述"])
    assert expected == ["PT2022-0023", "PT2022-0024"]
    office = world.clients["pt-staff"]
    assert listed(office, q="红旗") == expected
    assert listed(office, q="PT2022-002") == [f"PT2022-002{n}" for n in range(10)]  # a code, in part
    words = "平方米被出租"  # in PT2022-0001's description only
    assert listed(office, q=words) == sorted(r["问题编号"] for r in sample() if words in r["问题描述"])
    percent = [c for c, community, text in query(world, "SELECT code, community, description FROM ledger_item")
               if "%" in community + text]  # fmt: skip
    assert listed(office, q="%") == sorted(percent) and 0 < len(percent) < 66  # a LIKE wildcard is a character
    page = office.get("/items", params={"q": "红旗"})
    assert 'value="红旗"' in page.text and "（符合条件的共2项）" in page.text


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"township": "西城街道"}, "township = '西城街道'"),
        ({"department": "民政局"}, "lead_department = '民政局'"),
        ({"category": "community_premises"}, "category = 'community_premises'"),
        ({"status": "in_progress"}, "status = 'in_progress'"),
        ({"key": "1"}, "key_difficult = 1"),
        ({"township": "城关街道", "department": "民政局"}, "township = '城关街道' AND lead_department = '民政局'"),
        ({"category": "education", "key": "1"}, "category = 'education' AND key_difficult = 1"),
        ({"status": "planned", "department": "教体局", "q": "幼儿园"}, None),
    ],
    ids=lambda v: "&".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else "",
)
def test_each_filter_and_their_combinations(world: World, params: dict, where: str | None) -> None:
    if where is None:  # planned, led by 教体局, and 幼儿园 in the community or the description
        expected = sorted(
            c
            for c, community, text in query(
                world,
                "SELECT code, community, description FROM ledger_item WHERE status = 'planned' "
                "AND lead_department = '教体局'",
            )
            if "幼儿园" in community or "幼儿园" in text
        )
        assert expected  # the sample has some
    else:
        expected = codes(world, where)
    assert listed(world.clients["pt-staff"], **params) == expected


def test_the_light_filter_and_the_lead_departments(world: World) -> None:
    office = world.clients["pt-staff"]
    assert listed(office, light="red") == red(world)
    # the lead department is the plan's for the category unless the ledger names another
    for row in sample():
        if row["问题编号"] and not row["牵头部门"]:
            category = {"教育设施": "education", "社区用房": "community_premises", "养老服务设施": "elderly_care",
                        "便民商业设施": "convenience_commerce", "体育设施": "sports", "医疗卫生设施": "health",
                        "社区食堂": "canteen"}[row["设施类别"]]  # fmt: skip
            assert codes(world, "code = ? AND lead_department = ?", row["问题编号"], LEADS[category])


def test_filters_are_kept_in_the_pager_and_a_page_past_the_last_is_the_last(world: World) -> None:
    office = world.clients["pt-staff"]
    planned = codes(world, "status = 'planned'")
    pages = -(-len(planned) // PER_PAGE)
    assert pages > 2
    page = office.get("/items", params={"status": "planned", "page": "2"})
    assert f"第2页，共{pages}页" in page.text
    assert ITEM_LINK.findall(page.text) == planned[PER_PAGE : 2 * PER_PAGE]
    assert 'href="/items?status=planned&amp;page=1"' in page.text
    assert 'href="/items?status=planned&amp;page=3"' in page.text
    last = office.get("/items", params={"status": "planned", "page": "99"})
    assert f"第{pages}页，共{pages}页" in last.text
    assert ITEM_LINK.findall(last.text) == planned[(pages - 1) * PER_PAGE :]
    one = office.get("/items", params={"q": "红旗", "page": "2"})
    assert "第1页，共1页" in one.text and ITEM_LINK.findall(one.text) == ["PT2022-0023", "PT2022-0024"]
    none = office.get("/items", params={"q": "没有这样的问题", "page": "3"})
    assert "第1页，共1页" in none.text and "没有符合条件的问题。" in none.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 41}, "“查询内容”内容过长（41字，最多40字）"),
        ({"q": "红\x07旗"}, "“查询内容”含有不可见的控制字符（U+0007），请删除后重新填写"),
        ({"township": "外区街道"}, "“镇办”的筛选条件无效，请从列表中选择"),
        ({"light": "purple"}, "“灯色”的筛选条件无效，请从列表中选择"),
        ({"status": "done"}, "“状态”的筛选条件无效，请从列表中选择"),
    ],
)
def test_bad_filters_are_refused_in_chinese_inside_the_layout(world: World, params: dict, message: str) -> None:
    for path in ("/items", "/items/export.xlsx"):
        response = world.clients["pt-staff"].get(path, params=params)
        assert response.status_code == 400
        assert error_of(response) == message
        assert '<nav class="menu">' in response.text


def test_a_township_finds_and_exports_only_its_own_items(world: World) -> None:
    cg = world.clients["cg-zhang"]
    own = codes(world, "'城关街道' IN (township, responsible_unit)")
    assert listed(cg) == own
    assert listed(cg, q="红旗") == []  # 西城街道's, not 城关's
    assert listed(cg, township="西城街道") == []
    assert listed(cg, department="民政局") == [c for c in codes(world, "lead_department = '民政局'") if c in own]
    rows = workbook(cg.get("/items/export.xlsx"))
    assert [r[0] for r in rows[1:]] == own
    assert workbook(cg.get("/items/export.xlsx", params={"q": "红旗"}))[1:] == []
    xc = world.clients["xc-li"]
    assert listed(xc, q="红旗") == ["PT2022-0023", "PT2022-0024"]


# --- exports -------------------------------------------------------------------------------------------


def test_the_item_export_is_the_filtered_list_in_chinese(world: World) -> None:
    office = world.clients["pt-staff"]
    response = office.get("/items/export.xlsx", params={"department": "民政局", "status": "planned"})
    assert filename(response) == f"问题清单-{DAY.isoformat()}.xlsx"
    rows = workbook(response)
    assert rows[0] == [
        "问题编号", "镇办", "社区", "设施类别", "设施类型", "问题描述", "牵头部门", "责任单位",
        "重点难点", "状态", "整改进度", "完成时限", "灯色", "逾期工作日",
    ]  # fmt: skip
    expected = query(
        world,
        "SELECT code, township, community, description, lead_department, responsible_unit, key_difficult, deadline "
        "FROM ledger_item WHERE lead_department = '民政局' AND status = 'planned' ORDER BY code",
    )
    assert [r[0] for r in rows[1:]] == [e[0] for e in expected]
    for row, (_code, township, community, text, lead, unit, key, deadline) in zip(rows[1:], expected, strict=True):
        assert row[1:3] == [township, community] and row[5:8] == [text, lead, unit]
        assert row[8] == ("是" if key else "否") and row[9] == "已制定方案" and row[10] == "0%"
        assert row[11].date() == date.fromisoformat(deadline)
        late = date.fromisoformat(deadline) < DAY
        assert row[12] == "红灯" if late else row[12] in ("黄灯", "绿灯")
        assert row[13] == (working_days_after(date.fromisoformat(deadline), DAY) if late else None)


def test_the_overdue_export_counts_working_days(world: World) -> None:
    response = world.clients["pt-staff"].get("/items/export.xlsx", params={"light": "red"})
    assert filename(response) == f"逾期问题清单-{DAY.isoformat()}.xlsx"
    rows = workbook(response)
    assert [r[0] for r in rows[1:]] == red(world)
    deadlines = dict(query(world, "SELECT code, deadline FROM ledger_item"))
    for row in rows[1:]:
        assert row[12] == "红灯"
        assert row[13] == working_days_after(date.fromisoformat(deadlines[row[0]]), DAY)


def test_campaign_answers_export_as_text_never_a_formula(world: World) -> None:
    cg = world.clients["cg-zhang"]
    mine = [c for (c,) in query(world, "SELECT item_code FROM campaign_item WHERE campaign_id = 1 ORDER BY item_code")]
    assert mine
    form = {"csrf_token": world.tokens["cg-zhang"]}
    for code in mine:
        form |= {f"g.{code}": FORMULA, f"m.{code}": "-1+2", f"d.{code}": "2022-08-31"}
    assert cg.post("/campaigns/1", data=form).status_code == 303
    for login in ("cg-zhang", "mz-wang", "pt-staff"):
        response = world.clients[login].get("/campaigns/1/export.xlsx")
        assert filename(response) == f"城关街道社区用房督导反馈情况-{DAY.isoformat()}.xlsx"
        rows = workbook(response)
        assert rows[0][:8] == ["问题编号", "镇办", "社区", "设施类别", "责任单位", "牵头部门", "反馈情况", "反馈日期"]
        assert [r[0] for r in rows[1:]] == mine
        assert {(r[6], r[8], r[9]) for r in rows[1:]} == {("逾期反馈", FORMULA, "-1+2")}
    assert world.clients["xc-li"].get("/campaigns/1/export.xlsx").status_code == 404  # not in it


def test_the_other_lists_export(world: World) -> None:
    office, cg = world.clients["pt-staff"], world.clients["cg-zhang"]
    rows = workbook(cg.get("/reports/export.xlsx"))
    periods = [p for (p,) in query(world, "SELECT period FROM submission WHERE unit = '城关街道' ORDER BY period DESC")]
    assert [r[0] for r in rows[1:]] == periods and {r[1] for r in rows[1:]} == {"城关街道"}
    assert {r[2] for r in rows[1:]} == {"镇办报表"}
    everyone = workbook(office.get("/reports/export.xlsx"))
    assert len(everyone) - 1 == query(world, "SELECT count(*) FROM submission")[0][0]
    messages = [i for (i,) in query(world, "SELECT id FROM outbox ORDER BY id DESC")]
    outbox = workbook(office.get("/outbox/export.xlsx"))
    assert [r[0] for r in outbox[1:]] == messages
    assert {r[1] for r in outbox[1:]} <= {"已发送", "待发送", "失败待重试", "无法送达", "发送中"}
    assert cg.get("/outbox/export.xlsx").status_code == 403
    response = office.get("/projects/export.xlsx")
    assert filename(response) == f"新建住宅项目联合审查-{DAY.isoformat()}.xlsx"
    assert workbook(response)[0][:3] == ["项目编号", "项目名称", "镇办"]


def test_an_export_past_the_limit_says_it_was_cut(world: World) -> None:
    from duban.web.export import xlsx

    response = xlsx("测试清单", ["编号"], [[n] for n in range(5)], total=7, limit=3, day=DAY)
    sheet = load_workbook(io.BytesIO(response.body)).active
    assert [r for r in sheet.iter_rows(values_only=True)] == [
        ("编号",), (0,), (1,), (2,), (None,), ("共7行，仅导出前3行；请缩小筛选范围后分批导出",)
    ]  # fmt: skip


# --- the item page ---------------------------------------------------------------------------------------


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_item_page_opens_with_its_summary_card(world: World) -> None:
    code = "PT2022-0008"  # 城关街道's sports item, due 2022-06-30, planned: red on DAY
    (deadline,) = query(world, "SELECT deadline FROM ledger_item WHERE code = ?", code)[0]
    days = working_days_after(date.fromisoformat(deadline), DAY)
    (level,) = query(world, "SELECT max(level) FROM escalation WHERE item_code = ? AND resolved_on IS NULL", code)[0]
    assert level == 2
    page = world.clients["cg-zhang"].get(f"/items/{code}").text
    card = visible_text(page.split('<section class="card summary"', 1)[1].split("</section>", 1)[0])
    assert "红灯" in card
    assert f"2022年6月30日 逾期{days}个工作日" in card
    assert "督办级别挂牌督办" in card
    assert "下一步开始整改（责任单位城关街道、牵头部门教体局）" in card
    assert page.index("summary") < page.index("基本情况")
    # not yet due: the working days left
    (deadline,) = query(world, "SELECT deadline FROM ledger_item WHERE code = 'PT2022-0003'")[0]
    left = working_days_after(DAY, date.fromisoformat(deadline))
    page = world.clients["cg-zhang"].get("/items/PT2022-0003").text
    assert f"剩余{left}个工作日" in visible_text(page)
    assert "下一步申请销号（责任单位城关街道）" in visible_text(page)
    assert "督办级别未督办" in visible_text(page)


def test_the_item_page_speaks_chinese_and_shows_the_latest_history(world: World) -> None:
    cg = world.clients["cg-zhang"]
    page = cg.get("/items/PT2022-0006").text  # a canteen: no facility type
    text = visible_text(page)
    assert "None" not in text and "设施类型（" not in text
    entries = query(world, "SELECT count(*) FROM audit_entry WHERE subject = 'item' AND subject_key = 'PT2022-0001'")
    total = entries[0][0]
    assert total > 5
    page = cg.get("/items/PT2022-0001").text
    assert page.count('<td data-label="日期"') == 5
    assert f"展开全部（共{total}条）" in page
    everything = cg.get("/items/PT2022-0001", params={"history": "all"}).text
    assert everything.count('<td data-label="日期"') == total and "展开全部" not in everything
    assert query(world, "SELECT size FROM evidence") == [(EVIDENCE.stat().st_size,)] == [(232,)]
    assert "（城关街道，232 字节，可在浏览器中查看）" in page
    assert "单个文件不超过" not in page  # no upload on this item for 城关 now (awaiting verification)
    form = cg.get("/items/PT2022-0003").text
    assert "单个文件不超过1 MB，可上传PDF、图片、Word、Excel或文本" in form


def test_a_reviewer_sees_the_request_then_decides_and_a_return_is_confirmed(world: World) -> None:
    mz = world.clients["mz-wang"]
    page = mz.get("/items/PT2022-0001").text
    request = page.index("销号申请</h2>")
    assert ASKED in page[request:]
    assert request < page.index('class="approve">核验通过</button>') < page.index("基本情况")
    assert 'name="target" value="in_progress"' not in page  # 退回 is not a button on the item page
    assert 'href="/items/PT2022-0001/return"' in page
    confirm = mz.get("/items/PT2022-0001/return")
    assert confirm.status_code == 200
    assert ASKED in confirm.text and "确认退回整改" in confirm.text
    assert world.clients["cg-zhang"].get("/items/PT2022-0001/return").status_code == 403
    assert world.clients["xc-li"].get("/items/PT2022-0001/return").status_code == 403
    # without a reason: back to the confirmation, nothing changed
    refused = mz.post("/items/PT2022-0001/return", data={"note": "  ", "csrf_token": world.tokens["mz-wang"]})
    assert refused.status_code == 303 and refused.headers["location"] == "/items/PT2022-0001/return"
    again = mz.get("/items/PT2022-0001/return")
    assert error_of(again) == "“退回整改”须说明理由或情况"
    assert 'aria-invalid="true"' in again.text
    assert query(world, "SELECT status FROM ledger_item WHERE code = 'PT2022-0001'") == [("close_requested",)]


def test_a_refused_transition_comes_back_with_the_note_kept(world: World) -> None:
    cg, csrf = world.clients["cg-zhang"], world.tokens["cg-zhang"]
    note = "已完成适老化改造，日间照料中心投入使用。"
    response = cg.post(
        "/items/PT2022-0003/transition", data={"target": "close_requested", "note": note, "csrf_token": csrf}
    )
    assert response.status_code == 303 and response.headers["location"] == "/items/PT2022-0003"
    page = cg.get("/items/PT2022-0003")
    assert error_of(page) == "申请销号须附佐证材料"
    assert f">{note}</textarea>" in page.text
    assert cg.get("/items/PT2022-0003").text.count(note) == 0  # shown once
    big = ("evidence", ("现场照片.txt", b"a" * (EVIDENCE_MAX + 1), "text/plain"))
    response = cg.post(
        "/items/PT2022-0003/transition",
        data={"target": "close_requested", "note": note, "csrf_token": csrf},
        files=[big],
    )
    assert response.status_code == 303
    page = cg.get("/items/PT2022-0003")
    assert error_of(page) == "文件“现场照片.txt”过大（最多1MB），已拒绝"
    assert f">{note}</textarea>" in page.text
    assert query(world, "SELECT status FROM ledger_item WHERE code = 'PT2022-0003'") == [("in_progress",)]


# --- the outbox pages ----------------------------------------------------------------------------------


def test_the_outbox_pages_through_every_message(world: World) -> None:
    office = world.clients["pt-staff"]
    ids = [i for (i,) in query(world, "SELECT id FROM outbox ORDER BY id DESC")]
    pages = -(-len(ids) // PER_PAGE)
    assert pages > 2
    row_ids = re.compile(r"<tr><td data-label=\"编号\">(\d+)</td>")
    seen = []
    for number in range(1, pages + 1):
        page = office.get("/outbox", params={"page": number}).text
        assert f"第{number}页，共{pages}页" in page
        seen += [int(i) for i in row_ids.findall(page)]
    assert seen == ids
    last = office.get("/outbox", params={"page": pages + 5}).text
    assert f"第{pages}页，共{pages}页" in last


# --- on a phone ------------------------------------------------------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
BEYOND = """() => [...document.querySelectorAll('a, button, input, select, textarea, label')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 0.5; })
  .map(e => e.outerHTML.slice(0, 80))"""


def test_on_a_phone_nothing_lies_beyond_the_right_edge(
    world: World, browser: Browser, people: list[BrowserContext]
) -> None:
    context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    people.append(context)
    page = context.new_page()
    page.goto(f"{world.base}/login")
    page.get_by_label("登录名").fill("mz-wang")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    for path in ("/items", "/items?q=社区&status=planned", "/items/PT2022-0001", "/items/PT2022-0001?history=all",
                 "/items/PT2022-0001/return"):  # fmt: skip
        page.goto(world.base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert page.evaluate(BEYOND) == [], path
    page.goto(world.base + "/items/PT2022-0001")
    shot(page, "item-phone.png", full_page=True)


def test_an_export_named_after_a_title_with_characters_a_sheet_cannot_hold() -> None:
    """A campaign's title may hold / \\ ? * [ ] : ; the sheet is named without them, the file keeps the title."""
    from io import BytesIO

    from openpyxl import load_workbook

    from duban.web import export

    response = export.xlsx(
        "督导/复查[第1轮]:重点?*", ["问题编号"], [["PT2022-0001"]], total=1, limit=10, day=date(2022, 9, 5)
    )
    sheet = load_workbook(BytesIO(response.body)).active
    assert sheet.title == "督导复查第1轮重点"
    assert [c.value for c in sheet["A"]] == ["问题编号", "PT2022-0001"]
    assert "%E7%9D%A3%E5%AF%BC%2F" in response.headers["content-disposition"]  # the title as it is, quoted


def test_a_scope_of_several_conditions_pages_through_their_union_with_each_light(world: World) -> None:
    """A unit's scope (its area, or its charge) is read as a union, page by page: here two that overlap,
    城关街道's items and 民政局's, seven to a page, with each light as a range of deadlines."""
    yellow_until = DAY + timedelta(days=20)
    lights = Lights(DAY, yellow_until)
    scope = "(township = '城关街道' OR lead_department = '民政局') AND status NOT IN ('closed', 'cancelled')"
    wanted = {
        "": ("township = '城关街道' OR lead_department = '民政局'",),
        "red": (f"{scope} AND deadline < ?", DAY.isoformat()),
        "yellow": (f"{scope} AND deadline >= ? AND deadline <= ?", DAY.isoformat(), yellow_until.isoformat()),
        "green": (f"{scope} AND deadline > ?", yellow_until.isoformat()),
        "none": (f"{scope} AND deadline IS NULL",),
    }
    within = [col(LedgerItem.township) == "城关街道", col(LedgerItem.lead_department) == "民政局"]
    with session_scope(engine_for(f"sqlite:///{world.home / 'duban.db'}")) as session:
        for light, (where, *args) in wanted.items():
            expected = codes(world, where, *args)
            conditions = Filters(light=light).conditions(lights)
            assert item_search.count(session, within, conditions) == len(expected)
            pages = [
                item_search.rows(session, lights, within, conditions, offset=start, limit=7)
                for start in range(0, len(expected) + 7, 7)
            ]
            assert [r.code for page in pages for r in page] == expected, light
            assert all(len(page) == 7 for page in pages[: len(expected) // 7]) and not pages[-1]
            if light:
                assert {r.light for page in pages for r in page} <= {light}
    assert len(codes(world, *wanted[""])) > 14 and all(
        codes(world, *wanted[light]) for light in ("red", "yellow", "green")
    )
