"""The manual's reference against the code it is written from (scripts/docs_reference.py), the 用户手册
against the portal's /help source, the benchmark page against its JSON, and the README's size.

Why: a reference that forgets a setting is worse than none; these fail when a plan key, a DUBAN_*
variable or a command exists in the code and not in the manual (or the other way round).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import re
import sys
import typing
from pathlib import Path
from types import ModuleType

import click
import yaml
from pydantic import BaseModel

from duban import config
from duban import plan as schema
from duban.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("duban", "models", "tasks", "flows", "notifications", "deployments")  # what `pip install` ships
# a DUBAN_ name in code or text; `DUBAN_WECOM_*` and `DUBAN_WECOM_…` (a family named by the plan) are not names
VARIABLE = re.compile(r"\bDUBAN_[A-Z0-9_]+\b(?![*…])")


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


reference = _module(ROOT / "scripts" / "docs_reference.py")
results_page = _module(ROOT / "benchmarks" / "results_page.py")


def _source_without_registry() -> str:
    """Every shipped .py file, with config.py's ENVIRONMENT literal cut out (it must not count as a use)."""
    texts = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if path == ROOT / "duban" / "config.py":
                node = next(
                    n
                    for n in ast.parse(text).body
                    if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "ENVIRONMENT"
                )
                text = text.replace(ast.get_source_segment(text, node) or "", "")
            texts.append(text)
    return "\n".join(texts)


def test_every_duban_variable_in_the_source_is_in_the_registry_and_the_page_and_none_is_stale() -> None:
    source = _source_without_registry()
    found = set(VARIABLE.findall(source))
    registered = {name for name in config.ENVIRONMENT if name.startswith("DUBAN_")}
    assert len(found) >= 23  # when written: 23 names (grep -rhoE 'DUBAN_[A-Z0-9_]+' over the packages); a floor
    assert found - registered == set(), "read by the code, missing from duban/config.py ENVIRONMENT"
    assert registered - found == set(), "in ENVIRONMENT but read nowhere"
    assert "PREFECT_API_URL" in config.ENVIRONMENT and "PREFECT_API_URL" in source
    page = reference.environment_page()
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| (.*?) \|", page, re.M))
    assert set(rows) == set(config.ENVIRONMENT)
    assert rows["DUBAN_DELIVERY"] == "`file`"
    assert rows["DUBAN_SMTP_TIMEOUT"] == "20 s"
    assert all(meaning for _default, meaning in config.ENVIRONMENT.values())


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[tuple[str, str]]:
    """(model, field) for every field reachable from `model`, walked here independently of the generator."""
    pairs: set[tuple[str, str]] = set()
    if model in seen:
        return pairs
    seen.add(model)
    for name, field in model.model_fields.items():
        pairs.add((model.__name__, name))
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                pairs |= _fields(annotation, seen)
            stack.extend(a for a in typing.get_args(annotation) if a is not Ellipsis)
    return pairs


def test_every_plan_key_is_listed_with_a_type_a_default_and_a_meaning() -> None:
    keys = reference.plan_keys()
    paths = {key.path for key in keys}
    names = {path.rsplit(".", 1)[-1] for path in paths}
    assert {name for _model, name in _fields(schema.Plan, set())} <= names
    assert set(schema.Plan.model_fields) <= paths  # every section at the top
    assert [key.path for key in keys if not key.meaning] == []
    by_path = {key.path: key for key in keys}
    # hand-checked rows: the schema's own default, type and description
    assert by_path["reporting.township_due_day"] == reference.Key(
        "reporting.township_due_day",
        "integer",
        "`5`",
        "the day of the month townships report to their lead departments by",
    )
    assert by_path["chain.townships[].reports_by_day"].default == "`null`"
    assert by_path["chain.townships[].reports_by_day"].type == "integer or null"
    assert by_path["portal.session_hours"].meaning == "a session ends this long after sign-in"  # a comment in plan.py
    assert by_path["portal.page_rows"].default == "`100`"
    assert by_path["escalation.overdue_item.level2"].default == "required"
    assert by_path["reporting.due_on_holiday"].type == "`next_working_day` \\| `keep`"
    assert by_path["notifications.office_hours"].default == '`["08:30", "17:30"]`'
    assert "chain.townships[].contacts[].channels[] (type: wecom).key_env" in paths
    page = reference.plan_page()
    for key in keys:
        assert f"| `{key.path}` |" in page


