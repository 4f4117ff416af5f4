"""待办 that tells the truth: supervised matters counted once each at their highest level, and only while
their cause stands (a closed item's escalations and notices leave by themselves, its history stays);
what the unit has sent and waits on; the menu's badge equal to the page's count; help with the plan's
contacts; and on a phone, 待办 and a notice with nothing beyond the right edge and 签收 at full width.

The district of tests/test_notices.py (built the same way), its own copy for this module.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date

import pytest
import yaml
from conftest import EVIDENCE, PLAN, ROOT, SAMPLE
from playwright.sync_api import Browser, BrowserContext, Page
from portal import PASSWORD, csrf_of
from test_notices import World, district, escalation_id
from test_portal_browser import PHONE, device, press, shot

from duban.db import session_scope
from duban.desk import supervision
from duban.plan import PlanError, parse_plan
from duban.reporting.forms import form_rows, submit_online
from duban.reporting.reports import get_submission
from duban.stored_plan import current_plan

DAY = date(2023, 1, 16)
LEVELS = {1: "督办", 2: "挂牌督办", 3: "分管副区长督办"}
BADGE = re.compile(r'<a href="/"[^>]*>待办 <span class="badge"[^>]*>(\d+)</span>')
TOTAL = re.compile(r"本单位共有<strong>(\d+)</strong>项待办")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with district(tmp_path_factory.mktemp("todo") / "home") as made:
        yield made


def matters_by_level(world: World, unit: str | None = None) -> dict[int, set[str]]:
    """Independently of the code under test: the unresolved escalations, each matter (its item, else its
    cause) once at the highest level it reached."""
    rows = world.rows(
        "SELECT unit, coalesce(item_code, cause_key), level FROM escalation WHERE resolved_on IS NULL"
        + (" AND unit = ?" if unit else ""),
        *((unit,) if unit else ()),
    )
    top: dict[tuple[str, str], int] = {}
    for who, matter, level in rows:
        top[(who, matter)] = max(level, top.get((who, matter), 0))
    found: dict[int, set[str]] = {}
    for (_, matter), level in top.items():
        found.setdefault(level, set()).add(matter)
    return found


def supervised_section(page: str) -> list[str]:
    section = page.split('<h2 id="supervised">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>(.*?)</li>", section)


# -- counts of matters, each once ----------------------------------------------------------------------------


def test_supervised_matters_are_counted_once_each_at_their_highest_level(world: World) -> None:
    expected = matters_by_level(world, "西城街道")
    # 0017, 0019, 0022 long overdue, 0021 through all three levels, the December report: five matters, seven notices
    assert expected == {
        3: {"PT2022-0017", "PT2022-0019", "PT2022-0021", "PT2022-0022", "submission:2022-12:西城街道@2022-12-05"}
    }
    assert world.rows("SELECT count(*) FROM escalation WHERE unit = '西城街道' AND resolved_on IS NULL") == [(7,)]
    page = world.clients["xc-wang"].get("/").text
    assert supervised_section(page) == [
        f"{LEVELS[level]}：{len(expected[level])}项" for level in sorted(expected, reverse=True)
    ]
    # the list behind 查看被督办事项清单 shows exactly those matters
    listed = world.clients["xc-wang"].get("/supervised").text
    titles = re.findall(r'<td data-label="事项"><a href="[^"]+">(.*?)</a></td>', listed)
    assert sorted(titles) == sorted(
        [
            "问题PT2022-0017：问题逾期",
            "问题PT2022-0019：问题逾期",
            "问题PT2022-0021：问题逾期",
            "问题PT2022-0022：问题逾期",
            "2022年12月整治进度报送：逾期未报送",
        ]
    )
    # the district's count (the dashboard's), from the same shared function
    district = matters_by_level(world)
    with session_scope() as session:
        assert supervision.counts_by_level(session, DAY) == {level: len(m) for level, m in district.items()}
        assert supervision.counts_by_level(session, DAY, "西城街道") == {3: 5}


# -- a closed item leaves by itself ---------------------------------------------------------------------------


def test_a_closed_items_escalations_and_notices_leave_todo_and_its_history_keeps_them(world: World) -> None:
    client = world.clients["cg-zhang"]
    ids = [escalation_id(world, "城关街道", "item:PT2022-0003@2022-11-30", level) for level in (1, 2, 3)]
    before = client.get("/").text
    assert all(f'href="/notices/escalation/{i}"' in before for i in ids)
    expected = matters_by_level(world, "城关街道")
    assert "PT2022-0003" in expected[3]
    assert "问题PT2022-0003：问题逾期" in client.get("/supervised").text
    # walked through close-out as the demo does (Makefile)
    cli, item = world.cli, "PT2022-0003"
    cli(
        "item",
        "transition",
        item,
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        "2023-01-05",
        "--note",
        "日间照料中心扩建工程已竣工验收，已投入使用。",
        "--evidence",
        EVIDENCE,
    )
    cli(
        "item",
        "transition",
        item,
        "--to",
        "in_progress",
        "--by",
        "民政局",
        "--as-of",
        "2023-01-06",
        "--note",
        "缺少竣工验收备案材料，退回补充。",
    )
    cli(
        "item",
        "transition",
        item,
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        "2023-01-10",
        "--note",
        "已补充竣工验收备案材料。",
        "--evidence",
        ROOT / "samples" / "evidence" / "产权移交证明.txt",
    )
    cli("item", "transition", item, "--to", "verified", "--by", "民政局", "--as-of", "2023-01-11")
    cli("item", "transition", item, "--to", "closed", "--by", "区配套办", "--as-of", "2023-01-12")
    after = client.get("/").text
    assert not any(f'/notices/escalation/{i}"' in after for i in ids)  # gone from 待签收
    expected[3].discard("PT2022-0003")
    assert matters_by_level(world, "城关街道") == {k: v for k, v in expected.items() if v}
    assert supervised_section(after) == [
        f"{LEVELS[k]}：{len(v)}项" for k, v in sorted(expected.items(), reverse=True) if v
    ]
    assert "PT2022-0003" not in client.get("/supervised").text
    # the history keeps them: resolved on the day of the close-out, each notice still readable
    assert world.rows("SELECT level, resolved_on FROM escalation WHERE item_code = 'PT2022-0003' ORDER BY level") == [
        (1, "2023-01-12"),
        (2, "2023-01-12"),
        (3, "2023-01-12"),
    ]
    page = client.get(f"/notices/escalation/{ids[2]}").text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page, re.S))
    assert facts["解除督办"] == "2023年1月12日"
    assert facts["当前情况"] == "已解除督办"
    assert "无需签收" in facts["签收状态"]
    assert f'action="/notices/escalation/{ids[2]}/sign"' not in page


def test_a_report_sent_takes_its_notices_out_of_todo_before_any_sweep(world: World) -> None:
    """Read through the live filter: the round's notice and the missing report's escalation leave 待签收
    the moment the report is submitted, not the next morning; the report then waits on its reviewers."""
    client = world.clients["xc-wang"]
    late = escalation_id(world, "西城街道", "submission:2022-12:西城街道@2022-12-05", 3)
    before = client.get("/").text
    assert f'/notices/escalation/{late}"' in before and 'href="/notices/round/2022-12"' in before
    submit_as_is("西城街道", DAY)
    after = client.get("/").text
    assert f'/notices/escalation/{late}"' not in after and 'href="/notices/round/2022-12"' not in after
    waiting = after.split('<h2 id="waiting">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r"<tr><td data-label=\"事项\"><a href=\"([^\"]+)\">(.*?)</a></td><td data-label=\"状态\">(.*?)</td>"
        r"\s*<td data-label=\"提交日期\" class=\"date\">(.*?)</td><td data-label=\"等待\">(.*?)</td></tr>",
        waiting,
    )
    ((reviewers,),) = world.rows("SELECT reviewers FROM submission WHERE period = '2022-12' AND unit = '西城街道'")
    assert json.loads(reviewers) == ["教体局", "民政局", "商务局", "卫健局"]  # none has decided yet
    assert rows == [
        (
            "/reports/2022-12",
            "2022年12月整治进度报表（第1版）",
            "已报送",
            "2023年1月16日",
            "教体局、民政局、商务局、卫健局审核",
        )
    ]


def submit_as_is(unit: str, day: date) -> None:
    """The unit submits its pre-filled December form as it stands."""
    with session_scope() as session:
        plan = current_plan(session)
        rows = form_rows(session, plan, get_submission(session, plan, "2022-12", unit))
        entered = {
            r["code"]: {"progress": str(r["progress"]), "work_state": r["work_state"], "opinion": ""} for r in rows
        }
        submit_online(
            session,
            plan,
            period="2022-12",
            unit=unit,
            entered=entered,
            summary="本月无新进展。",
            as_of=day,
            draft=False,
        )


# -- what the unit has sent and waits on ----------------------------------------------------------------------


def test_waiting_on_others_lists_a_close_out_asked_for_and_a_report_awaiting_review(world: World) -> None:
    cli = world.cli
    cli("item", "transition", "PT2022-0012", "--to", "in_progress", "--by", "东城街道", "--as-of", "2023-01-09")
    cli(
        "item",
        "transition",
        "PT2022-0012",
        "--to",
        "close_requested",
        "--by",
        "东城街道",
        "--as-of",
        "2023-01-10",
        "--note",
        "已收回用房。",
        "--evidence",
        EVIDENCE,
    )
    submit_as_is("东城街道", DAY)
    page = dc_page(world)
    waiting = page.split('<h2 id="waiting">', 1)[1].split("</table>", 1)[0]
    assert '<a href="/items/PT2022-0012">问题PT2022-0012销号申请' in waiting
    assert re.search(
        r'问题PT2022-0012销号申请.*?<td data-label="状态">申请销号</td>.*?<td data-label="等待">民政局核验</td>',
        waiting,
        re.S,
    )
    assert re.search(r'2022年12月整治进度报表（第1版）</a></td><td data-label="状态">已报送</td>', waiting)


def dc_page(world: World) -> str:
    """东城街道's 待办, through an account opened for this test."""
    from portal import sign_in

    world.cli("user", "add", "--unit", "东城街道", "--login", "dc-sun", "--name", "孙七", "--as-of", "2023-01-16")
    with_session = sign_in(world.base, "dc-sun", change_to="Changed-pass-2022!")
    try:
        return with_session.get("/").text
    finally:
        with_session.close()


