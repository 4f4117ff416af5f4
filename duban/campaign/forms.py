"""A unit's response form for a campaign: its items pre-filled, three columns to fill, read back whole.

A row left blank is an item not yet answered; a row begun must be complete. Reading is all or
nothing, and every problem is named with its row and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, col, select

from duban import audit
from duban.calendar import WorkingCalendar
from duban.campaign.scope import CampaignError
from duban.campaign.start import get_campaign, items_of
from duban.files.formsheet import HEADER_ROW, FormColumn, add_meta, header_matches, lay_out, open_filled, plain
from duban.files.paths import output_file
from duban.files.spreadsheet import Problem, RefusedFile, SheetError, column_letter
from duban.items.closeout import STATUS_LABELS
from duban.ledger.cells import CellError, day, long_text
from duban.plan import Plan
from duban.reporting.escalation import resolve_cause
from models import Campaign, LedgerItem

SHEET = "督导反馈"
TEXT_LIMIT = 1000
COLUMNS = (
    FormColumn("code", "问题编号", False, 13),
    FormColumn("township", "镇办", False, 10),
    FormColumn("community", "社区", False, 16),
    FormColumn("category", "设施类别", False, 12),
    FormColumn("description", "问题描述", False, 40),
    FormColumn("status", "当前状态", False, 10, checked=False),
    FormColumn("deadline", "完成时限", False, 12, checked=False),
    FormColumn("progress", "整改进展情况", True, 36),
    FormColumn("measures", "下一步整改措施", True, 30),
    FormColumn("promised_by", "承诺完成时限", True, 13),
)


class ResponseRefused(RefusedFile):
    heading = "督导反馈提交失败，未保存任何数据。"


@dataclass(frozen=True)
class Answer:
    item_code: str
    progress: str
    measures: str
    promised_by: date


def write_response_form(session: Session, plan: Plan, campaign: Campaign, unit: str, path: Path) -> int:
    """The unit's form, with what it answered before; returns the number of items."""
    if path.suffix.lower() != ".xlsx":
        raise SheetError(f"反馈表只能保存为 .xlsx 文件：{path.name}")
    rows = form_rows(session, plan, campaign, unit)
    if not rows:
        raise CampaignError(f"{unit}在专项督导“{campaign.title}”中没有需要反馈的问题")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    lay_out(sheet, f"{campaign.title}反馈表  反馈单位：{unit}  反馈截止：{campaign.due.isoformat()}", COLUMNS, rows)
    add_meta(workbook, [("单位", unit), ("督导编号", campaign.id), ("督导名称", campaign.title)])
    workbook.save(output_file(path))
    return len(rows)


def form_rows(session: Session, plan: Plan, campaign: Campaign, unit: str) -> list[dict]:
    """The rows of the unit's answer, with what it answered before (the workbook's and the portal's)."""
    mine = items_of(session, campaign.id, unit)
    codes = [i.item_code for i in mine]
    ledger = {i.code: i for i in session.exec(select(LedgerItem).where(col(LedgerItem.code).in_(codes)))}
    return [
        {
            "code": i.item_code,
            "township": ledger[i.item_code].township,
            "community": ledger[i.item_code].community,
            "category": plan.category(ledger[i.item_code].category).name,
            "description": ledger[i.item_code].description,
            "status": STATUS_LABELS[i.status_at_start],
            "deadline": i.deadline_at_start,
            "progress": i.progress or None,
            "measures": i.measures or None,
            "promised_by": i.promised_by,
        }
        for i in mine
    ]


def read_response_form(session: Session, plan: Plan, campaign: Campaign, unit: str, path: Path) -> list[Answer]:
    name = path.name
    form, meta = open_filled(
        path, sheet=SHEET, required=("单位", "督导编号"), how_to_get="duban campaign form", limits=plan.limits
    )
    if meta["单位"] != unit:
        raise SheetError(f"文件 {name} 是“{meta['单位']}”的反馈表，不能作为“{unit}”的反馈提交")
    if str(meta["督导编号"]) != str(campaign.id):
        raise SheetError(f"文件 {name} 是第{meta['督导编号']}号专项督导的反馈表，不能作为第{campaign.id}号的反馈提交")
    if not header_matches(form.header, COLUMNS):
        raise ResponseRefused([Problem(name, HEADER_ROW, "", "表头被修改，请重新生成反馈表后填写")])
    expected = {row["code"]: row for row in form_rows(session, plan, campaign, unit)}
    letters = {c.key: f"{column_letter(i)}列“{c.title}”" for i, c in enumerate(COLUMNS)}
    problems: list[Problem] = []
    answers: list[Answer] = []
    seen: dict[str, int] = {}
    calendar = WorkingCalendar(plan.calendar)
    for number, values in form.rows:
        cells = dict(zip([c.key for c in COLUMNS], values, strict=False))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue

        def fail(key: str, message: str, value: object = None, row: int = number) -> None:
            problems.append(Problem(name, row, letters[key], message, value))

        code = plain(cells.get("code"))
        if code not in expected:
            fail("code", "不是本单位本次督导的问题编号（请勿增加行或修改编号）", code or None)
            continue
        if code in seen:
            fail("code", f"问题编号与第{seen[code]}行重复", code)
            continue
        seen[code] = number
        for column in COLUMNS:
            if column.checked and not column.editable and column.key != "code":
                shown, wanted = plain(cells.get(column.key)), plain(expected[code].get(column.key))
                if shown != wanted:
                    fail(column.key, f"此列为系统预填内容，不得修改（应为“{wanted}”）", shown or "（空）")
        if all(cells.get(k) in (None, "") for k in ("progress", "measures", "promised_by")):
            continue  # not answered yet
        answer = _answer(code, cells, campaign, calendar, fail)
        if answer is not None:
            answers.append(answer)
    if not answers and not problems:
        problems.append(Problem(name, HEADER_ROW + 1, "", "没有填写任何问题的反馈"))
    if problems:
        raise ResponseRefused(problems, listed=plan.limits.max_problems_listed)
    return answers


