"""One case, one plan (一事一案): an item's rectification plan and its kept revisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.closeout import TERMINAL, ClosureError, ensure_in_order, get_item, roles_of, set_status
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


def revise(
    session: Session, item: LedgerItem, new: PlanInput, *, actor: str, as_of: date, note: str = ""
) -> RectificationPlan | None:
    """Append a revision when the plan differs from the one in force; None when nothing changed."""
    old = current(session, item)
    before = as_input(session, old) if old else None
    if before == new:
        return None
    revision = RectificationPlan(
        item_id=item.id,
        revision=(old.revision + 1) if old else 1,
        measures=new.measures,
        lead_unit=new.lead_unit,
        responsible_unit=new.responsible_unit,
        deadline=new.deadline,
        effective_on=as_of,
        made_by=actor,
        made_at=datetime.now(UTC),
    )
    session.add(revision)
    session.flush()
    for seq, (due, title) in enumerate(new.milestones, start=1):
        session.add(PlanMilestone(plan_id=revision.id, seq=seq, title=title, due=due))
    audit.record(
        session,
        actor=actor,
        subject="item",
        key=item.code,
        action="plan",
        effective_on=as_of,
        before=before.as_dict() if before else None,
        after={"revision": revision.revision, **new.as_dict()},
        note=note,
    )
    if item.status == "open":
        set_status(session, item, "planned", actor=actor, as_of=as_of, note=note, action="制定整治方案")
    return revision


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
