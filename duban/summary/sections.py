"""The year-end report's text: an ordered list of sections, each built from the kept figures.

A section reads one figures key and is left out when a report's kept figures lack it (a report issued
before the section existed is re-printed as it was). Headings are numbered 一、二、… in the order of
`SECTIONS`; tables 表1, 表2, … and charts 图1, 图2, … in the order the builders ask for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import count
from pathlib import Path

from duban.assessment.rows import BULLETIN_HEADER, bulletin_rows
from duban.bulletin import charts
from duban.bulletin.annex import Draft, LongList, LongTable, day, settle, shortened
from duban.bulletin.content import LEVELS, NUMERALS, official_document, pct
from duban.bulletin.document import Chart, Document, Heading, Paragraph, Table
from duban.bulletin.mechanism import RESULTS
from duban.extensions.report import HEADER as EXTENSION_HEADER
from duban.extensions.report import table_rows as extension_rows
from duban.glossary import CARD, CARRIED, ESCALATION_CAUSE, cn_date, label
from duban.items.closeout import STATUS_LABELS
from duban.plan import Plan
from duban.reassign.bulletin import table as moved_table
from models import BulletinRecord

DESCRIPTION_SHOWN = 30  # characters of a problem's description in a table (the portal and the ledger have it whole)


@dataclass
class Context:
    """Numbering shared by the sections, and where their charts are drawn."""

    out_dir: Path
    stem: str
    tables: Iterator[int] = field(default_factory=lambda: count(1))
    figures: Iterator[int] = field(default_factory=lambda: count(1))

    def table(self, title: str) -> str:
        return f"表{next(self.tables)}  {title}"

    def chart(self, draw: Callable[..., Path], data: object, name: str, caption: str) -> Chart:
        """`draw(data, path)` (a bulletin chart) into `<stem>-<name>.png` beside the report."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return Chart(draw(data, self.out_dir / f"{self.stem}-{name}.png"), f"图{next(self.figures)}  {caption}")


@dataclass(frozen=True)
class Section:
    key: str  # the figures key it reads: left out when absent or None
    title: str  # its heading, after the numeral
    build: Callable[[dict, Context], list[Draft]]


def _on(figures: dict) -> str:
    return cn_date(date.fromisoformat(figures["cutoff"]))


def _counts(row: dict) -> tuple[str, ...]:
    return (
        str(row["total"]),
        str(row["closed"]),
        str(row["total"] - row["closed"]),
        str(row["overdue"]),
        pct(row["rate"]),
    )


def found_and_fixed(f: dict, ctx: Context) -> list[Draft]:
    """What the survey found and what was closed: in all, by category, by stage; the monthly trend; the milestones."""
    o = f["overall"]
    stages = "，".join(f"{s['name']}环节{s['total']}项" for s in f.get("stages", ()) if s["total"])
    blocks: list[Draft] = [
        Paragraph(
            f"截至{_on(f)}，全区台账共排查出社区配套设施问题{o['total']}项（不含已撤销{o['cancelled']}项）"
            + (f"，其中{stages}" if stages else "")
            + f"。已整改销号{o['closed']}项，整改中{o['under_way']}项，尚未开工{o['not_started']}项，"
            f"整治完成率{pct(o['rate'])}；逾期未完成{o['overdue']}项。"
        ),
        Table(
            ctx.table("分类别问题排查和整治情况"),
            ("设施类别", "排查问题", "已销号", "未销号", "逾期", "完成率"),
            tuple((c["name"], *_counts(c)) for c in f["categories"]),
        ),
    ]
    if f.get("stages"):
        blocks.append(
            Table(
                ctx.table("分问题环节排查和整治情况"),
                ("问题环节", "排查问题", "已销号", "未销号", "逾期", "完成率"),
                tuple((s["name"], *_counts(s)) for s in f["stages"]),
            )
        )
    if f.get("trend"):
        points = [(p["month"], p["rate"]) for p in f["trend"]]
        blocks.append(ctx.chart(charts.monthly_trend, points, "月度趋势", "全区整治完成率月度变化"))
    blocks.append(
        Table(
            ctx.table("实施方案时间节点完成情况"),
            ("时间节点", "完成时限", "责任单位", "状态", "说明"),
            tuple((m["title"], m["due"], "、".join(m["owners"]), m["state"], m["detail"]) for m in f["milestones"]),
        )
    )
    return blocks


