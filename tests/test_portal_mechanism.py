"""The long-term mechanism on the portal (issue 14): the project register, a project's joint review
(会签) submitted by its lead department, signed by form, returned and submitted again, a shortfall
waived by the Office, and the mechanism documents filed by their owners and verified by the Office.
Then a department reviewer in a real browser countersigns one gate and rejects another.

One database for the module: the plan, the sample register of fifteen projects imported on 2022-05-09,
thirteen of them submitted by 自然资分局 for the planning-conditions review that day (signatures due
2022-05-23; two left open for it to submit) and the deliverables made by the daily follow-up. Each
test works on its own projects, so they read alike in any order. A refusal is checked to change
nothing by a digest of every domain table and of the files under DUBAN_HOME.
"""

from __future__ import annotations

import hashlib
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
from chinese_calendar.constants import holidays
from conftest import PLAN, ROOT, Cli
from playwright.sync_api import Browser, BrowserContext, Page, expect
from portal import PASSWORD, quick_home, running_portal, sign_in, token
from test_portal_browser import DESKTOP, PHONE, XSS, device, follow, inert, press, shot
from test_portal_security import state

from duban.db import session_scope
from duban.mechanism import gates
from duban.mechanism.run import follow_projects
from duban.signin import accounts
from duban.stored_plan import current_plan

REGISTER = ROOT / "samples" / "projects-2022.xlsx"
IMPORTED = date(2022, 5, 9)  # a Monday: signatures due ten working days on, 2022-05-23
DAY = date(2022, 5, 10)  # the portal's day
OPEN = ("XM2022-009", "XM2022-010")  # their first gate open, not yet submitted by 自然资分局
SUBMITTED = [f"XM2022-{n:03d}" for n in range(1, 16) if f"XM2022-{n:03d}" not in OPEN]
DUE = "2022-05-23"
SIGNERS = ["自然资分局", "住建局", "教体局", "民政局", "卫健局", "商务局"]  # planning_conditions: lead first
# login: (unit, role, name); every password is PASSWORD
ACCOUNTS = {
    "jt-li": ("教体局", "reviewer", "李明"),
    "jt-zhao": ("教体局", "clerk", "赵敏"),
    "jt-web": ("教体局", "reviewer", "孙伟"),  # signs in with the browser
    "mz-wang": ("民政局", "reviewer", "王芳"),
    "zr-chen": ("自然资分局", "clerk", "陈刚"),
    "zr-sun": ("自然资分局", "reviewer", "孙丽"),
    "cz-qian": ("财政局", "reviewer", "钱进"),  # 财政局 signs only the use-supervision gate
    "cg-zhang": ("城关街道", "clerk", "张三"),
    "dc-li": ("东城街道", "clerk", "李四"),
    "pt-wang": ("区配套办", "staff", "王主任"),
    "qz-liu": ("区长", "leader", "刘区长"),
}
SHARED = [login for login in ACCOUNTS if login != "jt-web"]
FORBIDDEN = "你的账号无权进行此操作"
NOT_FOUND = "页面不存在，或你的账号无权查看"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(300)


@dataclass
class World:
    home: Path
    base: str
    portal: object  # tests.portal.Portal: the base URL, and set_day
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]

    def state(self) -> dict:
        return state(self.home)

    def post(self, login: str, path: str, data: dict, files: list | None = None) -> httpx.Response:
        return self.clients[login].post(path, data=data | {"csrf_token": self.tokens[login]}, files=files)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("portal-mechanism") / "home"
    with quick_home(home):  # argon2 at a few milliseconds a hash (this module signs in many times)
        cli = Cli()
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
        cli("project", "import", REGISTER, "--as-of", IMPORTED.isoformat())
        with session_scope() as session:  # 自然资分局 puts all but two to the signers the same day
            plan = current_plan(session)
            for code in SUBMITTED:
                gates.submit(session, plan, code, by="自然资分局", as_of=IMPORTED)
        follow_projects(IMPORTED)  # the deliverables the plan asks for
        for login, (unit, role, name) in ACCOUNTS.items():
            cli("user", "add", "--unit", unit, "--login", login, "--name", name, "--role", role)
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(DAY) as portal:
            clients = {login: sign_in(portal, login, change_to=None) for login in SHARED}
            tokens = {login: token(client) for login, client in clients.items()}
            try:
                yield World(home, str(portal), portal, clients, tokens)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


# --- helpers -------------------------------------------------------------------------------------------


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def gate_row(home: Path, code: str, gate: str) -> tuple:
    """(state, round, submitted_on, due_on, returned_on, resubmit_due, passed_on) of one project's gate."""
    return query(
        home,
        "SELECT g.state, g.round, g.submitted_on, g.due_on, g.returned_on, g.resubmit_due, g.passed_on "
        "FROM project_gate g JOIN project p ON p.id = g.project_id WHERE p.code = ? AND g.gate = ?",
        code,
        gate,
    )[0]


def signatures(home: Path, code: str, gate: str) -> list[tuple]:
    """(round, signer, decision, reasons, conditions, signed_on, signed_by) in the order they were asked."""
    return query(
        home,
        "SELECT s.round, s.signer, s.decision, s.reasons, s.conditions, s.signed_on, s.signed_by FROM signature s "
        "JOIN project_gate g ON g.id = s.gate_id JOIN project p ON p.id = g.project_id "
        "WHERE p.code = ? AND g.gate = ? ORDER BY s.id",
        code,
        gate,
    )


