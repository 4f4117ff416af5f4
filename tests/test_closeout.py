"""Close-out (问题销号): every legal and illegal move, who may make it, and the audit trail."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy
from conftest import EVIDENCE, Cli, db_digest
from sqlmodel import select
from test_ledger_import import write_csv

from duban import audit
from duban.db import engine, session_scope
from duban.items.closeout import ClosureError, transition
from duban.items.rectification import make_plan
from duban.stored_plan import current_plan
from models import Evidence, LedgerItem

STATES = ["open", "planned", "in_progress", "close_requested", "verified", "closed", "cancelled"]
# Who is who for the test items: 城关街道's community premises, led by 民政局.
ACTORS = {
    "responsible": "城关街道",
    "lead": "民政局",
    "office": "区配套办",
    "other_township": "河东镇",
    "other_department": "教体局",
    "deputy": "分管副区长",
}
# The chain's rules, written out by hand from the issue (not read from the code under test).
LEGAL = {
    ("planned", "in_progress"): {"responsible", "lead"},
    ("in_progress", "close_requested"): {"responsible"},
    ("close_requested", "verified"): {"lead"},
    ("close_requested", "in_progress"): {"lead"},
    ("verified", "closed"): {"office"},
    ("verified", "in_progress"): {"office"},
    **{(state, "cancelled"): {"office"} for state in ["open", "planned", "in_progress", "close_requested", "verified"]},
}
# open -> planned happens by making a plan (duban item plan); a bare transition is refused, telling
# the units of the chain to make the plan first and everyone else that they have no say.
BY_PLAN_ONLY = {("open", "planned"): {"responsible", "lead", "office"}}
PATH_TO = {
    "open": [],
    "planned": [],
    "in_progress": [("in_progress", "responsible")],
    "close_requested": [("in_progress", "responsible"), ("close_requested", "responsible")],
    "verified": [("in_progress", "responsible"), ("close_requested", "responsible"), ("verified", "lead")],
    "closed": [
        ("in_progress", "responsible"),
        ("close_requested", "responsible"),
        ("verified", "lead"),
        ("closed", "office"),
    ],
    "cancelled": [("cancelled", "office")],
}
DAY = date(2022, 5, 20)


@pytest.fixture
def pool(initialised: Cli, tmp_path: Path) -> list[str]:
    """Sixty fresh items of 城关街道: the first ten without a plan (open), the rest planned."""
    rows = []
    for n in range(1, 61):
        planned = n > 10
        rows.append(
            [
                f"C-{n:03d}",
                "城关街道",
                f"第{n}社区",
                "社区用房",
                "",
                "使用",
                f"问题{n}",
                "",
                "",
                "收回用房。" if planned else "",
                "2022-09-30" if planned else "",
                "否",
            ]
        )
    initialised("ledger", "import", write_csv(tmp_path / "pool.csv", rows), "--as-of", "2022-05-01")
    return [f"C-{n:03d}" for n in range(1, 61)]


def _move(code: str, target: str, actor: str, home: Path) -> None:
    with session_scope() as session:
        transition(
            session,
            current_plan(session),
            code=code,
            target=target,
            by=actor,
            as_of=DAY,
            note="情况说明",
            evidence=[EVIDENCE],
            evidence_dir=home / "evidence",
        )


def _status(code: str) -> str:
    with session_scope() as session:
        return session.exec(select(LedgerItem.status).where(LedgerItem.code == code)).one()


def test_every_move_by_every_actor(pool: list[str], home: Path) -> None:
    open_items, planned_items = iter(pool[:10]), iter(pool[10:])

    def item_in(state: str) -> str:
        code = next(open_items if state == "open" else planned_items)
        for target, role in PATH_TO[state]:
            _move(code, target, ACTORS[role], home)
        assert _status(code) == state
        return code

    checked = 0
    for state in STATES:
        probe = item_in(state)
        for target in STATES:
            for role, actor in ACTORS.items():
                allowed = role in LEGAL.get((state, target), set())
                if allowed:
                    code = item_in(state)
                    _move(code, target, actor, home)
                    assert _status(code) == target
                else:
                    with pytest.raises(ClosureError) as refused:
                        _move(probe, target, actor, home)
                    if role in BY_PLAN_ONLY.get((state, target), set()):
                        expected = "尚未制定整治方案"
                    elif (state, target) in LEGAL or (state, target) in BY_PLAN_ONLY:
                        expected = "无权"
                    else:
                        expected = "不能变更为"
                    assert expected in str(refused.value), (state, target, role, str(refused.value))
                    assert _status(probe) == state
                checked += 1
    assert checked == len(STATES) ** 2 * len(ACTORS)


def test_notes_and_evidence_are_required(pool: list[str], home: Path) -> None:
    code = pool[20]
    with session_scope() as session:
        plan = current_plan(session)
        transition(session, plan, code=code, target="in_progress", by="城关街道", as_of=DAY)
    with session_scope() as session, pytest.raises(ClosureError, match="申请销号须附佐证材料"):
        transition(
            session,
            current_plan(session),
            code=code,
            target="close_requested",
            by="城关街道",
            as_of=DAY,
            note="已完成",
            evidence_dir=home / "evidence",
        )
    with session_scope() as session, pytest.raises(ClosureError, match="“申请销号”须说明理由或情况"):
        transition(
            session,
            current_plan(session),
            code=code,
            target="close_requested",
            by="城关街道",
            as_of=DAY,
            evidence=[EVIDENCE],
            evidence_dir=home / "evidence",
        )
    with session_scope() as session, pytest.raises(ClosureError, match="“撤销”须说明理由或情况"):
        transition(session, current_plan(session), code=code, target="cancelled", by="区配套办", as_of=DAY)
    with session_scope() as session, pytest.raises(ClosureError, match="尚未制定整治方案"):
        transition(session, current_plan(session), code=pool[0], target="planned", by="城关街道", as_of=DAY)
    assert _status(code) == "in_progress" and _status(pool[0]) == "open"


def test_plan_makes_an_open_item_planned_and_keeps_revisions(pool: list[str]) -> None:
    code = pool[0]
    with session_scope() as session, pytest.raises(ClosureError, match="“河东镇”无权修改问题C-001的整治方案"):
        make_plan(
            session, current_plan(session), code=code, by="河东镇", as_of=DAY, measures="x", deadline=date(2022, 9, 30)
        )
    with session_scope() as session, pytest.raises(ClosureError, match="首次制定须同时填写"):
        make_plan(session, current_plan(session), code=code, by="城关街道", as_of=DAY, measures="x")
    with session_scope() as session, pytest.raises(ClosureError, match="晚于完成时限"):
        make_plan(
            session,
            current_plan(session),
            code=code,
            by="城关街道",
            as_of=DAY,
            measures="收回用房",
            deadline=date(2022, 9, 30),
            milestones_in=((date(2022, 10, 1), "装修"),),
        )
    with session_scope() as session:
        plan = current_plan(session)
        first = make_plan(
            session,
            plan,
            code=code,
            by="城关街道",
            as_of=DAY,
            measures="收回用房",
            deadline=date(2022, 9, 30),
            milestones_in=((date(2022, 6, 30), "解除合同"),),
        )
        again = make_plan(session, plan, code=code, by="民政局", as_of=DAY, measures="收回用房")
        second = make_plan(session, plan, code=code, by="民政局", as_of=date(2022, 6, 1), deadline=date(2022, 10, 31))
    assert (first.revision, again, second.revision) == (1, None, 2)
    assert _status(code) == "planned"
    with session_scope() as session:
        actions = [(e.action, e.actor) for e in audit.history(session, "item", code)]
        assert actions == [("create", "区配套办"), ("plan", "城关街道"), ("transition", "城关街道"), ("plan", "民政局")]
        last = audit.history(session, "item", code)[-1]
        assert last.before["deadline"] == "2022-09-30" and last.after["deadline"] == "2022-10-31"
        assert last.after["milestones"] == [["2022-06-30", "解除合同"]]  # carried over


def test_full_history_of_a_returned_then_closed_item(imported: Cli, home: Path) -> None:
    code = "PT2022-0001"
    steps = [
        ("in_progress", "城关街道", "2022-04-20", ""),
        ("close_requested", "城关街道", "2022-06-24", "已收回用房。"),
        ("in_progress", "民政局", "2022-06-27", "佐证不足，退回整改。"),
        ("close_requested", "城关街道", "2022-06-29", "补充了验收材料。"),
        ("verified", "民政局", "2022-06-30", ""),
        ("closed", "区配套办", "2022-07-01", ""),
    ]
    for target, by, day, note in steps:
        extra = ["--evidence", EVIDENCE] if target == "close_requested" else []
        imported("item", "transition", code, "--to", target, "--by", by, "--as-of", day, "--note", note, *extra)
    with session_scope() as session:
        history = audit.history(session, "item", code)
        assert [
            (
                e.action,
                (e.before or {}).get("status"),
                (e.after or {}).get("status"),
                e.actor,
                e.effective_on.isoformat(),
                e.note,
            )
            for e in history
        ] == [
            ("create", None, "open", "区配套办", "2022-04-08", "台账导入（第2行）"),
            ("plan", None, None, "区配套办", "2022-04-08", "台账导入（第2行）"),
            ("transition", "open", "planned", "区配套办", "2022-04-08", "台账导入（第2行）"),
            ("transition", "planned", "in_progress", "城关街道", "2022-04-20", ""),
            ("transition", "in_progress", "close_requested", "城关街道", "2022-06-24", "已收回用房。"),
            ("transition", "close_requested", "in_progress", "民政局", "2022-06-27", "佐证不足，退回整改。"),
            ("transition", "in_progress", "close_requested", "城关街道", "2022-06-29", "补充了验收材料。"),
            ("transition", "close_requested", "verified", "民政局", "2022-06-30", ""),
            ("transition", "verified", "closed", "区配套办", "2022-07-01", ""),
        ]
        assert history[4].after["evidence"] == ["整改完成情况说明.txt"]
        item = session.exec(select(LedgerItem).where(LedgerItem.code == code)).one()
        assert item.progress == 100
        # The same evidence file filed twice is kept once.
        files = session.exec(select(Evidence).where(Evidence.item_id == item.id)).all()
        assert len(files) == 1
        assert (home / files[0].stored_as).read_bytes() == EVIDENCE.read_bytes()
    shown = imported("item", "show", code).output
    assert "退回整改" in shown and "佐证不足，退回整改。" in shown and "已销号" in shown


def test_refusals_through_the_cli_change_nothing(imported: Cli, home: Path) -> None:
    before = db_digest(home)
    result = imported("item", "transition", "PT2022-0003", "--to", "in_progress", "--by", "河东镇", status=2)
    assert (
        "“河东镇”无权对问题PT2022-0003进行“开始整改”：该操作只能由牵头部门民政局、责任单位城关街道进行" in result.output
    )
    result = imported("item", "transition", "PT2022-0003", "--to", "已销号", "--by", "区配套办", status=2)
    assert "当前状态为“已制定方案”，不能变更为“已销号”" in result.output
    result = imported("item", "transition", "PT9999", "--to", "closed", "--by", "区配套办", status=2)
    assert "台账中没有编号为“PT9999”的问题" in result.output
    result = imported("item", "transition", "PT2022-0003", "--to", "in_progress", "--by", "某某局", status=2)
    assert "未知单位“某某局”" in result.output
    result = imported(
        "item",
        "transition",
        "PT2022-0003",
        "--to",
        "in_progress",
        "--by",
        "城关街道",
        "--as-of",
        "2022-04-01",
        status=2,
    )
    assert "最近一次变更日期为2022-04-08，不能登记更早日期（2022-04-01）的变更" in result.output
    assert db_digest(home) == before


def test_audit_log_refuses_update_and_delete(imported: Cli) -> None:
    for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), engine().begin() as conn:
            conn.execute(sqlalchemy.text(statement))