def by_unit(f: dict, ctx: Context) -> list[Draft]:
    """Each township's and each lead department's items and completion, ranked as the bulletins rank them."""
    ranked = [t for t in f["townships"] if t["rank"] is not None]
    blocks: list[Draft] = []
    if ranked:
        done = [t["unit"] for t in ranked if t["rate"] == 100.0]
        blocks.append(
            Paragraph(
                f"全区{len(f['townships'])}个镇办中，{len(ranked)}个镇办有排查问题，"
                + (f"其中{'、'.join(done)}已全部完成整治" if done else "尚无镇办全部完成整治")
                + "。"
            )
        )
    blocks.append(
        Table(
            ctx.table("各镇办问题排查和整治情况"),
            ("排名", "镇办", "排查问题", "已销号", "未销号", "逾期", "完成率"),
            tuple((str(t["rank"]) if t["rank"] else "—", t["unit"], *_counts(t)) for t in f["townships"]),
        )
    )
    blocks.append(ctx.chart(charts.completion_by_township, f["townships"], "镇办完成率", "各镇办整治完成率"))
    blocks.append(
        Table(
            ctx.table("各牵头部门牵头问题整治情况"),
            ("排名", "牵头部门", "牵头问题", "已销号", "未销号", "逾期", "完成率"),
            tuple((str(d["rank"]) if d["rank"] else "—", d["unit"], *_counts(d)) for d in f["departments"]),
        )
    )
    return blocks


def carried(f: dict, ctx: Context) -> list[Draft]:
    """What remains: the items carried into the next year with the plan revision in force, and the
    must-finish items (kindergartens, community premises) not finished."""
    c, year = f["carried"], f["year"]
    blocks: list[Draft] = []
    if not c["total"]:
        blocks.append(Paragraph(f"截至{_on(f)}，台账问题已全部销号，无结转{year + 1}年的问题。"))
    else:
        parts = [f"{CARRIED[k]}{c[k]}项" for k in ("next_year", "overdue", "pending", "no_deadline") if c[k]]
        blocks.append(
            Paragraph(
                f"截至{_on(f)}，尚未销号的问题{c['total']}项，结转{year + 1}年继续整治。其中，{'，'.join(parts)}。"
                f"完成时限以各问题现行整治方案（一事一案）为准。"
            )
        )
        blocks.append(
            LongTable(
                ctx.table(f"结转{year + 1}年的问题"),
                ("问题编号", "镇办", "社区", "设施类别", "问题描述", "状态", "现行方案", "完成时限", "说明"),
                tuple(
                    (
                        r["code"],
                        r["township"],
                        r["community"],
                        r["category"],
                        shortened(r["description"], DESCRIPTION_SHOWN),
                        STATUS_LABELS[r["status"]],
                        f"第{r['revision']}版（{r['revised_on']}）" if r["revision"] else "尚未制定",
                        day(r["deadline"]),
                        CARRIED[r["where"]],
                    )
                    for r in c["rows"]
                ),
                annex=f"结转{year + 1}年的问题清单",
            )
        )
    must = f["must_finish"]
    if must["total"]:
        due = cn_date(date.fromisoformat(must["due"]))
        blocks.append(
            LongList(
                f"城镇居住区幼儿园、社区用房专项整治共{must['total']}项，必须于{due}前完成，已销号{must['closed']}项，"
                f"未完成{len(must['open'])}项：",
                tuple(must["open"]),
                "。",
                annex="城镇居住区幼儿园、社区用房专项整治未完成问题清单",
                header=("问题编号", "镇办", "社区", "设施类别", "状态", "完成时限"),
                rows=tuple(
                    (
                        r["code"],
                        r["township"],
                        r["community"],
                        r["category"],
                        STATUS_LABELS[r["status"]],
                        day(r["deadline"]),
                    )
                    for r in f.get("must_finish_open", ())
                ),
                empty="无",
            )
        )
    return blocks


