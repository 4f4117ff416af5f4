"""Issuing the year-end report: numbered among the year's bulletins (〔year〕N号), its figures kept with it.

It is a `BulletinRecord` of kind "summary" and period "<year>", so it is listed and downloaded on the
portal's bulletins page like any bulletin. Running it again re-prints the same document with the same
number and queues nothing; `new_edition` takes the next number and recomputes the figures as of the day
given. A new report (or edition) is audited and queued once to the report's distribution list (the
leadership group's leaders and the Office unless the plan names others).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session

from duban import audit
from duban.bulletin.issue import Files, Issued, latest, numbered, stem_of, write_files
from duban.bulletin.issue import distribute as bulletin_distribute
from duban.plan import Plan
from duban.summary.figures import compute_year, year_of
from duban.summary.sections import build
from models import BulletinRecord

KIND = "summary"


def issue_summary(
    session: Session, plan: Plan, *, year: int, as_of: date, out_dir: Path, new_edition: bool = False
) -> Issued:
    span = year_of(plan, year, as_of)
    period = str(year)
    existing = latest(session, KIND, period)
    record, new = existing, False
    if existing is None or new_edition:
        figures = compute_year(session, plan, span) | {"max_list_rows": plan.bulletin.max_list_rows}
        record = numbered(session, year=year, kind=KIND, period=period, existing=existing, as_of=as_of, figures=figures)
        new = True
    stem = stem_of(record)
    files = write_files(build(plan, record, out_dir, stem), out_dir, stem)
    if new:
        record.title = files.document.title
        session.add(record)
        audit.record(
            session,
            actor=plan.office.name,
            subject="summary",
            key=f"{year}:{record.edition}",
            action="summary_issued",
            effective_on=as_of,
            after={"number": files.document.doc_number, "title": record.title, "cutoff": record.figures["cutoff"]},
            note=f"{files.document.doc_number}（第{record.edition}版）",
        )
        distribute(session, plan, record, files)
    return files.issued(record, new=new)


def recipients(plan: Plan) -> tuple[str, ...]:
    """Who receives the report: the plan's list, or the leadership group's leaders and the Office."""
    rules = plan.bulletin.summary
    return rules.distribution or (*(leader.name for leader in plan.chain.leadership_group.leaders), plan.office.name)


def distribute(session: Session, plan: Plan, record: BulletinRecord, files: Files) -> None:
    """The report (and its annex) by email; a short note for WeCom groups. Queued once per number."""
    bulletin_distribute(
        session,
        plan,
        record,
        files,
        kind="summary",
        recipients=tuple(recipients(plan)),
        year=record.year,
        cutoff=date.fromisoformat(record.figures["cutoff"]),
        overall=record.figures["overall"],
        carried=record.figures["carried"]["total"],
    )