def _commands(group: click.Group, prefix: str, ctx: click.Context) -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found[f"{prefix} {name}"] = command
        if isinstance(command, click.Group):
            found |= _commands(command, f"{prefix} {name}", click.Context(command, info_name=name, parent=ctx))
    return found


def test_every_command_is_listed_with_its_options_and_help() -> None:
    page = reference.commands_page()
    sections = dict(re.findall(r"^## `(duban[^`]*)`\n(.*?)(?=^## `|\Z)", page, re.M | re.S))
    every = _commands(main, "duban", click.Context(main, info_name="duban"))
    assert {"duban init", "duban ledger import", "duban status", "duban portal", "duban user add"} <= set(every)
    assert set(sections) == {"duban", *every}
    for name, command in every.items():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in sections[name], f"{name}: {opt}"
        if command.help:
            assert command.help.strip().splitlines()[0] in sections[name]


def test_the_manual_for_each_role_is_the_text_the_portal_shows() -> None:
    from duban.plan import load_plan
    from duban.web.guides import KINDS, SOURCE, guides

    template = (ROOT / "duban" / "web" / "templates" / "help.html").read_text(encoding="utf-8")
    raw = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    assert set(raw) == {*KINDS, "common"}
    for part in (p for parts in raw.values() for p in parts):  # one source: no guide text left in the template
        assert part["title"] not in template
    pages = reference.manual_pages()
    sample, _ = load_plan(reference.SAMPLE_PLAN)
    filled = guides(sample)
    for kind in KINDS:
        page = pages[f"manual/{kind}.md"]
        for section in (*filled[kind], *filled["common"]):
            assert f"## {section.title}" in page
            for n, step in enumerate(section.steps, 1):
                assert f"{n}. {step}" in page
            assert section.text in page
    # the sample plan's dates, filled in by hand: townships by the 5th, departments by the 10th, 12 characters
    assert "于每月5日前报送。" in pages["manual/township.md"]
    assert "于每月10日前报送领导小组办公室。" in pages["manual/department.md"]
    assert "至少12个字符" in pages["manual/leader.md"]


def test_the_benchmark_page_is_the_render_of_its_json() -> None:
    report = json.loads((ROOT / "docs" / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    page = (ROOT / "docs" / "benchmarks" / "results.md").read_text(encoding="utf-8")
    assert page == results_page.render(report)
    # June's row and its growth on SQLite, computed again from the JSON (whichever run it holds)
    june = [run["steps"]["cycle"] for run in report["runs"]]
    cells = " | ".join(f"{s['wall_s']:.2f} / {s['cpu_s']:.2f} / {s['peak_mib']:.0f}" for s in june)
    assert f"| {cells} | < 60 s |" in page
    small, large = sorted((r for r in report["runs"] if r["backend"] == "sqlite"), key=lambda r: r["items"])[-2:]
    net = [run["steps"]["cycle"]["wall_s"] - run["steps"]["startup"]["wall_s"] for run in (small, large)]
    k = math.log(net[1] / net[0]) / math.log(large["items"] / small["items"])
    assert f"cycle {k:.2f}" in results_page.growth(report)[0]
    assert f"the whole run took {report['took_s'] / 60:.1f} min" in page


def test_the_readme_is_short_keeps_the_two_commands_and_its_links_work() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 15 * 1024
    assert "make demo    # sets everything up" in readme and "make test    # sets everything up" in readme
    assert "CI's\n`.ci/run` installs it itself" in readme
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme)
    assert len(links) > 20
    assert [link for link in links if not (ROOT / link).exists()] == []
