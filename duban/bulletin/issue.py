"""Issuing a bulletin: its number, its figures, its files, its distribution.

A bulletin is issued once per kind and period: running it again gives the same number and the same
content (the figures are kept with it and the files rebuilt from them) unless a new edition is asked
for, which takes the next number and recomputes the figures as of the date given. The plan's
`bulletin.max_list_rows` is kept with the figures too, so the body's lists and the annex workbook
(`<stem>-附件.xlsx`, sent with the Word and PDF files) come out the same on every re-print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, col, func, select

from duban.bulletin import charts, mechanism
from duban.bulletin.annex import write_annex
from duban.bulletin.content import build
from duban.bulletin.document import BulletinError, Document
from duban.bulletin.figures import compute
from duban.bulletin.render import to_html, to_markdown, write_pdf
from duban.bulletin.word import write_docx
from duban.plan import Plan
from duban.reporting.periods import parse_period, period_of
from models import BulletinRecord
from notifications.outbox import notify

KINDS = ("monthly", "special", "adhoc")


@dataclass(frozen=True)
class Issued:
    record: BulletinRecord
    docx: Path
    pdf: Path
    html: Path
    markdown: str
    new: bool
    annex: Path | None = None  # the annex workbook; None when the bulletin lists no items


@dataclass(frozen=True)
class Files:
    """One bulletin written out: the document and each of its files."""

    document: Document
    docx: Path
    pdf: Path
    html: Path
    markdown: str
    annex: Path | None

    def attachments(self) -> list[str]:
        """What goes with the email: the document, and its annex when it has one."""
        return [str(p) for p in (self.docx, self.pdf, self.annex) if p is not None]

    def issued(self, record: BulletinRecord, *, new: bool) -> Issued:
        return Issued(
            record=record,
            docx=self.docx,
            pdf=self.pdf,
            html=self.html,
            markdown=self.markdown,
            new=new,
            annex=self.annex,
        )


def issue(
    session: Session, plan: Plan, *, period: str, kind: str, as_of: date, out_dir: Path, new_edition: bool = False
) -> Issued:
    if kind not in KINDS:
        raise BulletinError(f"通报类型只能是 {'、'.join(KINDS)}")
    year = span(plan, period)[1].year
    existing = latest(session, kind, period)
    record, new = existing, False
    if existing is None or new_edition:
        previous = session.exec(
            select(BulletinRecord)
            .where(BulletinRecord.kind == kind, BulletinRecord.period < period)
            .order_by(col(BulletinRecord.period).desc(), col(BulletinRecord.edition).desc())
        ).first()
        figures = compute(
            session,
            plan,
            period=round_of(plan, period),
            window=mechanism.window(kind, span(plan, period), previous.figures if previous else None),
            as_of=as_of,
            previous=previous.figures if previous else None,
        )
        figures["max_list_rows"] = plan.bulletin.max_list_rows  # a re-print cuts the lists as this one did
        record, new = (
            numbered(session, year=year, kind=kind, period=period, existing=existing, as_of=as_of, figures=figures),
            True,
        )
    files = _render(session, plan, record, out_dir)
    if new:
        record.title = files.document.title
        session.add(record)
        ranked = [t for t in record.figures["townships"] if t["rank"] is not None]
        distribute(
            session,
            plan,
            record,
            files,
            overall=record.figures["overall"],
            top="、".join(t["unit"] for t in ranked[:3]),
            bottom="、".join(t["unit"] for t in ranked[-3:]),
        )
    return files.issued(record, new=new)


def latest(session: Session, kind: str, period: str) -> BulletinRecord | None:
    """The newest edition issued of this kind and period."""
    query = select(BulletinRecord).where(BulletinRecord.kind == kind, BulletinRecord.period == period)
    return session.exec(query.order_by(col(BulletinRecord.edition).desc())).first()


def numbered(
    session: Session, *, year: int, kind: str, period: str, existing: BulletinRecord | None, as_of: date, figures: dict
) -> BulletinRecord:
    """A new record (the first, or a new edition of `existing` keeping its issue) with the year's next number."""
    number, issue_no = next_numbers(session, year, kind)
    record = BulletinRecord(
        year=year,
        kind=kind,
        period=period,
        edition=(existing.edition + 1) if existing else 1,
        number=number,
        issue=existing.issue if existing else issue_no,
        as_of=as_of,
        title="",
        figures=figures,
        created_at=datetime.now(UTC),
    )
    session.add(record)
    session.flush()
    return record


