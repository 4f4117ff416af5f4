"""The bulletin's text: the figures laid out as the official document's sections and tables."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from itertools import count
from pathlib import Path

from duban.assessment.bulletin import section as assessment_section
from duban.bulletin.annex import Draft, LongList, LongTable, day, settle
from duban.bulletin.document import Annex, Block, Chart, Document, Heading, Paragraph, Table, Value
from duban.bulletin.mechanism import RESULTS
from duban.extensions.report import section as extension_section
from duban.glossary import DELIVERABLE_STATE as DELIVERABLE_STATES
from duban.glossary import cn_date, cn_period
from duban.items.closeout import STATUS_LABELS
from duban.plan import Plan
from duban.reassign.bulletin import section as reassignment_section

NUMERALS = "一二三四五六七八九十"
TABLE_NUMBER = re.compile(r"^表(\d+)")
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
                        e["item_code"] or e.get("matter") or MATTERS[e["cause"]],
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
    blocks += reassignment_section(figures.get("reassignments"), "（五）调整责任单位")  # absent before they were kept
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
    after = 4  # the sections 一 to 四 above
    if figures.get("mechanism"):  # a bulletin issued before the mechanism was tracked is reprinted without it
        blocks += mechanism_section(figures["mechanism"], NUMERALS[after], date.fromisoformat(figures["as_of"]))
        after += 1
    if (figures.get("extensions") or {}).get("rows"):  # none in the period, or a bulletin issued before them
        blocks += extension_section(figures["extensions"], NUMERALS[after], next_table_number(blocks))
        after += 1
    if figures.get("assessment"):  # a bulletin issued before the assessment was kept is reprinted without it
        blocks += assessment_section(figures["assessment"], NUMERALS[after], next_table_number(blocks))
        after += 1
    blocks.append(Heading(1, f"{NUMERALS[after]}、下步工作要求"))
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


def next_table_number(blocks: list[Draft]) -> int:
    """The number after the highest 表N among the blocks' titles."""
    numbers = [int(m.group(1)) for b in blocks if (m := TABLE_NUMBER.match(getattr(b, "title", "") or ""))]
    return max(numbers, default=0) + 1


