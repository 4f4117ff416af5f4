"""The portal in a real browser: Debian's Chromium driven by Playwright, on a phone and on an office PC.

People fill fields, press buttons and read the page, as they would: a township clerk follows the link
in the round's message, signs in, changes the initial password, signs for the round, reports, is
returned, fixes and resubmits; its department reviews and reports; the Office sees the round complete.
A close-out with evidence goes from township to department to Office; the Office starts a campaign
that a township answers. Script typed into any field stays text. Screenshots of the main pages go to
$DUBAN_SCREENSHOTS (the README's come from docs/screenshots/), else to a temporary folder.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import zlib
from datetime import date
from pathlib import Path

import pytest
from conftest import EVIDENCE, Cli, sample_rows
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Response,
    expect,
)
from portal import CHANGED, PASSWORD, running_portal
from sqlmodel import select

from duban.db import session_scope
from duban.glossary import cn_date
from duban.reporting.forms import form_rows, submit_online
from duban.reporting.reports import get_submission, review
from duban.stored_plan import current_plan
from models import Acknowledgement, Evidence, LedgerItem, OutboxMessage, Submission

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
# The README's pictures: refreshed with DUBAN_SCREENSHOTS=docs/screenshots; otherwise kept out of the tree.
SHOTS = Path(os.environ.get("DUBAN_SCREENSHOTS") or tempfile.mkdtemp(prefix="duban-screenshots-")).resolve()
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
PERIOD = "2022-05"
TOWNSHIP = "城关街道"
DEPARTMENT = "民政局"  # reviews 城关街道's report and leads PT2022-0001 (社区用房)
OFFICE = "区配套办"
CG_ITEMS = [f"PT2022-000{n}" for n in range(1, 10)]


# -- the browser and the people in it ---------------------------------------------------------------


def device(browser: Browser, people: list[BrowserContext], size: dict) -> Page:
    context = browser.new_context(**size, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    context.page_errors = []  # type: ignore[attr-defined]
    context.on("weberror", lambda error: context.page_errors.append(str(error.error)))  # type: ignore[attr-defined]
    context.on("console", lambda message: _console(context, message))
    people.append(context)
    return context.new_page()


def _console(context: BrowserContext, message: ConsoleMessage) -> None:
    """An error in the console (a refused inline script would show here); the browser's own request
    for /favicon.ico, which the portal does not serve, is not the page's."""
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        context.page_errors.append(f"{message.text} {message.location}")  # type: ignore[attr-defined]