def text_of(fragment: str) -> str:
    """The words of some markup, as read: a line break or a new block is a space, other tags nothing."""
    spaced = re.sub(r"<(?:br|/?(?:p|li|h[1-3]|div|tr|td|th|section))\b[^>]*>", " ", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", spaced)).split())


def table(page: str, table_id: str) -> list[list[str]]:
    """A table's body rows as the text of each cell."""
    found = re.search(rf'<table id="{table_id}"[^>]*>.*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, f"no table {table_id}"
    return [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


def error_of(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
    assert found, f"no error shown ({response.status_code}): {response.text[:500]}"
    return html.unescape(found.group(1)).strip()


def refused(world: World, login: str, response: httpx.Response, at: str) -> httpx.Response:
    """A refusal answers 303 back to the form it came from (post/redirect/get); the page there, read once,
    says why."""
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == at
    return world.clients[login].get(at)


def notice_of(response: httpx.Response) -> str:
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', response.text, re.S)
    assert found, f"no notice shown ({response.status_code})"
    return html.unescape(found.group(1)).strip()


def section(page: str, heading: str) -> str:
    """What follows an <h2> that starts with `heading`, up to the next <h2>."""
    found = re.search(rf"<h2[^>]*>{re.escape(heading)}.*?</h2>(.*?)(?=<h2|</main>)", page, re.S)
    assert found, f"no section {heading}"
    return found.group(1)


def approve_all(code: str, *, but: tuple[str, ...] = ()) -> None:
    """The other signers approve at the terminal's level (the domain), as the walk through a month does."""
    with session_scope() as session:
        plan = current_plan(session)
        for signer in SIGNERS:
            if signer not in but:
                gates.sign(session, plan, code, signer=signer, approve=True, as_of=DAY)


# --- the register ----------------------------------------------------------------------------------------


def test_the_register_to_each_reader(world: World) -> None:
    office = world.clients["pt-wang"].get("/projects")
    assert office.status_code == 200
    rows = {r[0]: r for r in table(office.text, "register")}
    assert sorted(rows) == [f"XM2022-{n:03d}" for n in range(1, 16)]
    waiting = "、".join(SIGNERS)
    # XM2022-011: 1500 households, 养老服务用房 max(200, ⌈1500×20/100⌉) = 300 m² required, 200 committed
    assert rows["XM2022-011"] == [
        "XM2022-011", "石桥·书香苑", "石桥镇", "规划条件联合审查", "会签中", DUE, waiting, "—", "1项",
    ]  # fmt: skip
    assert rows["XM2022-012"] == [
        "XM2022-012", "柳林·柳岸人家", "柳林镇", "规划条件联合审查", "会签中", DUE, waiting, "—", "—",
    ]  # fmt: skip
    # 1100 households, every standard met; its review not yet submitted: nobody to wait for, no deadline
    assert rows["XM2022-010"] == [
        "XM2022-010", "白云·康桥郡", "白云镇", "规划条件联合审查", "待提交", "—", "—", "—", "—",
    ]  # fmt: skip
    assert "待本单位会签" not in office.text

    # a township: its own projects only, and nothing else of the register
    township = world.clients["dc-li"].get("/projects").text
    assert [r[1] for r in table(township, "register")] == ["东城·翰林苑", "东城·澜庭"]
    assert "XM2022-001" not in township

    # a department: its queue first, then the whole register (it signs across the district)
    department = world.clients["jt-li"].get("/projects").text
    queue = section(department, "待本单位会签")
    assert text_of(re.search(r'<li><a href="/projects/XM2022-012">.*?</li>', queue).group(0)) == (
        "XM2022-012 柳林·柳岸人家 规划条件联合审查（第1轮），2022年5月23日前签署"
    )
    assert department.index("待本单位会签") < department.index('<table id="register"')
    assert len(table(department, "register")) == 15
    lead = world.clients["zr-chen"].get("/projects").text
    for code, name in [("XM2022-009", "青山·云栖"), ("XM2022-010", "白云·康桥郡")]:
        assert f"{code} {name} 规划条件联合审查" in text_of(section(lead, "待本单位提交会签"))
    finance = world.clients["cz-qian"].get("/projects").text
    assert re.search(r"<h2[^>]*>待本单位会签（0）</h2>", finance) and "暂无待会签的项目。" in finance
    assert len(table(finance, "register")) == 15
    leader = world.clients["qz-liu"].get("/projects").text
    assert len(table(leader, "register")) == 15 and "待本单位会签" not in leader

    # the day after the signers' deadline every one still awaited is late
    world.portal.set_day(date(2022, 5, 24))
    try:
        late = {r[1]: r for r in table(world.clients["pt-wang"].get("/projects").text, "register")}
        queue = section(world.clients["jt-li"].get("/projects").text, "待本单位会签")
    finally:
        world.portal.set_day(DAY)
    assert late["柳林·柳岸人家"][7] == " ".join(SIGNERS)
    assert "XM2022-012 柳林·柳岸人家 规划条件联合审查（第1轮），2022年5月23日前签署 逾期" in text_of(queue)


def test_a_project_page_shows_what_it_must_provide(world: World) -> None:
    page = world.clients["cg-zhang"].get("/projects/XM2022-013")  # 城关's own, read-only
    assert page.status_code == 200
    # 2050 households: ⌈2050×30/100⌉ = 615 m²; ⌈2050×20/100⌉ = 410 m²; max(6, ⌈2050×3/1000⌉) = 7 classes;
    # ⌈2050×40/100⌉ = 820 m²; 615 m²; the health station only from 3000 households: 0
    assert table(page.text, "provisions") == [
        ["社区用房", "建筑面积（平方米）", "615", "615", "—", ""],
        ["养老服务用房", "建筑面积（平方米）", "410", "410", "—", ""],
        ["幼儿园", "办园规模（班）", "7", "7", "—", ""],
        ["便民商业设施", "建筑面积（平方米）", "820", "820", "—", ""],
        ["室外健身场地", "用地面积（平方米）", "615", "615", "—", ""],
        ["社区卫生服务站", "建筑面积（平方米）", "0", "0", "—", ""],
    ]
    assert 'action="/projects/' not in page.text  # a township reads; it signs nothing
    # what stands now, first: the gate, its deadline, who is awaited (a phone reads this before the rest)
    summary = re.search(r'<section class="card summary" id="now">(.*?)</section>', page.text, re.S)
    assert summary and text_of(summary.group(1)) == (
        f"当前环节规划条件联合审查 会签中 会签期限2022年5月23日 待签署{'、'.join(SIGNERS)}"  # dt and dd run on
    )
    first = re.search(
        r'<section class="card gate current" id="gate-planning_conditions">(.*?)</section>', page.text, re.S
    )
    assert first
    assert "1. 规划条件联合审查 会签中" in text_of(first.group(1))
    assert "第1轮于2022年5月9日提交，会签期限2022年5月23日。" in text_of(first.group(1))
    assert len(re.findall(r'<tr><td class="num" data-label="轮次">1</td>', first.group(1))) == 6
    assert text_of(page.text).count("未开始") == 7  # the seven gates after it


# --- signing -----------------------------------------------------------------------------------------------


def test_a_reviewer_countersigns_by_the_form(world: World) -> None:
    page = world.clients["jt-li"].get("/projects/XM2022-001").text
    assert 'action="/projects/XM2022-001/sign"' in page and "教体局会签意见" in page
    assert '<a class="button" href="#form-sign">填写本单位会签意见</a>' in page  # at the top, to the form
    forged = {"signer": "民政局", "unit": "民政局", "by": "民政局", "login": "mz-wang"}
    response = world.post(
        "jt-li",
        "/projects/XM2022-001/sign",
        {"gate": "planning_conditions", "decision": "approve", "conditions": "幼儿园须与首期住宅同步设计。"} | forged,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/XM2022-001"
    rows = signatures(world.home, "XM2022-001", "planning_conditions")
    assert rows[2] == (1, "教体局", "approved", "", "幼儿园须与首期住宅同步设计。", "2022-05-10", "李明（教体局）")
    assert [r[2] for r in rows] == [None, None, "approved", None, None, None]  # 民政局 is not signed for
    assert gate_row(world.home, "XM2022-001", "planning_conditions")[:2] == ("in_review", 1)
    assert query(
        world.home,
        "SELECT actor, person, via, action FROM audit_entry WHERE subject = 'project' AND subject_key = 'XM2022-001' "
        "ORDER BY id DESC LIMIT 1",
    ) == [("教体局", "李明", "portal", "signed")]

    shown = world.clients["jt-li"].get(response.headers["location"])
    assert notice_of(shown) == "会签意见已提交。"
    assert 'action="/projects/XM2022-001/sign"' not in shown.text  # signed: no form
    # a second opinion for the same round is refused, and says why
    before = world.state()
    again = world.post("jt-li", "/projects/XM2022-001/sign", {"gate": "planning_conditions", "decision": "reject"})
    shown = refused(world, "jt-li", again, "/projects/XM2022-001#form-sign")
    assert error_of(shown) == "教体局已于2022-05-10签署本轮意见（同意）"
    assert "教体局已于" not in world.clients["jt-li"].get("/projects/XM2022-001").text  # said once
    assert world.state() == before


def test_a_rejection_without_reasons_is_refused(world: World) -> None:
    before = world.state()
    for reasons in ("", "   \n  "):
        response = world.post(
            "jt-li",
            "/projects/XM2022-002/sign",
            {"gate": "planning_conditions", "decision": "reject", "reasons": reasons, "conditions": "补足班数"},
        )
        shown = refused(world, "jt-li", response, "/projects/XM2022-002#form-sign")
        assert error_of(shown) == "不同意的，须写明理由"
        assert 'action="/projects/XM2022-002/sign"' in shown.text  # the form is there to try again
        # what was typed is kept, the field named
        assert '<textarea name="reasons" maxlength="2000" aria-invalid="true"' in shown.text
        assert re.search(r'<textarea name="conditions" maxlength="2000">补足班数</textarea>', shown.text)
    response = world.post("jt-li", "/projects/XM2022-002/sign", {"gate": "planning_conditions", "reasons": "x"})
    shown = refused(world, "jt-li", response, "/projects/XM2022-002#form-sign")
    assert error_of(shown) == "请选择“同意”或“不同意”"
    assert re.search(r'<textarea name="reasons" maxlength="2000">x</textarea>', shown.text)
    assert world.state() == before
    assert [r[2] for r in signatures(world.home, "XM2022-002", "planning_conditions")] == [None] * 6


def test_only_a_signer_departments_reviewer_signs(world: World) -> None:
    form = {"gate": "planning_conditions", "decision": "approve"}
    before = world.state()
    # 财政局 is no signer of this gate; 教体局's clerk is no reviewer; townships, the Office, leaders sign nothing
    for login in ("cz-qian", "jt-zhao", "cg-zhang", "pt-wang", "qz-liu"):
        response = world.post(login, "/projects/XM2022-008/sign", form)
        assert response.status_code == 403, login
        assert error_of(response) == FORBIDDEN
    for login in ("cz-qian", "jt-zhao", "pt-wang"):
        assert 'action="/projects/XM2022-008/sign"' not in world.clients[login].get("/projects/XM2022-008").text
    # a gate where 教体局 has no part (住建局 alone checks the permit): refused as well
    response = world.post("jt-li", "/projects/XM2022-008/sign", form | {"gate": "construction_permit"})
    assert response.status_code == 403
    # a gate it signs, but not the one open now: the domain says so
    response = world.post("jt-li", "/projects/XM2022-008/sign", form | {"gate": "land_supply"})
    shown = refused(world, "jt-li", response, "/projects/XM2022-008#form-sign")
    assert error_of(shown) == "项目XM2022-008当前没有待会签的供地条件联合审查"
    response = world.post("jt-li", "/projects/XM2022-010/sign", form)  # not yet submitted by its lead
    shown = refused(world, "jt-li", response, "/projects/XM2022-010#form-sign")
    assert error_of(shown) == "项目XM2022-010规划条件联合审查尚未提交会签（待提交），待牵头部门提交后再签署"
    assert world.post("jt-li", "/projects/XM2099-999/sign", form).status_code == 404
    assert world.state() == before


def test_a_township_opens_only_its_own_projects(world: World) -> None:
    dc, cg = world.clients["dc-li"], world.clients["cg-zhang"]
    for code in ("XM2022-001", "XM2022-003", "XM2022-013"):
        response = dc.get(f"/projects/{code}")
        assert response.status_code == 404, code
        assert error_of(response) == NOT_FOUND
    assert dc.get("/projects/XM2022-002").status_code == 200
    assert cg.get("/projects/XM2022-002").status_code == 404
    assert dc.get("/projects/XM2099-999").status_code == 404  # alike for one that does not exist
    assert world.clients["mz-wang"].get("/projects/XM2022-003").status_code == 200  # departments read all


# --- resubmission and waiver ---------------------------------------------------------------------------


def test_only_the_lead_department_submits_a_gate(world: World) -> None:
    page = world.clients["zr-chen"].get("/projects/XM2022-009").text
    assert "待自然资分局提交会签。" in page and 'action="/projects/XM2022-009/submit"' in page
    for login in ("mz-wang", "zr-sun", "pt-wang", "cg-zhang"):
        shown = world.clients[login].get("/projects/XM2022-009").text
        assert ('action="/projects/XM2022-009/submit"' in shown) == (login == "zr-sun"), login

    before = world.state()
    for login in ("mz-wang", "jt-li", "pt-wang", "cg-zhang", "qz-liu"):
        response = world.post(login, "/projects/XM2022-009/submit", {"gate": "planning_conditions"})
        assert response.status_code == 403, login
        assert error_of(response) == FORBIDDEN
    response = world.post("zr-chen", "/projects/XM2022-009/submit", {"gate": "land_supply", "note": "附图已更新。"})
    shown = refused(world, "zr-chen", response, "/projects/XM2022-009#form-submit")
    assert error_of(shown) == "项目XM2022-009当前没有待提交会签的供地条件联合审查"
    assert re.search(r'<textarea name="note" maxlength="2000">附图已更新。</textarea>', shown.text)
    response = world.post("zr-chen", "/projects/XM2022-001/submit", {"gate": "planning_conditions"})
    shown = refused(world, "zr-chen", response, "/projects/XM2022-001#form-submit")  # in review already
    assert error_of(shown) == "项目XM2022-001当前没有待提交会签的规划条件联合审查"
    assert world.state() == before

    response = world.post(
        "zr-chen", "/projects/XM2022-009/submit", {"gate": "planning_conditions", "by": "住建局", "unit": "住建局"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/XM2022-009"
    # submitted on Tuesday 2022-05-10: ten working days, 2022-05-24
    assert gate_row(world.home, "XM2022-009", "planning_conditions") == (
        "in_review", 1, "2022-05-10", "2022-05-24", None, None, None,
    )  # fmt: skip
    assert [r[1:3] for r in signatures(world.home, "XM2022-009", "planning_conditions")] == [(s, None) for s in SIGNERS]
    assert query(
        world.home,
        "SELECT actor, person, via, action FROM audit_entry WHERE subject_key = 'XM2022-009' ORDER BY id DESC LIMIT 1",
    ) == [("自然资分局", "陈刚", "portal", "gate_submitted")]
    assert notice_of(world.clients["zr-chen"].get(response.headers["location"])) == "已提交各单位会签。"


def test_a_returned_gate_is_resubmitted_by_its_lead(world: World) -> None:
    reasons = "幼儿园选址不符合服务半径要求。"
    response = world.post(
        "jt-li", "/projects/XM2022-004/sign", {"gate": "planning_conditions", "decision": "reject", "reasons": reasons}
    )
    assert response.status_code == 303
    # returned on Tuesday 2022-05-10: to be submitted again two working days later
    assert gate_row(world.home, "XM2022-004", "planning_conditions") == (
        "returned", 1, "2022-05-09", DUE, "2022-05-10", "2022-05-12", None,
    )  # fmt: skip
    assert [r[2] for r in signatures(world.home, "XM2022-004", "planning_conditions")] == [
        "void", "void", "rejected", "void", "void", "void",
    ]  # fmt: skip
    assert "重新提交会签" in world.clients["zr-chen"].get("/projects/XM2022-004").text
    for login in ("mz-wang", "jt-li", "cz-qian", "pt-wang"):
        assert "重新提交会签" not in world.clients[login].get("/projects/XM2022-004").text
    queue = section(world.clients["zr-chen"].get("/").text, "待本单位提交会签的项目")
    listed = re.search(r'<li><a href="/projects/XM2022-004">.*?</li>', queue, re.S)
    assert listed and text_of(listed.group(0)) == (
        "XM2022-004 南关·和园 规划条件联合审查（第1轮被退回），2022年5月12日前重新提交"
    )
    before = world.state()
    for login in ("mz-wang", "jt-li"):
        response = world.post(login, "/projects/XM2022-004/submit", {"gate": "planning_conditions"})
        assert response.status_code == 403, login
    assert world.state() == before

    note = "已调整幼儿园选址，服务半径300米。"
    response = world.post("zr-chen", "/projects/XM2022-004/submit", {"gate": "planning_conditions", "note": note})
    assert response.status_code == 303
    # round 2 from 2022-05-10: ten working days, 2022-05-24
    assert gate_row(world.home, "XM2022-004", "planning_conditions")[:4] == ("in_review", 2, "2022-05-10", "2022-05-24")
    second = [r for r in signatures(world.home, "XM2022-004", "planning_conditions") if r[0] == 2]
    assert [(r[1], r[2]) for r in second] == [(s, None) for s in SIGNERS]
    assert query(
        world.home,
        "SELECT actor, person, note FROM audit_entry WHERE subject_key = 'XM2022-004' AND action = 'submission_note'",
    ) == [("自然资分局", "陈刚", note)]
    page = world.clients["jt-li"].get("/projects/XM2022-004").text
    assert reasons in page and 'action="/projects/XM2022-004/sign"' in page  # asked again, the reason kept
    assert "第2轮" in text_of(page)
    assert '<input type="hidden" name="round" value="2">' in page
    # a page of round 1 left open in another tab: its 同意 is refused, nothing recorded for round 2
    before = world.state()
    stale = {"gate": "planning_conditions", "round": "1", "decision": "approve"}
    response = world.post("mz-wang", "/projects/XM2022-004/sign", stale)
    shown = refused(world, "mz-wang", response, "/projects/XM2022-004#form-sign")
    assert error_of(shown) == "项目XM2022-004规划条件联合审查已重新提交（第2轮），请刷新页面查看后重新签署"
    assert world.state() == before


def test_only_the_office_waives_a_shortfall(world: World) -> None:
    approve_all("XM2022-003")
    page = world.clients["pt-wang"].get("/projects/XM2022-003").text
    # 3200 households: 幼儿园 max(6, ⌈3200×3/1000⌉) = 10 classes required, 6 committed
    held = "幼儿园应配建10班，承诺6班，缺口4班"
    assert f"各单位均已同意，但配建缺口未豁免，暂不能通过：{held}" in text_of(page)
    assert 'name="standard" value="kindergarten"' in page
    assert [r[:5] for r in table(page, "provisions")][2] == ["幼儿园", "办园规模（班）", "10", "6", "4"]
    todo = section(world.clients["pt-wang"].get("/").text, "因配建缺口暂不能通过的环节")
    assert text_of(todo) == f"XM2022-003 西城·滨河壹号 规划条件联合审查：{held}"
    assert gate_row(world.home, "XM2022-003", "planning_conditions")[0] == "in_review"

    reason = "地块周边500米内已有公办幼儿园（12班），经教体局论证可满足需求。"
    before = world.state()
    for login in ("jt-li", "zr-sun", "cg-zhang", "qz-liu"):
        response = world.post(login, "/projects/XM2022-003/waive", {"standard": "kindergarten", "reason": reason})
        assert response.status_code == 403, login
        assert 'name="standard"' not in world.clients[login].get("/projects/XM2022-003").text
    response = world.post("pt-wang", "/projects/XM2022-003/waive", {"standard": "kindergarten", "reason": " "})
    shown = refused(world, "pt-wang", response, "/projects/XM2022-003#form-waive-kindergarten")
    assert error_of(shown) == "记录豁免须写明理由"
    assert 'name="reason" maxlength="2000" required aria-invalid="true"' in shown.text
    response = world.post("pt-wang", "/projects/XM2022-003/waive", {"standard": "elderly_care", "reason": reason})
    shown = refused(world, "pt-wang", response, "/projects/XM2022-003#form-waive-elderly_care")
    assert error_of(shown) == "项目XM2022-003的养老服务用房没有缺口（应配建640平方米，承诺640平方米）"
    assert '<input type="hidden" name="shortfall" value="4">' in page
    seen_before = {"standard": "kindergarten", "reason": reason, "shortfall": "2"}  # a page from before a change
    response = world.post("pt-wang", "/projects/XM2022-003/waive", seen_before)
    shown = refused(world, "pt-wang", response, "/projects/XM2022-003#form-waive-kindergarten")
    assert error_of(shown) == "项目XM2022-003的幼儿园缺口已变为4班，请刷新页面核对后重新记录豁免"
    assert re.search(rf'<textarea name="reason" maxlength="2000" required>{reason}</textarea>', shown.text)
    assert world.state() == before

    response = world.post(
        "pt-wang", "/projects/XM2022-003/waive", {"standard": "kindergarten", "reason": reason, "shortfall": "4"}
    )
    assert response.status_code == 303
    assert query(
        world.home,
        "SELECT w.standard, w.shortfall, w.reason, w.granted_on, w.granted_by FROM waiver w "
        "JOIN project p ON p.id = w.project_id WHERE p.code = 'XM2022-003'",
    ) == [("kindergarten", 4, reason, "2022-05-10", "王主任（区配套办）")]
    assert gate_row(world.home, "XM2022-003", "planning_conditions")[0] == "passed"
    assert gate_row(world.home, "XM2022-003", "land_supply")[:4] == ("open", 0, None, None)  # for 自然资分局 to submit
    assert response.headers["location"] == "/projects/XM2022-003"
    shown = world.clients["pt-wang"].get(response.headers["location"])
    assert notice_of(shown) == "已记录配建缺口豁免。"
    assert table(shown.text, "provisions")[2] == [
        "幼儿园", "办园规模（班）", "10", "6", "4", f"王主任（区配套办）于2022年5月10日豁免：{reason}",
    ]  # fmt: skip
    assert 'name="standard"' not in shown.text  # nothing left to waive
    assert "因配建缺口暂不能通过的环节" not in world.clients["pt-wang"].get("/").text


# --- deliverables ----------------------------------------------------------------------------------------


def test_a_document_filed_by_its_owner_and_verified_by_the_office(world: World) -> None:
    mz = world.clients["mz-wang"]
    page = mz.get("/deliverables").text
    # 民政局 owns two: its working group (due 2022-04-30, late) and its special plan (2022-12-31)
    titles = [text_of(h) for h in re.findall(r'<section class="card" id="d-[^"]+">\s*<h2>(.*?)</h2>', page, re.S)]
    assert titles == ["工作专班 未启动 逾期", "社区配套设施专项规划 未启动"]
    todo = text_of(section(mz.get("/").text, "长效机制文件"))
    assert todo == "工作专班 未启动 完成时限 2022年4月30日 逾期 社区配套设施专项规划 未启动 完成时限 2022年12月31日"

    drafting = {"state": "drafting", "note": "初稿已征求各镇办意见。", "owner": "教体局"}
    response = world.post("mz-wang", "/deliverables/special_plans/state", drafting)
    assert response.status_code == 303
    assert query(
        world.home,
        "SELECT actor, person, via, action, note FROM audit_entry WHERE subject = 'deliverable' "
        "AND subject_key = 'special_plans:民政局'",
    ) == [("民政局", "王芳", "portal", "deliverable_state", "初稿已征求各镇办意见。")]
    owned = (
        "SELECT owner, state, document_no, issued_on, filename, stored_as, verified_on, verified_by, returned_reason "
        "FROM deliverable WHERE milestone = 'special_plans' ORDER BY owner"
    )
    assert {r[0]: r[1] for r in query(world.home, owned)} == {
        "卫健局": "not_started", "商务局": "not_started", "教体局": "not_started", "民政局": "drafting",
    }  # fmt: skip

    before = world.state()
    response = world.post("mz-wang", "/deliverables/special_plans/state", {"state": "issued", "note": "已印发。"})
    shown = refused(world, "mz-wang", response, "/deliverables#state-special_plans")
    assert error_of(shown) == "状态只能为未启动、起草中或报审中；已印发须上传印发文件"
    assert 'value="已印发。"' in shown.text  # the note typed, kept
    issue = {"document_no": "X民发〔2022〕15号", "issued_on": "2022-05-10"}
    files = [("document", ("专项规划.pdf", PDF, "application/pdf"))]
    for fields, sent, message in [
        ({"issued_on": "2022-13-01"}, files, "印发日期无效，请按 YYYY-MM-DD 填写"),
        ({"issued_on": "2022-05-11"}, files, "印发日期2022-05-11晚于今天（2022-05-10）"),
        (
            {"issued_on": "0001-01-01"},
            files,
            f"印发日期（0001-01-01）超出工作日历的年份范围，须在{min(holidays).year}年至{max(holidays).year}年之间",
        ),
        ({"document_no": ""}, files, "请填写印发文件的文号"),
        ({}, [], "请选择一个印发文件（PDF、图片、Word 等）"),
        (
            {},
            [("document", ("专项规划.pdf", ELF, "application/pdf"))],
            "佐证材料 专项规划.pdf 的类型（无法识别）不在允许范围内"
            "（可提交：pdf、jpg、png、doc、docx、xls、xlsx、txt）",
        ),
    ]:
        response = world.post("mz-wang", "/deliverables/special_plans/issue", issue | fields, sent or None)
        shown = refused(world, "mz-wang", response, "/deliverables#issue-special_plans")
        assert error_of(shown) == message, fields
        assert f'value="{(issue | fields)["document_no"]}"' in shown.text  # what was typed, kept
    # townships, the Office and leaders file nothing here; a unit files only its own (owner from the session)
    for login in ("pt-wang", "qz-liu"):
        assert world.post(login, "/deliverables/special_plans/issue", issue, files).status_code == 403
    response = world.post("cg-zhang", "/deliverables/special_plans/issue", issue | {"owner": "民政局"}, files)
    shown = refused(world, "cg-zhang", response, "/deliverables#issue-special_plans")
    assert error_of(shown) == "城关街道没有需要报送的“社区配套设施专项规划”"
    assert world.state() == before

    response = world.post("mz-wang", "/deliverables/special_plans/issue", issue | {"owner": "教体局"}, files)
    assert response.status_code == 303
    digest = hashlib.sha256(PDF).hexdigest()
    stored = f"deliverables/special_plans/民政局/{digest[:16]}.pdf"
    assert query(world.home, owned)[3] == (
        "民政局", "issued", "X民发〔2022〕15号", "2022-05-10", "专项规划.pdf", stored, None, "", "",
    )  # fmt: skip
    assert (world.home / stored).read_bytes() == PDF
    assert response.headers["location"] == "/deliverables"
    assert notice_of(mz.get("/deliverables")) == "印发文件已报送，待区领导小组办公室核验。"

    # the file: to its owner and the Office; to anyone else it does not exist
    link = "/deliverables/special_plans/民政局/file"
    for login in ("jt-li", "cg-zhang", "zr-chen", "qz-liu"):
        assert world.clients[login].get(link).status_code == 404, login
    assert world.clients["jt-li"].get("/deliverables/special_plans/教体局/file").status_code == 404  # none filed
    assert mz.get(link).content == PDF
    opened = world.clients["pt-wang"].get(link)
    assert opened.status_code == 200 and opened.content == PDF
    assert opened.headers["content-type"] == "application/pdf"
    # a PDF is downloaded (a browser's viewer refuses a sandboxed one), sandboxed all the same
    named = "filename*=UTF-8''%E4%B8%93%E9%A1%B9%E8%A7%84%E5%88%92.pdf"
    assert opened.headers["content-disposition"] == f"attachment; {named}"
    policy = [part.strip() for part in opened.headers["content-security-policy"].split(";")]
    assert "default-src 'none'" in policy and "sandbox" in policy and not any("script-src" in p for p in policy)
    assert opened.headers["cache-control"] == "private, no-store"

    office = world.clients["pt-wang"].get("/").text
    assert (
        text_of(section(office, "待核验的印发文件"))
        == "民政局：社区配套设施专项规划（X民发〔2022〕15号，2022年5月10日印发）"
    )
    assert link in world.clients["pt-wang"].get("/deliverables").text
    before = world.state()
    for login in ("mz-wang", "jt-li", "cg-zhang", "qz-liu"):
        response = world.post(login, "/deliverables/special_plans/民政局/verify", {"decision": "accept"})
        assert response.status_code == 403, login
    response = world.post("pt-wang", "/deliverables/special_plans/民政局/verify", {"decision": "return", "reason": ""})
    shown = refused(world, "pt-wang", response, "/deliverables#verify-special_plans-%E6%B0%91%E6%94%BF%E5%B1%80")
    assert error_of(shown) == "退回须写明理由"
    assert world.state() == before

    returned = "文件未加盖公章，请上传盖章版。"
    verdict = {"decision": "return", "reason": returned}
    assert world.post("pt-wang", "/deliverables/special_plans/民政局/verify", verdict).status_code == 303
    assert query(world.home, owned)[3][1:4] == ("under_review", "X民发〔2022〕15号", None)
    assert query(world.home, owned)[3][8] == returned
    assert f"印发文件被退回，理由：{returned}" in text_of(mz.get("/deliverables").text)
    assert f"印发文件被退回，理由：{returned}" in text_of(mz.get("/").text)

    sealed = PDF.replace(b"1.4", b"1.5")
    files = [("document", ("专项规划（盖章）.pdf", sealed, "application/pdf"))]
    assert world.post("mz-wang", "/deliverables/special_plans/issue", issue, files).status_code == 303
    # the Office's page from before the sealed copy was filed names the first file: its 核验通过 is refused
    before = world.state()
    first = {"decision": "accept", "document": hashlib.sha256(PDF).hexdigest()}
    response = world.post("pt-wang", "/deliverables/special_plans/民政局/verify", first)
    shown = refused(world, "pt-wang", response, "/deliverables#verify-special_plans-%E6%B0%91%E6%94%BF%E5%B1%80")
    assert error_of(shown) == (
        "民政局已重新报送社区配套设施专项规划的印发文件（X民发〔2022〕15号），请刷新页面查看后再核验"
    )
    assert world.state() == before
    now_shown = world.clients["pt-wang"].get("/deliverables").text
    assert f'<input type="hidden" name="document" value="{hashlib.sha256(sealed).hexdigest()}">' in now_shown
    assert world.post("pt-wang", "/deliverables/special_plans/民政局/verify", {"decision": "accept"}).status_code == 303
    assert query(world.home, owned)[3] == (
        "民政局", "issued", "X民发〔2022〕15号", "2022-05-10", "专项规划（盖章）.pdf",
        f"deliverables/special_plans/民政局/{hashlib.sha256(sealed).hexdigest()[:16]}.pdf",
        "2022-05-10", "王主任（区配套办）", "",
    )  # fmt: skip
    assert mz.get(link).content == sealed
    mine = mz.get("/deliverables").text
    assert "王主任（区配套办）于2022年5月10日核验确认。" in mine
    assert 'action="/deliverables/special_plans/state"' not in mine  # verified: nothing more to do
    response = world.post("mz-wang", "/deliverables/special_plans/state", {"state": "drafting"})
    shown = refused(world, "mz-wang", response, "/deliverables#state-special_plans")
    assert error_of(shown) == "社区配套设施专项规划已于2022-05-10经办公室核验确认印发，不能再改状态"
    everyone = {(r[0], r[1]): r for r in table(world.clients["pt-wang"].get("/deliverables").text, "deliverables")}
    assert everyone[("民政局", "社区配套设施专项规划")][2:] == [
        "2022-12-31", "已印发", "X民发〔2022〕15号 专项规划（盖章）.pdf", "2022-05-10", "2022-05-10已核验",
    ]  # fmt: skip


# --- in the browser --------------------------------------------------------------------------------------


def signed_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("登录名").fill(login)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    press(page, page.get_by_role("button", name="登录"))
    assert page.url == f"{base}/"


def test_a_department_reviewer_countersigns_one_gate_and_rejects_another(
    world: World, browser: Browser, people: list[BrowserContext]
) -> None:
    conditions = "幼儿园须与首期住宅同步设计、同步交付。"
    reasons = f"幼儿园办园规模不足，请按配建标准补足班数。{XSS}"
    desk = device(browser, people, DESKTOP)
    signed_in(desk, world.base, "jt-web")
    to_sign = desk.locator("h2:has-text('待本单位会签的项目') + ul.todo")
    expect(to_sign.get_by_role("link", name="XM2022-006 新城·未来城一期")).to_be_visible()
    follow(desk, to_sign.get_by_role("link", name="XM2022-006 新城·未来城一期"))
    expect(desk.locator("h1")).to_have_text("项目 XM2022-006 新城·未来城一期")
    shot(desk, "project-desktop.png", full_page=True)
    desk.get_by_label("整改要求或附加条件（可选）").fill(conditions)
    press(desk, desk.get_by_role("button", name="同意", exact=True))
    expect(desk.locator("p.notice")).to_have_text("会签意见已提交。")
    mine = desk.locator("#gate-planning_conditions table.signatures tr:not(.said)", has_text="教体局")
    expect(mine.locator("td")).to_have_text(["1", "教体局", "同意", "孙伟（教体局） 2022-05-10", DUE])
    said = desk.locator("#gate-planning_conditions tr.said")
    expect(said).to_have_text(f"教体局整改要求或附加条件：{conditions}")
    expect(desk.get_by_role("button", name="同意", exact=True)).to_have_count(0)
    before = world.state()
    desk.reload()  # the page after the POST is a GET: a refresh repeats nothing, the notice is said once
    expect(desk.locator("p.notice")).to_have_count(0)
    assert world.state() == before

    follow(desk, desk.locator("nav.menu").get_by_role("link", name="项目联审"))
    follow(desk, desk.locator("#to-sign + ul.todo").get_by_role("link", name="XM2022-007 河东·江畔花园"))
    desk.get_by_label("理由（不同意时必填）").fill(reasons)
    press(desk, desk.get_by_role("button", name="不同意"))
    expect(desk.locator("p.notice")).to_have_text("会签意见已提交。")
    expect(desk.locator("#gate-planning_conditions h3 .tag").first).to_have_text("已退回")
    expect(desk.locator("#gate-planning_conditions p", has_text="第1轮于")).to_have_text(
        "第1轮于2022年5月9日提交，会签期限2022年5月23日；2022年5月10日退回，2022年5月12日前重新提交。"
    )
    expect(desk.locator("#gate-planning_conditions tr.said")).to_have_text(f"教体局理由：{reasons}")
    inert(desk)
    shot(desk, "project-returned-desktop.png", full_page=True)

    approved = signatures(world.home, "XM2022-006", "planning_conditions")
    assert approved[2] == (1, "教体局", "approved", "", conditions, "2022-05-10", "孙伟（教体局）")
    assert gate_row(world.home, "XM2022-006", "planning_conditions")[:2] == ("in_review", 1)
    rejected = signatures(world.home, "XM2022-007", "planning_conditions")
    assert rejected[2] == (1, "教体局", "rejected", reasons, "", "2022-05-10", "孙伟（教体局）")
    assert gate_row(world.home, "XM2022-007", "planning_conditions") == (
        "returned", 1, "2022-05-09", DUE, "2022-05-10", "2022-05-12", None,
    )  # fmt: skip

    # On a phone: the register, the returned gate and its reason as the Office or the lead reads them.
    phone = device(browser, people, PHONE)
    signed_in(phone, world.base, "jt-web")
    follow(phone, phone.locator("nav.menu").get_by_role("link", name="项目联审"))
    expect(phone.locator("#to-sign")).to_be_visible()
    listed = phone.locator("#register tbody tr", has=phone.get_by_role("link", name="XM2022-007"))
    # one card a project: each field under its label, those awaited left out on a narrow screen
    shown = listed.evaluate(
        "r => [...r.cells].filter(c => c.checkVisibility())"
        ".map(c => getComputedStyle(c, '::before').content + c.innerText.trim())"
    )
    assert shown == [
        '"项目编号："XM2022-007', '"项目名称："河东·江畔花园', '"镇办："河东镇', '"当前环节："规划条件联合审查',
        '"状态："已退回', '"期限："2022-05-12', '"逾期："—', '"配建缺口："—',
    ]  # fmt: skip
    card = listed.bounding_box()
    assert card and card["x"] >= 0 and card["x"] + card["width"] <= 390
    shot(phone, "projects-phone.png", full_page=True)
    follow(phone, phone.get_by_role("link", name="XM2022-007"))
    expect(phone.locator("#gate-planning_conditions tr.said")).to_have_text(f"教体局理由：{reasons}")
    inert(phone)
    shot(phone, "project-phone.png", full_page=True)
