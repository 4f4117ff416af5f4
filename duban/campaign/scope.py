"""Which items a campaign covers: the Office's filters, checked against the plan and described in Chinese."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlmodel import Session

from duban.plan import Plan
from duban.state.status import ItemState, is_overdue, item_states


class CampaignError(Exception):
    """A campaign that cannot be started, answered or shown as asked; the message is for the Office."""


@dataclass(frozen=True)
class Scope:
    categories: tuple[str, ...] = ()  # category codes
    facility_types: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()  # lead departments
    stages: tuple[str, ...] = ()  # stage codes
    overdue_only: bool = False
    key_only: bool = False

    @classmethod
    def checked(
        cls,
        plan: Plan,
        *,
        categories: tuple[str, ...] = (),
        facility_types: tuple[str, ...] = (),
        townships: tuple[str, ...] = (),
        departments: tuple[str, ...] = (),
        stages: tuple[str, ...] = (),
        overdue_only: bool = False,
        key_only: bool = False,
    ) -> Scope:
        """Names or codes as the Office types them, as the plan's codes; every unknown one is named."""
        problems: list[str] = []
        codes = _codes(categories, plan.categories, "设施类别", problems)
        known_types = {t for c in plan.categories for t in c.facility_types}
        problems += [f"设施类型“{t}”不在方案中" for t in facility_types if t not in known_types]
        problems += [f"“{t}”不是方案中的镇办" for t in townships if t not in plan.township_names()]
        problems += [f"“{d}”不是方案中的牵头部门" for d in departments if d not in plan.department_names()]
        stage_codes = _codes(stages, plan.stages, "问题环节", problems)
        if problems:
            raise CampaignError("；".join(problems))
        return cls(
            categories=tuple(sorted(set(codes))),
            facility_types=tuple(sorted(set(facility_types))),
            townships=tuple(sorted(set(townships))),
            departments=tuple(sorted(set(departments))),
            stages=tuple(sorted(set(stage_codes))),
            overdue_only=overdue_only,
            key_only=key_only,
        )

    @classmethod
    def from_json(cls, data: dict) -> Scope:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def as_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def describe(self, plan: Plan) -> str:
        """The scope as a bulletin or a notice says it, e.g. “教育设施（幼儿园）；重点难点问题”."""
        parts = []
        if self.categories:
            parts.append("、".join(plan.category(c).name for c in self.categories))
        if self.facility_types:
            parts.append("、".join(self.facility_types))
        if self.stages:
            names = {s.code: s.name for s in plan.stages}
            parts.append("、".join(f"{names[s]}环节" for s in self.stages))
        if self.townships:
            parts.append("、".join(self.townships))
        if self.departments:
            parts.append("、".join(self.departments) + "牵头")
        if self.overdue_only:
            parts.append("逾期未完成")
        if self.key_only:
            parts.append("重点难点")
        return "；".join(parts) + "的未销号问题" if parts else "全部未销号问题"


def _codes(values: tuple[str, ...], options: tuple, label: str, problems: list[str]) -> list[str]:
    """The plan's codes for values typed as a code or a Chinese name; each unknown one added to `problems`."""
    codes = []
    for value in values:
        found = next((o for o in options if value in (o.code, o.name)), None)
        if found is None:
            problems.append(f"{label}“{value}”不在方案中（可选：{'、'.join(o.name for o in options)}）")
        else:
            codes.append(found.code)
    return codes


def select_items(session: Session, plan: Plan, scope: Scope, as_of: date) -> list[ItemState]:
    """The open items in scope as things stood on `as_of`, in ledger order."""
    states = item_states(session, plan, as_of, open_only=True)

    def wanted(state: ItemState) -> bool:
        return (
            (not scope.categories or state.category in scope.categories)
            and (not scope.facility_types or state.facility_type in scope.facility_types)
            and (not scope.townships or state.township in scope.townships)
            and (not scope.departments or state.lead_department in scope.departments)
            and (not scope.stages or state.stage in scope.stages)
            and (not scope.overdue_only or is_overdue(state, as_of))
            and (not scope.key_only or state.key_difficult)
        )

    return [s for s in states if wanted(s)]
