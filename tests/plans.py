"""The sample plan with extra contact channels or bulletin settings: for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import yaml

PLAN = Path(__file__).resolve().parents[1] / "plans" / "community-facilities-2022.yaml"


def plan_with(folder: Path, channels: dict[str, list[dict]], *, bulletin: dict | None = None) -> Path:
    """Write the sample plan, with `channels` as the contacts of the units named and `bulletin`'s keys
    over its bulletin settings, into `folder`."""
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["bulletin"].update(bulletin or {})
    chain = data["chain"]
    units = chain["departments"] + chain["townships"] + [chain["office"]] + chain["leadership_group"]["leaders"]
    for unit in units:
        if unit["name"] in channels:
            unit["contacts"] = [{"name": "联络员", "channels": channels[unit["name"]]}]
    path = folder / "plan.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def without_second_factor(folder: Path) -> Path:
    """The sample plan with no role bound to a second factor: for portals whose tests are about other
    things than signing in with one (tests/test_second_factor.py signs in with it)."""
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["portal"]["second_factor_roles"] = []
    path = folder / "plan-one-factor.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
