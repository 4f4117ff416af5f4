"""考核: three units' October scores computed by hand from the plan's rules, the same score from the kept
state and from the replayed log, appeals, and hostile text in an appeal's reason."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, KeptHomes
from openpyxl import load_workbook
from reporting_helpers import load_small_ledger, review, submit
from sqlmodel import select

from duban.assessment import trend
from duban.db import session_scope
from duban.stored_plan import current_plan
from models import AssessmentAppeal, AuditEntry, BulletinRecord, OutboxMessage

HEDONG = {"A-1": {"整改进度（%）": 40, "工作状态": "推进中"}, "A-2": {"整改进度（%）": 60, "工作状态": "推进中"}}
HOSTILE = '=HYPERLINK("http://evil.example","点我")<script>alert(1)</script>'


def october_steps(cli: Cli, work: Path) -> None:
    """The small ledger (A-1 河东镇 due 10-14; A-2 河东镇 幼儿园 重点难点 due 09-30; A-3 河西镇 no deadline;
    A-4 河西镇 社区食堂 due 09-20 with a milestone 09-15), and October 2022 (National Day 10-01..10-07 off;
    Saturday 10-08 and Sunday 10-09 are make-up working days):
    - 10-01 the round opens: townships due 10-05, a holiday, so 10-08; departments due 10-10.
    - 河东镇 reports on 10-11; 民政局 returns it on 10-12. 河西镇 never reports. 民政局 reports on 10-10.
    - 10-13 the one sweep of the month raises what is late that day."""
    load_small_ledger(cli, work)
    cli("tick", "--as-of", "2022-10-01")
    submit(cli, work, "河东镇", "2022-10", "2022-10-11", HEDONG)
    submit(cli, work, "民政局", "2022-10", "2022-10-10")
    review(cli, "民政局", "河东镇", "2022-10-12", accept=False, reason="进度与实际不符。")
    cli("tick", "--as-of", "2022-10-13")


@pytest.fixture
def october(initialised: Cli, home: Path, tmp_path: Path, kept_homes: KeptHomes) -> Cli:
    """`october_steps` on the sample plan."""
    kept_homes.restore("assessment-october", home, lambda: october_steps(initialised, tmp_path))
    return initialised


def assess_json(cli: Cli, *args: str) -> dict:
    return json.loads(cli("assess", *args, "--json").output)


def lines_of(unit: dict) -> list[tuple[str, str, float]]:
    return sorted((line["date"], line["cause"], line["points"]) for line in unit["lines"])


def test_three_units_over_october_by_hand(october: Cli) -> None:
    # The plan's sample rules: base 100; report late -0.5 a working day (at most -2); missing -3; returned
    # -0.5; an item overdue at a month end -1 (主办 weight 1.0, 协办 0.5); escalation L1 -0.5, L2 -1, L3 -2;
    # a document late -2 once; yellow card -1 (level 2), red -3 (level 3, or a second yellow in the year).
    #
    # Working days counted by hand: 河西镇's report (due 10-08) on 10-13 is 5 late (10-09..10-13): the
    # missing-report ladder (1/3/6) gives level 2. A-2 (09-30) is 6 late (10-08..10-13): level 1, and a
    # 重点难点 item starts at level 2. A-4 (09-20) is 8 (09-21..09-30) + 6 = 14 late; its milestone (09-15)
    # 11 + 6 = 17: the item ladder (1/10/20) gives level 2 for both. The 工作专班 document (04-30) of each
    # owner is over 20 working days late: level 3. The day's chase of missing reports raises level 1 first
    # (it goes no higher), then the sweep level 2: both rows are escalations. 河东镇's returned report is
    # due again 2 working days after 10-12 (10-14): not late on 10-13.
    hedong = [
        ("2022-10-11", "report_late", -1.5),  # due 10-08, sent 10-11: 3 working days x -0.5
        ("2022-10-12", "report_returned", -0.5),
        ("2022-10-13", "card_red", -3.0),  # the document at level 3
        ("2022-10-13", "card_yellow", -1.0),  # A-2 at level 2: its first yellow
        ("2022-10-13", "escalation", -2.0),  # the document, level 3
        ("2022-10-13", "escalation", -1.0),  # A-2, level 2
        ("2022-10-13", "overdue_deliverable", -2.0),
        ("2022-10-31", "item_overdue", -1.0),  # A-1 (10-14)
        ("2022-10-31", "item_overdue", -1.0),  # A-2 (09-30)
    ]
    hexi = [
        ("2022-10-13", "card_red", -3.0),  # the document at level 3
        ("2022-10-13", "card_red", -3.0),  # A-4 at level 2: the second yellow of the year turns red
        ("2022-10-13", "card_red", -3.0),  # A-4's milestone at level 2: the third
        ("2022-10-13", "card_yellow", -1.0),  # the missing report at level 2: the first yellow
        ("2022-10-13", "escalation", -2.0),
        ("2022-10-13", "escalation", -1.0),
        ("2022-10-13", "escalation", -1.0),
        ("2022-10-13", "escalation", -1.0),
        ("2022-10-13", "escalation", -0.5),  # the missing report, level 1 (the chase)
        ("2022-10-13", "overdue_deliverable", -2.0),
        ("2022-10-31", "item_overdue", -1.0),  # A-4 (A-3 has no deadline)
        ("2022-10-31", "report_missing", -3.0),  # not sent by the month's last day
    ]
    civil = [  # 民政局 reported on time; it leads A-1 and A-4 (协办: half the points)
        ("2022-10-13", "card_red", -3.0),
        ("2022-10-13", "escalation", -2.0),
        ("2022-10-13", "overdue_deliverable", -2.0),
        ("2022-10-31", "item_overdue", -0.5),
        ("2022-10-31", "item_overdue", -0.5),
    ]
    result = assess_json(october, "--period", "2022-10", "--as-of", "2022-10-31")
    units = {u["unit"]: u for u in result["units"]}
    assert lines_of(units["河东镇"]) == sorted(hedong)
    assert lines_of(units["河西镇"]) == sorted(hexi)
    assert lines_of(units["民政局"]) == sorted(civil)
    # 100 - 1.5 - 0.5 - 3 - 1 - 2 - 1 - 2 - 1 - 1 = 87; 100 - 3x3 - 1 - 2 - 3x1 - 0.5 - 2 - 1 - 3 = 78.5;
    # 100 - 3 - 2 - 2 - 0.5 - 0.5 = 92
    assert [(units[n]["score"], units[n]["rank"]) for n in ("河东镇", "河西镇", "民政局")] == [
        (87.0, 11),  # the ten other townships lose only their document: 93
        (78.5, 12),
        (92.0, 6),  # behind 发改局 and 财政局 (100), 住建局, 商务局 and 卫健局 (93, one document each)
    ]
    # by day, then level: the report's level 2 (raised first that day), A-4's, its milestone's, the document's 3
    assert [(c["card"], c["cause"]) for c in units["河西镇"]["cards"]] == [
        ("yellow", "missing_submission"),
        ("red", "overdue_item"),
        ("red", "overdue_milestone"),
        ("red", "overdue_deliverable"),
    ]
    for unit in result["units"]:  # the base plus the lines, within the floor and ceiling, is the score
        total = result["base"] + sum(line["points"] for line in unit["lines"])
        assert unit["score"] == min(max(total, result["floor"]), result["ceiling"])
    a2 = next(line for line in units["河东镇"]["lines"] if line["subject"] == "A-2")
    assert (a2["key"], a2["link"], a2["cause_label"]) == (
        "item_overdue:A-2:2022-10-31",
        "/items/A-2",
        "问题逾期未完成整改",
    )
    # before the month's end nothing is overdue at a month end yet, nor missing: what was known then
    early = {u["unit"]: u for u in assess_json(october, "--period", "2022-10", "--as-of", "2022-10-12")["units"]}
    assert lines_of(early["河东镇"]) == [("2022-10-11", "report_late", -1.5), ("2022-10-12", "report_returned", -0.5)]
    assert lines_of(early["河西镇"]) == []
    # month by month from April (the programme began on 2022-04-01): nothing before October
    with session_scope() as session:
        months = trend(session, current_plan(session), "河东镇", 2022, date(2022, 10, 31))
    assert months == [(f"2022-{m:02d}", Decimal(100), 1) for m in range(4, 10)] + [("2022-10", Decimal(87), 11)]
    # the quarter and the year hold the same lines here (nothing happened before October or after)
    quarter = {u["unit"]: u for u in assess_json(october, "--period", "2022-Q4", "--as-of", "2022-10-31")["units"]}
    assert lines_of(quarter["河西镇"]) == sorted(hexi)


def test_past_date_from_kept_state_and_from_log(october: Cli, tmp_path: Path) -> None:
    """After October the state moves on (a report resubmitted, a deadline revised, November's sweep):
    October as known on 10-31, and the year as known on 11-20, are the same from both sources."""
    cli = october
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-11-02", HEDONG)
    cli("item", "plan", "A-4", "--by", "河西镇", "--deadline", "2022-12-20", "--as-of", "2022-11-03")
    cli("tick", "--as-of", "2022-11-14")
    for period, day in (("2022-10", "2022-10-31"), ("2022", "2022-11-20"), ("2022-11", "2022-11-30")):
        kept = assess_json(cli, "--period", period, "--as-of", day)
        logged = assess_json(cli, "--period", period, "--as-of", day, "--from-log")
        assert kept == logged
    hexi = {u["unit"]: u for u in assess_json(cli, "--period", "2022-11", "--as-of", "2022-11-30")["units"]}["河西镇"]
    overdue = [line["subject"] for line in hexi["lines"] if line["cause"] == "item_overdue"]
    assert overdue == []  # A-4's new deadline (12-20) is not passed on 11-30


def test_struck_line_changes_score_by_its_points(october: Cli) -> None:
    cli = october
    before = {u["unit"]: u for u in assess_json(cli, "--period", "2022-10", "--as-of", "2022-10-31")["units"]}
    key = "report_returned:2022-10:v1:民政局:2022-10-12"
    line = next(line for line in before["河东镇"]["lines"] if line["key"] == key)
    assert line["points"] == -0.5

    # another unit cannot contest it, nor can it be contested without a reason; nothing is recorded
    assert (
        "河西镇的考核结果中没有扣分项"
        in cli(
            "assess", "appeal", key, "--unit", "河西镇", "--reason", "不是我们的", "--as-of", "2022-11-01", status=2
        ).output
    )
    assert (
        "须说明理由"
        in cli("assess", "appeal", key, "--unit", "河东镇", "--reason", " ", "--as-of", "2022-11-01", status=2).output
    )
    with session_scope() as session:
        assert session.exec(select(AssessmentAppeal)).all() == []

    for _ in range(2):  # twice: one appeal, one entry, one message to the Office
        out = cli("assess", "appeal", key, "--unit", "河东镇", "--reason", "已按时更正。", "--as-of", "2022-11-01")
        assert "已提出申诉，编号1" in out.output
    with session_scope() as session:
        assert len(session.exec(select(AssessmentAppeal)).all()) == 1
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "assessment_appeal")).all()
        assert {m.recipient for m in sent} == {"区配套办"}
        assert len({m.idempotency_key.split("|")[0] for m in sent}) == 1

    for _ in range(2):
        cli("assess", "decide", "1", "--strike", "--reason", "退回系因部门误判。", "--as-of", "2022-11-03")
    assert (
        "已于2022-11-03裁定"
        in cli("assess", "decide", "1", "--uphold", "--reason", "改判", "--as-of", "2022-11-04", status=2).output
    )
    after = {u["unit"]: u for u in assess_json(cli, "--period", "2022-10", "--as-of", "2022-11-03")["units"]}
    assert after["河东镇"]["score"] == before["河东镇"]["score"] + 0.5
    struck = next(line for line in after["河东镇"]["lines"] if line["key"] == key)
    assert (struck["points"], struck["charged"], struck["struck"], struck["appeal"]["answer"]) == (
        0.0,
        -0.5,
        True,
        "退回系因部门误判。",
    )
    # known on 11-02 the line still counted: the decision came on 11-03
    then = {u["unit"]: u for u in assess_json(cli, "--period", "2022-10", "--as-of", "2022-11-02")["units"]}
    assert then["河东镇"]["score"] == before["河东镇"]["score"]
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.subject == "assessment_appeal")).all()
        assert [(e.actor, e.action, e.via) for e in entries] == [
            ("河东镇", "appeal", "cli"),
            ("区配套办", "appeal_struck", "cli"),
        ]
        answers = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "assessment_appeal_decided")).all()
        assert {m.recipient for m in answers} == {"河东镇"}
        assert "撤销扣分" in answers[0].body


def test_hostile_reason_is_text_in_json_and_xlsx(october: Cli, tmp_path: Path) -> None:
    cli = october
    key = "report_late:2022-10:2022-10-11"
    cli("assess", "appeal", key, "--unit", "河东镇", "--reason", HOSTILE, "--as-of", "2022-11-01")
    unit = assess_json(cli, "--period", "2022-10", "--as-of", "2022-11-01", "--unit", "河东镇")["units"]
    assert len(unit) == 1
    line = next(line for line in unit[0]["lines"] if line["key"] == key)
    assert line["appeal"]["reason"] == HOSTILE and line["appeal"]["state"] == "pending"
    with session_scope() as session:  # the Office's message: text as typed, the HTML escaped, the markdown inert
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "assessment_appeal")).all()
        emails = [m for m in sent if m.body_html]
        assert emails and all("<script>" not in m.body_html and "&lt;script&gt;" in m.body_html for m in emails)
        assert all("<script>alert(1)</script>" not in m.body for m in sent if m.channel == "wecom")
    path = tmp_path / "考核.xlsx"
    cli("assess", "--period", "2022-10", "--as-of", "2022-11-01", "--out", path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["考核得分", "扣分加分明细"]
    cells = [c for row in workbook["扣分加分明细"].iter_rows() for c in row if c.value == HOSTILE]
    assert len(cells) == 1 and cells[0].data_type == "s"
    summary = {row[2]: row for row in workbook["考核得分"].iter_rows(min_row=2, values_only=True)}
    assert summary["河东镇"][3] == 87.0 and summary["河西镇"][6:] == (1, 3)


def test_bad_period_and_unknown_unit(october: Cli) -> None:
    assert "格式有误" in october("assess", "--period", "2022-13", status=2).output
    assert "不是考核对象" in october("assess", "--period", "2022-10", "--unit", "某某镇", status=2).output


def test_monthly_bulletin_has_the_assessment_table(october: Cli, tmp_path: Path) -> None:
    # the 10-13 sweep issued October's bulletin as of that day; a new edition as of the month's last day
    out = tmp_path / "out"
    october("bulletin", "--period", "2022-10", "--as-of", "2022-10-31", "--out", out, "--new-edition", "--no-engine")
    with session_scope() as session:
        records = session.exec(select(BulletinRecord).order_by(BulletinRecord.edition)).all()
        first, figures = records[0].figures["assessment"], records[-1].figures["assessment"]
    # as known on 10-13: no month end passed yet, so 河东镇 had 87 + 2 (A-1 and A-2 at 10-31)
    assert {u["unit"]: u["score"] for u in first["units"]}["河东镇"] == 89.0
    units = {u["unit"]: u for u in figures["units"]}
    assert (figures["period"], units["河东镇"]["score"], units["河东镇"]["rank"]) == ("2022-10", 87.0, 11)
    # 河东镇 lost 13 (as counted by hand in the test above), gained nothing, and had one red, one yellow card
    assert (units["河东镇"]["deducted"], units["河东镇"]["added"]) == (-13.0, 0.0)
    assert sorted(c["card"] for c in units["河东镇"]["cards"]) == ["red", "yellow"]
    html = next(out.glob("*第2版.html")).read_text(encoding="utf-8")
    flat = re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", html))
    assert "六、考核情况" in flat and re.search(r"表\d+2022年10月考核得分及排名", flat)
    assert "镇办11河东镇87-130黄牌（问题A-2：问题逾期）、红牌（长效机制文件逾期）" in flat
    assert "镇办12河西镇78.5-21.50黄牌" in flat and "本期给予河东镇、河西镇、教体局黄牌警示" in flat


def test_a_refused_extension_and_a_moved_item_from_both_sources(october: Cli) -> None:
    """河东镇 asks on 10-13 to move A-1 (due 10-14) to 11-30; 民政局 refuses on 10-14: -0.5 for 河东镇.
    A-2 (河东镇's kindergarten, 教体局's, due 09-30) moves to 河西镇 on 11-03: overdue at the end of October it
    was 河东镇's (-1), at the end of November 河西镇's (-1); 教体局 is its 协办 both times (-0.5)."""
    cli = october
    asked = ["--until", "2022-11-30", "--reason", "用房清退受阻", "--progress", "已发函", "--by", "河东镇"]
    cli("extension", "request", "A-1", *asked, "--as-of", "2022-10-13")
    cli("extension", "decide", "1", "--refuse", "--reason", "理由不充分", "--by", "民政局", "--as-of", "2022-10-14")
    moved = ["--township", "河西镇", "--reason", "误记", "--by", "河东镇"]
    cli("item", "reassign", "A-2", *moved, "--as-of", "2022-11-02")
    cli("item", "reassign-decide", "1", "--approve", "--as-of", "2022-11-03")
    for period, day in (("2022-10", "2022-10-31"), ("2022", "2022-11-30"), ("2022-11", "2022-11-30")):
        assert assess_json(cli, "--period", period, "--as-of", day) == assess_json(
            cli, "--period", period, "--as-of", day, "--from-log"
        )
    units = {u["unit"]: u for u in assess_json(cli, "--period", "2022", "--as-of", "2022-11-30")["units"]}

    def counted(unit: str, *subjects: str) -> list[tuple]:
        lines = units[unit]["lines"]
        return [(x["date"], x["cause"], x["subject"], x["points"]) for x in lines if x["subject"] in subjects]

    assert counted("河东镇", "extension:1", "A-1", "A-2") == [
        ("2022-10-14", "extension_refused", "extension:1", -0.5),
        ("2022-10-31", "item_overdue", "A-1", -1.0),
        ("2022-10-31", "item_overdue", "A-2", -1.0),
        ("2022-11-30", "item_overdue", "A-1", -1.0),
    ]
    assert counted("河西镇", "A-2") == [("2022-11-30", "item_overdue", "A-2", -1.0)]
    assert counted("教体局", "A-2") == [
        ("2022-10-31", "item_overdue", "A-2", -0.5),
        ("2022-11-30", "item_overdue", "A-2", -0.5),
    ]