# -- the badge ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["cg-zhang", "xc-wang", "mz-li", "pt-zhao"])
def test_the_menu_badge_is_the_todo_count_on_every_page(world: World, login: str) -> None:
    client = world.clients[login]
    todo = client.get("/").text
    (total,) = TOTAL.findall(todo) or ["0"]
    sections = [int(n) for n in re.findall(r'<h2(?: id="to-sign")?>[^<（]+（(\d+)件?）</h2>', todo)]
    assert int(total) == sum(sections)  # the total is what the sections list
    for path in ("/", "/items", "/help", "/notices"):
        badge = BADGE.findall(client.get(path).text)
        assert badge == ([total] if int(total) else [])


# -- help and contacts ---------------------------------------------------------------------------------------


def plan_contacts() -> dict[str, tuple[str, str, str]]:
    """unit -> (full name, phone, email), read from the plan file itself."""
    chain = yaml.safe_load(PLAN.read_text(encoding="utf-8"))["chain"]
    found = {}
    for unit in [chain["office"], *chain["departments"], *chain["townships"]]:
        contact = unit["contacts"][0]
        email = next((c["to"] for c in contact.get("channels", []) if c["type"] == "email"), "")
        found[unit["name"]] = (unit["full_name"], contact["phone"], email)
    return found


