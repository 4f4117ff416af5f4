"""Supervision campaigns on the sample ledger: who is asked, what a response form accepts, how
non-responders are reminded and escalated, and the closing bulletin; every step safe to run again.

April 2022 (Qingming 04-03..04-05 off): the campaign starts Monday 04-11, responses are due Friday
04-15, reminders go 1 and 0 working days before (04-14, 04-15); on the missing_submission ladder
(1/3/6 working days) level 1 comes on 04-18 and level 2 on 04-20; the campaign closes 5 working days
after the due date, on 04-22.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from chinese_calendar.constants import holidays
from conftest import Cli, sample_rows
from reporting_helpers import fill_form
from sqlmodel import col, select
from test_flow_reporting import read_artifact

from duban import config
from duban.db import session_scope
from models import BulletinRecord, Campaign, CampaignItem, Escalation, OutboxMessage

TITLE = "城镇居住区幼儿园专项督导"
START = ["campaign", "start", "--title", TITLE, "--facility", "幼儿园", "--due", "2022-04-15", "--as-of", "2022-04-11"]
ANSWER = {
    "整改进展情况": "已与开发企业签订移交协议。",
    "下一步整改措施": "完成产权登记。",
    "承诺完成时限": "2022-07-31",
}


def kindergartens() -> dict[str, str]:
    """Item code -> responsible unit, read from the sample file with the csv module."""
    rows = [r for r in sample_rows() if r["设施类型"] == "幼儿园"]
    return {r["问题编号"]: r["责任单位"] or r["镇办"] for r in rows}


def outbox(kind: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id)))
        return [(r.recipient, r.created_on.isoformat()) for r in rows]


def respond(cli: Cli, tmp_path: Path, unit: str, day: str, codes: list[str], status: int = 0) -> str:
    path = tmp_path / f"{unit}-{day}.xlsx"
    cli("campaign", "form", "1", "--unit", unit, path)
    fill_form(path, {code: ANSWER for code in codes}, sheet_name="督导反馈")
    return cli("campaign", "respond", "1", "--unit", unit, path, "--as-of", day, status=status).output


def test_a_campaign_is_started_once_and_every_unit_is_asked_once(imported: Cli) -> None:
    expected = kindergartens()
    units = sorted(set(expected.values()))
    first = imported(*START).output
    assert f"已发起专项督导第1号“{TITLE}”：{len(expected)}项问题，{len(units)}个责任单位" in first
    assert "2022-04-15前反馈，2022-04-22结束并通报" in first
    again = imported(*START).output
    assert "该专项督导此前已发起，未重复发起" in again
    with session_scope() as session:
        assert len(session.exec(select(Campaign)).all()) == 1
        rows = session.exec(select(CampaignItem)).all()
    assert {r.item_code: r.unit for r in rows} == expected
    assert sorted(r for r, _ in outbox("campaign_request")) == units
    assert outbox("campaign_supervise") == [("教体局", "2022-04-11")]  # the lead department of every kindergarten
    view = json.loads(imported("campaign", "show", "1", "--as-of", "2022-04-11", "--json").output)
    assert view["campaign"]["scope"] == "幼儿园的未销号问题"
    assert view["totals"] == {
        "items": len(expected),
        "units": len(units),
        "on_time": 0,
        "late": 0,
        "missing": len(expected),
        "closed_since": 0,
    }


def test_the_office_is_told_what_is_wrong_with_a_start(imported: Cli) -> None:
    base = ["campaign", "start", "--title", "督导", "--as-of", "2022-04-11"]
    out = imported(*base, "--category", "菜市场", "--township", "东关镇", "--due", "2022-04-15", status=2).output
    assert "设施类别“菜市场”不在方案中" in out and "“东关镇”不是方案中的镇办" in out
    assert "反馈截止日期（2022年4月16日）不是工作日" in imported(*base, "--due", "2022-04-16", status=2).output
    assert "须晚于发起日期（2022年4月11日）" in imported(*base, "--due", "2022-04-11", status=2).output
    out = imported(*base, "--township", "北关街道", "--key-only", "--due", "2022-04-15", status=2).output
    key_in_beiguan = [r for r in sample_rows() if r["镇办"] == "北关街道" and r["重点难点"] == "是"]
    assert key_in_beiguan == [] and "没有符合条件的未销号问题（北关街道；重点难点的未销号问题）" in out
    with session_scope() as session:
        assert session.exec(select(Campaign)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


def test_key_items_campaign_selects_by_the_ledger(imported: Cli) -> None:
    key = sorted(r["问题编号"] for r in sample_rows() if r["重点难点"] == "是")
    out = imported(
        "campaign",
        "start",
        "--title",
        "重点难点问题专项督导",
        "--key-only",
        "--due",
        "2022-04-20",
        "--as-of",
        "2022-04-12",
    ).output
    assert f"{len(key)}项问题" in out
    with session_scope() as session:
        assert sorted(r.item_code for r in session.exec(select(CampaignItem))) == key


def test_dates_beyond_the_working_calendar_are_refused(imported: Cli, tmp_path: Path) -> None:
    years = f"须在{min(holidays).year}年至{max(holidays).year}年之间"
    far = [*START[:-4], "--due", "9999-12-31", *START[-2:]]
    out = imported(*far, status=2).output
    assert f"反馈截止日期（9999-12-31）超出工作日历的年份范围，{years}" in out
    imported(*START)
    form = tmp_path / "城关街道.xlsx"
    imported("campaign", "form", "1", "--unit", "城关街道", form)
    fill_form(form, {"PT2022-0002": {"整改进展情况": "已协调。", "承诺完成时限": "9999-12-31"}}, sheet_name="督导反馈")
    out = imported("campaign", "respond", "1", "--unit", "城关街道", form, "--as-of", "2022-04-13", status=2).output
    assert f"城关街道.xlsx 第3行 J列“承诺完成时限”：承诺完成时限（9999-12-31）超出工作日历的年份范围，{years}" in out
    with session_scope() as session:
        assert all(r.responded_on is None for r in session.exec(select(CampaignItem)))


def test_a_response_form_is_read_whole_or_refused_whole(imported: Cli, tmp_path: Path) -> None:
    imported(*START)
    form = tmp_path / "城关街道.xlsx"
    imported("campaign", "form", "1", "--unit", "城关街道", form)
    bad = {
        "PT2022-0002": {"整改进展情况": "已协调。", "承诺完成时限": "2022-02-30"},
        "PT2022-0005": {"整改进展情况": "", "下一步整改措施": "加快推进。", "社区": "改了"},
    }
    fill_form(form, bad, sheet_name="督导反馈")
    out = imported("campaign", "respond", "1", "--unit", "城关街道", form, "--as-of", "2022-04-13", status=2).output
    assert "督导反馈提交失败，未保存任何数据。共发现 4 处问题" in out
    assert "城关街道.xlsx 第3行 J列“承诺完成时限”：日期不存在（2022年2月没有30日）" in out
    assert "第4行 C列“社区”：此列为系统预填内容，不得修改" in out
    assert "第4行 H列“整改进展情况”：整改进展情况为必填项" in out
    assert "第4行 J列“承诺完成时限”：承诺完成时限为必填项" in out
    out = imported("campaign", "respond", "1", "--unit", "东城街道", form, "--as-of", "2022-04-13", status=2).output
    assert "是“城关街道”的反馈表，不能作为“东城街道”的反馈提交" in out
    with session_scope() as session:
        assert all(r.responded_on is None for r in session.exec(select(CampaignItem)))
    out = respond(imported, tmp_path, "城关街道", "2022-04-13", ["PT2022-0002"])
    assert "城关街道已反馈专项督导第1号1项问题，2022-04-13" in out
    view = json.loads(imported("campaign", "show", "1", "--as-of", "2022-04-13", "--json").output)
    answered = [i for i in view["items"] if i["answer"] != "missing"]
    assert [(i["code"], i["answer"], i["responded_on"], i["promised_by"]) for i in answered] == [
        ("PT2022-0002", "on_time", "2022-04-13", "2022-07-31")
    ]
    before = json.loads(imported("campaign", "show", "1", "--as-of", "2022-04-12", "--json").output)
    assert before["totals"]["on_time"] == 0  # as it stood the day before


def test_non_responders_are_reminded_escalated_and_named_in_the_closing_bulletin(imported: Cli, tmp_path: Path) -> None:
    expected = kindergartens()
    units = sorted(set(expected.values()))
    imported(*START)
    respond(imported, tmp_path, "城关街道", "2022-04-13", [c for c, u in expected.items() if u == "城关街道"])
    imported("replay", "--from", "2022-04-12", "--to", "2022-04-18")
    respond(imported, tmp_path, "东城街道", "2022-04-19", [c for c, u in expected.items() if u == "东城街道"])
    imported("replay", "--from", "2022-04-19", "--to", "2022-04-22")
    imported("tick", "--as-of", "2022-04-22")  # again: nothing more

    silent = [u for u in units if u not in ("城关街道", "东城街道")]
    reminded = sorted(outbox("campaign_reminder"))
    assert reminded == sorted(
        [(u, "2022-04-14") for u in units if u != "城关街道"] + [(u, "2022-04-15") for u in units if u != "城关街道"]
    )
    with session_scope() as session:
        raised = sorted(
            (e.unit, e.level, e.raised_on.isoformat(), e.resolved_on.isoformat() if e.resolved_on else None)
            for e in session.exec(select(Escalation))
        )
        bulletins = session.exec(select(BulletinRecord)).all()
        campaign = session.exec(select(Campaign)).one()
    assert raised == sorted(
        [("东城街道", 1, "2022-04-18", "2022-04-19")]
        + [(u, 1, "2022-04-18", "2022-04-22") for u in silent]
        + [(u, 2, "2022-04-20", "2022-04-22") for u in silent]
    )
    escalations = outbox("escalation")
    # One message per recipient and level each day, listing the late units: level 2 brings in the Office,
    # told of the six silent units at once; 教体局 leads for all seven late on 04-18, told in one message.
    assert escalations.count(("区配套办", "2022-04-20")) == 1
    assert escalations.count(("教体局", "2022-04-18")) == 1
    assert [escalations.count((u, "2022-04-18")) for u in silent] == [1] * len(silent)
    with session_scope() as session:
        subjects = {
            (m.recipient, m.created_on.isoformat()): m.subject
            for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "escalation"))
        }
    assert subjects[("区配套办", "2022-04-20")] == f"【挂牌督办】{len(silent)}项逾期事项"
    assert subjects[("教体局", "2022-04-18")] == f"【督办】{len(silent) + 1}项逾期事项"
    assert campaign.closed_on == date(2022, 4, 22)
    [bulletin] = bulletins
    assert (bulletin.kind, bulletin.number, bulletin.issue, bulletin.as_of) == ("campaign", 1, 1, date(2022, 4, 22))
    assert bulletin.title == f"关于{TITLE}情况的通报"
    in_guanguan = sum(1 for u in expected.values() if u == "城关街道")
    assert bulletin.figures["totals"] == {
        "items": len(expected),
        "units": len(units),
        "on_time": in_guanguan,
        "late": 1,
        "missing": len(expected) - in_guanguan - 1,
        "closed_since": 0,
    }
    page = (config.home() / "bulletins" / "2022-001-campaign-1.html").read_text(encoding="utf-8")
    in_ledger_order = dict.fromkeys(u for _, u in sorted(expected.items()) if u in silent)
    assert "截至通报时仍未反馈的单位：" + "、".join(in_ledger_order) in page
    assert "未按期反馈的单位：东城街道" in page
    assert len(outbox("bulletin")) == 22  # the distribution list
    out = respond(imported, tmp_path, "西城街道", "2022-04-25", [], status=2)
    assert "已于2022-04-22结束，不再接收反馈" in out


def test_campaign_flows_and_a_start_that_died_after_selecting(prefect_server: None, imported: Cli) -> None:
    from duban.campaign.run import start_campaign
    from flows.campaign import follow_campaigns, supervision_campaign

    expected = kindergartens()
    units = sorted(set(expected.values()))
    result = supervision_campaign(TITLE, date(2022, 4, 15), as_of=date(2022, 4, 11), facility_types=["幼儿园"])
    assert result == {"campaign_id": 1, "new": True, "units": len(units) + 1, "messages": len(units) + 1}
    again = supervision_campaign(TITLE, date(2022, 4, 15), as_of=date(2022, 4, 11), facility_types=["幼儿园"])
    assert again == {"campaign_id": 1, "new": False, "units": len(units) + 1, "messages": 0}
    rows = read_artifact("campaign-1")
    assert sorted(r["责任单位"] for r in rows) == units
    assert all((r["按期反馈"], r["逾期反馈"], r["未反馈"]) == (0, 0, r["问题数"]) for r in rows)

    # A second campaign whose run died after its first task: the items are kept, nobody was told.
    started = start_campaign(
        title="重点难点问题专项督导", due=date(2022, 4, 20), as_of=date(2022, 4, 12), key_only=True
    )
    key_units = {r["责任单位"] or r["镇办"] for r in sample_rows() if r["重点难点"] == "是"}
    assert started.new and set(started.units) >= key_units
    assert len(outbox("campaign_request")) == len(units)
    assert follow_campaigns(date(2022, 4, 13)) == {"reminders": 0, "escalations": 0, "resolved": 0, "closed": 0}
    requests = outbox("campaign_request")
    assert len(requests) == len(units) + len(key_units)
    assert sorted(r for r, d in requests if d == "2022-04-12") == sorted(key_units)  # dated as the campaign's start
    assert follow_campaigns(date(2022, 4, 13)) == {"reminders": 0, "escalations": 0, "resolved": 0, "closed": 0}
    assert len(outbox("campaign_request")) == len(units) + len(key_units)


def test_stage_department_and_overdue_filters_select_by_the_ledger(imported: Cli) -> None:
    from test_plan import SEED_CATEGORIES

    lead = {name: dept for name, _, dept in SEED_CATEGORIES.values()}
    rows = sample_rows()
    handover = [r for r in rows if r["问题环节"] == "移交" and (r["牵头部门"] or lead[r["设施类别"]]) == "教体局"]
    out = imported(
        "campaign",
        "start",
        "--title",
        "移交环节督导",
        "--stage",
        "移交",
        "--department",
        "教体局",
        "--due",
        "2022-04-15",
        "--as-of",
        "2022-04-11",
    ).output
    assert f"{len(handover)}项问题" in out

    def deadline(text: str) -> date | None:
        if not text:
            return None
        return date(*(int(p) for p in re.split(r"[-/.年月日]", text) if p))

    late = sorted(r["问题编号"] for r in rows if (d := deadline(r["完成时限"])) and d < date(2022, 9, 1))
    imported(
        "campaign", "start", "--title", "逾期问题督导", "--overdue-only", "--due", "2022-09-09", "--as-of", "2022-09-01"
    )
    with session_scope() as session:
        campaign = session.exec(select(Campaign).where(Campaign.title == "逾期问题督导")).one()
        chosen = sorted(
            r.item_code for r in session.exec(select(CampaignItem).where(CampaignItem.campaign_id == campaign.id))
        )
    assert chosen == late and late  # nothing was closed in between, so every item past its deadline is in
