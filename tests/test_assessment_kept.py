"""The assessment kept as data (duban/assessment/kept.py): what the pages read equals a fresh `assess`
after a month closes, after an appeal is decided and after a back-dated correction; the sweep run twice
changes nothing.

The world is tests/test_assessment.py's October (the small ledger; 河东镇 reports late and is returned,
河西镇 never reports; the 10-13 sweep), then the sweep of 11-01, which keeps January to October.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import Cli, KeptHomes
from sqlmodel import select
from test_assessment import october  # noqa: F401 - the fixture

from duban.assessment import assess, kept, trend
from duban.assessment.pages import totals
from duban.assessment.periods import parse_span
from duban.db import session_scope
from duban.stored_plan import current_plan
from models import AssessmentLine, AssessmentMonth, AssessmentScore

RETURNED = "report_returned:2022-10:v1:民政局:2022-10-12"  # 河东镇's report returned by 民政局: -0.5
KEPT = [f"2022-{m:02d}" for m in range(1, 11)]  # the months of the programme's year closed by 11-01


@pytest.fixture
def swept(october: Cli, home: Path, kept_homes: KeptHomes) -> Cli:  # noqa: F811 - the fixture imported above
    kept_homes.restore("assessment-swept", home, lambda: october("tick", "--as-of", "2022-11-01"))
    return october


def same_as_assessed(period: str, day: date) -> None:
    """Every unit's score, rank and sums over `period` as the pages read them, and each unit's lines,
    cards and trend, equal `assess` and `trend` computed afresh; a closed month is read from its rows."""
    span = parse_span(period)
    with session_scope() as session:
        plan = current_plan(session)
        fresh = assess(session, plan, period, day)
        ranked, assessed = kept.standings(session, plan, span, day)
        assert [(s.unit, s.kind, s.score, s.rank, s.totals()) for s in ranked] == [
            (u.unit, u.kind, u.score, u.rank, totals(u)) for u in fresh.units
        ]
        assert not set(assessed) & {m.code for m in span.months() if m.end <= day and m.code in KEPT}
        for u in fresh.units:
            mine, _, _ = kept.unit_score(session, plan, span, u.unit, day)
            assert mine.as_json() == u.as_json()
            assert kept.trend(session, plan, u.unit, span.start.year, day) == trend(
                session, plan, u.unit, span.start.year, day
            )


def rows() -> dict[str, list[tuple]]:
    """The three kept tables, every column, in key order."""
    with session_scope() as session:
        return {
            model.__tablename__: [tuple(r.model_dump().items()) for r in session.exec(select(model).order_by(key))]
            for model, key in (
                (AssessmentMonth, AssessmentMonth.period),
                (AssessmentScore, AssessmentScore.id),
                (AssessmentLine, AssessmentLine.id),
            )
        }


def test_the_sweep_keeps_each_closed_month_as_assessed(swept: Cli) -> None:
    with session_scope() as session:
        months = session.exec(select(AssessmentMonth)).all()
        # January to September kept by the sweep of 10-01 and still fresh (nothing since is dated in them)
        assert [(m.period, m.as_of) for m in months] == [(p, date(2022, 10, 1)) for p in KEPT[:-1]] + [
            ("2022-10", date(2022, 11, 1))
        ]
        hedong = session.exec(
            select(AssessmentScore).where(AssessmentScore.period == "2022-10", AssessmentScore.unit == "河东镇")
        ).one()
        assert (hedong.score_cents, hedong.rank) == (8700, 11)  # tests/test_assessment.py's 87, 11th
    for period in ("2022-10", "2022-Q4", "2022"):
        same_as_assessed(period, date(2022, 11, 1))
    same_as_assessed("2022-11", date(2022, 11, 20))  # the month under way, assessed by window


def test_the_sweep_twice_changes_nothing(swept: Cli) -> None:
    before = rows()
    assert len(before["assessment_line"]) > 0
    swept("tick", "--as-of", "2022-11-01")
    assert rows() == before
    # a page's read changes nothing either
    same_as_assessed("2022", date(2022, 11, 1))
    assert rows() == before


def test_an_appeal_decided_updates_the_kept_line_in_place(swept: Cli) -> None:
    with session_scope() as session:
        query = select(AssessmentLine).where(AssessmentLine.unit == "河东镇", AssessmentLine.key == RETURNED)
        line_id = session.exec(query).one().id
    swept("assess", "appeal", RETURNED, "--unit", "河东镇", "--reason", "已按时更正。", "--as-of", "2022-11-02")
    same_as_assessed("2022-10", date(2022, 11, 2))
    swept("assess", "decide", "1", "--strike", "--reason", "退回系因部门误判。", "--as-of", "2022-11-03")
    with session_scope() as session:
        line = session.exec(query).one()
        assert (line.id, line.points_cents, line.charged_cents, line.appeal_state) == (line_id, 0, -50, "struck")
        month = session.get(AssessmentMonth, "2022-10")
        assert month.as_of == date(2022, 11, 3)  # taken in place, not assessed again
        score = session.exec(
            select(AssessmentScore).where(AssessmentScore.period == "2022-10", AssessmentScore.unit == "河东镇")
        ).one()
        assert score.score_cents == 8750  # 87 + the struck 0.5
        assert kept.fresh(session, current_plan(session), month, parse_span("2022-10"), date(2022, 11, 3))
    same_as_assessed("2022-10", date(2022, 11, 3))
    same_as_assessed("2022", date(2022, 11, 3))
    before = rows()
    swept("tick", "--as-of", "2022-11-03")
    assert rows()["assessment_line"] == before["assessment_line"]


def test_a_back_dated_correction_makes_the_months_after_it_stale(swept: Cli, tmp_path: Path) -> None:
    """A-1's deadline (10-14) moved to 11-30 by a revision dated 10-20, entered on 11-02: A-1 no longer
    stood overdue on 10-31, so October changes; the sweep of 11-02 assesses it again, and only it."""
    swept("item", "plan", "A-1", "--by", "河东镇", "--deadline", "2022-11-30", "--as-of", "2022-10-20")
    with session_scope() as session:
        plan = current_plan(session)
        stale = [
            m.period
            for m in session.exec(select(AssessmentMonth))
            if not kept.fresh(session, plan, m, parse_span(m.period), date(2022, 11, 2))
        ]
    assert stale == ["2022-10"]
    swept("tick", "--as-of", "2022-11-02")
    with session_scope() as session:
        assert session.get(AssessmentMonth, "2022-10").as_of == date(2022, 11, 2)
        assert session.get(AssessmentMonth, "2022-09").as_of == date(2022, 10, 1)
        overdue = session.exec(
            select(AssessmentLine.key).where(AssessmentLine.period == "2022-10", AssessmentLine.cause == "item_overdue")
        ).all()
    assert not [key for key in overdue if ":A-1:" in key]
    same_as_assessed("2022-10", date(2022, 11, 2))
    same_as_assessed("2022", date(2022, 11, 2))


def test_on_postgresql_kept_equals_assessed_and_the_sweep_twice_changes_nothing(
    pg_url: str,
    october: Cli,  # noqa: F811 - the fixture imported above
) -> None:
    october("tick", "--as-of", "2022-11-01")
    before = rows()
    assert [dict(m)["period"] for m in before["assessment_month"]] == KEPT
    october("tick", "--as-of", "2022-11-01")
    assert rows() == before
    october("assess", "appeal", RETURNED, "--unit", "河东镇", "--reason", "已按时更正。", "--as-of", "2022-11-02")
    october("assess", "decide", "1", "--strike", "--reason", "退回系因部门误判。", "--as-of", "2022-11-03")
    for period in ("2022-10", "2022"):
        same_as_assessed(period, date(2022, 11, 3))
