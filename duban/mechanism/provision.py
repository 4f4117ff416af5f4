"""What a project must provide under the plan's standards (配建标准), against what its developer commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select
from sqlmodel import Session, col, select

from duban.plan import Plan, Standard
from models import Project, Waiver


@dataclass(frozen=True)
class Provision:
    standard: Standard
    required: int
    committed: int
    waiver: Waiver | None = None

    @property
    def shortfall(self) -> int:
        return max(0, self.required - self.committed)

    @property
    def waived(self) -> int:
        """How much of the shortfall the Office waived: no more than the shortfall it saw."""
        return min(self.shortfall, self.waiver.shortfall) if self.waiver else 0

    @property
    def blocking(self) -> bool:
        return self.shortfall > self.waived

    def said(self) -> str:
        """社区用房应配建375平方米，承诺300平方米，缺口75平方米."""
        s = self.standard
        return f"{s.facility}应配建{self.required}{s.unit}，承诺{self.committed}{s.unit}，缺口{self.shortfall}{s.unit}"


def provisions(
    session: Session, plan: Plan, project: Project, waivers: dict[str, Waiver] | None = None
) -> list[Provision]:
    """Every standard of the plan, in its order, for this project; `waivers` when already loaded."""
    if waivers is None:
        waivers = {w.standard: w for w in session.exec(select(Waiver).where(Waiver.project_id == project.id))}
    return [
        Provision(
            standard=s,
            required=s.required(project.households),
            committed=int(project.commitments.get(s.code, 0)),
            waiver=waivers.get(s.code),
        )
        for s in plan.mechanism.standards
    ]


def all_waivers(session: Session, among: Select | None = None) -> dict[int, dict[str, Waiver]]:
    """Every project's waivers (`among`: a query of the project ids wanted) at once, for lists of
    projects: one query, not one per project."""
    query = select(Waiver) if among is None else select(Waiver).where(col(Waiver.project_id).in_(among))
    found: dict[int, dict[str, Waiver]] = {}
    for waiver in session.exec(query):
        found.setdefault(waiver.project_id, {})[waiver.standard] = waiver
    return found


def shortfalls_said(rows: list[Provision], *, blocking_only: bool = True) -> str:
    return "；".join(p.said() for p in rows if (p.blocking if blocking_only else p.shortfall))
