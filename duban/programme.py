"""Loading a plan into the database; reading the plan in force back out of it is duban/stored_plan.py's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, col, func, select

from duban import audit
from duban.plan import Plan, PlanError, fingerprint
from models import Category, LedgerItem, ProgrammeRecord, ProjectGate, UnitRecord, Waiver


@dataclass
class PlanLoad:
    """What `duban init` changed; empty lists and `changed=False` mean nothing was touched."""

    programme: str
    changed: bool
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def apply_plan(session: Session, plan: Plan, source: str, *, actor: str, as_of: date) -> PlanLoad:
    """Create or update the programme; the same text again changes nothing."""
    digest = fingerprint(source)
    record = session.exec(select(ProgrammeRecord)).first()
    if record is not None and record.code != plan.programme.code:
        raise PlanError(f"数据库已加载方案“{record.code}”，不能再加载“{plan.programme.code}”：每个方案使用单独的数据库")
    result = PlanLoad(programme=plan.programme.code, changed=record is None or record.fingerprint != digest)
    if not result.changed:
        return result

    wanted_units = {
        unit.name: UnitRecord(name=unit.name, kind=kind, full_name=unit.full_name, position=i)
        for i, (kind, unit) in enumerate(plan.units())
    }
    wanted_categories = {
        c.code: Category(
            code=c.code,
            name=c.name,
            lead_department=c.lead_department,
            facility_types=list(c.facility_types),
            position=i,
        )
        for i, c in enumerate(plan.categories)
    }
    _refuse_removing_used(session, wanted_units, wanted_categories)
    _refuse_removing_mechanism_in_use(session, plan)
    stale_units = _sync(session, UnitRecord, "name", wanted_units, result, "单位")
    session.flush()
    stale_categories = _sync(session, Category, "code", wanted_categories, result, "类别")
    for row in stale_categories + stale_units:  # categories first: they point at units
        session.delete(row)

    before = None if record is None else {"fingerprint": record.fingerprint}
    if record is None:
        record = ProgrammeRecord(code=plan.programme.code, title="", source="", fingerprint="", loaded_at=_now())
    record.title, record.source, record.fingerprint, record.loaded_at = (
        plan.programme.title,
        source,
        digest,
        _now(),
    )
    session.add(record)
    audit.record(
        session,
        actor=actor,
        subject="programme",
        key=plan.programme.code,
        action="load" if before is None else "revise",
        effective_on=as_of,
        before=before,
        after={"fingerprint": digest, "added": result.added, "updated": result.updated, "removed": result.removed},
    )
    return result


def _sync(session: Session, model: type, key: str, wanted: dict, result: PlanLoad, label: str) -> list:
    """Add and update rows to match the plan; return the rows the plan no longer has."""
    existing = {getattr(row, key): row for row in session.exec(select(model))}
    for name, row in wanted.items():
        old = existing.get(name)
        if old is None:
            session.add(row)
            result.added.append(f"{label} {name}")
        elif old.model_dump() != row.model_dump():
            if old.model_dump(exclude={"position"}) != row.model_dump(exclude={"position"}):
                result.updated.append(f"{label} {name}")  # a new place in the list is no news
            for attr, value in row.model_dump().items():
                setattr(old, attr, value)
    stale = [row for name, row in existing.items() if name not in wanted]
    result.removed += [f"{label} {getattr(row, key)}" for row in stale]
    return stale


def _refuse_removing_used(session: Session, units: dict, categories: dict) -> None:
    problems = []
    for column, label in (
        (LedgerItem.township, "镇办"),
        (LedgerItem.lead_department, "牵头部门"),
        (LedgerItem.responsible_unit, "责任单位"),
        (LedgerItem.category, "设施类别"),
    ):
        wanted = categories if column is LedgerItem.category else units
        rows = session.exec(select(column, func.count()).group_by(column)).all()
        problems += [f"{label}“{value}”仍有{n}项台账问题" for value, n in rows if value not in wanted]
    if problems:
        raise PlanError("修改后的方案删除了仍在使用的单位或类别：" + "；".join(problems))


def _refuse_removing_mechanism_in_use(session: Session, plan: Plan) -> None:
    """A gate that projects still have open or ahead, or a standard with a waiver, stays in the plan:
    the daily follow-up and the pages read their rules from it."""
    gates = {g.code for g in plan.mechanism.gates}
    standards = {s.code for s in plan.mechanism.standards}
    unfinished = ("waiting", "open", "in_review", "returned")
    used_gates = session.exec(
        select(ProjectGate.gate, func.count()).where(col(ProjectGate.state).in_(unfinished)).group_by(ProjectGate.gate)
    ).all()
    used_standards = session.exec(select(Waiver.standard, func.count()).group_by(Waiver.standard)).all()
    problems = [f"联合审查环节“{g}”仍有{n}个项目未通过" for g, n in used_gates if g not in gates]
    problems += [f"配建标准“{s}”仍有{n}项豁免记录" for s, n in used_standards if s not in standards]
    if problems:
        raise PlanError("修改后的方案删除了仍在使用的联合审查环节或配建标准：" + "；".join(problems))


def _now() -> datetime:
    return datetime.now(UTC)
