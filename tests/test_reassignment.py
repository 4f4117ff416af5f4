"""Reassignment (调整责任单位), through the CLI on a real SQLite database, with values worked out by hand.

The sample's PT2022-0001 (城关街道, 幸福里社区, 社区用房; its responsible unit is its township, its lead
department 民政局, the category's) is due 2022-06-30, a Thursday. The plan's overdue ladder is level 1
at 1 working day late, level 2 at 10, level 3 at 20. On 2022-07-05 it is 3 working days late (07-01,
07-04, 07-05): level 1, to 城关街道 and 民政局. 城关街道 proposes on 07-06 that the item is 东城街道's; the
Office approves on 07-07. From then on 东城街道 is chased: the tick of 07-08 (5 working days late) raises
level 1 to 东城街道 and 民政局, while 城关街道's row stays as raised, resolved on 07-07.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from conftest import Cli, db_digest, sample_rows

CODE = "PT2022-0001"
HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>误记'


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def escalations(home: Path) -> list[tuple]:
    return query(
        home,
        "SELECT cause_key, level, unit, raised_on, resolved_on, recipients FROM escalation "
        "WHERE item_code = ? ORDER BY id",
        CODE,
    )


def units_on(cli: Cli, day: str) -> tuple[str, str, str]:
    status = json.loads(cli("status", "--as-of", day, "--json").output)
    row = next(r for r in status["item_lights"] if r["code"] == CODE)
    return row["township"], row["responsible_unit"], row["lead_department"]


def propose(cli: Cli, *extra: str, status: int = 0, reason: str = HOSTILE, day: str = "2022-07-06"):  # noqa: ANN201
    return cli("item", "reassign", CODE, *extra, "--reason", reason, "--as-of", day, status=status)


@pytest.fixture
def escalated(imported: Cli) -> Cli:
    imported("tick", "--as-of", "2022-07-05")
    return imported


def test_a_move_hands_the_chase_to_the_new_unit(escalated: Cli, home: Path) -> None:
    cli = escalated
    old_level1 = ("item:PT2022-0001@2022-06-30", 1, "城关街道", "2022-07-05", None, '["城关街道", "民政局"]')
    assert [(*e[:5], json.dumps(json.loads(e[5]), ensure_ascii=False)) for e in escalations(home)] == [old_level1]

    said = propose(cli, "--township", "东城街道", "--by", "城关街道").output
    assert "已登记第1号调整责任单位申请" in said and "镇办东城街道；责任单位东城街道" in said
    # a pending proposal changes nothing yet: the old unit is still the item's and still chased
    assert units_on(cli, "2022-07-06") == ("城关街道", "城关街道", "民政局")
    assert [e[4] for e in escalations(home)] == [None]

    said = cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-07-07").output
    assert "已同意第1号调整申请" in said
    # the old unit's row is resolved on the day of approval and still names the old unit
    assert escalations(home) == [
        (*old_level1[:4], "2022-07-07", '["\\u57ce\\u5173\\u8857\\u9053", "\\u6c11\\u653f\\u5c40"]')
    ]
    assert query(
        home, "SELECT township, responsible_unit, lead_department, deadline FROM ledger_item WHERE code = ?", CODE
    ) == [("东城街道", "东城街道", "民政局", "2022-06-30")]
    # the plan in force names the new responsible unit (revision 2), deadline unchanged
    assert query(
        home,
        "SELECT p.revision, p.responsible_unit, p.lead_unit, p.deadline, p.effective_on FROM rectification_plan p "
        "JOIN ledger_item i ON i.id = p.item_id WHERE i.code = ? ORDER BY revision",
        CODE,
    ) == [(1, "城关街道", "民政局", "2022-06-30", "2022-04-08"), (2, "东城街道", "民政局", "2022-06-30", "2022-07-07")]

    cli("tick", "--as-of", "2022-07-08")
    rows = escalations(home)
    assert [(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows[1:]] == [
        ("item:PT2022-0001@2022-06-30#moved1", 1, "东城街道", "2022-07-08", None, ["东城街道", "民政局"])
    ]
    assert rows[0][2:5] == ("城关街道", "2022-07-05", "2022-07-07")  # history stays true
    sent_before = query(home, "SELECT COUNT(*) FROM outbox")
    cli("tick", "--as-of", "2022-07-08")  # twice: nothing raised or sent again
    assert escalations(home) == rows
    assert query(home, "SELECT COUNT(*) FROM outbox") == sent_before

    # the past answers with the old units, today with the new; the kept state agrees with the log
    assert units_on(cli, "2022-07-06") == ("城关街道", "城关街道", "民政局")
    assert units_on(cli, "2022-07-08") == ("东城街道", "东城街道", "民政局")
    assert "一致" in cli("check", "--as-of", "2022-07-08").output

    # the new unit got one message, the hostile reason in it as plain text (escaped in the HTML copy)
    sent = query(home, "SELECT recipient, body, body_html FROM outbox WHERE kind = 'reassigned'")
    assert [s[0] for s in sent] == ["东城街道"]
    assert HOSTILE in sent[0][1] and "镇办由城关街道调整为东城街道" in sent[0][1]
    assert "<script>" not in sent[0][2] and "&lt;script&gt;" in sent[0][2]
    # the Office was told of the proposal, 城关街道 of the decision: once each
    kinds = "('reassign_proposed', 'reassign_decided')"
    asked = f"SELECT kind, recipient, body FROM outbox WHERE kind IN {kinds} ORDER BY id"
    told = query(home, asked)
    assert [t[:2] for t in told] == [("reassign_proposed", "区配套办"), ("reassign_decided", "城关街道")]
    assert "于2022年7月6日申请调整问题PT2022-0001（幸福里社区，社区用房）：镇办由城关街道调整为东城街道" in told[0][2]
    assert "请登录督办平台决定（第1号调整申请）" in told[0][2] and HOSTILE in told[0][2]
    assert "你单位于2022年7月6日提出的第1号申请" in told[1][2] and "已于2022年7月7日同意" in told[1][2]

    # the item's history tells the move with before and after units
    shown = json.loads(cli("item", "show", CODE, "--json").output)
    moved = [h for h in shown["history"] if h["action"] == "reassign"]
    assert [(m["effective_on"], m["before"]["township"], m["after"]["township"]) for m in moved] == [
        ("2022-07-07", "城关街道", "东城街道")
    ]
    listed = json.loads(cli("item", "reassignments", "--json").output)
    assert [(r["id"], r["state"], r["decided_on"], r["to"]["township"]) for r in listed] == [
        (1, "approved", "2022-07-07", "东城街道")
    ]


def test_twice_changes_nothing(escalated: Cli, home: Path) -> None:
    cli = escalated
    propose(cli, "--township", "东城街道", "--by", "城关街道")
    before = db_digest(home)
    assert "已登记过，没有变化" in propose(cli, "--township", "东城街道", "--by", "城关街道").output
    assert db_digest(home) == before
    cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-07-07")
    before = db_digest(home)
    assert "没有变化" in cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-07-07").output
    assert db_digest(home) == before
    said = cli("item", "reassign-decide", "1", "--refuse", "--reason", "否", "--as-of", "2022-07-08", status=2).output
    assert "已于2022年7月7日决定同意，不能再作其他决定" in said
    assert db_digest(home) == before


def test_a_refused_proposal_changes_nothing(escalated: Cli, home: Path) -> None:
    cli = escalated
    propose(cli, "--lead", "住建局", "--by", "民政局")
    items = query(home, "SELECT * FROM ledger_item ORDER BY id")
    plans = query(home, "SELECT COUNT(*) FROM rectification_plan")
    raised = escalations(home)
    said = cli("item", "reassign-decide", "1", "--refuse", "--as-of", "2022-07-07", status=2).output
    assert "不同意调整须说明理由" in said
    cli("item", "reassign-decide", "1", "--refuse", "--reason", "牵头部门与类别一致，无需调整", "--as-of", "2022-07-07")
    assert query(home, "SELECT * FROM ledger_item ORDER BY id") == items
    assert query(home, "SELECT COUNT(*) FROM rectification_plan") == plans
    assert escalations(home) == raised
    assert query(home, "SELECT COUNT(*) FROM outbox WHERE kind = 'reassigned'") == [(0,)]
    assert query(home, "SELECT state, open_key, answer FROM reassignment") == [
        ("refused", None, "牵头部门与类别一致，无需调整")
    ]
    # decided: the item may be proposed again
    assert "已登记第2号" in propose(cli, "--township", "东城街道", "--by", "城关街道", day="2022-07-08").output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--township", "外区街道", "--by", "城关街道"), "“外区街道”不是实施方案中的镇办（街道）"),
        (("--lead", "东城街道", "--by", "城关街道"), "“东城街道”不是实施方案中的牵头部门"),
        (("--responsible", "区长", "--by", "城关街道"), "“区长”不是实施方案中的镇办或部门，不能作为责任单位"),
        (("--township", "东城街道", "--by", "西城街道"), "“西城街道”无权申请调整问题PT2022-0001的责任单位"),
        (("--township", "城关街道", "--by", "城关街道"), "无需调整"),
    ],
)
def test_bad_proposals_are_refused_and_change_nothing(imported: Cli, home: Path, extra: tuple, message: str) -> None:
    before = db_digest(home)
    assert message in propose(imported, *extra, status=2).output
    assert db_digest(home) == before


def test_one_pending_proposal_per_item_and_a_reason_needed(imported: Cli, home: Path) -> None:
    assert "须说明理由" in propose(imported, "--township", "东城街道", "--by", "城关街道", reason="  ", status=2).output
    propose(imported, "--township", "东城街道", "--by", "城关街道")
    said = propose(imported, "--township", "西城街道", "--by", "区配套办", status=2).output
    assert "已有待决定的调整申请（第1号，城关街道于2022年7月6日提出）" in said


def test_a_new_deadline_moves_the_ladder_too(escalated: Cli, home: Path) -> None:
    cli = escalated
    propose(cli, "--responsible", "住建局", "--by", "区配套办")
    cli("item", "reassign-decide", "1", "--approve", "--deadline", "2022-09-30", "--as-of", "2022-07-07")
    assert query(
        home, "SELECT township, responsible_unit, deadline, plan_revision FROM ledger_item WHERE code = ?", CODE
    ) == [("城关街道", "住建局", "2022-09-30", 2)]
    cli("tick", "--as-of", "2022-07-08")  # not overdue any more: nothing raised, the old row resolved
    assert [(e[2], e[4]) for e in escalations(home)] == [("城关街道", "2022-07-07")]
    assert "一致" in cli("check", "--as-of", "2022-07-08").output
    # 住建局 (not 城关街道, which keeps the item as its township) is the unit that gained it: its notice
    said = query(home, "SELECT recipient FROM outbox WHERE kind = 'reassigned'")
    assert said == [("住建局",)]


def test_a_deadline_before_the_decision_is_refused(imported: Cli, home: Path) -> None:
    propose(imported, "--township", "东城街道", "--by", "城关街道")
    before = db_digest(home)
    said = imported(
        "item", "reassign-decide", "1", "--approve", "--deadline", "2022-07-01", "--as-of", "2022-07-07", status=2
    )
    assert "新的完成时限2022年7月1日早于决定日期2022年7月7日" in said.output
    assert db_digest(home) == before


def test_the_bulletin_lists_the_move_and_counts_the_item_where_it_was_that_day(escalated: Cli, home: Path) -> None:
    cli = escalated
    propose(cli, "--township", "东城街道", "--by", "城关街道")
    cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-07-07")
    cli("bulletin", "--period", "2022-07-01..2022-07-06", "--kind", "adhoc", "--as-of", "2022-07-06")
    cli("bulletin", "--period", "2022-07-01..2022-07-31", "--kind", "special", "--as-of", "2022-07-31")
    rows = sample_rows()
    cg = sum(1 for r in rows if r["镇办"] == "城关街道")
    dc = sum(1 for r in rows if r["镇办"] == "东城街道")
    figures = {kind: json.loads(f) for kind, f in query(home, "SELECT kind, figures FROM bulletin ORDER BY id")}
    early, late = figures["adhoc"], figures["special"]
    total = {kind: {t["unit"]: t["total"] for t in f["townships"]} for kind, f in figures.items()}
    assert (total["adhoc"]["城关街道"], total["adhoc"]["东城街道"]) == (cg, dc)
    assert (total["special"]["城关街道"], total["special"]["东城街道"]) == (cg - 1, dc + 1)
    assert early["reassignments"] == []
    assert late["reassignments"] == [
        {
            "id": 1,
            "code": CODE,
            "from": "镇办城关街道；责任单位城关街道",
            "to": "镇办东城街道；责任单位东城街道",
            "reason": HOSTILE[:39] + "…",
            "decided_on": "2022-07-07",
            "deadline": None,
        }
    ]
    page = next((home / "bulletins").glob("*special*.html")).read_text(encoding="utf-8")
    assert "（五）调整责任单位" in page and "&lt;img src=x" in page and "<img src=x" not in page


# --- the portal ------------------------------------------------------------------------------------------


def test_portal_proposal_decision_notice_and_scope(imported: Cli, home: Path) -> None:
    """城关街道 proposes on the item's page, the Office decides on /reassignments; 东城街道 then sees the item
    and a notice to sign for, and 城关街道 gets 404 for it. Every POST answers 303; the reason shows as text."""
    import httpx
    from portal import PASSWORD, quick_home, running_portal, sign_in, token

    from duban.signin import accounts

    users = {"cg-zhang": "城关街道", "dc-wang": "东城街道", "pt-staff": "区配套办"}
    with quick_home(home):
        for login, unit in users.items():
            imported("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名")
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        from datetime import date

        with running_portal(date(2022, 7, 6)) as portal:
            clients: dict[str, httpx.Client] = {u: sign_in(portal, u, PASSWORD, change_to=None) for u in users}
            try:
                cg, dc, office = clients["cg-zhang"], clients["dc-wang"], clients["pt-staff"]
                page = cg.get(f"/items/{CODE}").text
                assert "申请调整责任单位" in page and 'action="/items/PT2022-0001/reassign"' in page
                assert dc.get(f"/items/{CODE}").status_code == 404
                form = {"township": "东城街道", "responsible": "", "lead": "", "reason": HOSTILE}
                refused = cg.post(f"/items/{CODE}/reassign", data={**form, "reason": "", "csrf_token": token(cg)})
                assert refused.status_code == 303
                assert "须说明理由" in cg.get(refused.headers["location"]).text
                done = cg.post(f"/items/{CODE}/reassign", data={**form, "csrf_token": token(cg)})
                assert done.status_code == 303
                assert "已提交第1号调整责任单位申请" in cg.get(done.headers["location"]).text
                listed = office.get("/reassignments").text
                assert "&lt;script&gt;" in listed and "<script>" not in listed
                assert "待决定的调整责任单位申请（1）" in office.get("/").text
                assert cg.get("/reassignments").status_code == 403
                decided = office.post(
                    "/reassignments/1/decide", data={"decision": "approve", "answer": "", "csrf_token": token(office)}
                )
                assert decided.status_code == 303
                assert "已同意调整" in office.get(decided.headers["location"]).text
                assert (
                    office.post(
                        "/reassignments/99/decide", data={"decision": "approve", "csrf_token": token(office)}
                    ).status_code
                    == 303
                )
                assert cg.get(f"/items/{CODE}").status_code == 404
                mine = dc.get(f"/items/{CODE}").text
                assert "东城街道" in mine and "调整责任单位" in mine
                notice = dc.get("/notices/reassignment/1")
                assert notice.status_code == 200 and "问题PT2022-0001调整责任单位通知" in notice.text
                assert "&lt;script&gt;" in notice.text and "<script>" not in notice.text
                assert cg.get("/notices/reassignment/1").status_code == 404
                assert "问题PT2022-0001调整责任单位通知" in dc.get("/").text
                signed = dc.post("/notices/reassignment/1/sign", data={"csrf_token": token(dc)})
                assert signed.status_code == 303
                assert query(home, "SELECT request_kind, request_key, unit FROM acknowledgement") == [
                    ("reassignment", "1", "东城街道")
                ]
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


def test_phone_proposal_and_decision_stay_in_the_viewport(imported: Cli, home: Path, browser, people) -> None:  # noqa: ANN001
    """At 390x844: 城关街道 fills the form on the item page, the Office approves on /reassignments; nothing
    lies beyond the right edge and the hostile reason stays inert. Screenshots: reassign-*.png."""
    from datetime import date

    from portal import PASSWORD, quick_home, running_portal
    from test_portal_browser import PHONE, device, inert, press, shot

    from duban.signin import accounts

    with quick_home(home):
        for login, unit in (("cg-zhang", "城关街道"), ("pt-staff", "区配套办")):
            imported("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名")
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        try:
            with running_portal(date(2022, 7, 6)) as portal:
                for login in ("cg-zhang", "pt-staff"):
                    page = device(browser, people, PHONE)
                    page.goto(f"{portal}/login")
                    page.get_by_label("登录名").fill(login)
                    page.get_by_label("密码", exact=True).fill(PASSWORD)
                    press(page, page.get_by_role("button", name="登录"))
                    if login == "cg-zhang":
                        page.goto(f"{portal}/items/{CODE}#reassign")
                        page.get_by_label("调整到镇办").select_option("东城街道")
                        page.get_by_label("调整理由（必填）").fill(HOSTILE)
                        shot(page, "reassign-form-phone.png")
                        press(page, page.get_by_role("button", name="提交申请"))
                        assert "已提交第1号调整责任单位申请" in page.locator("main").inner_text()
                    else:
                        page.goto(f"{portal}/reassignments")
                        inert(page)
                        assert HOSTILE in page.locator("main").inner_text()
                        shot(page, "reassign-decide-phone.png", full_page=True)
                        press(page, page.get_by_role("button", name="同意调整"))
                        assert "已同意调整" in page.locator("main").inner_text()
                        shot(page, "reassign-decided-phone.png", full_page=True)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 390, f"{login}: {width}px wide"
                    assert page.context.page_errors == []  # type: ignore[attr-defined]
        finally:
            accounts._dummy.cache_clear()
    assert query(home, "SELECT township FROM ledger_item WHERE code = ?", CODE) == [("东城街道",)]


def test_an_item_waits_for_its_pending_extension_before_it_moves(imported: Cli, home: Path) -> None:
    """The extension's approvers were fixed when it was filed (the old lead department, then the Office):
    the move waits until they have answered."""
    imported(
        "extension", "request", CODE, "--until", "2022-08-31", "--by", "城关街道", "--as-of", "2022-06-20",
        "--reason", "施工单位变更", "--progress", "已完成设计",
    )  # fmt: skip
    propose(imported, "--township", "东城街道", "--by", "城关街道", day="2022-06-21")
    before = db_digest(home)
    said = imported("item", "reassign-decide", "1", "--approve", "--as-of", "2022-06-22", status=2).output
    assert "问题PT2022-0001有待审批的第1号延期申请，须审批完毕后再同意调整责任单位" in said
    assert db_digest(home) == before
    day = ["--as-of", "2022-06-22"]
    imported("extension", "decide", "1", "--refuse", "--reason", "理由不充分", "--by", "民政局", *day)
    assert "已同意第1号调整申请" in imported("item", "reassign-decide", "1", "--approve", *day).output
    assert units_on(imported, "2022-06-22") == ("东城街道", "东城街道", "民政局")
