"""The campaign's closing bulletin: who answered, who did not, what was promised, what comes next.

Its figures are frozen with it when it is issued; printing it again rebuilds the same document.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session

from duban.bulletin.annex import Draft, LongTable, day, settle
from duban.bulletin.content import LEVELS, NUMERALS, official_document
from duban.bulletin.document import Document, Heading, Paragraph, Table
from duban.bulletin.issue import Issued, distribute, next_numbers, stem_of, write_files
from duban.campaign.view import ANSWERS, figures
from duban.glossary import cn_date
from duban.items.closeout import STATUS_LABELS
from duban.plan import Plan
from models import BulletinRecord, Campaign

KIND = "campaign"


def issue_campaign_bulletin(session: Session, plan: Plan, campaign: Campaign, as_of: date, out_dir: Path) -> Issued:
    """Issue the bulletin once (numbered among the year's bulletins); later calls re-print it."""
    record = session.get(BulletinRecord, campaign.bulletin_id) if campaign.bulletin_id else None
    new = record is None
    if record is None:
        number, issue_no = next_numbers(session, as_of.year, KIND)
        record = BulletinRecord(
            year=as_of.year,
            kind=KIND,
            period=str(campaign.id),
            number=number,
            issue=issue_no,
            as_of=as_of,
            title="",
            # the plan's cut is kept with the figures, so that a re-print lays the lists out as issued
            figures=figures(session, plan, campaign, as_of) | {"max_list_rows": plan.bulletin.max_list_rows},
            created_at=datetime.now(UTC),
        )
        session.add(record)
        session.flush()
    files = write_files(build(plan, record), out_dir, stem_of(record))
    if new:
        record.title = files.document.title
        campaign.bulletin_id = record.id
        session.add(record)
        session.add(campaign)
        totals = record.figures["totals"]
        missing = "、".join(u["unit"] for u in record.figures["units"] if u["missing"])
        distribute(session, plan, record, files, campaign={**totals, "missing_units": missing})
    return files.issued(record, new=new)


def build(plan: Plan, record: BulletinRecord) -> Document:
    data = record.figures
    c, t = data["campaign"], data["totals"]
    started, due = date.fromisoformat(c["started_on"]), date.fromisoformat(c["due"])
    office = plan.office.full_name or plan.office.name
    blocks: list[Draft] = [
        Paragraph(
            f"为推动社区配套设施问题整改落实，{office}于{cn_date(started)}启动{c['title']}，对{c['scope']}"
            f"共{t['items']}项开展专项督导，要求{t['units']}个责任单位于{cn_date(due)}前逐项反馈整改进展和承诺完成时限。"
            f"现将督导情况通报如下。"
        ),
        Heading(1, "一、督导反馈情况"),
        Paragraph(
            f"截至{cn_date(date.fromisoformat(data['as_of']))}，{t['items']}项督导问题中，按期反馈{t['on_time']}项，"
            f"逾期反馈{t['late']}项，未反馈{t['missing']}项；督导期间已销号{t['closed_since']}项。"
        ),
        Table(
            "表1  各责任单位反馈情况",
            ("责任单位", "督导问题数", "按期反馈", "逾期反馈", "未反馈", "督办情况"),
            tuple(
                (
                    u["unit"],
                    str(u["items"]),
                    str(u["on_time"]),
                    str(u["late"]),
                    str(u["missing"]),
                    LEVELS.get(u["level"], "—"),
                )
                for u in data["units"]
            ),
        ),
        Heading(1, "二、存在的问题"),
    ]
    late_units = [u["unit"] for u in data["units"] if u["late"] and not u["missing"]]
    missing_units = [u["unit"] for u in data["units"] if u["missing"]]
    if missing_units or late_units:
        text = []
        if missing_units:
            text.append(f"截至通报时仍未反馈的单位：{'、'.join(missing_units)}")
        if late_units:
            text.append(f"未按期反馈的单位：{'、'.join(late_units)}")
        blocks.append(Paragraph("；".join(text) + "。现予以通报批评。" if missing_units else "；".join(text) + "。"))
    else:
        blocks.append(Paragraph("各责任单位均按期反馈了督导问题整改情况。"))
    missing = [r for r in data["items"] if r["answer"] == "missing"]
    if missing:
        blocks.append(
            LongTable(
                "表2  未反馈问题清单",
                ("问题编号", "责任单位", "社区", "设施类别", "当前状态"),
                tuple(
                    (r["code"], r["unit"], r["community"], r["category"], STATUS_LABELS[r["status"]]) for r in missing
                ),
                annex="未反馈问题清单",
            )
        )
    answered = [r for r in data["items"] if r["answer"] != "missing"]
    blocks.append(Heading(1, "三、整改承诺情况"))
    if answered:
        blocks.append(
            LongTable(
                f"表{3 if missing else 2}  督导问题整改进展及承诺完成时限",
                ("问题编号", "责任单位", "督导时状态", "当前状态", "承诺完成时限", "反馈情况"),
                tuple(
                    (
                        r["code"] + ("（重点难点）" if r["key_difficult"] else ""),
                        r["unit"],
                        STATUS_LABELS[r["status_at_start"]],
                        STATUS_LABELS[r["status"]],
                        day(r["promised_by"]),
                        ANSWERS[r["answer"]],
                    )
                    for r in answered
                ),
                annex="督导问题整改进展及承诺完成时限清单",
            )
        )
    else:
        blocks.append(Paragraph("本次督导未收到任何单位的反馈。"))
    blocks.append(Heading(1, "四、下步工作要求"))
    for n, text in enumerate(plan.bulletin.campaign_requirements, start=1):
        blocks.append(Paragraph(f"（{NUMERALS[n - 1]}）{text}"))
    body, annexes = settle(blocks, data.get("max_list_rows"))
    return official_document(
        plan,
        title=f"关于{c['title']}情况的通报",
        number=record.number,
        year=record.year,
        issue_label=f"督导第{record.issue}期",
        issued_on=record.as_of,
        blocks=body,
        annexes=annexes,
    )