def contact_rows(page: str) -> list[tuple[str, str, str]]:
    cells = re.findall(
        r'<td data-label="单位">(.*?)</td>.*?<td data-label="电话">(.*?)</td><td data-label="邮箱">(.*?)</td>',
        page,
        re.S,
    )
    return [tuple(c) for c in cells]


def test_help_shows_the_readers_guide_first_and_the_offices_and_its_lead_departments_contacts(world: World) -> None:
    contacts = plan_contacts()
    leads_by_category = {
        c["name"]: c["lead_department"] for c in yaml.safe_load(PLAN.read_text(encoding="utf-8"))["categories"]
    }
    with SAMPLE.open(encoding="utf-8-sig") as f:
        leads = {leads_by_category[row["设施类别"]] for row in csv.DictReader(f) if row["镇办"] == "城关街道"}
    assert leads == {"民政局", "教体局", "卫健局", "商务局"}
    page = world.clients["cg-zhang"].get("/help").text
    rows = contact_rows(page)
    assert rows[0] == contacts["区配套办"]
    assert sorted(rows[1:]) == sorted(contacts[d] for d in leads)
    assert rows[0] == ("XX区社区配套设施规划建设管理工作领导小组办公室", "0391-8120000", "ptb@xxq.gov.cn")
    guides = re.findall(r'id="guide-(\w+)"', page)
    assert guides[0] == "township" and sorted(guides[1:]) == ["department", "leader", "office"]
    first = (
        page.split('id="guide-township"', 1)[0] + page.split('id="guide-township"', 1)[1].split("<h2>联系方式</h2>")[0]
    )
    for other in ("审核镇办报表", "核验销号申请", "项目联审会签", "查看总览和通报", "消息与账号"):
        assert other not in first
    for own in ("签收通知", "月度报送", "申请销号", "反馈专项督导", "全部签收"):
        assert own in first
    department = world.clients["mz-li"].get("/help").text
    assert re.findall(r'id="guide-(\w+)"', department)[0] == "department"
    assert contact_rows(department) == [contacts["区配套办"]]