def next_numbers(session: Session, year: int, kind: str) -> tuple[int, int]:
    """The next document number of the year (all kinds) and the next issue number of the kind."""
    number = session.exec(select(func.max(BulletinRecord.number)).where(BulletinRecord.year == year)).one() or 0
    issue_no = (
        session.exec(
            select(func.max(BulletinRecord.issue)).where(BulletinRecord.year == year, BulletinRecord.kind == kind)
        ).one()
        or 0
    )
    return number + 1, issue_no + 1


def stem_of(record: BulletinRecord) -> str:
    edition = f"-第{record.edition}版" if record.edition > 1 else ""
    return f"{record.year}-{record.number:03d}-{record.kind}-{record.period}{edition}"


def _render(session: Session, plan: Plan, record: BulletinRecord, out_dir: Path) -> Files:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem_of(record)
    trend = [
        (r.period, r.figures["overall"]["rate"])
        for r in session.exec(
            select(BulletinRecord)
            .where(
                BulletinRecord.kind == "monthly", BulletinRecord.period <= record.period, BulletinRecord.edition == 1
            )
            .order_by(col(BulletinRecord.period))
        )
        if r.id != record.id
    ]
    trend.append((record.period, record.figures["overall"]["rate"]))
    pictures = [
        (
            charts.completion_by_township(record.figures["townships"], out_dir / f"{stem}-镇办完成率.png"),
            "图1  各镇办整治完成率",
        ),
        (charts.monthly_trend(trend, out_dir / f"{stem}-月度趋势.png"), "图2  全区整治完成率月度趋势"),
    ]
    document = build(
        plan,
        kind=record.kind,
        period=record.period,
        figures=record.figures,
        number=record.number,
        issue=record.issue,
        year=record.year,
        issued_on=record.as_of,
        charts=pictures,
    )
    return write_files(document, out_dir, stem)


def write_files(document: Document, out_dir: Path, stem: str) -> Files:
    """The same document as HTML, Word and PDF, as Markdown for the Prefect UI, and its annexes as a
    workbook beside them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html = to_html(document)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    docx = write_docx(document, out_dir / f"{stem}.docx")
    pdf = write_pdf(html, out_dir / f"{stem}.pdf")
    annex = write_annex(document, out_dir / f"{stem}-附件.xlsx") if document.annexes else None
    return Files(document, docx, pdf, html_path, to_markdown(document), annex)


def distribute(
    session: Session,
    plan: Plan,
    record: BulletinRecord,
    files: Files,
    *,
    kind: str = "bulletin",
    recipients: tuple[str, ...] | None = None,
    **summary: object,
) -> None:
    """The document (and its annex) by email to the distribution list (or `recipients`); a short summary for
    WeCom groups. Queued once per number."""
    document = files.document
    for unit in plan.bulletin.distribution if recipients is None else recipients:
        notify(
            session,
            plan,
            key=f"{kind}:{record.year}:{record.number}",
            kind=kind,
            recipient=unit,
            as_of=record.as_of,
            attachments=files.attachments(),
            wecom_attachments=False,
            title=document.title,
            doc_number=document.doc_number,
            annex=files.annex is not None,
            page="/bulletins",
            **summary,
        )


def span(plan: Plan, period: str) -> tuple[date, date]:
    """A month ("2022-10") or a date range ("2022-10-01..2022-10-20") as its first and last day."""
    if ".." in period:
        try:
            start, end = (date.fromisoformat(part) for part in period.split(".."))
        except ValueError:
            raise BulletinError(f"日期范围“{period}”格式有误，应为 2022-10-01..2022-10-20") from None
        if start > end:
            raise BulletinError(f"日期范围“{period}”的开始日期晚于结束日期")
        return start, end
    from duban.reporting.periods import month_end_of

    year, month = parse_period(plan, period)
    return date(year, month, 1), month_end_of(period)


def round_of(plan: Plan, period: str) -> str | None:
    """The reporting round a bulletin speaks of: the month, or the month a range ends in (if any)."""
    month = period if ".." not in period else period_of(span(plan, period)[1])
    return month if plan.reporting.covers(month) else None
