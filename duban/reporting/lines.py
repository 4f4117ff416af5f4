"""A report version's lines, kept as changes over the version before it.

A save writes only the lines it changed (and a `removed` line for an item that left the report): at
30,000 items a unit's report has up to 12,771 lines and a page of the form changes a hundred. What a
version means to its readers is still the whole report: version N is, per item, its line in the
latest version <= N that has one, read in one query through the (submission, item, version) index,
whatever the number of versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from sqlalchemy import and_, func, insert, or_
from sqlmodel import Session, col, select

from models import LedgerItem, SubmissionLine, SubmissionVersion

# Above this many codes a read takes the whole report and picks in Python: a bound parameter per code
# costs more to send than the rows it would leave out.
FEW_CODES = 500


@dataclass(frozen=True)
class ReportLine:
    item_code: str
    progress: int
    work_state: str
    this_month: str = ""
    obstacles: str = ""
    next_plan: str = ""
    milestones_done: bool = False
    opinion: str = ""


LINE_FIELDS = tuple(f.name for f in fields(ReportLine))


def _latest(submission_id: int, version: int, codes: list[str] | None):  # noqa: ANN202 - a subquery
    """Each item's newest line number <= `version`."""
    table = SubmissionLine.__table__
    query = select(table.c.item_code, func.max(table.c.version).label("at")).where(
        table.c.submission_id == submission_id, table.c.version <= version
    )
    if codes is not None:
        query = query.where(table.c.item_code.in_(codes))
    return query.group_by(table.c.item_code).subquery()


def _wanted(codes: Iterable[str] | None) -> tuple[list[str] | None, set[str] | None]:
    """(codes for the query, codes to keep afterwards): a long list is filtered in Python."""
    if codes is None:
        return None, None
    codes = list(codes)
    return (codes, None) if len(codes) <= FEW_CODES else (None, set(codes))


def version_lines(
    session: Session, submission_id: int, version: int, codes: Iterable[str] | None = None
) -> list[SubmissionLine]:
    """The whole report of `version` as rows (or those of `codes`), by item code."""
    asked, keep = _wanted(codes)
    latest = _latest(submission_id, version, asked)
    query = (
        select(SubmissionLine)
        .join(latest, and_(SubmissionLine.item_code == latest.c.item_code, SubmissionLine.version == latest.c.at))
        .where(SubmissionLine.submission_id == submission_id, col(SubmissionLine.removed).is_(False))
        .order_by(col(SubmissionLine.item_code))
    )
    found = list(session.exec(query))
    return found if keep is None else [line for line in found if line.item_code in keep]


def report_lines(
    session: Session, submission_id: int, version: int, codes: Iterable[str] | None = None
) -> dict[str, ReportLine]:
    """The same as plain values by code, without building row objects (thousands of lines)."""
    if version <= 0:
        return {}
    asked, keep = _wanted(codes)
    table = SubmissionLine.__table__
    latest = _latest(submission_id, version, asked)
    query = (
        select(*(table.c[name] for name in LINE_FIELDS))
        .join(latest, and_(table.c.item_code == latest.c.item_code, table.c.version == latest.c.at))
        .where(table.c.submission_id == submission_id, table.c.removed.is_(False))
    )
    found = {row[0]: ReportLine(*row) for row in session.execute(query)}
    return found if keep is None else {code: line for code, line in found.items() if code in keep}


def differing_lines(session: Session, submission_id: int, version: int) -> list[ReportLine]:
    """The lines of `version` that would change their open item: another progress, work begun on a planned
    item, or milestones reported done. A department's report is applied to the ledger when sent; its
    thousands of other lines, which say what the ledger says already, are never read."""
    table, items = SubmissionLine.__table__, LedgerItem.__table__
    latest = _latest(submission_id, version, None)
    query = (
        select(*(table.c[name] for name in LINE_FIELDS))
        .join(latest, and_(table.c.item_code == latest.c.item_code, table.c.version == latest.c.at))
        .join(items, items.c.code == table.c.item_code)
        .where(
            table.c.submission_id == submission_id,
            table.c.removed.is_(False),
            items.c.status.not_in(("closed", "cancelled")),
            or_(
                items.c.progress != table.c.progress,
                and_(items.c.status == "planned", table.c.work_state != "未开工"),
                table.c.milestones_done.is_(True),
            ),
        )
        .order_by(table.c.item_code)
    )
    return [ReportLine(*row) for row in session.execute(query)]


def saved_codes(session: Session, submission_id: int, version: int) -> set[str]:
    """The items `version` has a line for."""
    if version <= 0:
        return set()
    table = SubmissionLine.__table__
    latest = _latest(submission_id, version, None)
    query = (
        select(table.c.item_code)
        .join(latest, and_(table.c.item_code == latest.c.item_code, table.c.version == latest.c.at))
        .where(table.c.submission_id == submission_id, table.c.removed.is_(False))
    )
    return set(session.scalars(query))


def write_changes(
    session: Session,
    version: SubmissionVersion,
    lines: list[ReportLine],
    base: dict[str, ReportLine],
    *,
    whole: bool,
) -> int:
    """Keep the lines of `version` that differ from `base` (its previous version's, for these codes);
    with `whole`, `lines` is the entire report and items of `base` it lacks are marked removed.
    Returns the rows written."""
    rows = [
        {
            "version_id": version.id,
            "submission_id": version.submission_id,
            "version": version.version,
            **line.__dict__,
            "removed": False,
        }
        for line in lines
        if base.get(line.item_code) != line
    ]
    if whole:
        kept = {line.item_code for line in lines}
        rows += [
            {
                "version_id": version.id,
                "submission_id": version.submission_id,
                "version": version.version,
                **ReportLine(code, 0, "").__dict__,
                "removed": True,
            }
            for code in sorted(set(base) - kept)
        ]
    if rows:  # one statement: a unit's first save has thousands of lines
        session.execute(insert(SubmissionLine.__table__), rows)
    return len(rows)
