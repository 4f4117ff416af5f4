"""The assessment in the monthly bulletin (a 考核 section and table) and in the year-end report."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from duban.assessment.rows import BULLETIN_HEADER, bulletin_figures, bulletin_rows
from duban.assessment.score import assess
from duban.bulletin.document import Heading, Paragraph, Table
from duban.plan import Plan


def figures(session: Session, plan: Plan, period: str | None, as_of: date) -> dict | None:
    """`figures["assessment"]` of a bulletin on `period` (a month, or a year for the year-end report);
    None when the plan has no assessment rules or the bulletin speaks of no period."""
    if plan.assessment is None or period is None:
        return None
    return bulletin_figures(assess(session, plan, period, as_of))


def section(assessment: dict, numeral: str, table_number: int) -> list:
    """考核情况: who lost most, the cards of the period, then every unit's score and rank."""
    units = assessment["units"]
    cards = [(u["unit"], c) for u in units for c in u["cards"]]
    red = list(dict.fromkeys(unit for unit, c in cards if c["card"] == "red"))  # in the table's order
    yellow = list(dict.fromkeys(unit for unit, c in cards if c["card"] == "yellow"))
    said = f"按照考核办法，{assessment['label']}各镇办、各牵头部门考核得分及排名见表{table_number}。"
    if red or yellow:
        parts = []
        if yellow:
            parts.append(f"给予{'、'.join(yellow)}黄牌警示")
        if red:
            parts.append(f"给予{'、'.join(red)}红牌警示")
        said += "本期" + "，".join(parts) + "，予以通报批评。"
    else:
        said += "本期无单位被给予黄牌、红牌警示。"
    return [
        Heading(1, f"{numeral}、考核情况"),
        Paragraph(said),
        Table(f"表{table_number}  {assessment['label']}考核得分及排名", BULLETIN_HEADER, bulletin_rows(assessment)),
    ]
