"""The report pages on a 390x844 phone: the form one item per card with its fields stacked, the list and the
review as cards, no control beyond the right edge and no sideways scroll; the reviewer's decision below
the report, 审核通过 and 退回 distinct."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import Cli
from playwright.sync_api import Browser, BrowserContext, Page
from portal import running_portal
from test_portal_browser import PHONE, add_users, device, shot, sign_in, submit_unchanged

from duban.db import session_scope
from duban.programme import current_plan
from duban.reporting.reports import get_submission

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
