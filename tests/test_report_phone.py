"""The report pages on a 390x844 phone: the form one item per card with its fields stacked, the list and the
review as cards, no control beyond the right edge and no sideways scroll; the reviewer's decision below
the report, 审核通过 and 退回 distinct."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import Cli
from playwright.sync_api import Browser, BrowserContext, Page
from portal import running_portal
from test_portal_browser import PHONE, add_users, device, follow, press, shot, sign_in, submit_unchanged

from duban.db import session_scope
from duban.reporting.reports import get_submission
from duban.stored_plan import current_plan

PERIOD, TOWNSHIP = "2022-05", "城关街道"
WIDTH = 390
# Every control with a visible box: the right edge of the rightmost one, and the page's scroll width.
EDGES = """() => {
  const boxes = [...document.querySelectorAll('a, button, input, select, textarea')]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  return [Math.max(...boxes.map(r => r.right)), document.documentElement.scrollWidth, boxes.length];
}"""


def edges(page: Page) -> tuple[float, int, int]:
    right, scroll, count = page.evaluate(EDGES)
    return right, scroll, count


def test_the_report_pages_fit_a_phone(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    imported("tick", "--as-of", "2022-05-01")
    add_users(imported, monkeypatch, (TOWNSHIP, "cg-zhang", "张三"), ("民政局", "mz-li", "李四", "reviewer"))
    with session_scope() as session:
        items = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).items
    with running_portal(date(2022, 5, 3)) as base:
        phone = device(browser, people, PHONE)
        sign_in(phone, base, "cg-zhang", first=True)
        phone.goto(f"{base}/reports/{PERIOD}")
        right, scroll, count = edges(phone)
        assert count > 5 * len(items)  # the fields of every item are on the page
        assert right <= WIDTH and scroll <= WIDTH
        shot(phone, "report-form-phone.png")
        # one card an item: its progress, state and three texts stacked in one column inside the card
        card = phone.locator("table.report-form tbody tr").first
        fields = [
            card.get_by_label(f"{items[0]}{name}")
            for name in ("整改进度", "工作状态", "本月进展", "存在问题", "下月计划")
        ]
        boxes = [field.bounding_box() for field in fields]
        row = card.bounding_box()
        assert all(row["x"] <= b["x"] and b["x"] + b["width"] <= row["x"] + row["width"] for b in boxes)
        assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes)  # stacked, top to bottom
        assert all(b2["y"] >= b1["y"] + b1["height"] for b1, b2 in zip(boxes, boxes[1:], strict=False))

        phone.goto(f"{base}/reports")
        right, scroll, _ = edges(phone)
        assert right <= WIDTH and scroll <= WIDTH

        submit_unchanged(TOWNSHIP, date(2022, 5, 3))
        reviewer = device(browser, people, PHONE)
        sign_in(reviewer, base, "mz-li", first=True)
        reviewer.goto(f"{base}/reports/{PERIOD}/{TOWNSHIP}")
        right, scroll, _ = edges(reviewer)
        assert right <= WIDTH and scroll <= WIDTH
        accept = reviewer.get_by_role("button", name="审核通过")
        back = reviewer.get_by_role("button", name="退回修改")
        table = reviewer.locator("table").first.bounding_box()
        assert accept.bounding_box()["y"] > table["y"] + table["height"]  # the report first, then the decision
        colours = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in (accept, back)]
        assert colours[0] != colours[1]
        shot(reviewer, "review-phone.png", full_page=True)
        assert reviewer.get_by_label("退回理由（退回时必填）").get_attribute("required") == ""


def test_a_township_clerk_does_the_round_on_a_phone(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    """From 待办 to the notice, read and signed; back to 待办, the report filled card by card and submitted."""
    imported("tick", "--as-of", "2022-05-01")
    add_users(imported, monkeypatch, (TOWNSHIP, "cg-zhang", "张三"))
    with session_scope() as session:
        items = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).items
    typed = {
        code: (str(10 * n), "推进中", f"{code}本月完成第{n}项。", f"{code}资金未到位。", f"{code}下月验收。")
        for n, code in enumerate(items, start=1)
    }
    with running_portal(date(2022, 5, 3)) as base:
        phone = device(browser, people, PHONE)
        sign_in(phone, base, "cg-zhang", first=True)
        assert phone.url == f"{base}/"
        notice = phone.locator("table.cards td a[href^='/notices/round/']")
        assert notice.inner_text() == "2022年5月整治进度报送通知"
        follow(phone, notice)
        main = phone.locator("main").inner_text()
        assert "办理时限" in main and "通知原文" in main and "待签收" in main  # what it asks, by when, as sent
        assert edges(phone)[0] <= WIDTH
        press(phone, phone.get_by_role("button", name="签收", exact=True))
        assert "已签收" in phone.locator("main").inner_text()
        phone.goto(f"{base}/")
        assert phone.locator("table.cards td a[href^='/notices/round/']").count() == 0
        follow(phone, phone.get_by_role("link", name="2022年5月整治进度报送"))
        for code, (progress, state, done, problems, plan) in typed.items():
            card = phone.locator("table.report-form tbody tr").filter(has=phone.get_by_label(f"{code}整改进度"))
            card.scroll_into_view_if_needed()
            box = card.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH  # the card fits the screen
            card.get_by_label(f"{code}整改进度").fill(progress)
            card.get_by_label(f"{code}工作状态").select_option(state)
            card.get_by_label(f"{code}本月进展").fill(done)
            card.get_by_label(f"{code}存在问题").fill(problems)
            card.get_by_label(f"{code}下月计划").fill(plan)
        assert edges(phone)[0] <= WIDTH and edges(phone)[1] <= WIDTH
        press(phone, phone.get_by_role("button", name="提交", exact=True))
        assert phone.locator("p.notice").count() == 1
        with session_scope() as session:
            assert get_submission(session, current_plan(session), PERIOD, TOWNSHIP).status == "submitted"
        phone.reload()  # what was sent is what the form shows again, and a refresh sends nothing
        for code, (progress, state, done, problems, plan) in typed.items():
            assert phone.get_by_label(f"{code}整改进度").input_value() == progress
            assert phone.get_by_label(f"{code}工作状态").input_value() == state
            assert phone.get_by_label(f"{code}本月进展").input_value() == done
            assert phone.get_by_label(f"{code}存在问题").input_value() == problems
            assert phone.get_by_label(f"{code}下月计划").input_value() == plan
        shot(phone, "report-submitted-phone.png", full_page=True)