@pytest.mark.parametrize(
    ("phone", "said"),
    [("0391-81a0201", "格式不正确"), ("0391 8120 201" + "1" * 40, "过长"), ("-0391", "格式不正确")],
)
def test_a_contacts_phone_is_digits_dashes_and_spaces_of_bounded_length(phone: str, said: str) -> None:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["chain"]["townships"][0]["contacts"][0]["phone"] = phone
    with pytest.raises(PlanError, match=f"chain.townships\\[0\\].contacts\\[0\\].phone：{said}"):
        parse_plan(yaml.safe_dump(data, allow_unicode=True))
    data["chain"]["townships"][0]["contacts"][0]["phone"] = "0391 812-0201"
    assert (
        parse_plan(yaml.safe_dump(data, allow_unicode=True)).contact_line("城关街道")
        == "联系人：城关街道专班联络员，电话：0391 812-0201"
    )


# -- on a phone ------------------------------------------------------------------------------------------------


def beyond_right_edge(page: Page) -> list[str]:
    """Visible links, buttons and fields whose right edge lies past the viewport's, and a page wider than it."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const out = [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')]
          .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 0.5)
          .map(e => e.outerHTML.slice(0, 80));
        const wide = document.documentElement.scrollWidth;
        if (wide > width) out.push('scrollWidth ' + wide);
        return out;
    }"""
    )


def test_todo_and_a_notice_on_a_phone(world: World, browser: Browser, people: list[BrowserContext]) -> None:
    page = device(browser, people, PHONE)
    page.goto(world.base + "/login")
    page.get_by_label("登录名").fill("cg-zhang")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    press(page, page.get_by_role("button", name="登录"))
    assert page.url == world.base + "/"
    assert beyond_right_edge(page) == []
    buttons = page.locator("table.cards td.act button", has_text="签收")
    assert buttons.count() > 0
    for i in range(buttons.count()):
        box, card = buttons.nth(i).bounding_box(), buttons.nth(i).locator("xpath=ancestor::tr").bounding_box()
        assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
        assert box["width"] >= card["width"] - 2 * 14  # the card's width less its padding
        assert box["height"] >= 44
    shot(page, "phone-todo.png", full_page=True)
    with page.expect_navigation(wait_until="load"):
        page.locator("table.cards td a[href^='/notices/']").first.click()
    assert "/notices/" in page.url
    assert beyond_right_edge(page) == []
    sign = page.get_by_role("button", name="签收", exact=True)
    box = sign.bounding_box()
    card = page.locator("section.notice-card").bounding_box()
    assert box["width"] >= card["width"] - 2 * 14 and box["height"] >= 44
    shot(page, "phone-notice.png", full_page=True)
    press(page, sign)
    assert "已签收。" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="签收", exact=True).count() == 0
    assert csrf_of(page.content())


def test_the_badge_follows_a_change_made_elsewhere_once_todo_counts_and_at_once_after_a_post(world: World) -> None:
    """The menu's count is kept for a few seconds per unit (another process's change is not seen at once on
    other pages), 待办 always counts afresh and renews it, and a POST through this process forgets it."""
    client = world.clients["cg-zhang"]

    def badge(path: str) -> int:
        return int((BADGE.findall(client.get(path).text) or ["0"])[0])

    def total() -> int:
        return int((TOTAL.findall(client.get("/").text) or ["0"])[0])

    before = total()
    assert badge("/items") == before
    unsigned = world.rows(
        "SELECT id FROM escalation WHERE unit = '城关街道' AND resolved_on IS NULL AND id NOT IN "
        "(SELECT CAST(request_key AS INTEGER) FROM acknowledgement WHERE request_kind = 'escalation')"
    )
    assert len(unsigned) >= 2
    with closing(sqlite3.connect(world.home / "duban.db")) as db, db:  # another process signs one
        db.execute(
            "INSERT INTO acknowledgement (request_kind, request_key, unit, acknowledged_on, person, at) "
            "VALUES ('escalation', ?, '城关街道', ?, '张三（城关街道）', ?)",
            (str(unsigned[0][0]), DAY.isoformat(), "2023-01-16 02:00:00"),
        )
    assert badge("/items") == before  # kept
    assert total() == before - 1  # 待办 counts afresh
    assert badge("/items") == before - 1
    signed = client.post(
        "/acknowledge",
        data={"csrf_token": world.form("cg-zhang", "/items"), "kind": "escalation", "key": str(unsigned[1][0])},
    )
    assert signed.status_code == 303
    assert badge("/items") == before - 2  # a POST through this process: counted again at once
