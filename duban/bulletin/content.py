"""The bulletin's text: the figures laid out as the official document's sections and tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from duban.bulletin.annex import Draft, LongList, LongTable, day, settle
from duban.bulletin.document import Annex, Block, Chart, Document, Heading, Paragraph, Table, Value
from duban.closeout import STATUS_LABELS
from duban.plan import Plan
from notifications.render import cn_date, cn_period

NUMERALS = "一二三四五六七八九十"
LEVELS = {1: "督办", 2: "挂牌督办", 3: "提请分管副区长督办"}
MATTERS = {  # escalations without an item
    "missing_submission": "进度报送",
    "campaign_response": "专项督导反馈",
    "unacknowledged": "督办平台签收",
    "late_countersign": "联合审查会签",
    "late_resubmission": "联合审查重新提交",
    "overdue_deliverable": "长效机制文件",
}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def change(value: int | None) -> str:
    if value is None:
        return "—"
    return "持平" if value == 0 else (f"上升{value}位" if value > 0 else f"下降{-value}位")


def title_for(kind: str, period: str, plan: Plan) -> str:
    if ".." in period:
        start, end = (date.fromisoformat(part) for part in period.split(".."))
        when = f"{cn_date(start)}至{cn_date(end)}"
    else:
        when = cn_period(period)
    what = {"monthly": when, "special": f"{when}专项督导", "adhoc": when}[kind]
    return f"关于{what}全区社区配套设施问题整治工作进展情况的通报"


def build(
    plan: Plan,
    *,
    kind: str,
    period: str,
    figures: dict,
    number: int,
    issue: int,
    year: int,
    issued_on: date,
    charts: list[tuple[Path, str]],
) -> Document:
    o = figures["overall"]
    blocks: list[Draft] = []
    blocks.append(
        Paragraph(
            f"根据《{plan.programme.title}》和“各牵头部门每月{plan.reporting.department_due_day}日前将整治进度报区领导小组办公室”"
            f"的要求，现将截至{cn_date(date.fromisoformat(figures['as_of']))}全区社区配套设施问题整治工作进展情况通报如下。"
        )
    )
    blocks.append(Heading(1, "一、总体进展情况"))
    blocks.append(
        Paragraph(
            f"全区台账共有问题{o['total']}项（不含已撤销{o['cancelled']}项），已销号{o['closed']}项，整改中{o['under_way']}项，"
            f"尚未开工{o['not_started']}项，逾期未完成{o['overdue']}项，整治完成率{pct(o['rate'])}。"
        )
    )
    blocks.append(
        Table(
            "表1  分类别整治进展情况",
            ("设施类别", "问题数", "已销号", "整改中", "未开工", "逾期", "完成率"),
            tuple(
                (
                    c["name"],
                    *(str(c[k]) for k in ("total", "closed", "under_way", "not_started", "overdue")),
                    pct(c["rate"]),
                )
                for c in figures["categories"]
            ),
        )
    )
    blocks += [Chart(path, caption) for path, caption in charts]
    blocks.append(Heading(1, "二、各镇办、各牵头部门排名情况"))
    blocks.append(Heading(2, "（一）镇办排名"))
    blocks.append(_ranking("表2  镇办整治完成率排名", figures["townships"]))
    top, bottom = _ends(figures["townships"])
    if top:
        blocks.append(Paragraph(f"整治完成率位居前列的是：{top}；排名靠后的是：{bottom}。"))
    blocks.append(Heading(2, "（二）牵头部门排名"))
    blocks.append(_ranking("表3  牵头部门整治完成率排名", figures["departments"], unit="牵头部门"))
    blocks.append(Heading(1, "三、存在的主要问题"))
    reports = figures["reports"]
    blocks.append(Heading(2, "（一）进度报送情况"))
    if reports["requested"] == 0:
        blocks.append(Paragraph("本期无进度报送任务。"))
    else:
        missing = "、".join(reports["not_reported"]) or "无"
        late = "、".join(reports["late"]) or "无"
        blocks.append(
            Paragraph(f"本期应报送单位{reports['requested']}个。逾期未报送的单位：{missing}；迟报的单位：{late}。")
        )
    blocks.append(Heading(2, "（二）逾期未完成整改的问题"))
    if figures["overdue"]:
        blocks.append(
            LongTable(
                "表4  逾期未完成整改问题清单",
                ("问题编号", "镇办", "社区", "设施类别", "完成时限", "逾期工作日"),
                tuple(
                    (
                        r["code"] + ("（重点难点）" if r["key"] else ""),
                        r["township"],
                        r["community"],
                        r["category"],
                        day(r["deadline"]),
                        r["days"],
                    )
                    for r in figures["overdue"]
                ),
                annex="逾期未完成整改问题清单",
            )
        )
    else:
        blocks.append(Paragraph("截至本期，无逾期未完成整改的问题。"))
    blocks.append(Heading(2, "（三）挂牌督办情况"))
    if figures["escalations"]:
        blocks.append(
            LongTable(
                "表5  挂牌督办及提请分管副区长督办事项",
                ("单位", "事项", "应完成日期", "督办级别", "启动日期"),
                tuple(
                    (
                        e["unit"],
                        e["item_code"] or MATTERS[e["cause"]],
                        day(e["missed_due"]),
                        LEVELS[e["level"]],
                        day(e["raised_on"]),
                    )
                    for e in figures["escalations"]
                ),
                annex="挂牌督办及提请分管副区长督办事项清单",
            )
        )
    else:
        blocks.append(Paragraph("本期无挂牌督办事项。"))
    blocks.append(Heading(2, "（四）重点难点问题"))
    key_rows = tuple(
        (
            k["code"],
            k["township"],
            k["category"],
            STATUS_LABELS[k["status"]],
            day(k["deadline"]),
            "是" if k["overdue"] else "否",
        )
        for k in figures["key_items"]
    )
    blocks.append(
        LongTable(
            "表6  重点难点问题进展",
            ("问题编号", "镇办", "设施类别", "状态", "完成时限", "是否逾期"),
            key_rows,
            annex="重点难点问题进展清单",
        )
        if key_rows
        else Paragraph("台账中无重点难点问题。")
    )
    must = figures["must_finish"]
    blocks.append(Heading(1, "四、必须完成事项和时间节点"))
    if must["total"]:
        due = cn_date(date.fromisoformat(must["due"]))
        blocks.append(
            LongList(
                f"城镇居住区幼儿园、社区用房专项整治共{must['total']}项，必须于{due}前完成，"
                f"已销号{must['closed']}项，尚未销号{len(must['open'])}项：",
                tuple(must["open"]),
                "。",
                annex="城镇居住区幼儿园、社区用房专项整治未销号问题清单",
                header=("问题编号", "镇办", "社区", "设施类别", "状态", "完成时限"),
                rows=_must_finish_rows(figures),
            )
        )
    blocks.append(
        Table(
            "表7  实施方案时间节点完成情况",
            ("时间节点", "完成时限", "责任单位", "状态", "说明"),
            tuple(
                (m["title"], m["due"], "、".join(m["owners"]), m["state"], m["detail"]) for m in figures["milestones"]
            ),
        )
    )
    blocks.append(Heading(1, "五、下步工作要求"))
    values = {
        "open": o["total"] - o["closed"],
        "overdue": o["overdue"],
        "must_finish_due": cn_date(date.fromisoformat(must["due"])) if must["due"] else "年底",
        "must_finish_open": len(must["open"]),
        "department_due_day": plan.reporting.department_due_day,
    }
    for n, text in enumerate(plan.bulletin.requirements, start=1):
        blocks.append(Paragraph(f"（{NUMERALS[n - 1]}）{text.format(**values)}"))
    body, annexes = settle(blocks, figures.get("max_list_rows"))
    return official_document(
        plan,
        title=title_for(kind, period, plan),
        number=number,
        year=year,
        issue_label=f"第{issue}期",
        issued_on=issued_on,
        blocks=body,
        annexes=annexes,
    )


def official_document(
    plan: Plan,
    *,
    title: str,
    number: int,
    year: int,
    issue_label: str,
    issued_on: date,
    blocks: list[Block],
    annexes: tuple[Annex, ...] = (),
) -> Document:
    """The fixed parts every bulletin shares, from the plan: mark, number, addressees, signature, 抄送."""
    office = plan.office.full_name or plan.office.name
    return Document(
        issuer_mark=plan.bulletin.issuer_mark,
        doc_number=f"{plan.bulletin.doc_prefix}〔{year}〕{number}号",
        issue_label=issue_label,
        title=title,
        addressees=plan.bulletin.addressees,
        blocks=tuple(blocks),
        signature=office,
        date_text=cn_date(issued_on),
        cc=plan.bulletin.cc,
        printed_by=f"{office}    {cn_date(issued_on)}印发",
        fonts=dict(plan.bulletin.fonts),
        annexes=annexes,
    )


def _must_finish_rows(figures: dict) -> tuple[tuple[Value, ...], ...]:
    """The annex rows of the open must-finish items (a bulletin issued before they were kept has none,
    nor an annex)."""
    return tuple(
        (r["code"], r["township"], r["community"], r["category"], STATUS_LABELS[r["status"]], day(r["deadline"]))
        for r in figures.get("must_finish_open", ())
    )


def _ranking(title: str, rows: list[dict], unit: str = "镇办") -> Table:
    return Table(
        title,
        ("排名", unit, "问题数", "已销号", "完成率", "逾期", "本期报送", "较上期"),
        tuple(
            (
                str(r["rank"]) if r["rank"] else "—",
                r["unit"],
                str(r["total"]),
                str(r["closed"]),
                pct(r["rate"]),
                str(r["overdue"]),
                r["report"],
                change(r["change"]),
            )
            for r in rows
        ),
    )


def _ends(rows: list[dict]) -> tuple[str, str]:
    ranked = [r for r in rows if r["rank"] is not None]
    if len(ranked) < 2:
        return "", ""
    top = "、".join(f"{r['unit']}（{pct(r['rate'])}）" for r in ranked[:3])
    bottom = "、".join(f"{r['unit']}（{pct(r['rate'])}）" for r in ranked[-3:])
    return top, bottom
