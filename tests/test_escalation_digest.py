"""Escalations queued as digests: one message per recipient and level for each run of the ladder.

Three items of 河东镇 (体育设施, so 教体局 leads) fall due on Wednesday 2022-06-15. June 2022 has no
holiday after the Dragon Boat Festival (06-03), so on 06-16 they are 1 working day late (level 1: 河东镇
and 教体局) and on 06-29 10 working days late (level 2: the Office joins). 河东镇 has no channel in the
sample plan (the file outbox), 教体局 and the Office one email each: one row per recipient.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import PLAN, Cli
from sqlmodel import col, select
from test_ledger_import import write_csv

from duban.db import session_scope
from duban.reporting.cycle import escalate_overdue
from models import Escalation, OutboxMessage

OFFICE = "区配套办"


def _row(code: str) -> list[str]:
    return [code, "河东镇", "河东社区", "体育设施", "健身设施", "建设", f"健身设施不足（{code}）。", "", "", "增建。"]


def _ledger(tmp_path: Path, codes: list[str]) -> Path:
    return write_csv(tmp_path / f"ledger-{len(codes)}.csv", [[*_row(code), "2022-06-15", "否"] for code in codes])


def _sent() -> list[tuple[str, str, str, str]]:
    """(day, recipient, channel, subject) of every escalation message, in the order queued."""
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "escalation").order_by(col(OutboxMessage.id))
        )
        return [(r.created_on.isoformat(), r.recipient, r.channel, r.subject) for r in rows]


def _body(recipient: str, day: str) -> str:
    with session_scope() as session:
        [row] = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.kind == "escalation",
                OutboxMessage.recipient == recipient,
                OutboxMessage.created_on == date.fromisoformat(day),
            )
        ).all()
        return row.body


def _told() -> dict[tuple[str, int], set[str]]:
    """(item, level) -> the recipients whose message under the escalation's notice key names the item."""
    with session_scope() as session:
        told: dict[tuple[str, int], set[str]] = {}
        for e in session.exec(select(Escalation)):
            rows = session.exec(
                select(OutboxMessage).where(col(OutboxMessage.idempotency_key).startswith(f"{e.notice_key}|"))
            )
            told[(e.item_code, e.level)] = {r.recipient for r in rows if f"问题{e.item_code}" in r.body}
        return told


LEVEL1 = "【督办】3项逾期事项（其中3项问题逾期未完成整改）"
LEVEL2 = "【挂牌督办】3项逾期事项（其中3项问题逾期未完成整改）"


def test_three_late_items_are_one_message_per_recipient_and_level(initialised: Cli, tmp_path: Path) -> None:
    initialised("ledger", "import", _ledger(tmp_path, ["D-1", "D-2", "D-3"]), "--as-of", "2022-06-01")

    run = escalate_overdue(date(2022, 6, 16))
    assert (len(run.raised), run.messages) == (3, 2)  # three escalations, one message to each of two units
    assert _sent() == [("2022-06-16", "河东镇", "file", LEVEL1), ("2022-06-16", "教体局", "email", LEVEL1)]
    lines = _body("河东镇", "2022-06-16").splitlines()
    assert lines[:3] == ["河东镇：", "", "截至2022年6月16日，下列3项事项已逾期，现予以督办（第1级）："]
    assert lines[4:6] == [
        "1. 问题D-1逾期未完成整改",
        "河东镇负责整改的问题D-1（河东社区，体育设施）完成时限为2022年6月15日，截至2022年6月16日仍未销号，"
        "已逾期1个工作日。请河东镇立即整改落实，加快推进。",
    ]
    assert [line for line in lines if line[:2] in ("1.", "2.", "3.")] == [
        "1. 问题D-1逾期未完成整改",
        "2. 问题D-2逾期未完成整改",
        "3. 问题D-3逾期未完成整改",
    ]

    again = escalate_overdue(date(2022, 6, 16))  # the same morning again: nothing raised, nothing queued
    assert (again.raised, again.messages) == ([], 0)
    assert escalate_overdue(date(2022, 6, 28)).messages == 0  # 9 working days late: still level 1
    assert len(_sent()) == 2

    run = escalate_overdue(date(2022, 6, 29))  # 10 working days late: level 2, the Office joins
    assert (len(run.raised), run.messages) == (3, 3)
    assert _sent()[2:] == [
        ("2022-06-29", OFFICE, "email", LEVEL2),
        ("2022-06-29", "河东镇", "file", LEVEL2),
        ("2022-06-29", "教体局", "email", LEVEL2),
    ]
    assert "截至2022年6月29日仍未销号，已逾期10个工作日" in _body(OFFICE, "2022-06-29")
    assert _told() == {
        **{(code, 1): {"河东镇", "教体局"} for code in ("D-1", "D-2", "D-3")},
        **{(code, 2): {OFFICE, "河东镇", "教体局"} for code in ("D-1", "D-2", "D-3")},
    }


def test_a_later_run_the_same_day_tells_only_what_it_raised(initialised: Cli, tmp_path: Path) -> None:
    """A second sweep the same day that finds one more item late (here filed that morning, already past its
    deadline) sends one more message per recipient, naming only that item: each item reaches each
    recipient exactly once at each level."""
    initialised("ledger", "import", _ledger(tmp_path, ["D-1", "D-2"]), "--as-of", "2022-06-01")
    assert escalate_overdue(date(2022, 6, 16)).messages == 2
    initialised("ledger", "import", _ledger(tmp_path, ["D-1", "D-2", "D-3"]), "--as-of", "2022-06-16")

    run = escalate_overdue(date(2022, 6, 16))
    assert [e.item_code for e in run.raised] == ["D-3"] and run.messages == 2
    two = "【督办】2项逾期事项（其中2项问题逾期未完成整改）"
    one = "【督办】问题D-3逾期未完成整改"  # one item is told in the single escalation's own words
    assert _sent() == [
        ("2022-06-16", "河东镇", "file", two),
        ("2022-06-16", "教体局", "email", two),
        ("2022-06-16", "河东镇", "file", one),
        ("2022-06-16", "教体局", "email", one),
    ]
    assert _told() == {(code, 1): {"河东镇", "教体局"} for code in ("D-1", "D-2", "D-3")}
    assert escalate_overdue(date(2022, 6, 16)).messages == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_escalations_raised_before_keep_the_key_of_their_own_message(
    backend: str, initialised: Cli, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """0020 gives the escalations already raised the key they were told under (one message each then), so
    the notice page still finds what was sent; `duban init` migrates up again."""
    from alembic import command
    from alembic.config import Config

    from duban.db import MIGRATIONS, engine

    if backend == "postgresql":
        request.getfixturevalue("pg_url")
        initialised("init", "--plan", PLAN, "--as-of", "2022-04-01")
    initialised("ledger", "import", _ledger(tmp_path, ["D-1"]), "--as-of", "2022-06-01")
    escalate_overdue(date(2022, 6, 16))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0019")
    initialised("init", "--plan", PLAN, "--as-of", "2022-04-01")
    with session_scope() as session:
        [escalation] = session.exec(select(Escalation)).all()
    assert escalation.notice_key == "escalate:item:D-1@2022-06-15:L1"
