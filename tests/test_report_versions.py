"""A report version keeps only the lines it changed, yet reads back as the whole report: every version,
after saves that change different lines (a page of the form, a workbook draft that drops a row), equals
the report computed here line by line from what each save sent."""

from __future__ import annotations

from datetime import date

from conftest import Cli
from sqlmodel import col, func, select

from duban.db import session_scope
from duban.reporting.forms import submit_online
from duban.reporting.reports import ReportLine, get_submission, lines_of, save_report
from duban.stored_plan import current_plan
from models import SubmissionLine, SubmissionVersion

PERIOD, UNIT = "2022-05", "民政局"
DAY = date(2022, 5, 3)


def whole(version: int) -> dict[str, tuple]:
    with session_scope() as session:
        submission = get_submission(session, current_plan(session), PERIOD, UNIT)
        kept = session.exec(
            select(SubmissionVersion).where(
                SubmissionVersion.submission_id == submission.id, SubmissionVersion.version == version
            )
        ).one()
        return {
            line.item_code: (line.progress, line.work_state, line.opinion, line.milestones_done)
            for line in lines_of(session, kept)
        }


def test_each_version_reads_back_whole_from_its_changes(imported: Cli) -> None:
    imported("tick", "--as-of", "2022-05-01")
    with session_scope() as session:
        plan = current_plan(session)
        submission = get_submission(session, plan, PERIOD, UNIT)
        codes = list(submission.items)
    assert len(codes) >= 8
    expected: dict[int, dict[str, tuple]] = {}

    # 1: a whole draft (as a workbook sends it): every line
    report = {code: (0, "未开工", "", False) for code in codes}
    with session_scope() as session:
        plan = current_plan(session)
        submission = get_submission(session, plan, PERIOD, UNIT)
        lines = [ReportLine(code, *report[code][:2], opinion=report[code][2]) for code in codes]
        save_report(session, plan, submission=submission, lines=lines, as_of=DAY, draft=True)
    expected[1] = dict(report)

    # 2: a page of the portal's form changing three lines (the others not sent)
    typed = {code: {"progress": "20", "work_state": "推进中", "opinion": f"{code}已核实"} for code in codes[:3]}
    with session_scope() as session:
        submit_online(
            session, current_plan(session), period=PERIOD, unit=UNIT, entered=typed, summary="", as_of=DAY, draft=True
        )
    report |= {code: (20, "推进中", f"{code}已核实", False) for code in codes[:3]}
    expected[2] = dict(report)

    # 3: a workbook draft without the row of codes[5], and codes[6] changed
    report.pop(codes[5])
    report[codes[6]] = (50, "推进中", "过半", False)
    with session_scope() as session:
        plan = current_plan(session)
        submission = get_submission(session, plan, PERIOD, UNIT)
        lines = [ReportLine(code, *report[code][:2], opinion=report[code][2]) for code in codes if code in report]
        save_report(session, plan, submission=submission, lines=lines, as_of=DAY, draft=True)
    expected[3] = dict(report)

    # 4: submitted from a page: codes[5] back, codes[0] changed again, codes[1] sent as it was
    typed = {
        codes[5]: {"progress": "10", "work_state": "推进中", "opinion": ""},
        codes[0]: {"progress": "35", "work_state": "推进中", "opinion": "再次核实"},
        codes[1]: {"progress": "20", "work_state": "推进中", "opinion": f"{codes[1]}已核实"},
    }
    with session_scope() as session:
        submit_online(
            session, current_plan(session), period=PERIOD, unit=UNIT, entered=typed, summary="", as_of=DAY, draft=False
        )
    report[codes[5]] = (10, "推进中", "", False)
    report[codes[0]] = (35, "推进中", "再次核实", False)
    expected[4] = dict(report)

    for version in (1, 2, 3, 4):
        assert whole(version) == expected[version], version
    with session_scope() as session:
        written = dict(
            session.exec(
                select(SubmissionLine.version, func.count())
                .group_by(SubmissionLine.version)
                .order_by(col(SubmissionLine.version))
            ).all()
        )
        removed = session.exec(
            select(SubmissionLine.version, SubmissionLine.item_code).where(col(SubmissionLine.removed).is_(True))
        ).all()
    # the first save every line; then only what changed (3 lines; 1 changed + 1 removed; 2 changed)
    assert written == {1: len(codes), 2: 3, 3: 2, 4: 2}
    assert removed == [(3, codes[5])]
