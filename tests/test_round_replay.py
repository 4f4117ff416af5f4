"""One month replayed day by day: exactly the requests, reminders and escalations worked out by hand.

The window is the October 2022 round. National Day (10-01..10-07) is off; Saturday 10-08 and
Sunday 10-09 are make-up working days. So the townships' due date, the 5th, moves to Saturday
10-08; the departments' due date stays Monday 10-10.

Behaviour: 河东镇 reports on its due day, 河西镇 never does, 民政局 reports on time, 教体局 two days late.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

from conftest import Cli, db_digest
from reporting_helpers import MECHANISM_CAUSES, documents_escalated, load_small_ledger, of_the_round, submit
from sqlmodel import col, select
from test_plan import DEPARTMENTS, TOWNSHIPS

from duban.db import session_scope
from models import Escalation, OutboxMessage, Submission

OFFICE, DEPUTY = "区配套办", "分管副区长"
DISTRIBUTION = ["区长", "分管副区长", *DEPARTMENTS, *TOWNSHIPS]  # the plan file's bulletin.distribution, in its order
# (day, kind, recipient) in the order queued, with the reasoning for each line.
EXPECTED_MESSAGES = [
    # 10-01, a holiday: the round opens anyway (cron "0 8 1 * *"); nothing is chased or escalated.
    ("2022-10-01", "round_opened", "河东镇"),
    ("2022-10-01", "round_opened", "河西镇"),
    ("2022-10-01", "round_opened", "教体局"),
    ("2022-10-01", "round_opened", "民政局"),
    # 10-08: the townships' due day. The 3- and 1-day reminders (09-28, 09-30) fell before the round
    # opened, so only the due-day reminder goes out.
    ("2022-10-08", "reminder", "河东镇"),
    ("2022-10-08", "reminder", "河西镇"),
    # A-2 (key item, due 09-30): 1 working day late -> starts at level 2 (the Office, 河东镇, 教体局).
    # A-4 (due 09-20): 09-21..09-30 = 8, plus 10-08 = 9 working days late -> level 1 (河西镇, 民政局).
    # A-4's milestone (09-15): 12 working days late -> straight to level 2 on the first working day
    # (the Office, 河西镇, 民政局). One message per recipient and level: the Office's level 2 is one
    # digest listing A-2 and A-4's milestone; everyone else has one item at each level.
    ("2022-10-08", "escalation", OFFICE),
    ("2022-10-08", "escalation", "河东镇"),
    ("2022-10-08", "escalation", "教体局"),
    ("2022-10-08", "escalation", "河西镇"),
    ("2022-10-08", "escalation", "民政局"),
    ("2022-10-08", "escalation", "河西镇"),
    ("2022-10-08", "escalation", "民政局"),
    # 10-09 (Sunday, worked): departments' 1-day reminder; 河西镇 one day late -> level 1 to it and its
    # two reviewing departments (the chase's own run of the ladder); A-4 now 10 days late -> level 2.
    ("2022-10-09", "reminder", "教体局"),
    ("2022-10-09", "reminder", "民政局"),
    ("2022-10-09", "escalation", "河西镇"),
    ("2022-10-09", "escalation", "教体局"),
    ("2022-10-09", "escalation", "民政局"),
    ("2022-10-09", "escalation", OFFICE),
    ("2022-10-09", "escalation", "河西镇"),
    ("2022-10-09", "escalation", "民政局"),
    # 10-10: departments' due-day reminder (民政局 then reports).
    ("2022-10-10", "reminder", "教体局"),
    ("2022-10-10", "reminder", "民政局"),
    # 10-11: 教体局 one day late -> level 1; 河西镇 three days late -> level 2 (挂牌督办).
    ("2022-10-11", "escalation", "教体局"),
    ("2022-10-11", "escalation", OFFICE),
    ("2022-10-11", "escalation", "河西镇"),
    ("2022-10-11", "escalation", "教体局"),
    ("2022-10-11", "escalation", "民政局"),
    # 10-11 is also the first working day after the departments' due date: the monthly bulletin
    # (cron "0 10 * * *", after the morning's escalations) goes to the whole distribution list.
    *[("2022-10-11", "bulletin", unit) for unit in DISTRIBUTION],
    # 10-12: 教体局 reports late; 10-13 its escalation resolves. 10-14: 河西镇 six days late -> level 3.
    ("2022-10-14", "escalation", DEPUTY),
    ("2022-10-14", "escalation", OFFICE),
    ("2022-10-14", "escalation", "河西镇"),
    ("2022-10-14", "escalation", "教体局"),
    ("2022-10-14", "escalation", "民政局"),
    # 10-17: A-1 (due Friday 10-14) one working day late -> level 1.
    ("2022-10-17", "escalation", "河东镇"),
    ("2022-10-17", "escalation", "民政局"),
]
EXPECTED_ESCALATIONS = {
    # cause_key, level: (raised_on, resolved_on)
    ("item:A-2@2022-09-30", 2): ("2022-10-08", None),
    ("item:A-4@2022-09-20", 1): ("2022-10-08", None),
    ("item:A-4@2022-09-20", 2): ("2022-10-09", None),
    (f"milestone:A-4@2022-09-15:{hashlib.sha1('完成选址'.encode()).hexdigest()[:8]}", 2): ("2022-10-08", None),
    ("submission:2022-10:河西镇@2022-10-08", 1): ("2022-10-09", None),
    ("submission:2022-10:河西镇@2022-10-08", 2): ("2022-10-11", None),
    ("submission:2022-10:河西镇@2022-10-08", 3): ("2022-10-14", None),
    ("submission:2022-10:教体局@2022-10-10", 1): ("2022-10-11", "2022-10-13"),
    ("item:A-1@2022-10-14", 1): ("2022-10-17", None),
}
FILLED = {
    "A-1": {"整改进度（%）": 40, "工作状态": "推进中", "本月进展": "已与承租方谈判。"},
    "A-2": {"整改进度（%）": 60, "工作状态": "推进中", "本月进展": "产权移交资料已报送。"},
}


def replay(cli: Cli, tmp_path: Path, act: bool) -> None:
    day = date(2022, 10, 1)
    while day <= date(2022, 10, 17):
        cli("tick", "--as-of", day)
        if act and day == date(2022, 10, 8):
            submit(cli, tmp_path, "河东镇", "2022-10", "2022-10-08", FILLED)
        if act and day == date(2022, 10, 10):
            submit(cli, tmp_path, "民政局", "2022-10", "2022-10-10")
        if act and day == date(2022, 10, 12):
            submit(cli, tmp_path, "教体局", "2022-10", "2022-10-12")
        day += timedelta(days=1)


def test_one_month_replay_matches_the_hand_count(initialised: Cli, home: Path, tmp_path: Path) -> None:
    load_small_ledger(initialised, tmp_path)
    replay(initialised, tmp_path, act=True)
    with session_scope() as session:
        everything = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        documents_escalated(everything, session.exec(select(Escalation)).all())
        messages = of_the_round(everything, session.exec(select(Escalation)).all())
        got = [(m.created_on.isoformat(), m.kind, m.recipient) for m in messages]
        assert got == EXPECTED_MESSAGES
        office = next(m for m in messages if m.kind == "escalation" and m.recipient == OFFICE)
        assert office.subject == "【挂牌督办】2项逾期事项（其中1项问题逾期未完成整改）"
        assert office.body.index("1. 问题A-2逾期未完成整改") < office.body.index("2. 问题A-4时间节点逾期未完成")
        milestone = "时间节点“完成选址”应于2022年9月15日前完成，截至2022年10月8日仍未报告完成，已逾期12个工作日"
        assert milestone in office.body
        requests = {
            s.unit: (s.kind, s.items, s.reviewers, s.due_on.isoformat(), s.status, s.late)
            for s in session.exec(select(Submission))
        }
        assert requests == {
            "河东镇": ("township", ["A-1", "A-2"], ["教体局", "民政局"], "2022-10-08", "submitted", False),
            "河西镇": ("township", ["A-3", "A-4"], ["教体局", "民政局"], "2022-10-08", "requested", False),
            "教体局": ("department", ["A-2", "A-3"], [OFFICE], "2022-10-10", "submitted", True),
            "民政局": ("department", ["A-1", "A-4"], [OFFICE], "2022-10-10", "submitted", False),
        }
        escalations = {
            (e.cause_key, e.level): (e.raised_on.isoformat(), e.resolved_on and e.resolved_on.isoformat())
            for e in session.exec(select(Escalation))
            if e.cause not in MECHANISM_CAUSES
        }
        assert escalations == EXPECTED_ESCALATIONS
        a2 = session.exec(select(Escalation).where(Escalation.cause_key == "item:A-2@2022-09-30")).one()
        assert a2.key_difficult and a2.must_finish_by == date(2022, 12, 31)
        by_key = {m.idempotency_key: m for m in messages}
        email = by_key["open:2022-10:民政局|民政局|email:mzj@xxq.gov.cn"]
        assert email.subject == "关于报送2022年10月社区配套设施整治进度的通知"
        assert "于2022年10月10日前报送XX区社区配套设施规划建设管理工作领导小组办公室" in email.body
        reminder = next(m for m in messages if m.kind == "reminder" and m.recipient == "河西镇")
        assert (reminder.channel, reminder.subject) == ("file", "提醒：2022年10月整治进度报送今日截止")

    # The whole window again: nothing changes, nothing is queued twice.
    before = db_digest(home)
    replay(initialised, tmp_path, act=False)
    assert db_digest(home) == before

    view = json.loads(initialised("period", "show", "2022-10", "--as-of", "2022-10-17", "--json").output)
    assert view["late"] == ["河西镇", "教体局"]
    levels = {(e["unit"], e["cause"]): e["level"] for e in view["escalations"] if e["cause"] not in MECHANISM_CAUSES}
    assert levels == {
        ("河西镇", "missing_submission"): 3,
        ("河东镇", "overdue_item"): 2,
        ("河西镇", "overdue_item"): 2,
        ("河西镇", "overdue_milestone"): 2,
    }
