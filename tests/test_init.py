"""`duban init`: creates and migrates the database, loads the plan, applies edits, repeats harmlessly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import PLAN, Cli, db_digest
from sqlmodel import select

from duban import audit
from duban.calendar import UnknownYear, WorkingCalendar
from duban.db import session_scope
from duban.plan import CalendarRules
from models import Category, UnitRecord

LIULIN = '{name: 柳林镇, full_name: XX区柳林镇人民政府, contacts: [{name: 专班联络员, phone: "0391-8120212"}]}'


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = PLAN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_init_twice_changes_nothing(initialised: Cli, home: Path) -> None:
    before = db_digest(home)
    result = initialised("init", "--plan", PLAN)
    assert "已是最新，未作任何修改" in result.output
    assert db_digest(home) == before
    with session_scope() as session:
        units = session.exec(select(UnitRecord)).all()
        assert len(units) == 1 + 2 + 1 + 8 + 12  # group, two leaders, office, departments, townships
        assert sorted(u.name for u in units if u.kind == "township")[:2] == ["东城街道", "北关街道"]
        assert len(session.exec(select(Category)).all()) == 7


def test_edited_plan_is_applied_and_audited(initialised: Cli, tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        LIULIN,
        LIULIN + "\n    - {name: 桃园镇, full_name: XX区桃园镇人民政府}",
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{code: canteen, name: 社区食堂, wording: 社区食堂, facility_types: [], lead_department: 民政局}",
            "{code: canteen, name: 社区食堂, wording: 社区食堂, facility_types: [], lead_department: 商务局}",
        ),
        encoding="utf-8",
    )
    unused = '    - {name: 财政局, full_name: XX区财政局, contacts: [{name: 专班联络员, phone: "0391-8120108"}]}\n'
    text = path.read_text(encoding="utf-8").replace(unused, "").replace("发改局, 财政局,", "发改局,")
    text = text.replace("[教体局, 卫健局, 商务局, 财政局]", "[教体局, 卫健局, 商务局]")  # a countersigner of a gate
    path.write_text(text, encoding="utf-8")
    result = initialised("init", "--plan", path, "--as-of", "2022-05-01")
    assert "新增：单位 桃园镇" in result.output and "修改：类别 canteen" in result.output
    assert "删除：单位 财政局" in result.output
    with session_scope() as session:
        assert session.get(UnitRecord, "桃园镇").kind == "township"
        assert session.get(Category, "canteen").lead_department == "商务局"
        assert session.get(UnitRecord, "财政局") is None
        history = audit.history(session, "programme", "community-facilities-2022")
        assert [e.action for e in history] == ["load", "revise"]
        assert history[-1].after["added"] == ["单位 桃园镇"]
        assert history[-1].effective_on == date(2022, 5, 1)


def test_removing_a_unit_still_in_the_ledger_is_refused(imported: Cli, home: Path, tmp_path: Path) -> None:
    path = _edited(tmp_path, f"    - {LIULIN}\n", "")
    path.write_text(path.read_text(encoding="utf-8").replace("石桥镇, 柳林镇]", "石桥镇]"), encoding="utf-8")
    before = db_digest(home)
    result = imported("init", "--plan", path, status=2)
    assert "修改后的方案删除了仍在使用的单位或类别：镇办“柳林镇”仍有2项台账问题" in result.output
    assert db_digest(home) == before


def test_a_second_programme_needs_its_own_database(initialised: Cli, tmp_path: Path) -> None:
    path = _edited(tmp_path, "code: community-facilities-2022", "code: other-2023")
    result = initialised("init", "--plan", path, status=2)
    assert "数据库已加载方案“community-facilities-2022”，不能再加载“other-2023”" in result.output


def test_broken_plan_file_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    path = _edited(tmp_path, "department_due_day: 10", "department_due_day: tenth")
    result = cli("init", "--plan", path, status=2)
    assert "reporting.department_due_day：须为整数（值：'tenth'）" in result.output


def test_unknown_calendar_year_is_a_clear_error_unless_the_plan_falls_back() -> None:
    with pytest.raises(UnknownYear, match="2031年不在日历数据范围内"):
        WorkingCalendar(CalendarRules()).is_working_day(date(2031, 5, 1))
    weekends = WorkingCalendar(CalendarRules(unknown_year="weekends"))
    assert weekends.is_working_day(date(2031, 5, 1)) is True  # a Thursday, with no holiday data
    assert weekends.is_working_day(date(2031, 5, 3)) is False  # a Saturday
    extended = WorkingCalendar(CalendarRules(extra_holidays=(date(2031, 5, 1),), extra_workdays=(date(2031, 5, 3),)))
    assert extended.is_working_day(date(2031, 5, 1)) is False
    assert extended.is_working_day(date(2031, 5, 3)) is True


def test_due_dates_move_off_holidays_unless_the_plan_keeps_them() -> None:
    from duban.plan import load_plan
    from duban.reporting.periods import department_due, township_due, working_days_before

    plan, _ = load_plan(PLAN)
    calendar = WorkingCalendar(plan.calendar)
    # 2022-10-05 falls in the National Day holiday; the next working day is Saturday 10-08 (make-up day).
    assert township_due(plan, calendar, "2022-10", "河东镇") == date(2022, 10, 8)
    assert department_due(plan, calendar, "2022-10") == date(2022, 10, 10)
    # 2022-06-05 is a Sunday (and 06-03 the Dragon Boat holiday): moved to Monday 06-06.
    assert township_due(plan, calendar, "2022-06", "河东镇") == date(2022, 6, 6)
    keep = plan.model_copy(update={"reporting": plan.reporting.model_copy(update={"due_on_holiday": "keep"})})
    assert township_due(keep, calendar, "2022-10", "河东镇") == date(2022, 10, 5)
    # The 1st working day before Saturday 10-08 (worked) skips the whole holiday back to 09-30.
    assert working_days_before(calendar, date(2022, 10, 8), 1) == date(2022, 9, 30)
    assert working_days_before(calendar, date(2022, 10, 10), 1) == date(2022, 10, 9)
