"""Start-up: `duban` loads a command's module, and the libraries it needs, only when that command runs.

Guarded without timing (a loaded machine would make a timed test flaky): each check runs in a fresh
interpreter and reads `sys.modules` after `import duban.cli`, after `duban --help`, and after `duban status`
run in that process. The times themselves are `make bench`'s `startup` and `status-today` steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from conftest import ROOT, Cli, sample_rows

from duban.cli import COMMANDS, main

# What only some commands need: Prefect (--engine, serve, deploy), WeasyPrint and matplotlib (bulletins),
# openpyxl (spreadsheets), FastAPI and uvicorn (the portal).
HEAVY = {"prefect", "weasyprint", "matplotlib", "openpyxl", "fastapi", "uvicorn"}

# Runs `duban ARGS` (none: only imports duban.cli) in this fresh process, then writes the exit status
# and every module loaded to the file named second.
PROBE = """
import json, sys
from duban.cli import main
args, report = json.loads(sys.argv[1]), sys.argv[2]
code = None
if args is not None:
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
with open(report, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def _probe(tmp_path: Path, args: list[str] | None) -> tuple[int | None, set[str], str]:
    """(exit status, modules loaded, stdout) of `duban ARGS` in a new interpreter (killed after 120 s)."""
    report = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(report.read_text(encoding="utf-8"))
    return found["code"], set(found["modules"]), run.stdout


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def _commands(modules: set[str]) -> list[str]:
    """The modules defining commands that were loaded."""
    defining = {target.partition(":")[0] for target in COMMANDS.values()}
    return sorted(m for m in modules if m in defining)


def test_importing_the_cli_loads_no_command(tmp_path: Path) -> None:
    code, modules, _ = _probe(tmp_path, None)
    assert code is None
    assert _heavy(modules) == []
    assert _commands(modules) == []
    assert sorted(m for m in modules if m.split(".")[0] in {"duban", "models", "notifications"}) == [
        "duban",
        "duban.cli",
    ]
    assert "sqlalchemy" not in modules


def test_help_lists_every_command_without_the_heavy_libraries(tmp_path: Path) -> None:
    code, modules, output = _probe(tmp_path, ["--help"])
    assert code == 0
    assert _heavy(modules) == []
    section = output.split("Commands:\n", 1)[1]
    listed = [line.split()[0] for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert listed == sorted(COMMANDS)
    assert len(COMMANDS) == 25


def test_status_loads_only_status(imported: Cli, tmp_path: Path) -> None:
    """Both forms of `duban status` (the table reads the dead-letter warning too): no other command's
    module, none of the heavy libraries, and not the outbox's Jinja templates."""
    for args in (["status", "--as-of", "2022-07-01"], ["status", "--json", "--as-of", "2022-07-01"]):
        code, modules, output = _probe(tmp_path, args)
        assert code == 0, output
        assert _heavy(modules) == []
        assert _commands(modules) == ["duban.commands.status"]
        assert "jinja2" not in modules
        assert "duban.assessment" not in modules
    assert json.loads(output)["items"]["total"] == len(sample_rows())


def test_every_command_is_found_by_its_name() -> None:
    context = click.Context(main, info_name="duban")
    assert main.list_commands(context) == sorted(COMMANDS)
    for name in COMMANDS:
        assert main.get_command(context, name).name == name
    assert main.get_command(context, "nosuch") is None


def test_an_unknown_command_is_refused_with_the_name_meant(tmp_path: Path) -> None:
    """In a fresh interpreter, where no command is loaded yet: click's suggestion comes from the names."""
    run = subprocess.run(
        [sys.executable, "-m", "duban.cli", "stauts"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert "Error: No such command 'stauts'. Did you mean 'status'?" in run.stderr
