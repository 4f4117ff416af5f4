"""`duban check`: the state each item keeps, held against the state its audit log tells.

The kept state answers today's questions fast; the log is the record. Any difference means a
change reached one and not the other (a hand edit of the database, a bug), and is reported field
by field; `repair` puts the log's values back and records that it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from duban import audit
from duban.items.log import ITEM_FIELDS, LoggedItem, replay
from duban.items.rectification import in_force
from duban.items.view import FIELD_LABELS as ITEM_LABELS
from models import LedgerItem

STATE_FIELDS = ("status", "progress", "deadline", "plan_revision")
FIELD_LABELS = {**ITEM_LABELS, "item": "问题", "plan_revision": "方案版本", "plan": "在用整治方案"}
ABSENT = "（无）"


@dataclass(frozen=True)
class Difference:
    code: str
    field: str
    kept: object
    logged: object

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "field": self.field,
            "kept": _plain(self.kept),
            "logged": _plain(self.logged),
        }


def differences(session: Session) -> list[Difference]:
    """Every field where an item's kept state and its replayed log disagree, by code."""
    logged = replay(session)
    kept = {item.code: item for item in session.exec(select(LedgerItem))}
    plans = in_force(session)
    found = []
    for code in sorted(kept.keys() | logged.keys()):
        item, log = kept.get(code), logged.get(code)
        if item is None or log is None:
            found.append(Difference(code, "item", "存在" if item else ABSENT, "存在" if log else ABSENT))
            continue
        found += _item_differences(item, log)
        plan = plans.get(item.id)  # the kept revision's row, as its deadline and milestones were kept
        if log.plan_revision and (plan is None or plan.deadline != log.deadline):
            found.append(Difference(code, "plan", plan.deadline if plan else ABSENT, log.deadline))
        elif plan is not None and plan.milestones != log.milestones:
            found.append(Difference(code, "plan", _steps(plan.milestones), _steps(log.milestones)))
    return found


def repair(session: Session, found: list[Difference], *, actor: str, as_of: date) -> int:
    """Put the log's values back into the kept state; returns how many items changed."""
    fixable = [d for d in found if d.field in ITEM_FIELDS + STATE_FIELDS]
    items = {item.code: item for item in session.exec(select(LedgerItem))}
    for difference in fixable:
        setattr(items[difference.code], difference.field, difference.logged)
    codes = sorted({d.code for d in fixable})
    if codes:
        audit.record(
            session,
            actor=actor,
            subject="ledger",
            key="state",
            action="repair",
            effective_on=as_of,
            before={"items": codes, "fields": [d.as_dict() for d in fixable]},
            note=f"按审计日志修复{len(codes)}项问题的现状数据",
        )
    return len(codes)


def _item_differences(item: LedgerItem, log: LoggedItem) -> list[Difference]:
    pairs = [(name, getattr(item, name), log.fields.get(name)) for name in ITEM_FIELDS]
    pairs += [(name, getattr(item, name), getattr(log, name)) for name in STATE_FIELDS]
    return [Difference(item.code, name, kept, logged) for name, kept, logged in pairs if kept != logged]


def _steps(steps: tuple[tuple[date, str], ...]) -> str:
    return "；".join(f"{due.isoformat()} {title}" for due, title in steps) or ABSENT


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value