def press(page: Page, button: Locator) -> None:
    """Click a button that sends a form, and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load"):
        button.click()


def follow(page: Page, link: Locator) -> None:
    with page.expect_navigation(wait_until="load"):
        link.click()


def sign_in(page: Page, base: str, login: str, *, first: bool, path: str = "/login") -> None:
    """Through the sign-in form; a first sign-in is led to the forced password change, then on."""
    if path:
        page.goto(base + path)
    page.get_by_label("登录名").fill(login)
    page.get_by_label("密码", exact=True).fill(CHANGED if not first else PASSWORD)
    press(page, page.get_by_role("button", name="登录"))
    if not first:
        return
    assert "/account/password" in page.url
    expect(page.locator("main")).to_contain_text("初始密码由他人设置，请先修改密码后再使用本平台。")
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码（至少12个字符）", exact=True).fill(CHANGED)
    page.get_by_label("再次输入新密码").fill(CHANGED)
    press(page, page.get_by_role("button", name="确认修改"))


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def inert(page: Page) -> None:
    """The script typed into a field did not run, and no element came of it."""
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x']").count() == 0


def rows_of(table: Locator) -> list[list[str]]:
    return table.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def add_users(cli: Cli, monkeypatch: pytest.MonkeyPatch, *users: tuple[str, ...]) -> None:
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    for unit, login, name, *role in users:
        cli("user", "add", "--unit", unit, "--login", login, "--name", name, *(("--role", role[0]) if role else ()))


def png(width: int, height: int) -> bytes:
    """A real PNG: a red band over white, as a photo of a sign-board would be (small)."""
    red, white = bytes((166, 27, 27)) * width, bytes((255, 255, 255)) * width
    raw = b"".join(b"\x00" + (red if y < height // 3 else white) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# -- the other units of the round, quickly (the browser walks one township and its department) -------


def submit_unchanged(unit: str, day: date) -> None:
    """A unit with nothing new submits its pre-filled form as it stands."""
    with session_scope() as session:
        plan = current_plan(session)
        rows = form_rows(session, plan, get_submission(session, plan, PERIOD, unit))
        entered = {
            r["code"]: {"progress": str(r["progress"]), "work_state": r["work_state"], "opinion": ""} for r in rows
        }
        submit_online(
            session, plan, period=PERIOD, unit=unit, entered=entered, summary="本月无新进展。", as_of=day, draft=False
        )


def accept_by_all(unit: str, day: date) -> None:
    with session_scope() as session:
        plan = current_plan(session)
        for department in get_submission(session, plan, PERIOD, unit).reviewers:
            review(session, plan, period=PERIOD, township=unit, by=department, accept=True, reason="", as_of=day)


def submissions() -> dict[str, Submission]:
    with session_scope() as session:
        return {s.unit: s for s in session.exec(select(Submission).where(Submission.period == PERIOD))}


# -- 1. a whole round ---------------------------------------------------------------------------------

# What 城关街道 reports (progress, state, 本月进展, 存在问题, 下月计划); 0004 has no plan yet.
REPORTED = {
    code: (0, "未开工", "尚未制定整治方案。", "产权单位未确定。", "6月底前制定方案。")
    if code == "PT2022-0004"
    else (10 * n, "推进中", f"{code}本月完成第{n}项工作。", f"{code}存在资金缺口。", f"{code}下月完成验收准备。")
    for n, code in enumerate(CG_ITEMS, start=1)
}
REPORTED["PT2022-0001"] = (60, "推进中", XSS, "承租方搬迁进度慢。", "6月底前完成清退。")
RETURN_REASON = "PT2022-0003进度填报偏高，请核实后重新报送。"
# 民政局 reviews the lines of the categories it leads (the plan: 社区用房, 养老服务设施, 社区食堂), unless the
# ledger names another lead department for the row
MZ_CATEGORIES = ("社区用房", "养老服务设施", "社区食堂")
MZ_ITEMS = [
    r["问题编号"]
    for r in sample_rows()
    if r["问题编号"] in CG_ITEMS and (r["牵头部门"] or ("民政局" if r["设施类别"] in MZ_CATEGORIES else "")) == "民政局"
]


def test_a_round_from_the_message_to_the_complete_dashboard(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    add_users(
        imported,
        monkeypatch,
        (TOWNSHIP, "cg-zhang", "张三"),
        (DEPARTMENT, "mz-li", "李四", "reviewer"),
        (OFFICE, "pt-wang", "王五"),
    )
    with running_portal(date(2022, 5, 1)) as portal:
        monkeypatch.setenv("DUBAN_PORTAL_URL", portal.url)
        imported("tick", "--as-of", "2022-05-01")
        with session_scope() as session:
            message = session.exec(
                select(OutboxMessage).where(OutboxMessage.recipient == TOWNSHIP, OutboxMessage.kind == "round_opened")
            ).one()
            reviewers = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).reviewers
        assert reviewers == ["教体局", "民政局", "商务局", "卫健局"]
        link = re.search(r"请登录督办平台办理：(\S+)", message.body)
        assert link and link.group(1) == f"{portal}/reports/{PERIOD}"

        # The clerk taps the link on the phone: sign-in, forced change, then the linked page.
        portal.set_day(date(2022, 5, 2))
        phone = device(browser, people, PHONE)
        phone.goto(link.group(1))
        assert phone.url == f"{portal}/login?next=/reports/{PERIOD}"
        expect(phone.locator("h1")).to_have_text("登录")
        shot(phone, "login-phone.png")
        sign_in(phone, portal, "cg-zhang", first=True, path="")
        assert phone.url == f"{portal}/reports/{PERIOD}"
        expect(phone.locator("h1")).to_have_text(f"2022年5月整治进度报送 · {TOWNSHIP}")

        # 待办: the round waits to be signed for; 签收.
        follow(phone, phone.locator("nav.menu").get_by_role("link", name="待办"))
        asks = phone.locator("h2", has_text="待签收")
        expect(asks).to_have_text("待签收的通知（1件）")
        with session_scope() as session:
            due = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).due_on
        notice = ["2022年5月整治进度报送通知", "2022年5月1日", cn_date(due), "签收"]
        assert rows_of(phone.locator("table").first) == [notice]
        expect(phone.locator("ul.todo").first).to_contain_text("2022年5月整治进度报送")
        expect(phone.locator("ul.todo").first).to_contain_text("待报送")
        shot(phone, "todo-phone.png")
        press(phone, phone.get_by_role("button", name="签收"))
        expect(phone.locator("h2", has_text="待签收")).to_have_count(0)
        with session_scope() as session:
            signed = session.exec(select(Acknowledgement).where(Acknowledgement.unit == TOWNSHIP)).one()
        assert (signed.request_kind, signed.request_key, signed.acknowledged_on, signed.person) == (
            "round",
            PERIOD,
            date(2022, 5, 2),
            "张三（城关街道）",
        )

        # At the office PC: the online form, every item filled, submitted.
        desk = device(browser, people, DESKTOP)
        sign_in(desk, portal, "cg-zhang", first=False)
        follow(desk, desk.get_by_role("link", name="2022年5月整治进度报送"))
        fill_report(desk, REPORTED)
        shot(desk, "report-form-desktop.png")
        press(desk, desk.get_by_role("button", name="提交", exact=True))
        expect(desk.locator("p.notice")).to_have_text("已提交（第1版）")
        expect(desk.get_by_label("PT2022-0001本月进展")).to_have_value(XSS)
        inert(desk)
        assert submissions()[TOWNSHIP].status == "submitted"

        # 民政局 reviews: the report beside last month's, the script shown as text; returned with a reason.
        portal.set_day(date(2022, 5, 3))
        dept = device(browser, people, DESKTOP)
        sign_in(dept, portal, "mz-li", first=True)
        assert dept.url == f"{portal}/"
        expect(dept.locator("p.notice")).to_have_text("密码已修改。")
        expect(dept.locator("h2", has_text="待审核的镇办报表")).to_have_text("待审核的镇办报表（1）")
        follow(dept, dept.get_by_role("link", name="城关街道 2022年5月报表（第1版）"))
        expect(dept.locator("h1")).to_have_text("城关街道 2022年5月整治进度报表")
        lines = rows_of(dept.locator("table"))
        assert [row[:6] for row in lines] == [
            [code, f"{p}%", state, month, obstacles, plan]
            for code, (p, state, month, obstacles, plan) in REPORTED.items()
            if code in MZ_ITEMS
        ]
        expect(dept.get_by_text("另有")).to_have_text(
            f"另有{len(CG_ITEMS) - len(MZ_ITEMS)}项问题由其他牵头部门审核，未列出。"
        )
        assert all(row[6:] == ["—", "—"] for row in lines)  # no accepted April report to compare with
        expect(dept.get_by_role("cell", name=XSS)).to_be_visible()
        inert(dept)
        shot(dept, "review-desktop.png")
        dept.get_by_label("退回理由（退回时必填）").fill(RETURN_REASON)
        press(dept, dept.get_by_role("button", name="退回"))
        assert dept.url == f"{portal}/reports/{PERIOD}"
        expect(dept.locator("p.notice")).to_have_text("审核意见已提交。")
        assert submissions()[TOWNSHIP].status == "returned"

        # The township sees the reason on 待办 and on the form, fixes PT2022-0003 and resubmits.
        portal.set_day(date(2022, 5, 4))
        desk.goto(f"{portal}/")
        todo = desk.locator("ul.todo").first
        expect(todo).to_contain_text("已退回")
        expect(todo.locator(".error")).to_have_text(f"退回理由：{RETURN_REASON}")
        follow(desk, desk.get_by_role("link", name="2022年5月整治进度报送"))
        returned = f"民政局于2022年5月3日退回第1版，理由：{RETURN_REASON}"
        expect(desk.locator("section.card p.error")).to_have_text(returned)
        expect(desk.get_by_label("PT2022-0003整改进度")).to_have_value("30")  # the form keeps what was sent
        desk.get_by_label("PT2022-0003整改进度").fill("25")
        press(desk, desk.get_by_role("button", name="提交", exact=True))
        expect(desk.locator("p.notice")).to_have_text("已提交（第2版）")

        # Every reviewer accepts version 2: 民政局 on the page, the other three by the terminal.
        portal.set_day(date(2022, 5, 5))
        dept.goto(f"{portal}/")
        follow(dept, dept.get_by_role("link", name="城关街道 2022年5月报表（第2版）"))
        assert rows_of(dept.locator("table"))[MZ_ITEMS.index("PT2022-0003")][:3] == ["PT2022-0003", "25%", "推进中"]
        press(dept, dept.get_by_role("button", name="审核通过"))
        expect(dept.locator("p.notice")).to_have_text("审核意见已提交。")
        assert submissions()[TOWNSHIP].status == "submitted"  # three reviewers still to decide
        for other in ("教体局", "商务局", "卫健局"):
            imported(
                "report",
                "review",
                "--by",
                other,
                "--unit",
                TOWNSHIP,
                "--period",
                PERIOD,
                "--accept",
                "--as-of",
                "2022-05-05",
            )
        assert submissions()[TOWNSHIP].status == "accepted"

        # The other townships report unchanged and are accepted.
        others = [s.unit for s in submissions().values() if s.kind == "township" and s.unit != TOWNSHIP]
        assert len(others) == 11
        for unit in others:
            submit_unchanged(unit, date(2022, 5, 5))
            accept_by_all(unit, date(2022, 5, 5))

        # The Office: every township accepted, the departments not yet: the round is not complete.
        office = device(browser, people, DESKTOP)
        sign_in(office, portal, "pt-wang", first=True)
        office.goto(f"{portal}/dashboard")
        expect(office.locator("#round-complete")).to_have_count(0)
        board = dict((row[0], row[1]) for row in rows_of(office.locator("table").first))
        assert board[TOWNSHIP] == "已审核通过"
        assert board[DEPARTMENT] == "待报送"

        # 民政局's own consolidated report: pre-filled with what the townships reported, a summary, submitted.
        portal.set_day(date(2022, 5, 6))
        dept.goto(f"{portal}/reports/{PERIOD}")
        expect(dept.locator("h1")).to_have_text(f"2022年5月整治进度汇总报送 · {DEPARTMENT}")
        expect(dept.get_by_label("PT2022-0001核定进度")).to_have_value("60")
        expect(dept.get_by_label("PT2022-0003核定进度")).to_have_value("25")
        reviewed = rows_of(dept.locator("table").first)
        assert reviewed[[r[0] for r in reviewed].index(TOWNSHIP)][1:] == ["已审核通过", "2"]
        dept.get_by_label("PT2022-0001部门意见").fill("同意镇办核定进度。")
        dept.get_by_label("本月工作总结（整治进展、存在问题、下步打算）").fill("本月督促各镇办推进社区用房清退。")
        press(dept, dept.get_by_role("button", name="提交", exact=True))
        expect(dept.locator("p.notice")).to_have_text("已提交（第1版）")
        for unit in ("教体局", "商务局", "卫健局", "住建局"):
            submit_unchanged(unit, date(2022, 5, 6))
        assert {s.status for s in submissions().values()} == {"accepted", "submitted"}

        office.reload()
        expect(office.locator("#round-complete")).to_have_text("本期报送已全部完成")
        board = dict((row[0], row[1]) for row in rows_of(office.locator("table").first))
        assert board[DEPARTMENT] == "已报送"
        shot(office, "dashboard-desktop.png")

        # What the round did to the ledger: 民政局's item in progress at the reported 60%.
        with session_scope() as session:
            item = session.exec(select(LedgerItem).where(LedgerItem.code == "PT2022-0001")).one()
        assert (item.status, item.progress) == ("in_progress", 60)


def fill_report(page: Page, values: dict[str, tuple]) -> None:
    for code, (progress, state, month, obstacles, plan) in values.items():
        page.get_by_label(f"{code}整改进度").fill(str(progress))
        page.get_by_label(f"{code}工作状态").select_option(state)
        page.get_by_label(f"{code}本月进展").fill(month)
        page.get_by_label(f"{code}存在问题").fill(obstacles)
        page.get_by_label(f"{code}下月计划").fill(plan)


# -- 2. a close-out with evidence ---------------------------------------------------------------------


def test_a_close_out_with_evidence_seen_in_the_browser(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext], tmp_path: Path
) -> None:
    add_users(
        imported,
        monkeypatch,
        (TOWNSHIP, "cg-zhang", "张三"),
        (DEPARTMENT, "mz-li", "李四", "reviewer"),
        (OFFICE, "pt-wang", "王五"),
    )
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", TOWNSHIP, "--as-of", "2022-04-20")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png(160, 90))
    statement = EVIDENCE.read_text(encoding="utf-8")

    with running_portal(date(2022, 5, 9)) as portal:
        # The township, on the phone: its list, the item, 申请销号 with a photo and the written statement.
        phone = device(browser, people, PHONE)
        sign_in(phone, portal, "cg-zhang", first=True)
        follow(phone, phone.locator("nav.menu").get_by_role("link", name="问题清单"))
        expect(phone.locator("h1")).to_have_text("问题清单（共9项）")
        listed = rows_of(phone.locator("table"))
        assert [r[0] for r in listed] == CG_ITEMS
        assert listed[0][3:5] == ["整改中", "0%"]  # 问题编号, 社区, 灯色, then 状态 and 进度
        shot(phone, "items-phone.png")
        follow(phone, phone.get_by_role("link", name="PT2022-0001"))
        phone.get_by_label("说明或理由（必填）").fill(XSS)
        expect(phone.get_by_text("单个文件不超过20 MB，可上传PDF、图片、Word、Excel或文本")).to_be_visible()
        phone.get_by_label("佐证材料（可多选）").set_input_files([photo, EVIDENCE])
        press(phone, phone.get_by_role("button", name="申请销号"))
        expect(phone.locator("p.notice")).to_have_text("已办理：申请销号")
        expect(phone.locator("h1 .tag").first).to_have_text("申请销号")
        expect(phone.get_by_role("cell", name=XSS)).to_be_visible()
        inert(phone)
        with session_scope() as session:
            kept = {e.filename: e.id for e in session.exec(select(Evidence))}
        assert set(kept) == {"现场照片.png", EVIDENCE.name}

        # 民政局 (the lead department) finds it on 待办, opens each file in the browser, verifies.
        dept = device(browser, people, DESKTOP)
        sign_in(dept, portal, "mz-li", first=True)
        verify = dept.locator("h2", has_text="待核验的销号申请")
        expect(verify).to_be_visible()
        follow(dept, dept.locator("ul.todo").get_by_role("link", name="PT2022-0001"))
        evidence = dept.locator("h2:has-text('佐证材料') + ul li")
        expect(evidence).to_have_count(2)
        size = len(photo.read_bytes())
        size = f"{size} 字节" if size < 1024 else f"{size / 1024:.1f} KB".replace(".0 KB", " KB")
        expect(evidence.filter(has_text="现场照片.png")).to_have_text(
            f"现场照片.png （城关街道，{size}，可在浏览器中查看）"
        )
        expect(dept.get_by_role("cell", name=XSS)).to_be_visible()
        request = dept.locator("section.request")  # the clerk's request, above the decision
        expect(request).to_contain_text(XSS)
        expect(request.locator("li")).to_have_count(2)
        assert request.bounding_box()["y"] < dept.get_by_role("button", name="核验通过").bounding_box()["y"]
        inert(dept)
        shot(dept, "item-evidence-desktop.png")

        image, response = opened(dept, "现场照片.png")
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.body() == photo.read_bytes()
        shown = image.locator("img")
        expect(shown).to_have_count(1)
        assert shown.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]") == [True, 160, 90]
        box = shown.bounding_box()
        assert box and (box["width"], box["height"]) == (160, 90)  # drawn at its size in the tab
        shot(image, "evidence-image-desktop.png")
        image.close()

        text, response = opened(dept, EVIDENCE.name)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert text.locator("body").inner_text().strip() == statement.strip()
        text.close()

        press(dept, dept.get_by_role("button", name="核验通过"))
        expect(dept.locator("p.notice")).to_have_text("已办理：部门已核验")

        # The Office closes it from 待办.
        office = device(browser, people, DESKTOP)
        sign_in(office, portal, "pt-wang", first=True)
        expect(office.locator("ul.todo").first).to_contain_text("PT2022-0001 城关街道 幸福里社区（民政局已核验）")
        follow(office, office.locator("ul.todo").get_by_role("link", name="PT2022-0001"))
        press(office, office.get_by_role("button", name="销号", exact=True))
        expect(office.locator("p.notice")).to_have_text("已办理：已销号")
        expect(office.locator("h1 .tag").first).to_have_text("已销号")
        inert(office)
        history = rows_of(office.locator("table").last)[::-1]  # newest first on the page
        assert history[-4:] == [
            [
                "2022-04-20",
                "操作员代录（城关街道）",
                "状态变更",
                "状态：已制定方案",
                "状态：整改中；操作：开始整改",
                "",
            ],
            [
                "2022-05-09",
                "张三（城关街道）",
                "状态变更",
                "状态：整改中",
                f"状态：申请销号；操作：申请销号；佐证材料：现场照片.png、{EVIDENCE.name}",
                XSS,
            ],
            ["2022-05-09", "李四（民政局）", "状态变更", "状态：申请销号", "状态：部门已核验；操作：核验通过", ""],
            [
                "2022-05-09",
                "王五（区配套办）",
                "状态变更",
                "状态：部门已核验；整改进度：0%",
                "状态：已销号；操作：销号；整改进度：100%",
                "",
            ],
        ]
        shot(office, "item-closed-desktop.png", full_page=True)
    with session_scope() as session:
        assert session.exec(select(LedgerItem.status).where(LedgerItem.code == "PT2022-0001")).one() == "closed"


def opened(page: Page, filename: str) -> tuple[Page, Response]:
    """Click an evidence link: it opens in a new tab; the tab and the file's response."""
    context = page.context
    with (
        context.expect_page() as tab,
        context.expect_event("response", lambda r: "/evidence/" in r.url) as answer,
    ):
        page.get_by_role("link", name=filename).first.click()
    shown = tab.value
    shown.wait_for_load_state()
    return shown, answer.value


