"""`duban assess --out FILE.xlsx`: a summary sheet and a lines sheet, through the project's one cell writer."""

from __future__ import annotations

from pathlib import Path

from duban.assessment.periods import AssessmentError
from duban.assessment.rows import LINES_HEADER, SUMMARY_HEADER, line_rows, summary_rows
from duban.assessment.score import Assessment
from duban.files.paths import output_file
from duban.files.spreadsheet import put, style_header, table_workbook


def write_assessment(assessment: Assessment, path: Path) -> None:
    if path.suffix.lower() != ".xlsx":
        raise AssessmentError(f"考核结果只能导出为 .xlsx 文件：{path.name}")
    output_file(path)
    workbook = table_workbook("考核得分", SUMMARY_HEADER, summary_rows(assessment))
    sheet = workbook.create_sheet("扣分加分明细")
    for number, values in enumerate([LINES_HEADER, *line_rows(assessment)], start=1):
        for column, value in enumerate(values, start=1):
            put(sheet, number, column, value)
    style_header(sheet, len(LINES_HEADER))
    workbook.save(path)
