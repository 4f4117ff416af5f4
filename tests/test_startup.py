"""Start-up: `duban` loads a command's module, and the libraries it needs, only when that command runs.

Guarded without timing (a loaded machine would make a timed test flaky): each check runs in a fresh
interpreter and reads `sys.modules` after `import duban.cli`, after `duban --help`, and after `duban status`
run in that process. The times themselves are `make bench`'s `startup` and `status-today` steps.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import click
from conftest import ROOT, Cli, sample_rows

from duban.cli import COMMANDS, SUMMARIES, LazyGroup, main

# What only some commands need: Prefect (--engine, serve, deploy), WeasyPrint and matplotlib (bulletins),
# openpyxl (spreadsheets), FastAPI and uvicorn (the portal).
HEAVY = {"prefect", "weasyprint", "matplotlib", "openpyxl", "fastapi", "uvicorn"}
# What `duban --help` needs none of: the database, the models, the plan's schema, the consoles, migrations.
FOR_COMMANDS = {"sqlalchemy", "sqlmodel", "pydantic", "yaml", "rich", "alembic", "jinja2", "models", "notifications"}
# What today's `duban status --json` reads without: the ORM and every table's model (duban/state/tables.py),
# migrations, the audit log's chain, the outbox's templates.
NOT_FOR_STATUS = {"sqlmodel", "sqlalchemy.orm", "models", "alembic", "jinja2", "duban.audit", "duban.audit_chain"}

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


def _within(modules: set[str], packages: set[str]) -> list[str]:
    """The modules that are one of `packages` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


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
    """`duban --help` imports no command module, nor anything a command needs: click alone."""
    code, modules, output = _probe(tmp_path, ["--help"])
    assert code == 0
    assert _heavy(modules) == []
    assert _within(modules, FOR_COMMANDS) == []
    assert sorted(m for m in modules if m.split(".")[0] == "duban") == ["duban", "duban.cli"]
    section = output.split("Commands:\n", 1)[1]
    listed = [line.split()[0] for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert listed == sorted(COMMANDS)
    assert len(COMMANDS) == 25


def test_summaries_are_the_commands_own_help() -> None:
    """What `duban --help` lists without importing a command is the first paragraph of that command's help,
    which click shortens alike (no command sets a short help of its own, or is hidden or deprecated)."""
    context = click.Context(main, info_name="duban")
    assert list(SUMMARIES) == list(COMMANDS)
    for name, summary in SUMMARIES.items():
        command = main.get_command(context, name)
        assert (command.short_help, command.hidden, command.deprecated) == (None, False, False), name
        assert " ".join(command.help.split("\n\n")[0].split()) == summary, name


def test_help_reads_the_same_as_with_every_command_loaded() -> None:
    """The listing of a group with no command loaded yet (from SUMMARIES), against click's own listing of
    the loaded commands, at the widths of a narrow terminal, a pipe and a wide one."""
    fresh = LazyGroup(name="duban", lazy=COMMANDS, summaries=SUMMARIES)
    for width in (50, 80, 200):
        listed = {}
        for group, format_commands in ((fresh, LazyGroup.format_commands), (main, click.Group.format_commands)):
            context = click.Context(group, info_name="duban", terminal_width=width, max_content_width=width)
            formatter = context.make_formatter()
            format_commands(group, context, formatter)
            listed[group] = formatter.getvalue()
        assert fresh.commands == {}
        assert listed[fresh] == listed[main], width
        assert listed[main].count("\n") == len(COMMANDS) + 1


def test_status_loads_only_status(imported: Cli, tmp_path: Path) -> None:
    """Both forms of `duban status` for a day the kept state answers: no other command's module, none of
    the heavy libraries, not the outbox's Jinja templates. The JSON reads without the ORM and the models
    too; the table also says whether a dead-letter report is dead, which the outbox's model answers."""
    for args in (["status", "--as-of", "2022-07-01"], ["status", "--json", "--as-of", "2022-07-01"]):
        code, modules, output = _probe(tmp_path, args)
        assert code == 0, output
        assert _heavy(modules) == []
        assert _commands(modules) == ["duban.commands.status"]
        assert "jinja2" not in modules
        assert "duban.assessment" not in modules
    assert _within(modules, NOT_FOR_STATUS) == []
    assert json.loads(output)["items"]["total"] == len(sample_rows())


def test_status_of_a_past_day_replays_the_log_through_the_orm(imported: Cli, tmp_path: Path) -> None:
    """A day before the import is answered from the audit log, which the ORM reads: the models load then,
    and the answer is that of the day (nothing filed yet)."""
    code, modules, output = _probe(tmp_path, ["status", "--json", "--as-of", "2022-04-07"])
    assert code == 0, output
    assert {"sqlmodel", "models", "duban.items.log"} <= modules
    assert _heavy(modules) == []
    assert json.loads(output)["items"]["total"] == 0


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


def test_status_in_process_leaves_the_collector_on(imported: Cli) -> None:
    """`duban status` pauses the cyclic garbage collector while it runs, and only then."""
    assert gc.isenabled()
    imported("status", "--json", "--as-of", "2022-07-01")
    assert gc.isenabled()
    gc.disable()
    try:
        imported("status", "--json", "--as-of", "2022-07-01")
        assert not gc.isenabled()
    finally:
        gc.enable()
