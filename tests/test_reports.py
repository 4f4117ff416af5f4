"""Drafts, returns, resubmissions, late reports, reviews, and escalations that resolve."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import Cli
from reporting_helpers import MECHANISM_CAUSES, load_small_ledger, review, submit
from sqlmodel import col, select

from duban import audit
from duban.db import session_scope
from models import Escalation, LedgerItem, MilestoneDone, OutboxMessage, Review, Submission, SubmissionVersion

HEDONG = {
    "A-1": {"整改进度（%）": 40, "工作状态": "推进中", "本月进展": "已与承租方谈判。"},
    "A-2": {"整改进度（%）": 60, "工作状态": "推进中", "本月进展": "产权移交资料已报送。"},
}
HEXI = {
    "A-3": {"整改进度（%）": 0, "工作状态": "未开工"},
    "A-4": {"整改进度（%）": 30, "工作状态": "推进中", "时间节点已完成": "是", "本月进展": "已完成选址。"},
}


@pytest.fixture
def october(initialised: Cli, tmp_path: Path) -> Cli:
    load_small_ledger(initialised, tmp_path)
    initialised("tick", "--as-of", "2022-10-01")
    return initialised


def _tick(cli: Cli, start: str, end: str) -> None:
    day, last = date.fromisoformat(start), date.fromisoformat(end)
    while day <= last:
        cli("tick", "--as-of", day)
        day += timedelta(days=1)


def _submission(unit: str) -> Submission:
    with session_scope() as session:
        return session.exec(select(Submission).where(Submission.unit == unit)).one()


def _open_escalations(unit: str) -> list[tuple[str, int]]:
    with session_scope() as session:
        rows = session.exec(
            select(Escalation).where(
                Escalation.unit == unit,
                col(Escalation.resolved_on).is_(None),
                col(Escalation.cause).not_in(MECHANISM_CAUSES),  # the plan's overdue documents: not the round's
            )
        )
        return sorted((e.cause_key, e.level) for e in rows)


def test_draft_return_resubmit_accept(october: Cli, tmp_path: Path) -> None:
    cli = october
    out = submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-07", HEDONG, draft=True)
    assert "河东镇2022-10报表草稿已保存：第1版" in out
    assert _submission("河东镇").status == "draft"
    _tick(cli, "2022-10-02", "2022-10-08")
    with session_scope() as session:
        reminder = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "reminder", OutboxMessage.recipient == "河东镇")
        ).one()
        assert "（已保存草稿，尚未正式提交）" in reminder.body
    assert "第2版" in submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-08", HEDONG)

    # 教体局 returns it; 民政局 cannot review a returned report; the township is told why and by when.
    review(cli, "教体局", "河东镇", "2022-10-09", accept=False, reason="幼儿园移交进度与实际不符，请核实。")
    returned = _submission("河东镇")
    assert (returned.status, returned.returned_on, returned.resubmit_due) == (
        "returned",
        date(2022, 10, 9),
        date(2022, 10, 11),
    )  # 2 working days: 10-10, 10-11
    refused = review(cli, "民政局", "河东镇", "2022-10-09", status=2)
    assert "报表已被退回，须待其重新报送后再审核" in refused
    with session_scope() as session:
        notice = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "report_returned")).one()
        assert notice.recipient == "河东镇"
        assert "退回理由：幼儿园移交进度与实际不符，请核实。" in notice.body
        assert "于2022年10月11日前重新报送" in notice.body

    # Not resubmitted by 10-11: on 10-12 the returned report is one working day late -> level 1.
    _tick(cli, "2022-10-09", "2022-10-12")
    assert _open_escalations("河东镇") == [("item:A-2@2022-09-30", 2), ("submission:2022-10:河东镇@2022-10-11", 1)]
    out = submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-12", HEDONG)
    assert "第3版（迟报）" in out
    _tick(cli, "2022-10-13", "2022-10-13")
    assert _open_escalations("河东镇") == [("item:A-2@2022-09-30", 2)]  # the missing-report escalation resolved
    with session_scope() as session:
        resolved = session.exec(
            select(Escalation).where(Escalation.cause_key == "submission:2022-10:河东镇@2022-10-11")
        ).one()
        assert resolved.resolved_on == date(2022, 10, 13)

    # Both departments accept version 3; progress flows to the items.
    review(cli, "教体局", "河东镇", "2022-10-13")
    assert _submission("河东镇").status == "submitted"  # 民政局 has not yet reviewed
    with session_scope() as session:
        items = {i.code: (i.progress, i.status) for i in session.exec(select(LedgerItem))}
        assert items["A-1"] == (0, "planned") and items["A-2"] == (60, "in_progress")  # only 教体局's item moved
    review(cli, "民政局", "河东镇", "2022-10-14")
    final = _submission("河东镇")
    assert (final.status, final.version, final.late, final.first_submitted_on, final.last_submitted_on) == (
        "accepted",
        3,
        False,
        date(2022, 10, 8),
        date(2022, 10, 12),
    )
    with session_scope() as session:
        versions = session.exec(
            select(SubmissionVersion)
            .where(SubmissionVersion.submission_id == final.id)
            .order_by(col(SubmissionVersion.version))
        ).all()
        assert [(v.version, v.state, v.saved_on.isoformat(), v.late) for v in versions] == [
            (1, "draft", "2022-10-07", False),
            (2, "submitted", "2022-10-08", False),
            (3, "submitted", "2022-10-12", True),
        ]
        reviews = session.exec(select(Review).order_by(col(Review.id))).all()
        assert [(r.version, r.department, r.decision) for r in reviews] == [
            (2, "教体局", "returned"),
            (3, "教体局", "accepted"),
            (3, "民政局", "accepted"),
        ]
        items = {i.code: (i.progress, i.status) for i in session.exec(select(LedgerItem))}
        assert items["A-1"] == (40, "in_progress") and items["A-2"] == (60, "in_progress")
        a2 = [(e.action, e.actor, e.effective_on.isoformat()) for e in audit.history(session, "item", "A-2")][-2:]
        assert a2 == [("progress", "河东镇", "2022-10-13"), ("transition", "河东镇", "2022-10-13")]


def test_period_show_tells_the_round_as_it_stood_on_a_past_day(october: Cli, tmp_path: Path) -> None:
    cli = october
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-08", HEDONG)
    review(cli, "教体局", "河东镇", "2022-10-09", accept=False, reason="请核实进度。")
    _tick(cli, "2022-10-02", "2022-10-12")
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-12", HEDONG)
    review(cli, "教体局", "河东镇", "2022-10-13")
    review(cli, "民政局", "河东镇", "2022-10-13")
    _tick(cli, "2022-10-13", "2022-10-13")

    def hedong(day: str) -> tuple:
        view = json.loads(cli("period", "show", "2022-10", "--as-of", day, "--json").output)
        row = next(s for s in view["submissions"] if s["unit"] == "河东镇")
        missing = [
            e["level"] for e in view["escalations"] if e["unit"] == "河东镇" and e["cause"] == "missing_submission"
        ]
        return row["status"], row["version"], row["resubmit_due"], row["overdue"], missing

    assert hedong("2022-10-07") == ("requested", None, None, False, [])
    assert hedong("2022-10-08") == ("submitted", 1, None, False, [])
    assert hedong("2022-10-11") == ("returned", 1, "2022-10-11", False, [])
    # 10-12: chased at 09:00 (level 1), resubmitted later that day; the escalation resolves on 10-13.
    assert hedong("2022-10-12") == ("submitted", 2, None, False, [1])
    assert hedong("2022-10-13") == ("accepted", 2, None, False, [])


def test_review_rules(october: Cli, tmp_path: Path) -> None:
    cli = october
    result = review(cli, "教体局", "河东镇", "2022-10-08", status=2)
    assert "河东镇2022年10月的报表尚未提交，无法审核" in result
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-08", HEDONG)
    result = review(cli, "商务局", "河东镇", "2022-10-09", status=2)
    assert "商务局不是河东镇2022年10月报表的审核部门（审核部门：教体局、民政局）" in result
    result = review(cli, "教体局", "河东镇", "2022-10-09", accept=False, status=2)
    assert "退回报表须说明退回理由" in result
    result = review(cli, "教体局", "河东镇", "2022-10-09", accept=None, status=2)
    assert "请选择 --accept（通过）或 --return（退回）" in result
    review(cli, "教体局", "河东镇", "2022-10-09")
    result = review(cli, "教体局", "河东镇", "2022-10-09", status=2)
    assert "教体局已于2022年10月9日审核通过河东镇2022年10月报表第1版" in result
    result = review(cli, "教体局", "教体局", "2022-10-09", status=2)
    assert "教体局不是镇办" in result
    result = cli("report", "form", "--unit", "河东镇", "--period", "2022-11", tmp_path / "x.xlsx", status=2).output
    assert "2022年11月的报送工作尚未开启" in result
    result = cli("report", "form", "--unit", "河东镇", "--period", "2023-01", tmp_path / "x.xlsx", status=2).output
    assert "报送期2023-01不在方案规定的报送月份内（2022-05 至 2022-12）" in result


def test_late_report_and_milestone_done_resolve_their_escalations(october: Cli, tmp_path: Path) -> None:
    cli = october
    _tick(cli, "2022-10-02", "2022-10-09")
    milestone = next(k for k, _ in _open_escalations("河西镇") if k.startswith("milestone:"))
    assert ("submission:2022-10:河西镇@2022-10-08", 1) in _open_escalations("河西镇")
    out = submit(cli, tmp_path, "河西镇", "2022-10", "2022-10-09", HEXI)
    assert "第1版（迟报）" in out
    review(cli, "民政局", "河西镇", "2022-10-10")
    with session_scope() as session:
        done = session.exec(select(MilestoneDone)).one()
        assert (done.item_code, done.due, done.title, done.done_on) == (
            "A-4",
            date(2022, 9, 15),
            "完成选址",
            date(2022, 10, 10),
        )
    _tick(cli, "2022-10-10", "2022-10-10")
    still_open = _open_escalations("河西镇")
    assert all(key != milestone for key, _ in still_open)
    assert not any(key.startswith("submission:") for key, _ in still_open)
    assert ("item:A-4@2022-09-20", 2) in still_open  # the item itself is still overdue
    view = json.loads(cli("period", "show", "2022-10", "--as-of", "2022-10-10", "--json").output)
    hexi = next(s for s in view["submissions"] if s["unit"] == "河西镇")
    assert (hexi["late"], hexi["status"], hexi["reviews"]) == (True, "submitted", {"民政局": "accepted"})
    assert "河西镇" in view["late"]


def test_deadline_extension_and_close_out_resolve_item_escalations(october: Cli, tmp_path: Path) -> None:
    from conftest import EVIDENCE

    cli = october
    _tick(cli, "2022-10-02", "2022-10-08")
    assert ("item:A-2@2022-09-30", 2) in _open_escalations("河东镇")
    cli(
        "item",
        "plan",
        "A-2",
        "--by",
        "教体局",
        "--deadline",
        "2022-11-30",
        "--as-of",
        "2022-10-09",
        "--note",
        "经区领导小组同意延期",
    )
    cli("item", "transition", "A-1", "--to", "in_progress", "--by", "河东镇", "--as-of", "2022-10-09")
    cli(
        "item",
        "transition",
        "A-1",
        "--to",
        "close_requested",
        "--by",
        "河东镇",
        "--as-of",
        "2022-10-09",
        "--note",
        "已收回",
        "--evidence",
        EVIDENCE,
    )
    _tick(cli, "2022-10-09", "2022-10-09")
    with session_scope() as session:
        a2 = session.exec(select(Escalation).where(Escalation.cause_key == "item:A-2@2022-09-30")).one()
        assert a2.resolved_on == date(2022, 10, 9)
    # A-1 is due 10-14; closed on 10-14, so it is never escalated.
    cli("item", "transition", "A-1", "--to", "verified", "--by", "民政局", "--as-of", "2022-10-12")
    cli("item", "transition", "A-1", "--to", "closed", "--by", "区配套办", "--as-of", "2022-10-14")
    _tick(cli, "2022-10-10", "2022-10-31")
    with session_scope() as session:
        assert session.exec(select(Escalation).where(col(Escalation.item_code) == "A-1")).all() == []


def test_next_round_covers_only_open_items_and_prefills_last_report(october: Cli, tmp_path: Path) -> None:
    from conftest import EVIDENCE
    from openpyxl import load_workbook

    cli = october
    submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-08", HEDONG)
    for target, by in (
        ("in_progress", "河东镇"),
        ("close_requested", "河东镇"),
        ("verified", "民政局"),
        ("closed", "区配套办"),
    ):
        extra = ["--note", "完成", "--evidence", EVIDENCE] if target == "close_requested" else []
        cli("item", "transition", "A-1", "--to", target, "--by", by, "--as-of", "2022-10-20", *extra)
    cli("tick", "--as-of", "2022-11-01")
    assert _submission_in("2022-11", "河东镇").items == ["A-2"]
    path = tmp_path / "nov.xlsx"
    cli("report", "form", "--unit", "河东镇", "--period", "2022-11", path)
    sheet = load_workbook(path)["填报"]
    header = [c.value for c in sheet[2]]
    row = [c.value for c in sheet[3]]
    assert row[0] == "A-2" and sheet.max_row == 3
    assert row[header.index("整改进度（%）")] == 60 and row[header.index("工作状态")] == "推进中"
    assert row[header.index("本月进展")] is None  # a new month starts with empty narratives
    assert sheet.protection.sheet is True
    assert sheet.cell(row=3, column=1).protection.locked is True
    assert sheet.cell(row=3, column=header.index("整改进度（%）") + 1).protection.locked is False


def _submission_in(period: str, unit: str) -> Submission:
    with session_scope() as session:
        return session.exec(select(Submission).where(Submission.period == period, Submission.unit == unit)).one()
