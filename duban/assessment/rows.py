"""The assessment as table rows: the bulletin's 考核 table, the year-end report's, and the xlsx sheets."""

from __future__ import annotations

from decimal import Decimal

from duban.assessment.score import Assessment
from duban.glossary import APPEAL_STATE, ASSESSMENT_CAUSE, ASSESSMENT_ROLE, CARD, UNIT_KIND


def points_text(value: Decimal | float) -> str:
    """98.5, 100, -0.5: no trailing zeros."""
    text = f"{Decimal(str(value)).normalize():f}"
    return "0" if text in ("-0", "0") else text


def bulletin_figures(assessment: Assessment) -> dict:
    """Plain JSON kept with the bulletin: each unit's score, rank and the cards of the period."""
    return {
        "period": assessment.span.code,
        "label": assessment.span.label,
        "units": [
            {
                "unit": u.unit,
                "kind": u.kind,
                "score": float(u.score),
                "rank": u.rank,
                "deducted": float(sum((line.points for line in u.lines if line.points < 0), Decimal(0))),
                "added": float(sum((line.points for line in u.lines if line.points > 0), Decimal(0))),
                "cards": [{"card": c.colour, "date": c.day.isoformat(), "title": c.title} for c in u.cards],
            }
            for u in assessment.units
        ],
    }


def bulletin_rows(figures: dict) -> tuple[tuple[str, ...], ...]:
    """(类别, 排名, 单位, 得分, 扣分, 加分, 黄牌/红牌) from `bulletin_figures`; also for the year-end report."""
    rows = []
    for u in figures["units"]:
        cards = "、".join(f"{CARD[c['card']]}（{c['title']}）" for c in u["cards"]) or "—"
        rows.append(
            (
                UNIT_KIND[u["kind"]],
                str(u["rank"]),
                u["unit"],
                points_text(u["score"]),
                points_text(u["deducted"]),
                points_text(u["added"]),
                cards,
            )
        )
    return tuple(rows)


BULLETIN_HEADER = ("类别", "排名", "单位", "得分", "扣分", "加分", "警示")
SUMMARY_HEADER = ["类别", "排名", "单位", "得分", "扣分", "加分", "黄牌", "红牌"]
LINES_HEADER = [
    "单位",
    "日期",
    "事由",
    "承担方式",
    "分值",
    "原扣分",
    "事项",
    "说明",
    "申诉",
    "申诉理由",
    "裁定理由",
    "页面",
    "扣分项编号",
]


def summary_rows(assessment: Assessment) -> list[list]:
    rows = []
    for u in assessment.units:
        rows.append(
            [
                UNIT_KIND[u.kind],
                u.rank,
                u.unit,
                float(u.score),
                float(sum((line.points for line in u.lines if line.points < 0), Decimal(0))),
                float(sum((line.points for line in u.lines if line.points > 0), Decimal(0))),
                sum(c.colour == "yellow" for c in u.cards),
                sum(c.colour == "red" for c in u.cards),
            ]
        )
    return rows


def line_rows(assessment: Assessment) -> list[list]:
    rows = []
    for u in assessment.units:
        for line in u.lines:
            rows.append(
                [
                    u.unit,
                    line.day,
                    ASSESSMENT_CAUSE[line.cause],
                    ASSESSMENT_ROLE[line.role],
                    float(line.points),
                    float(line.charged),
                    line.subject,
                    line.detail,
                    APPEAL_STATE.get(line.appeal_state, "—") if line.appeal_state else "—",
                    line.appeal_reason or "—",
                    line.appeal_answer or "—",
                    line.link,
                    line.key,
                ]
            )
    return rows