def mechanism(f: dict, ctx: Context) -> list[Draft]:
    """The long-term mechanism over the year: the plan's documents, and the joint reviews of new projects."""
    m, on = f["mechanism"], _on(f)
    d = m["deliverables"]
    blocks: list[Draft] = [Heading(2, "（一）长效机制文件制定情况")]
    if d["total"]:
        blocks.append(
            Paragraph(
                f"实施方案确定的长效机制文件共{d['total']}份，截至{on}，按时印发并经核验{d['on_time']}份，"
                f"逾期印发{d['late_met']}份，逾期未完成{d['late_open']}份，尚未到完成时限{d['pending']}份。"
            )
        )
        if d["rows"]:
            blocks.append(
                LongTable(
                    ctx.table("长效机制文件完成情况"),
                    ("文件名称", "责任单位", "完成时限", "完成情况", "文号"),
                    tuple(
                        (r["title"], r["owner"], day(r["due"]), RESULTS[r["result"]], r["document_no"] or "—")
                        for r in d["rows"]
                    ),
                    annex="长效机制文件完成情况清单",
                )
            )
    else:
        blocks.append(Paragraph("长效机制文件尚未纳入督办平台跟踪。"))
    blocks.append(Heading(2, "（二）新建居住区项目联合审查情况"))
    reviewed, passed, shortfalls = m["reviewed"], m["passed"], m["shortfalls"]
    opinions = sum(r["approved"] + r["rejected"] for r in reviewed)
    rejected = sum(r["rejected"] for r in reviewed)
    late = len({(r["signer"], r["code"], r["gate"]) for r in m["late_signers"]})
    short_projects = len({r["code"] for r in shortfalls})
    blocks.append(
        Paragraph(
            f"截至{on}，项目库共有新建居住区项目{m['projects']}个。本年度{len(reviewed)}个项目开展联合审查，"
            f"各单位签署会签意见{opinions}份（其中不同意{rejected}份），通过审查环节{len(passed)}个，"
            f"逾期会签{late}次；未经豁免的配建缺口{len(shortfalls)}项（涉及{short_projects}个项目），"
            f"记录配建缺口豁免{len(m['waivers'])}项。"
        )
    )
    if passed:
        blocks.append(
            LongTable(
                ctx.table("本年度通过的审查环节"),
                ("项目编号", "项目名称", "审查环节", "牵头部门", "通过日期"),
                tuple((r["code"], r["name"], r["gate"], r["lead"], day(r["passed_on"])) for r in passed),
                annex="本年度通过的审查环节清单",
            )
        )
    if shortfalls:
        blocks.append(
            LongTable(
                ctx.table("未经豁免的配建缺口"),
                ("项目编号", "项目名称", "配建设施", "应配建", "已承诺", "缺口"),
                tuple(
                    (
                        r["code"],
                        r["name"],
                        r["facility"],
                        *(f"{r[k]}{r['unit']}" for k in ("required", "committed", "shortfall")),
                    )
                    for r in shortfalls
                ),
                annex="未经豁免的配建缺口清单",
            )
        )
    return blocks


def discipline(f: dict, ctx: Context) -> list[Draft]:
    """The year's reporting (per unit, from the rounds) and escalations (per unit and level)."""
    reports, esc = f["discipline"]["reports"], f["discipline"]["escalations"]
    blocks: list[Draft] = [Heading(2, "（一）进度报送情况")]
    if reports:
        asked = sum(r["asked"] for r in reports)
        late = sum(r["late"] for r in reports)
        missing = sum(r["missing"] for r in reports)
        behind = [r["unit"] for r in reports if r["late"] or r["missing"]]
        blocks.append(
            Paragraph(
                f"本年度各单位应报送进度报表{asked}份，按时报送{asked - late - missing}份，迟报{late}份，"
                f"逾期未报送{missing}份。" + (f"有迟报或未报送情况的单位：{'、'.join(behind)}。" if behind else "")
            )
        )
        blocks.append(
            Table(
                ctx.table("各单位进度报送情况"),
                ("单位", "应报送", "按时报送", "迟报", "逾期未报送"),
                tuple((r["unit"], *(str(r[k]) for k in ("asked", "on_time", "late", "missing"))) for r in reports),
            )
        )
    else:
        blocks.append(Paragraph("本年度无进度报送任务。"))
    blocks.append(Heading(2, "（二）督办情况"))
    levels = esc["levels"]
    if not levels:
        blocks.append(Paragraph("本年度未启动督办。"))
        return blocks
    causes = "，".join(f"{label(ESCALATION_CAUSE, c)}{n}次" for c, n in esc["causes"].items())
    blocks.append(
        Paragraph(
            "本年度共启动"
            + "，".join(f"{LEVELS[int(level)]}{n}次" for level, n in levels.items())
            + f"（按事由：{causes}）。"
        )
    )
    blocks.append(
        Table(
            ctx.table("各单位被督办情况"),
            ("单位", *(LEVELS[n] for n in (1, 2, 3)), "合计"),
            tuple(
                (u["unit"], *(str(u[f"level{n}"]) for n in (1, 2, 3)), str(sum(u[f"level{n}"] for n in (1, 2, 3))))
                for u in esc["units"]
            ),
        )
    )
    return blocks