def _answer(  # noqa: ANN001 - fail: the row's reporter
    code: str, cells: dict, campaign: Campaign, calendar: WorkingCalendar, fail
) -> Answer | None:
    texts = {}
    for key in ("progress", "measures"):
        try:
            value = long_text(cells.get(key)) or ""
        except CellError as exc:
            fail(key, str(exc), cells.get(key))
            return None
        if len(value) > TEXT_LIMIT:
            fail(key, f"内容过长（{len(value)}字，最多{TEXT_LIMIT}字）")
        texts[key] = value
    if not texts["progress"]:
        fail("progress", "整改进展情况为必填项")
    promised = None
    try:
        promised = day(cells.get("promised_by"))
    except CellError as exc:
        fail("promised_by", str(exc), cells.get("promised_by"))
        return None
    if promised is None:
        refusal = "承诺完成时限为必填项"
    elif promised < campaign.started_on:
        refusal = f"承诺完成时限不能早于督导发起日期{campaign.started_on.isoformat()}"
    else:
        refusal = calendar.outside(promised, "承诺完成时限")
    if refusal:
        fail("promised_by", refusal, promised)
    if not texts["progress"] or refusal or len(texts["progress"]) > TEXT_LIMIT:
        return None
    return Answer(code, texts["progress"], texts["measures"], promised)


def respond(session: Session, plan: Plan, *, campaign_id: int, unit: str, path: Path, as_of: date) -> list[Answer]:
    """Keep the unit's answers (the latest wins, the first date is remembered); all rows or none."""
    campaign = _answerable(session, campaign_id, as_of)
    answers = read_response_form(session, plan, campaign, unit, path)
    return _keep(session, campaign, unit, answers, as_of, path.name)


ONLINE = "网页填报"


def respond_online(
    session: Session, plan: Plan, *, campaign_id: int, unit: str, entered: dict[str, dict[str, str]], as_of: date
) -> list[Answer]:
    """The portal's answer form, by the workbook's rules (rows numbered as the page shows them)."""
    campaign = _answerable(session, campaign_id, as_of)
    shown = form_rows(session, plan, campaign, unit)
    problems: list[Problem] = []
    if any(code not in {row["code"] for row in shown} for code in entered):
        problems.append(Problem(ONLINE, None, "", "提交了不属于本单位本次督导的问题编号"))
    titles = {c.key: f"“{c.title}”" for c in COLUMNS}
    answers, calendar = [], WorkingCalendar(plan.calendar)
    for number, row in enumerate(shown, start=1):
        cells = entered.get(row["code"])
        if not cells or all(not (cells.get(k) or "").strip() for k in ("progress", "measures", "promised_by")):
            continue

        def fail(key: str, message: str, value: object = None, row: int = number) -> None:
            problems.append(Problem(ONLINE, row, titles[key], message, value))

        answer = _answer(row["code"], {k: v or None for k, v in cells.items()}, campaign, calendar, fail)
        if answer is not None:
            answers.append(answer)
    if not answers and not problems:
        problems.append(Problem(ONLINE, None, "", "没有填写任何问题的反馈"))
    if problems:
        raise ResponseRefused(problems, listed=plan.limits.max_problems_listed)
    return _keep(session, campaign, unit, answers, as_of, ONLINE)


def _answerable(session: Session, campaign_id: int, as_of: date) -> Campaign:
    campaign = get_campaign(session, campaign_id)
    if as_of < campaign.started_on:
        raise CampaignError(f"反馈日期{as_of.isoformat()}早于督导发起日期{campaign.started_on.isoformat()}")
    if campaign.closed_on is not None and as_of >= campaign.closed_on:
        raise CampaignError(f"专项督导“{campaign.title}”已于{campaign.closed_on.isoformat()}结束，不再接收反馈")
    return campaign


def _keep(
    session: Session, campaign: Campaign, unit: str, answers: list[Answer], as_of: date, source: str
) -> list[Answer]:
    rows = {i.item_code: i for i in items_of(session, campaign.id, unit)}
    for answer in answers:
        row = rows[answer.item_code]
        row.progress, row.measures, row.promised_by = answer.progress, answer.measures, answer.promised_by
        row.responded_on = as_of
        row.first_responded_on = row.first_responded_on or as_of
        session.add(row)
    if all(r.first_responded_on for r in rows.values()):  # every item answered: the unit is late no more
        resolve_cause(session, f"campaign:{campaign.id}:{unit}@", as_of)
    audit.record(
        session,
        actor=unit,
        subject="campaign",
        key=str(campaign.id),
        action="respond",
        effective_on=as_of,
        after={"items": [a.item_code for a in answers], "source": source},
    )
    session.flush()
    return answers
