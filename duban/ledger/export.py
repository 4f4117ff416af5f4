"""Writing the ledger back out, and the blank template clerks fill in."""

from __future__ import annotations

from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session, col, select

from duban.files.paths import output_file
from duban.files.spreadsheet import Cell, column_letter, put, table_workbook, write_table
from duban.items.closeout import STATUS_LABELS
from duban.items.rectification import current
from duban.ledger.columns import COLUMNS
from duban.plan import Plan
from models import LedgerItem

EXPORT_HEADER = [c.title for c in COLUMNS] + ["状态", "整改进度", "方案版本"]


def export_rows(session: Session, plan: Plan) -> list[list[Cell]]:
    stages = {s.code: s.name for s in plan.stages}
    rows = []
    for item in session.exec(select(LedgerItem).order_by(col(LedgerItem.code))):
        rectification = current(session, item)
        rows.append(
            [
                item.code,
                item.township,
                item.community,
                plan.category(item.category).name,
                item.facility_type,
                stages[item.stage],
                item.description,
                item.lead_department,
                item.responsible_unit,
                rectification.measures if rectification else None,
                rectification.deadline if rectification else None,
                "是" if item.key_difficult else "否",
                STATUS_LABELS[item.status],
                f"{item.progress}%",
                rectification.revision if rectification else None,
            ]
        )
    return rows


def export_ledger(session: Session, plan: Plan, path: Path) -> int:
    """Same columns as the import (so an export re-imports unchanged), plus status and progress."""
    rows = export_rows(session, plan)
    write_table(path, "台账", EXPORT_HEADER, rows)
    return len(rows)


_HINTS = {
    "问题编号": "可留空，由系统生成",
    "牵头部门": "可留空，按设施类别确定",
    "责任单位": "可留空，默认为所在镇办",
    "整改措施": "与完成时限同时填写",
    "完成时限": "日期，如 2022-06-30",
    "重点难点": "是 / 否",
}


def write_template(plan: Plan, path: Path, rows: int = 500) -> None:
    """A blank .xlsx with drop-down lists, the choices taken from the plan in force."""
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"模板只能保存为 .xlsx 文件：{path.name}")
    header = [c.title for c in COLUMNS]
    workbook = table_workbook("台账", header, [])
    sheet = workbook.active
    choices = workbook.create_sheet("选项")
    lists = {
        "镇办": plan.township_names(),
        "设施类别": [c.name for c in plan.categories],
        "设施类型": [t for c in plan.categories for t in c.facility_types],
        "问题环节": [s.name for s in plan.stages],
        "牵头部门": plan.department_names(),
        "重点难点": ["是", "否"],
    }
    for index, (title, values) in enumerate(lists.items()):
        letter = column_letter(index)
        put(choices, 1, index + 1, title)
        for offset, value in enumerate(values, start=2):
            put(choices, offset, index + 1, value)
        source = f"'选项'!${letter}$2:${letter}${len(values) + 1}"
        target = column_letter(header.index(title))
        check = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="输入有误",
            error=f"请从下拉列表中选择{title}",
        )
        check.add(f"{target}2:{target}{rows + 1}")
        sheet.add_data_validation(check)
    deadline = column_letter(header.index("完成时限"))
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="DATE(2000,1,1)",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="输入有误",
        error="请填写日期，如 2022-06-30",
    )
    dates.add(f"{deadline}2:{deadline}{rows + 1}")
    sheet.add_data_validation(dates)
    for row in sheet.iter_rows(
        min_row=2, max_row=rows + 1, min_col=header.index("完成时限") + 1, max_col=header.index("完成时限") + 1
    ):
        row[0].number_format = "yyyy-mm-dd"
    for index, title in enumerate(header):
        if title in _HINTS:
            sheet.cell(row=1, column=index + 1).comment = Comment(_HINTS[title], "duban")
    sheet.column_dimensions[column_letter(header.index("问题描述"))].width = 40
    sheet.column_dimensions[column_letter(header.index("整改措施"))].width = 40
    choices.sheet_state = "hidden"
    workbook.save(output_file(path))
