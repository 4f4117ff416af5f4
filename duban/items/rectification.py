"""One case, one plan (一事一案): an item's rectification plan and its kept revisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, insert, true
from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.items.closeout import TERMINAL, ClosureError, ensure_in_order, get_item, roles_of, status_change
from duban.plan import Plan
from models import LedgerItem, PlanMilestone, RectificationPlan


@dataclass(frozen=True)
class PlanInput:
    measures: str
    deadline: date
    lead_unit: str
    responsible_unit: str
    milestones: tuple[tuple[date, str], ...] = ()

    def as_dict(self) -> dict:
        return {
            "measures": self.measures,
            "deadline": self.deadline.isoformat(),
            "lead_unit": self.lead_unit,
            "responsible_unit": self.responsible_unit,
            "milestones": [[due.isoformat(), title] for due, title in self.milestones],
        }


def current(session: Session, item: LedgerItem) -> RectificationPlan | None:
    query = select(RectificationPlan).where(RectificationPlan.item_id == item.id)
    return session.exec(query.order_by(col(RectificationPlan.revision).desc())).first()


def revisions(session: Session, item: LedgerItem) -> list[RectificationPlan]:
    query = select(RectificationPlan).where(RectificationPlan.item_id == item.id)
    return list(session.exec(query.order_by(col(RectificationPlan.revision))))


def milestones(session: Session, plan: RectificationPlan) -> list[PlanMilestone]:
    query = select(PlanMilestone).where(PlanMilestone.plan_id == plan.id)
    return list(session.exec(query.order_by(col(PlanMilestone.seq))))


def as_input(session: Session, plan: RectificationPlan) -> PlanInput:
    return PlanInput(
        measures=plan.measures,
        deadline=plan.deadline,
        lead_unit=plan.lead_unit,
        responsible_unit=plan.responsible_unit,
        milestones=tuple((m.due, m.title) for m in milestones(session, plan)),
    )


def milestone_problems(new: PlanInput) -> list[str]:
    return [
        f"时间节点“{title}”（{due.isoformat()}）晚于完成时限 {new.deadline.isoformat()}"
        for due, title in new.milestones
        if due > new.deadline
    ]


def in_force(session: Session, item_ids: list[int] | None = None) -> dict[int, PlanInput]:
    """The plan in force of each item that has one (of the given items, or all), in two queries."""
    query = select(RectificationPlan).join(
        LedgerItem,
        and_(
            col(LedgerItem.id) == RectificationPlan.item_id, col(LedgerItem.plan_revision) == RectificationPlan.revision
        ),
    )
    if item_ids is not None:
        query = query.where(col(RectificationPlan.item_id).in_(item_ids))
    plans = {p.id: p for p in session.exec(query)}
    steps: dict[int, list[tuple[date, str]]] = {}
    if plans:
        rows = select(PlanMilestone).where(col(PlanMilestone.plan_id).in_(list(plans)) if item_ids else true())
        for step in session.exec(rows.order_by(col(PlanMilestone.plan_id), col(PlanMilestone.seq))):
            if step.plan_id in plans:
                steps.setdefault(step.plan_id, []).append((step.due, step.title))
    return {
        p.item_id: PlanInput(
            measures=p.measures,
            deadline=p.deadline,
            lead_unit=p.lead_unit,
            responsible_unit=p.responsible_unit,
            milestones=tuple(steps.get(p.id, ())),
        )
        for p in plans.values()
    }


def revise(
    session: Session, item: LedgerItem, new: PlanInput, *, actor: str, as_of: date, note: str = ""
) -> RectificationPlan | None:
    """Append a revision when the plan differs from the one in force; None when nothing changed."""
    batch = plan_revisions([(item, new, note)], in_force(session, [item.id]), actor=actor, as_of=as_of)
    if not batch.revised:
        return None
    session.add(item)
    return session.get(RectificationPlan, write_revisions(session, batch)[0])


@dataclass
class Revisions:
    """Plan revisions decided, their items' kept state already moved; written by `write_revisions`
    once every item has its id (an import's new rows are inserted in between)."""

    actor: str
    as_of: date
    revised: list[tuple[Any, PlanInput]] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)


