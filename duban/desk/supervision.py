"""What is under supervision (被督办) now: the open escalations whose cause still stands, counted by
the matter they are about (an item, a report, a campaign answer...), each at the highest level it reached.

An escalation is resolved by the daily sweep once its cause clears, and at once when its item is
closed or cancelled; reading through `live` also leaves out one whose cause has gone since the last
sweep (the item closed, its deadline moved, the report sent), so no page shows a stale one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from duban.glossary import ESCALATION_CAUSE, LEVEL, NOTICE_KIND, cn_period
from duban.items.closeout import TERMINAL
from duban.reporting.escalation import OUTSTANDING
from models import Escalation, LedgerItem, Submission

ITEM_CAUSES = ("overdue_item", "overdue_milestone")


def live(as_of: date) -> ColumnElement[bool]:
    """Open escalations raised by `as_of` whose cause has not gone: their item is still open (and, for an
    overdue item, still due on the date it missed), their report still not sent."""
    item = LedgerItem.__table__.c
    open_item = (
        select(item.id)
        .where(
            item.code == Escalation.item_code,
            item.status.not_in(TERMINAL),
            or_(Escalation.cause != "overdue_item", item.deadline == Escalation.missed_due),
        )
        .exists()
    )
    report = Submission.__table__.c
    unsent = (
        select(report.id)
        .where(report.unit == Escalation.unit, report.period == Escalation.period, report.status.in_(OUTSTANDING))
        .exists()
    )
    return and_(
        col(Escalation.resolved_on).is_(None),
        Escalation.raised_on <= as_of,
        or_(col(Escalation.item_code).is_(None), col(Escalation.cause).not_in(ITEM_CAUSES), open_item),
        or_(Escalation.cause != "missing_submission", unsent),
    )


def subject():  # noqa: ANN201 - a SQL expression
    """The matter an escalation is about: its item, else its cause (one report, one campaign answer...)."""
    return func.coalesce(Escalation.item_code, Escalation.cause_key)


def counts_by_level(session: Session, as_of: date, unit: str | None = None) -> dict[int, int]:
    """How many matters are supervised at each level (each counted once, at its highest level), for one
    unit or the whole district: two indexed aggregates, whatever the number of notices behind them."""
    highest = select(subject().label("subject"), func.max(Escalation.level).label("level")).where(live(as_of))
    if unit:
        highest = highest.where(Escalation.unit == unit)
    per_subject = highest.group_by(subject(), Escalation.unit).subquery()
    rows = session.exec(select(per_subject.c.level, func.count()).group_by(per_subject.c.level)).all()
    return {level: n for level, n in rows}


@dataclass(frozen=True)
class Supervised:
    """One matter under supervision, at its highest level, with the notice that raised it there."""

    unit: str
    subject: str
    title: str
    page: str
    level: int
    level_label: str
    since: date
    missed_due: date
    escalation_id: int


def supervised(session: Session, as_of: date, unit: str | None = None) -> list[Supervised]:
    """The matters under supervision (highest level first), each once: what `counts_by_level` counts."""
    query = select(Escalation).where(live(as_of))
    if unit:
        query = query.where(Escalation.unit == unit)
    top: dict[tuple[str, str], Escalation] = {}
    for e in session.exec(query.order_by(col(Escalation.level), col(Escalation.id))):
        top[(e.unit, e.item_code or e.cause_key)] = e  # the last is the highest level (the latest at that level)
    shown = [
        Supervised(
            unit=e.unit,
            subject=e.item_code or e.cause_key,
            title=title_of(e),
            page=page_of(e),
            level=e.level,
            level_label=LEVEL[e.level],
            since=e.raised_on,
            missed_due=e.missed_due,
            escalation_id=e.id,
        )
        for e in top.values()
    ]
    return sorted(shown, key=lambda s: (-s.level, s.unit, s.subject))


def title_of(e: Escalation) -> str:
    """What the escalation is about, as a clerk reads it: 问题PT2022-0003逾期, 2022年12月报送逾期未报送."""
    cause = ESCALATION_CAUSE.get(e.cause, "（未知）")
    if e.item_code:
        return f"问题{e.item_code}：{cause}"
    if e.period:
        return f"{cn_period(e.period)}整治进度报送：{cause}"
    kind, _, rest = e.cause_key.partition(":")
    if kind in ("countersign", "resubmit"):
        return f"项目{rest.split(':', 1)[0]}：{cause}"
    if kind == "ack":
        return f"{NOTICE_KIND.get(rest.split(':', 1)[0], '通知')}：{cause}"
    return cause


def page_of(e: Escalation) -> str:
    """The page where the matter is answered (the escalation's notice when there is no better one)."""
    if e.item_code:
        return f"/items/{e.item_code}"
    if e.period:
        return f"/reports/{e.period}"
    kind, _, rest = e.cause_key.partition(":")
    if kind in ("countersign", "resubmit"):
        return f"/projects/{rest.split(':', 1)[0]}"
    if kind == "deliverable":
        return "/deliverables"
    if kind == "campaign":
        return f"/campaigns/{rest.split(':', 1)[0]}"
    if kind == "ack":  # ack:{kind}:{key}:{unit}@{due}: the notice left unsigned
        signed_for, key = rest.split(":")[:2]
        return f"/notices/{signed_for}/{key}"
    return f"/notices/escalation/{e.id}"