def requests(f: dict, ctx: Context) -> list[Draft]:
    """Extensions and reassignments of the year, in the bulletins' tables."""
    e, moved = f["requests"]["extensions"], f["requests"]["reassignments"]
    blocks: list[Draft] = [
        Heading(2, "（一）延期申请"),
        Paragraph(
            f"本年度批准延期{e['granted']}项，不予延期{e['refused']}项；截至{_on(f)}，尚在审批中的延期申请{e['pending']}项。"
        ),
    ]
    if e["rows"]:
        blocks.append(
            LongTable(
                ctx.table("延期申请办理情况"), EXTENSION_HEADER, extension_rows(e["rows"]), annex="延期申请办理情况清单"
            )
        )
    blocks.append(Heading(2, "（二）调整责任单位"))
    if not moved:
        return [*blocks, Paragraph("本年度无调整责任单位的问题。")]
    blocks.append(Paragraph(f"本年度经领导小组办公室同意，调整责任单位的问题{len(moved)}项。"))
    blocks.append(moved_table(moved, ctx.table("调整责任单位的问题")))
    return blocks


def assessment(f: dict, ctx: Context) -> list[Draft]:
    """The year's assessment: the units carded, then every unit's score and rank, as the bulletins show them."""
    a = f["assessment"]
    carded = {
        u["unit"]: "、".join(
            f"{CARD[c]}{n}张" for c in ("yellow", "red") if (n := sum(x["card"] == c for x in u["cards"]))
        )
        for u in a["units"]
        if u["cards"]
    }
    title = ctx.table(f"{a['label']}考核得分及排名")
    said = f"按照考核办法，{a['label']}各镇办、各牵头部门考核得分及排名见{title.split()[0]}。"
    if carded:
        said += "全年受到警示的单位：" + "；".join(f"{unit}{cards}" for unit, cards in carded.items()) + "。"
    else:
        said += "全年无单位受到黄牌、红牌警示。"
    return [Paragraph(said), Table(title, BULLETIN_HEADER, bulletin_rows(a))]


def requirements(f: dict, ctx: Context) -> list[Draft]:
    return [Paragraph(f"（{NUMERALS[n]}）{text}") for n, text in enumerate(f["requirements"])]


# The report's sections in order. One more is one entry here, placed where it should print, reading a
# figures key that a collector in duban/summary/figures.py COLLECTORS adds.
SECTIONS: tuple[Section, ...] = (
    Section("overall", "问题排查和整治总体情况", found_and_fixed),
    Section("townships", "各镇办、各牵头部门整治情况", by_unit),
    Section("carried", "结转下一年度的问题", carried),
    Section("mechanism", "长效机制建设情况", mechanism),
    Section("discipline", "进度报送和督办情况", discipline),
    Section("requests", "延期申请和调整责任单位办理情况", requests),
    Section("assessment", "年度考核情况", assessment),
    Section("requirements", "下一年度工作安排", requirements),
)


def build(plan: Plan, record: BulletinRecord, out_dir: Path, stem: str) -> Document:
    """The report from its kept figures (a `BulletinRecord` of kind "summary")."""
    f = record.figures
    wording = f["wording"]
    ctx = Context(out_dir, stem)
    blocks: list[Draft] = [Paragraph(wording["opening"])]
    shown = [s for s in SECTIONS if f.get(s.key) is not None and (s.key != "requirements" or f["requirements"])]
    for n, section in enumerate(shown):
        blocks.append(Heading(1, f"{NUMERALS[n]}、{section.title}"))
        blocks += section.build(f, ctx)
    blocks.append(Paragraph("特此报告。"))
    body, annexes = settle(blocks, f.get("max_list_rows"))
    document = official_document(
        plan,
        title=wording["title"],
        number=record.number,
        year=record.year,
        issue_label="",
        issued_on=record.as_of,
        blocks=body,
        annexes=annexes,
    )
    return replace(document, addressees=wording["addressees"], cc=wording["cc"])
