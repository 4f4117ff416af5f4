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
from sqlmodel import Session, col, select

from duban.formsheet import HEADER_ROW, FormColumn, add_meta, header_matches, lay_out, open_filled, plain
from duban.ledger.cells import CellError, long_text, yes_no
from duban.paths import output_file
from duban.plan import Plan
from duban.reporting.periods import month_end_of
from duban.reporting.reports import (
    WORK_STATES,
    ReportError,
    ReportLine,
    due_milestones,
    get_submission,
    latest_version,
    lines_of,
    save_report,
)
from duban.spreadsheet import Problem, RefusedFile, SheetError, column_letter, put
from models import LedgerItem, Review, Submission, SubmissionLine, SubmissionVersion
from notifications.render import cn_period


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
    previous = _previous_lines(session, submission, codes)
    month_end = month_end_of(submission.period)
    township_lines = _township_lines(session, submission, codes) if submission.kind == "department" else {}
    due = due_milestones(session, list(items.values()), month_end)
    rows = []
    for code in wanted:
        item = items[code]
        last = previous.get(code)
        row = {
            "code": code,
            "township": item.township,
            "community": item.community,
            "category": plan.category(item.category).name,
            "description": item.description,
            "lead_department": item.lead_department,
            "deadline": item.deadline,
            "milestones": "；".join(f"{when.isoformat()} {title}" for when, title in due[code]) or None,
            "progress": last.progress if last else item.progress,
            "work_state": last.work_state if last else _state_of(item),
            "this_month": (last.this_month or None) if last and last.submission_id == submission.id else None,
            "obstacles": (last.obstacles or None) if last and last.submission_id == submission.id else None,
            "next_plan": (last.next_plan or None) if last and last.submission_id == submission.id else None,
            # this round's own tick only: last month's milestones are not this month's
            "milestones_done": "是" if last and last.submission_id == submission.id and last.milestones_done else None,
            "opinion": (last.opinion or None) if last and last.submission_id == submission.id else None,
        }
        if submission.kind == "department":
            reported = township_lines.get(code)
            row.update(
                {
                    "reported_progress": reported[0].progress if reported else None,
                    "reported_state": reported[0].work_state if reported else None,
                    "reported_note": (reported[0].this_month or None) if reported else None,
                    "review": reported[1] if reported else "未报送",
                }
            )
            if reported and not (last and last.submission_id == submission.id):
                row["progress"], row["work_state"] = reported[0].progress, reported[0].work_state
        rows.append(row)
    return rows


@dataclass(frozen=True)
class _Previous:
    submission_id: int
    progress: int
    work_state: str
    this_month: str
    obstacles: str
    next_plan: str
    opinion: str
    milestones_done: bool


def _previous_lines(session: Session, submission: Submission, codes: list[str] | None) -> dict[str, _Previous]:
    """This round's own last version if any, else the unit's last submitted version of an earlier round."""
    own = latest_version(session, submission)
    source = own
    if source is None:
        earlier = session.exec(
            select(Submission)
            .where(
                Submission.unit == submission.unit,
                Submission.period < submission.period,
                col(Submission.first_submitted_on).is_not(None),
            )
            .order_by(col(Submission.period).desc())
        ).first()
        source = latest_version(session, earlier, submitted_only=True) if earlier else None
    if source is None:
        return {}
    return {
        line.item_code: _Previous(
            source.submission_id,
            line.progress,
            line.work_state,
            line.this_month,
            line.obstacles,
            line.next_plan,
            line.opinion,
            line.milestones_done,
        )
        for line in lines_of(session, source, codes)
    }


def _township_lines(session: Session, department: Submission, codes: list[str] | None) -> dict:
    """For a department's form: each item's line in its township's latest submitted report, and its review."""
    found = {}
    for submission in session.exec(
        select(Submission).where(Submission.period == department.period, Submission.kind == "township")
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
        for line in lines_of(session, version, codes):
            found[line.item_code] = (line, label)
    return found


def _previous_summary(session: Session, submission: Submission) -> str | None:
    version = latest_version(session, submission)
    return version.summary or None if version else None


def _state_of(item: LedgerItem) -> str:
    """The state a form starts from, never at odds with the progress beside it (the form's own rules:
    未开工 is 0, 已完成 is 100), so a row the clerk leaves as it is can always be sent."""
    if item.progress == 100:
        return "已完成"
    if item.progress == 0 and item.status in ("open", "planned"):
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
    for them, so a unit with thousands of items saves its form a page at a time."""
    submission = get_submission(session, plan, period, unit)
    if base is not None and base != submission.version:  # the page was read before a colleague's save
        raise ReportError(f"{unit}{period}的报表刚刚已由本单位其他人员保存，请刷新页面核对后重新保存")
    columns = columns_for(submission.kind)
    editable = {c.key for c in columns if c.editable}
    order = {code: number for number, code in enumerate(submission.items, start=1)}
    problems: list[Problem] = []
    if any(code not in order for code in entered):
        problems.append(Problem(WEB_FORM, None, "", "提交了不属于本单位本期报送范围的问题编号"))
    # Rows not on the page sent keep what the form shows for them: the unit's last save when it has
    # one (read as it was kept, without building the form's other rows), else the form as it starts.
    carried = _carried(session, submission, [code for code in submission.items if code not in entered])
    sent = [code for code in submission.items if code in entered] if carried is not None else None
    shown = form_rows(session, plan, submission, sent)
    expected = {row["code"]: row for row in shown}
    rows = []
    for row in shown:
        typed = entered.get(row["code"])
        cells = {c.key: row.get(c.key) for c in columns if not c.editable or typed is None}
        if typed is not None:
            cells.update({key: (typed.get(key) or None) for key in editable})
        rows.append((order[row["code"]], cells))
    checked = _checked_lines(WEB_FORM, submission, columns, rows, expected, draft or carried is not None, problems)
    if carried:  # the "nothing filled" problem does not apply to a page of a form already saved
        problems[:] = [p for p in problems if p.message != "没有填报任何问题"]
    by_code = {line.item_code: line for line in checked} | (carried or {})
    lines = [by_code[code] for code in submission.items if code in by_code]
    text = ""
    try:
        text = long_text(summary) or ""
    except CellError as exc:
        problems.append(Problem(WEB_FORM, None, SUMMARY_TITLE, str(exc)))
    if problems:
        raise FormRefused(problems, listed=plan.limits.max_problems_listed)
    return save_report(
        session, plan, submission=submission, lines=lines, as_of=as_of, draft=draft, source=WEB_FORM, summary=text
    )


def _carried(session: Session, submission: Submission, codes: list[str]) -> dict[str, ReportLine] | None:
    """The unit's last saved lines of `codes`, or None when some are not saved yet."""
    if not codes:
        return {}
    own = latest_version(session, submission)
    if own is None:
        return None
    table = SubmissionLine.__table__
    fields = [name for name in ReportLine.__dataclass_fields__ if name != "item_code"]
    found = {
        code: ReportLine(code, *values)
        for code, *values in session.execute(
            select(table.c.item_code, *(table.c[name] for name in fields)).where(table.c.version_id == own.id)
        )
    }
    if any(code not in found for code in codes):
        return None
    return {code: found[code] for code in codes}


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