def mechanism_section(m: dict, numeral: str, as_of: date) -> list[Draft]:
    """长效机制建设和运行情况: the documents against their due dates, then the period's joint reviews,
    late signers, shortfalls and waivers. Tables are numbered on from 表7, the milestone table."""
    tables = count(8)
    start, end = (date.fromisoformat(d) for d in m["window"])
    blocks: list[Draft] = [Heading(1, f"{numeral}、长效机制建设和运行情况"), Heading(2, "（一）长效机制文件制定情况")]
    d = m["deliverables"]
    if d["total"]:
        blocks.append(
            Paragraph(
                f"截至{cn_date(as_of)}，实施方案确定的长效机制文件共{d['total']}份（以印发文件经核验确认为完成），"
                f"按时完成{d['on_time']}份，逾期完成{d['late_met']}份，逾期未完成{d['late_open']}份，"
                f"尚未到完成时限{d['pending']}份；本期核验确认{d['verified']}份。"
            )
        )
    else:
        blocks.append(Paragraph("长效机制文件尚未纳入督办平台跟踪。"))
    if d["rows"]:
        blocks.append(
            LongTable(
                f"表{next(tables)}  长效机制文件完成情况",
                ("文件名称", "责任单位", "完成时限", "完成情况", "印发或进展情况"),
                tuple((r["title"], r["owner"], day(r["due"]), RESULTS[r["result"]], _progress(r)) for r in d["rows"]),
                annex="长效机制文件完成情况清单",
            )
        )
    blocks.append(Heading(2, "（二）新建居住区项目联合审查情况"))
    reviewed = m["reviewed"]
    if reviewed:
        approved = sum(r["approved"] for r in reviewed)
        rejected = sum(r["rejected"] for r in reviewed)
        blocks.append(
            Paragraph(
                f"{cn_date(start)}至{cn_date(end)}，共有{len(reviewed)}个新建居住区项目开展联合审查，"
                f"各单位签署会签意见{approved + rejected}份，其中同意{approved}份、不同意{rejected}份；"
                f"通过审查环节{len(m['passed'])}个。"
            )
        )
        blocks.append(
            LongTable(
                f"表{next(tables)}  本期开展联合审查的项目",
                ("项目编号", "项目名称", "所在镇办", "审查环节", "会签意见"),
                tuple(
                    (
                        r["code"],
                        r["name"],
                        r["township"],
                        "、".join(r["gates"]),
                        f"同意{r['approved']}份" + (f"，不同意{r['rejected']}份" if r["rejected"] else ""),
                    )
                    for r in reviewed
                ),
                annex="本期开展联合审查的项目清单",
            )
        )
    else:
        blocks.append(Paragraph(f"{cn_date(start)}至{cn_date(end)}，无新建居住区项目开展联合审查。"))
    if m["passed"]:
        blocks.append(
            LongTable(
                f"表{next(tables)}  本期通过的审查环节",
                ("项目编号", "项目名称", "审查环节", "牵头部门", "通过日期"),
                tuple((r["code"], r["name"], r["gate"], r["lead"], day(r["passed_on"])) for r in m["passed"]),
                annex="本期通过的审查环节清单",
            )
        )
    else:
        blocks.append(Paragraph("本期无通过的审查环节。"))
    if m["rejections"]:
        blocks.append(
            LongTable(
                f"表{next(tables)}  本期不同意意见",
                ("项目名称", "审查环节", "签署单位", "签署日期", "理由", "整改要求或附加条件"),
                tuple(
                    (r["name"], r["gate"], r["signer"], day(r["signed_on"]), r["reasons"], r["conditions"] or "—")
                    for r in m["rejections"]
                ),
                annex="本期不同意意见清单",
            )
        )
    elif reviewed:
        blocks.append(Paragraph("本期会签单位均未提出不同意意见。"))
    blocks.append(Heading(2, "（三）会签时效情况"))
    late = m["late_signers"]
    if late:
        signed = _units(r["signer"] for r in late if r["signed_on"])
        awaited = _units(r["signer"] for r in late if not r["signed_on"])
        blocks.append(
            Paragraph(
                f"本期逾期签署会签意见的单位：{signed or '无'}；"
                f"截至{cn_date(as_of)}逾期未签署会签意见的单位：{awaited or '无'}。"
            )
        )
        blocks.append(
            LongTable(
                f"表{next(tables)}  逾期会签情况",
                ("签署单位", "项目名称", "审查环节", "会签期限", "签署日期", "逾期工作日"),
                tuple(
                    (r["signer"], r["name"], r["gate"], day(r["due_on"]), day(r["signed_on"]) or "尚未签署", r["days"])
                    for r in late
                ),
                annex="逾期会签情况清单",
            )
        )
    else:
        blocks.append(Paragraph("本期无逾期会签情况。"))
    blocks.append(Heading(2, "（四）配建标准执行情况"))
    shortfalls = m["shortfalls"]
    if not m["projects"]:
        blocks.append(Paragraph(f"截至{cn_date(as_of)}，项目库中尚无新建居住区项目。"))
    elif shortfalls:
        projects = len({r["code"] for r in shortfalls})
        blocks.append(
            Paragraph(
                f"截至{cn_date(as_of)}，项目库共有新建居住区项目{m['projects']}个，"
                f"其中{projects}个项目存在未经豁免的配建缺口{len(shortfalls)}项。"
            )
        )
        blocks.append(
            LongTable(
                f"表{next(tables)}  未经豁免的配建缺口",
                ("项目编号", "项目名称", "配建设施", "应配建", "已承诺", "缺口"),
                tuple(
                    (
                        r["code"],
                        r["name"],
                        r["facility"],
                        f"{r['required']}{r['unit']}",
                        f"{r['committed']}{r['unit']}",
                        f"{r['shortfall']}{r['unit']}",
                    )
                    for r in shortfalls
                ),
                annex="未经豁免的配建缺口清单",
            )
        )
    else:
        blocks.append(
            Paragraph(f"截至{cn_date(as_of)}，项目库共有新建居住区项目{m['projects']}个，均无未经豁免的配建缺口。")
        )
    if m["waivers"]:
        blocks.append(Paragraph(f"本期记录配建缺口豁免{len(m['waivers'])}项。"))
        blocks.append(
            LongTable(
                f"表{next(tables)}  本期记录的配建缺口豁免",
                ("项目编号", "项目名称", "配建设施", "豁免缺口", "豁免理由", "记录日期"),
                tuple(
                    (
                        r["code"],
                        r["name"],
                        r["facility"],
                        f"{r['shortfall']}{r['unit']}",
                        r["reason"],
                        day(r["granted_on"]),
                    )
                    for r in m["waivers"]
                ),
                annex="本期记录的配建缺口豁免清单",
            )
        )
    else:
        blocks.append(Paragraph("本期未记录配建缺口豁免。"))
    return blocks


def _progress(row: dict) -> str:
    """印发或进展情况: the document and its date once verified, 待核验 once filed, else the owner's state."""
    if row["verified"]:
        return f"{row['document_no']}（{row['issued_on']}印发）"
    if row["state"] == "issued":
        return f"已印发（{row['document_no']}），待核验"
    return DELIVERABLE_STATES[row["state"]]


def _units(names: Iterable[str]) -> str:
    return "、".join(dict.fromkeys(names))


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