def plan_revisions(
    changes: list[tuple[Any, PlanInput, str]], olds: dict[int, PlanInput], *, actor: str, as_of: date
) -> Revisions:
    """Decide many items' revisions at once: `olds` are their plans in force (`in_force`).

    An item is a LedgerItem or a plain record with its fields: its deadline, revision and status
    are set here, so it is written as it ends up, and the audit entries tell every step.
    """
    batch, moves = Revisions(actor, as_of), []
    for item, new, note in changes:
        before = olds.get(item.id) if item.id is not None else None
        if before == new:
            continue
        item.deadline, item.plan_revision = new.deadline, item.plan_revision + 1
        batch.revised.append((item, new))
        batch.entries.append(
            {
                "actor": actor,
                "subject": "item",
                "key": item.code,
                "action": "plan",
                "effective_on": as_of,
                "before": before.as_dict() if before else None,
                "after": {"revision": item.plan_revision, **new.as_dict()},
                "note": note,
            }
        )
        if item.status == "open":
            moves.append(status_change(item, "planned", actor=actor, as_of=as_of, note=note, action="制定整治方案"))
    batch.entries += moves
    return batch


def write_revisions(session: Session, batch: Revisions, preceding: list[dict] | None = None) -> list[int]:
    """Insert the revisions, their milestones and the audit entries (after `preceding`) in bulk."""
    session.flush()
    table, made_at = RectificationPlan.__table__, datetime.now(UTC)
    rows = [
        {
            "item_id": item.id,
            "revision": item.plan_revision,
            "measures": new.measures,
            "lead_unit": new.lead_unit,
            "responsible_unit": new.responsible_unit,
            "deadline": new.deadline,
            "effective_on": batch.as_of,
            "made_by": batch.actor,
            "made_at": made_at,
        }
        for item, new in batch.revised
    ]
    ids = []
    if rows:
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(statement, rows).scalars())
    steps = [
        {"plan_id": plan_id, "seq": seq, "title": title, "due": due}
        for plan_id, (_, new) in zip(ids, batch.revised, strict=True)
        for seq, (due, title) in enumerate(new.milestones, start=1)
    ]
    if steps:
        session.execute(insert(PlanMilestone.__table__), steps)
    audit.record_all(session, [*(preceding or []), *batch.entries])
    return ids


def make_plan(
    session: Session,
    plan: Plan,
    *,
    code: str,
    by: str,
    as_of: date,
    measures: str | None = None,
    deadline: date | None = None,
    milestones_in: tuple[tuple[date, str], ...] | None = None,
    note: str = "",
) -> RectificationPlan | None:
    """A unit of the item's chain makes or revises its plan; unchanged fields are carried over."""
    if measures:
        measures = textgate.clean(measures, multiline=True, limit=textgate.NOTE_LIMIT, field="整改措施")
    note = textgate.clean(note, multiline=True, limit=textgate.NOTE_LIMIT, field="说明")
    if milestones_in is not None:
        milestones_in = tuple(
            (when, textgate.clean(label, limit=textgate.TITLE_LIMIT, field="时间节点")) for when, label in milestones_in
        )
    item = get_item(session, code)
    if not roles_of(plan, item, by):
        raise ClosureError(
            f"“{by}”无权修改问题{code}的整治方案：只有责任单位{item.responsible_unit}、"
            f"牵头部门{item.lead_department}或{plan.office.name}可以"
        )
    if item.status in TERMINAL:
        raise ClosureError(f"问题{code}已{'销号' if item.status == 'closed' else '撤销'}，不能再修改整治方案")
    old = current(session, item)
    base = as_input(session, old) if old else None
    if (measures or (base and base.measures)) is None or (deadline or (base and base.deadline)) is None:
        raise ClosureError(f"问题{code}尚无整治方案：首次制定须同时填写整治措施（--measures）和完成时限（--deadline）")
    new = PlanInput(
        measures=measures or base.measures,
        deadline=deadline or base.deadline,
        lead_unit=item.lead_department,
        responsible_unit=item.responsible_unit,
        milestones=milestones_in if milestones_in is not None else (base.milestones if base else ()),
    )
    problems = milestone_problems(new)
    if problems:
        raise ClosureError("；".join(problems))
    ensure_in_order(session, item, as_of)
    return revise(session, item, new, actor=by, as_of=as_of, note=note)
