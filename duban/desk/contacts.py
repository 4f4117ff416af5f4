"""Whom a unit asks: the Office, and the lead departments of its items, with their contacts from the plan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from duban.plan import Plan
from models import LedgerItem


@dataclass(frozen=True)
class Desk:
    unit: str
    full_name: str
    why: str  # 领导小组办公室, 牵头部门（养老服务设施、社区用房）
    name: str
    phone: str
    email: str


def desks(session: Session, plan: Plan, unit: str, kind: str) -> list[Desk]:
    """The Office first; then a township's lead departments (those leading its items), a department's
    townships are many and ask it, so it sees the Office only; the Office sees every unit's."""
    names = {c.code: c.name for c in plan.categories}
    why: dict[str, str] = {plan.office.name: "领导小组办公室"}
    if kind == "township":
        led: dict[str, set[str]] = {}
        query = select(LedgerItem.lead_department, LedgerItem.category).where(LedgerItem.township == unit).distinct()
        for lead, category in session.exec(query):
            led.setdefault(lead, set()).add(names.get(category, category))
        for lead in sorted(led):
            why[lead] = f"牵头部门（{'、'.join(sorted(led[lead]))}）"
    elif kind == "office":
        for other_kind, other in plan.units():
            if other_kind in ("department", "township"):
                why.setdefault(other.name, "牵头部门" if other_kind == "department" else "镇办")
    found = []
    units = {u.name: u for _, u in plan.units()}
    for name, reason in why.items():
        other = units.get(name)
        if other is None or not other.contacts:
            continue
        first = other.contacts[0]
        label = first.name + (f"（{first.role}）" if first.role else "")
        found.append(Desk(name, other.full_name or name, reason, label, first.phone, first.email))
    return found
