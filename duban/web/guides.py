"""The 用户手册 (the guide of each unit kind) from one data file, duban/web/help/guides.yaml: the portal's
/help shows it, and the manual's 用户手册 pages are rendered from it (scripts/docs_reference.py), so the two
never say different things. Dates and limits in the text are the plan's."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from duban.plan import Plan

SOURCE = Path(__file__).with_name("help") / "guides.yaml"
KINDS = ("township", "department", "office", "leader")  # one guide per unit kind; `common` ends every one


@dataclass(frozen=True)
class Section:
    """One heading of a guide: numbered steps, or a paragraph."""

    title: str
    steps: tuple[str, ...] = ()
    text: str = ""


def values(plan: Plan) -> dict[str, object]:
    """What the guides' {names} stand for: the plan's reporting days and password rule."""
    return {
        "township_due_day": plan.reporting.township_due_day,
        "department_due_day": plan.reporting.department_due_day,
        "resubmit_within_working_days": plan.reporting.resubmit_within_working_days,
        "password_min_length": plan.portal.password_min_length,
    }


@cache
def _raw() -> dict[str, list[dict]]:
    return yaml.safe_load(SOURCE.read_text(encoding="utf-8"))


def guides(plan: Plan) -> dict[str, tuple[Section, ...]]:
    """Every guide (KINDS and `common`) with the plan's values filled in."""
    filled = values(plan)
    return {
        kind: tuple(
            Section(
                title=part["title"],
                steps=tuple(step.format_map(filled) for step in part.get("steps", ())),
                text=part.get("text", "").format_map(filled),
            )
            for part in parts
        )
        for kind, parts in _raw().items()
    }