# -- 3. a campaign on the web -------------------------------------------------------------------------


def test_the_office_starts_a_campaign_that_a_township_answers(
    imported: Cli, monkeypatch: pytest.MonkeyPatch, browser: Browser, people: list[BrowserContext]
) -> None:
    add_users(imported, monkeypatch, (TOWNSHIP, "cg-zhang", "张三"), (OFFICE, "pt-wang", "王五"))
    chosen = {"社区用房", "教育设施"}
    expected = sorted(r["问题编号"] for r in sample_rows() if r["镇办"] == TOWNSHIP and r["设施类别"] in chosen)
    assert len(expected) == 4

    with running_portal(date(2022, 5, 10)) as portal:
        office = device(browser, people, DESKTOP)
        sign_in(office, portal, "pt-wang", first=True)
        follow(office, office.locator("nav.menu").get_by_role("link", name="专项督导"))
        follow(office, office.get_by_role("link", name="发起专项督导"))
        office.get_by_label("督导名称").fill("社区用房和教育设施专项督导")
        office.get_by_label("反馈截止日期").fill("2022-05-20")
        office.get_by_role("checkbox", name=TOWNSHIP).check()
        for name in sorted(chosen):
            office.get_by_role("checkbox", name=name, exact=True).check()
        press(office, office.get_by_role("button", name="统计符合条件的问题"))
        expect(office.locator("#scope-count")).to_have_text(str(len(expected)))
        shot(office, "campaign-scope-desktop.png", full_page=True)
        press(office, office.get_by_role("button", name=f"确认发起督导（{len(expected)}项）"))
        expect(office.locator("p.notice")).to_have_text("专项督导已发起，已通知相关单位。")
        campaign_page = office.url.split("?")[0]

        # The township, on the phone: signs for the campaign on 待办, then answers on its page.
        portal.set_day(date(2022, 5, 12))
        phone = device(browser, people, PHONE)
        sign_in(phone, portal, "cg-zhang", first=True)
        assert rows_of(phone.locator("table").first) == [
            ["“社区用房和教育设施专项督导”专项督导通知", "2022年5月10日", "2022年5月20日", "签收"]
        ]
        press(phone, phone.get_by_role("button", name="签收"))
        expect(phone.locator("h2", has_text="待签收")).to_have_count(0)
        waiting = phone.locator("h2:has-text('专项督导待反馈') + ul.todo")
        expect(waiting).to_have_text(f"社区用房和教育设施专项督导：{len(expected)}项问题，2022年5月20日前反馈")
        follow(phone, waiting.get_by_role("link", name="社区用房和教育设施专项督导"))
        assert phone.url == campaign_page
        expect(phone.locator("h2", has_text="本单位反馈")).to_have_text(f"本单位反馈（{len(expected)}项问题）")
        for code in expected:
            progress = XSS if code == expected[0] else f"{code}已完成现场核查。"
            phone.get_by_label(f"{code}整改进展情况").fill(progress)
            phone.get_by_label(f"{code}下一步整改措施").fill("督促责任单位按期完成。")
            phone.get_by_label(f"{code}承诺完成时限").fill("2022-06-30")
        press(phone, phone.get_by_role("button", name="提交反馈"))
        expect(phone.locator("p.notice")).to_have_text(f"已提交{len(expected)}项问题的反馈。")
        expect(phone.get_by_label(f"{expected[0]}整改进展情况")).to_have_value(XSS)
        inert(phone)

        # The Office sees the answer: every item answered on time, and what was said.
        office.goto(campaign_page)
        assert rows_of(office.locator("table").first) == [[TOWNSHIP, "4", "4", "0", "0", "—"]]
        answers = {r[0]: r for r in rows_of(office.locator("table").nth(1))}
        assert sorted(answers) == expected
        assert answers[expected[0]][1:] == [TOWNSHIP, "2022年5月12日", XSS, "督促责任单位按期完成。", "2022年6月30日"]
        expect(office.get_by_role("cell", name=XSS)).to_be_visible()
        inert(office)
        shot(office, "campaign-answers-desktop.png")
