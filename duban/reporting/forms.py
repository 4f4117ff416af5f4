"""The monthly report forms: a pre-filled .xlsx per unit and period, and reading it back.

A form carries its unit and period on a hidden sheet; the pre-filled columns are locked and are
checked again on import, so a form filled for another unit or period, or with edited facts, is
refused with the cell that is wrong. Reading is all or nothing, like the ledger import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from duban.files.formsheet import HEADER_ROW, FormColumn, add_meta, header_matches, lay_out, open_filled, plain
from duban.files.paths import output_file
from duban.files.spreadsheet import Problem, RefusedFile, SheetError, column_letter, put
from duban.glossary import cn_period
from duban.ledger.cells import CellError, long_text, yes_no
from duban.plan import Plan
from duban.reporting.lines import report_lines, saved_codes
from duban.reporting.periods import month_end_of
from duban.reporting.reports import (
    WORK_STATES,
    ReportError,
    ReportLine,
    check_open,
    due_milestones,
    get_submission,
    item_states,
    latest_version,
    save_report,
)
from models import LedgerItem, Review, Submission, SubmissionVersion


class FormRefused(RefusedFile):
    """A report form refused: nothing was saved."""

    heading = "报表提交失败，未保存任何数据。"


TEXT_LIMIT = 1000


TOWNSHIP_COLUMNS = (
    FormColumn("code", "问题编号", False, 13),
    FormColumn("community", "社区", False, 16),
    FormColumn("category", "设施类别", False, 12),
    FormColumn("description", "问题描述", False, 40),
    FormColumn("lead_department", "牵头部门", False, 10),
    FormColumn("deadline", "完成时限", False, 12),
    FormColumn("milestones", "到期时间节点", False, 24, checked=False),
    FormColumn("progress", "整改进度（%）", True, 10),
    FormColumn("work_state", "工作状态", True, 10),
    FormColumn("this_month", "本月进展", True, 30),
    FormColumn("obstacles", "存在问题", True, 24),
    FormColumn("next_plan", "下月计划", True, 24),
    FormColumn("milestones_done", "时间节点已完成", True, 12),
)
DEPARTMENT_COLUMNS = (
    FormColumn("code", "问题编号", False, 13),
    FormColumn("township", "镇办", False, 10),
    FormColumn("community", "社区", False, 16),
    FormColumn("category", "设施类别", False, 12),
    FormColumn("description", "问题描述", False, 40),
    FormColumn("deadline", "完成时限", False, 12),
    FormColumn("reported_progress", "镇办填报进度（%）", False, 10, checked=False),
    FormColumn("reported_state", "镇办工作状态", False, 10, checked=False),
    FormColumn("reported_note", "镇办本月进展", False, 30, checked=False),
    FormColumn("review", "审核情况", False, 10, checked=False),
    FormColumn("progress", "核定进度（%）", True, 10),
    FormColumn("work_state", "工作状态", True, 10),
    FormColumn("opinion", "部门意见", True, 30),
)
SUMMARY_TITLE = "工作总结"


def columns_for(kind: str) -> tuple[FormColumn, ...]:
    return TOWNSHIP_COLUMNS if kind == "township" else DEPARTMENT_COLUMNS


# -- writing ---------------------------------------------------------------------------------------


def write_form(session: Session, plan: Plan, *, period: str, unit: str, path: Path) -> int:
    """Write the unit's pre-filled form for the period; returns the number of item rows."""
    if path.suffix.lower() != ".xlsx":
        raise SheetError(f"填报表只能保存为 .xlsx 文件：{path.name}")
    submission = get_submission(session, plan, period, unit)
    rows = form_rows(session, plan, submission)
    columns = columns_for(submission.kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "填报"
    title = (
        f"{plan.programme.district}社区配套设施问题整治进度{'月报表' if submission.kind == 'township' else '汇总表'}"
    )
    last = lay_out(
        sheet,
        f"{title}（{cn_period(period)}）  填报单位：{unit}  报送截止：{submission.due_on.isoformat()}",
        columns,
        rows,
    )
    _validations(sheet, columns, last)
    if submission.kind == "department":
        summary = workbook.create_sheet(SUMMARY_TITLE)
        put(summary, 1, 1, "本月工作总结（整治进展、存在问题、下步打算）：")
        put(summary, 2, 1, _previous_summary(session, submission))
        summary["A2"].protection = Protection(locked=False)
        summary["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        summary.column_dimensions["A"].width = 100
        summary.row_dimensions[2].height = 200
        summary.protection.sheet = True
    add_meta(workbook, [("单位", unit), ("报送期", period), ("类型", submission.kind), ("截止日期", submission.due_on)])
    workbook.save(output_file(path))
    return len(rows)


def _validations(sheet, columns: tuple[FormColumn, ...], last: int) -> None:  # noqa: ANN001 - worksheet
    keys = [c.key for c in columns]

    def area(key: str) -> str:
        letter = column_letter(keys.index(key))
        return f"{letter}{HEADER_ROW + 1}:{letter}{last}"

    rules = [
        (
            "progress",
            DataValidation(
                type="whole", operator="between", formula1="0", formula2="100", error="整改进度须为0至100的整数"
            ),
        ),
        (
            "work_state",
            DataValidation(type="list", formula1='"' + ",".join(WORK_STATES) + '"', error="请从下拉列表中选择工作状态"),
        ),
    ]
    if "milestones_done" in keys:
        rules.append(("milestones_done", DataValidation(type="list", formula1='"是,否"', error="只能填写是或否")))
    for key, rule in rules:
        rule.allow_blank = True
        rule.showErrorMessage = True
        rule.errorTitle = "输入有误"
        rule.add(area(key))
        sheet.add_data_validation(rule)


def form_rows(session: Session, plan: Plan, submission: Submission, codes: list[str] | None = None) -> list[dict]:
    """Every row of the unit's form, pre-filled with its last values, or those of `codes` only (a page of
    the portal's form): the workbook and the portal show the same."""
    wanted = submission.items if codes is None else codes
    items = {i.code: i for i in session.exec(select(LedgerItem).where(col(LedgerItem.code).in_(wanted)))}
    source, previous = _previous_lines(session, submission, codes)
    township_lines = _township_lines(session, submission, codes) if submission.kind == "department" else {}
    due = {}  # a department's form has no milestones column
    if submission.kind == "township":
        due = due_milestones(session, list(items.values()), month_end_of(submission.period))
    rows = []
    for code in wanted:
        item = items[code]
        last = previous.get(code)
        own = last if source == submission.id else None
        reported = township_lines.get(code)
        progress, state = _start(item.progress, item.status, last, reported[0] if reported else None, own is not None)
        row = {
            "code": code,
            "township": item.township,
            "community": item.community,
            "category": plan.category(item.category).name,
            "description": item.description,
            "lead_department": item.lead_department,
            "deadline": item.deadline,
            "milestones": "；".join(f"{when.isoformat()} {title}" for when, title in due.get(code, ())) or None,
            "progress": progress,
            "work_state": state,
            "this_month": (own.this_month or None) if own else None,
            "obstacles": (own.obstacles or None) if own else None,
            "next_plan": (own.next_plan or None) if own else None,
            # this round's own tick only: last month's milestones are not this month's
            "milestones_done": "是" if own and own.milestones_done else None,
            "opinion": (own.opinion or None) if own else None,
        }
        if submission.kind == "department":
            row.update(
                {
                    "reported_progress": reported[0].progress if reported else None,
                    "reported_state": reported[0].work_state if reported else None,
                    "reported_note": (reported[0].this_month or None) if reported else None,
                    "review": reported[1] if reported else "未报送",
                }
            )
        rows.append(row)
    return rows


def _start(
    progress: int, status: str, last: ReportLine | None, reported: ReportLine | None, own: bool
) -> tuple[int, str]:
    """The progress and state a row shows: the unit's own line of this round; else, for a department,
    what its township reported; else the unit's line of an earlier round; else the item's own."""
    if own:
        return last.progress, last.work_state
    if reported is not None:
        return reported.progress, reported.work_state
    if last is not None:
        return last.progress, last.work_state
    return progress, _state_of(progress, status)


def _previous_lines(
    session: Session, submission: Submission, codes: list[str] | None
) -> tuple[int | None, dict[str, ReportLine]]:
    """This round's own last version if any, else the unit's last submitted version of an earlier round:
    the submission it belongs to, and its lines."""
    own = latest_version(session, submission)
    source = own
    if source is None:
        earlier = session.exec(
            select(Submission)
            .options(defer(Submission.items))
            .where(
                Submission.unit == submission.unit,
                Submission.period < submission.period,
                col(Submission.first_submitted_on).is_not(None),
            )
            .order_by(col(Submission.period).desc())
        ).first()
        source = latest_version(session, earlier, submitted_only=True) if earlier else None
    if source is None:
        return None, {}
    return source.submission_id, report_lines(session, source.submission_id, source.version, codes)


def _township_lines(session: Session, department: Submission, codes: list[str] | None) -> dict:
    """For a department's form: each item's line in its township's latest submitted report, and its review."""
    found = {}
    for submission in session.exec(
        select(Submission)
        .options(defer(Submission.items))
        .where(Submission.period == department.period, Submission.kind == "township")
    ):
        version = latest_version(session, submission, submitted_only=True)
        if version is None:
            continue
        decision = session.exec(
            select(Review.decision).where(
                Review.submission_id == submission.id,
                Review.version == version.version,
                Review.department == department.unit,
            )
        ).first()
        label = {"accepted": "已通过", "returned": "已退回"}.get(decision or "", "待审核")
        for code, line in report_lines(session, submission.id, version.version, codes).items():
            found[code] = (line, label)
    return found


def _previous_summary(session: Session, submission: Submission) -> str | None:
    version = latest_version(session, submission)
    return version.summary or None if version else None


def _state_of(progress: int, status: str) -> str:
    """The state a form starts from, never at odds with the progress beside it (the form's own rules:
    未开工 is 0, 已完成 is 100), so a row the clerk leaves as it is can always be sent."""
    if progress == 100:
        return "已完成"
    if progress == 0 and status in ("open", "planned"):
        return "未开工"
    return "推进中"


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilledForm:
    lines: list[ReportLine]
    summary: str


def read_form(session: Session, plan: Plan, *, path: Path, period: str, unit: str, draft: bool) -> FilledForm:
    """Check a filled form against the request it answers; raise with every problem, or return its lines."""
    name = path.name
    form, meta = open_filled(
        path,
        sheet="填报",
        required=("单位", "报送期"),
        how_to_get="duban report form",
        limits=plan.limits,
        also=(SUMMARY_TITLE,),
    )
    if meta.get("单位") != unit:
        raise SheetError(f"文件 {name} 是“{meta.get('单位')}”的填报表，不能作为“{unit}”的报表提交")
    if meta.get("报送期") != period:
        raise SheetError(f"文件 {name} 是{meta.get('报送期')}的填报表，不能作为{period}的报表提交")
    submission = get_submission(session, plan, period, unit)
    expected = {row["code"]: row for row in form_rows(session, plan, submission)}
    columns = columns_for(submission.kind)
    problems: list[Problem] = []
    if not header_matches(form.header, columns):
        raise FormRefused([Problem(name, HEADER_ROW, "", "表头被修改，请重新生成填报表后填写")])
    rows = [(number, dict(zip([c.key for c in columns], values, strict=False))) for number, values in form.rows]
    lines = _checked_lines(name, submission, columns, rows, expected, draft, problems)
    summary = ""
    if submission.kind == "department" and SUMMARY_TITLE in form.others:
        try:
            summary = long_text(form.cell(SUMMARY_TITLE, 2, 1)) or ""
        except CellError as exc:
            problems.append(Problem(name, 2, f"“{SUMMARY_TITLE}”工作表A列", str(exc)))
    if problems:
        raise FormRefused(problems, listed=plan.limits.max_problems_listed)
    return FilledForm(lines=lines, summary=summary)


def _checked_lines(
    name: str,
    submission: Submission,
    columns: tuple[FormColumn, ...],
    rows: list[tuple[int, dict]],
    expected: dict,
    draft: bool,
    problems: list[Problem],
) -> list[ReportLine]:
    """The same rules for a filled workbook and for the portal's form: every row, every problem."""
    lines, seen = [], {}
    for number, cells in rows:
        if all(v is None for v in cells.values()):
            continue
        line = _read_line(name, number, columns, cells, expected, seen, draft, problems)
        if line is not None:
            lines.append(line)
    missing = [code for code in submission.items if code not in seen]
    if missing and not draft:
        problems.append(Problem(name, None, "", f"缺少问题{'、'.join(missing)}的填报行（请勿删除行）"))
    if not lines and not problems:
        problems.append(Problem(name, HEADER_ROW + 1, "", "没有填报任何问题"))
    return lines


WEB_FORM = "网页填报"


def submit_online(
    session: Session,
    plan: Plan,
    *,
    period: str,
    unit: str,
    entered: dict[str, dict[str, str]],
    summary: str,
    as_of: date,
    draft: bool,
    base: int | None = None,
) -> SubmissionVersion:
    """The portal's form: each item's editable fields as typed, checked by the workbook's rules
    (rows numbered as the form lists them), all or nothing. Items not sent keep what the form shows
    for them, so a unit with thousands of items saves its form a page at a time: the new version
    writes the lines sent that changed, and, on a unit's first save, what the form shows for the rest."""
    submission = get_submission(session, plan, period, unit)
    check_open(submission)
    if base is not None and base != submission.version:  # the page was read before a colleague's save
        raise ReportError(f"{unit}{cn_period(period)}的报表刚刚已由本单位其他人员保存，请刷新页面核对后重新保存")
    columns = columns_for(submission.kind)
    editable = {c.key for c in columns if c.editable}
    order = {code: number for number, code in enumerate(submission.items, start=1)}
    problems: list[Problem] = []
    if any(code not in order for code in entered):
        problems.append(Problem(WEB_FORM, None, "", "提交了不属于本单位本期报送范围的问题编号"))
    # Rows not sent keep the unit's last save; those it never saved start as the form shows them.
    saved = saved_codes(session, submission.id, submission.version)
    unsaved = [code for code in submission.items if code not in entered and code not in saved]
    started = _starting(session, submission, unsaved)
    shown = form_rows(session, plan, submission, [code for code in submission.items if code in entered])
    expected = {row["code"]: row for row in shown}
    rows = []
    for row in shown:
        typed = entered[row["code"]]
        cells = {c.key: row.get(c.key) for c in columns if not c.editable}
        cells.update({key: (typed.get(key) or None) for key in editable})
        rows.append((order[row["code"]], cells))
    checked = _checked_lines(WEB_FORM, submission, columns, rows, expected, True, problems)
    if saved or started:  # the "nothing filled" problem does not apply to a page of a form already there
        problems[:] = [p for p in problems if p.message != "没有填报任何问题"]
    text = ""
    try:
        text = long_text(summary) or ""
    except CellError as exc:
        problems.append(Problem(WEB_FORM, None, SUMMARY_TITLE, str(exc)))
    if problems:
        raise FormRefused(problems, listed=plan.limits.max_problems_listed)
    return save_report(
        session,
        plan,
        submission=submission,
        lines=checked + list(started.values()),
        as_of=as_of,
        draft=draft,
        source=WEB_FORM,
        summary=text,
        partial=True,
    )


def _starting(session: Session, submission: Submission, codes: list[str]) -> dict[str, ReportLine]:
    """What the form shows for items the unit has not saved in this round (the same rule as form_rows,
    read as plain values: on a unit's first save these are most of its thousands of lines)."""
    if not codes:
        return {}
    source, previous = _previous_lines(session, submission, codes)
    township = _township_lines(session, submission, codes) if submission.kind == "department" else {}
    items = item_states(session, codes)
    own = source == submission.id  # then `previous` is this round's, and has none of these codes
    found = {}
    for code in codes:
        reported = township.get(code)
        last = None if own else previous.get(code)
        progress, state = _start(*items[code], last, reported[0] if reported else None, False)
        found[code] = ReportLine(code, progress, state)
    return found


def _read_line(
    name: str,
    number: int,
    columns: tuple[FormColumn, ...],
    cells: dict,
    expected: dict,
    seen: dict,
    draft: bool,
    problems: list[Problem],
) -> ReportLine | None:
    # the portal's form has no column letters: its fields are named by their titles
    letters = {
        c.key: f"“{c.title}”" if name == WEB_FORM else f"{column_letter(i)}列“{c.title}”" for i, c in enumerate(columns)
    }

    def fail(key: str, message: str, value: object = None) -> None:
        problems.append(Problem(name, number, letters[key], message, value))

    code = str(cells.get("code") or "").strip()
    if code not in expected:
        fail("code", "不是本单位本期报送范围内的问题编号（请勿增加行或修改编号）", code or None)
        return None
    if code in seen:
        fail("code", f"问题编号与第{seen[code]}行重复", code)
        return None
    seen[code] = number
    before = len(problems)
    for column in columns:
        if column.checked and not column.editable and column.key != "code":
            shown, wanted = plain(cells.get(column.key)), plain(expected[code].get(column.key))
            if shown != wanted:
                fail(column.key, f"此列为系统预填内容，不得修改（应为“{wanted}”）", shown or "（空）")
    progress = _progress(cells.get("progress"))
    if isinstance(progress, str):
        fail("progress", progress, cells.get("progress"))
    state = str(cells.get("work_state") or "").strip()
    if state not in WORK_STATES:
        fail("work_state", f"工作状态只能是{'、'.join(WORK_STATES)}", state or "（空）")
    if isinstance(progress, int) and state in WORK_STATES:
        if state == "已完成" and progress != 100:
            fail("progress", "工作状态为“已完成”时整改进度应为100", progress)
        if state == "未开工" and progress != 0:
            fail("progress", "工作状态为“未开工”时整改进度应为0", progress)
        if progress == 100 and state != "已完成":
            fail("work_state", "整改进度为100时工作状态应为“已完成”", state)
    texts = {}
    for key in ("this_month", "obstacles", "next_plan", "opinion"):
        if key not in letters:
            continue
        try:
            value = long_text(cells.get(key)) or ""
        except CellError as exc:
            fail(key, str(exc), cells.get(key))
            value = ""
        if len(value) > TEXT_LIMIT:
            fail(key, f"内容过长（{len(value)}字，最多{TEXT_LIMIT}字）")
        texts[key] = value
    done = False
    if "milestones_done" in letters:
        try:
            done = yes_no(cells.get("milestones_done"))
        except CellError as exc:
            fail("milestones_done", str(exc), cells.get("milestones_done"))
    if len(problems) > before:
        return None
    return ReportLine(item_code=code, progress=progress, work_state=state, milestones_done=done, **texts)


def _progress(value: object) -> int | str:
    """A whole percent 0-100 (30, 30.0, "30", "30%"), or the reason it is not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "整改进度为必填项（0至100的整数）"
    raw = str(value).strip().rstrip("%％").strip()
    try:
        number = float(raw)
    except ValueError:
        return "整改进度须为0至100的整数"
    if not math.isfinite(number):
        return "整改进度须为0至100的整数"
    if not number.is_integer():
        return "整改进度须为整数"
    if not 0 <= number <= 100:
        return "整改进度须在0至100之间"
    return int(number)


def submit_form(
    session: Session, plan: Plan, *, path: Path, period: str, unit: str, as_of: date, draft: bool
) -> SubmissionVersion:
    """Read a filled form and keep it as the unit's next version (all rows or none)."""
    asked = session.exec(select(Submission).where(Submission.period == period, Submission.unit == unit)).first()
    if asked is not None:  # a locked report is refused before its file is read
        check_open(asked)
    filled = read_form(session, plan, path=path, period=period, unit=unit, draft=draft)
    submission = get_submission(session, plan, period, unit)
    return save_report(
        session,
        plan,
        submission=submission,
        lines=filled.lines,
        as_of=as_of,
        draft=draft,
        source=path.name,
        summary=filled.summary,
    )


def changed_entries(
    session: Session, plan: Plan, *, period: str, unit: str, entered: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """The lines typed that differ from what the form shows: what a refused save keeps for the page
    (a page of a large unit's form has hundreds of fields; the unchanged ones are shown again anyway)."""
    submission = get_submission(session, plan, period, unit)
    keys = [c.key for c in columns_for(submission.kind) if c.editable]
    rows = form_rows(session, plan, submission, [code for code in submission.items if code in entered])
    return {
        row["code"]: entered[row["code"]]
        for row in rows
        if any(plain(entered[row["code"]].get(key) or None) != plain(row.get(key)) for key in keys)
    }
