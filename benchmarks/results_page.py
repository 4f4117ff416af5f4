"""`make bench`'s table as a page of the manual, from the JSON benchmarks/run.py writes.

    .venv/bin/python benchmarks/results_page.py docs/benchmarks/results.json docs/benchmarks/results.md

Why a page written from the JSON: the numbers are measured once and shown once. `make bench` runs this
after run.py, so the manual's table is always the last run's (commit both files when a run should
stand). Only the standard library: it must run even when the bench itself failed half-way.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

HEADER = """# Results of `make bench`

Written by `make bench` (`benchmarks/results_page.py`) from the JSON of its last run,
`docs/benchmarks/results.json`; do not edit by hand. How the steps are run and what the numbers mean:
[Benchmarks](../development/benchmarks.md).
"""


def _cell(step: dict[str, Any] | None) -> str:
    """Wall / CPU seconds / peak MiB, as the terminal table shows them; a killed step shows >wall."""
    if not step:
        return ""
    if step.get("wall_s") is None or step.get("cpu_s") is None or step.get("peak_mib") is None:
        return "" if step.get("status") == "ok" else step.get("status", "")
    wall = f">{step['wall_s']:.0f}" if step.get("status") == "timeout" else f"{step['wall_s']:.2f}"
    flag = " (failed)" if step.get("status") == "failed" else ""
    return f"{wall} / {step['cpu_s']:.2f} / {step['peak_mib']:.0f}{flag}"


def _sweep(run: dict[str, Any]) -> str:
    sweep = run.get("ratios", {}).get("sweep")
    if not sweep:
        return _cell(run["steps"].get("sweep"))
    ratio = f": {sweep['ratio']}x" if sweep.get("ratio") is not None else ""
    return f"{sweep['sweep_s']:.3f} s vs {sweep['bare_sql_s']:.3f} s{ratio}"


def _engine(run: dict[str, Any]) -> str:
    engine = run.get("ratios", {}).get("engine")
    if not engine:
        return _cell(run["steps"].get("cycle-engine"))
    return f"{engine['engine_s']:.1f} s: {engine['ratio']}x the plain {engine['plain_s']:.1f} s"


def table(report: dict[str, Any]) -> list[str]:
    """step x run, with the target at 30,000 items; the sweep and the engine as their ratios."""
    runs = report["runs"]
    labels = [_label(run) for run in runs]
    lines = [
        "| step | " + " | ".join(labels) + " | target at 30,000 |",
        "|---" * (len(runs) + 2) + "|",
    ]
    for name, step in report["steps"].items():
        if name == "sweep":
            cells = [_sweep(run) for run in runs]
        elif name == "cycle-engine":
            cells = [_engine(run) for run in runs]
        else:
            cells = [_cell(run["steps"].get(name)) for run in runs]
        if any(cells):
            lines.append(f"| {name}: {step['runs']} | " + " | ".join(cells) + f" | {step['target_30000']} |")
    return lines


def growth(report: dict[str, Any]) -> list[str]:
    """The exponent k of (wall - start-up) ~ items^k between a backend's two largest scales (1 is linear)."""
    lines = []
    for backend in ("sqlite", "postgresql"):
        mine = sorted((r for r in report["runs"] if r["backend"] == backend), key=lambda r: r["items"])
        if len(mine) < 2:
            continue
        small, large = mine[-2], mine[-1]
        parts = []
        for name in report["steps"]:
            a, b = small["steps"].get(name), large["steps"].get(name)
            if name == "startup" or not (a and b and a.get("wall_s") and b.get("wall_s")):
                continue
            if not a.get("status") == b.get("status") == "ok":
                continue
            k = math.log(_net(large, b) / _net(small, a)) / math.log(large["items"] / small["items"])
            parts.append(f"{name} {k:.2f}")
        if parts:
            lines.append(
                f"Growth on {backend} from {small['items']:,} to {large['items']:,} items, fitting"
                f" (wall − start-up) ~ items^k: {', '.join(parts)}."
            )
    return lines


def _net(run: dict[str, Any], step: dict[str, Any]) -> float:
    startup = run["steps"].get("startup") or {}
    base = (startup.get("wall_s") or 0.0) if startup.get("status") == "ok" else 0.0
    return max(step["wall_s"] - base, 0.05)


def cycles(report: dict[str, Any]) -> list[str]:
    """What each cycle queued and delivered (benchmarks/run.py `_cycle_note`)."""
    lines = []
    for run in report["runs"]:
        for name in ("cycle", "cycle-engine"):
            extra = (run["steps"].get(name) or {}).get("extra") or {}
            if "outbox" not in extra:
                continue
            outbox = extra["outbox"]
            states = ", ".join(f"{state} {count:,}" for state, count in sorted(outbox.items()))
            lines.append(
                f"- {run['items']:,} {run['backend']}, {name}: {sum(outbox.values()):,} messages queued for"
                f" {extra['escalations']:,} escalations ({states}); {extra['emails']:,} emails and"
                f" {extra['wecom_calls']:,} WeCom calls sent."
            )
    return lines


def _label(run: dict[str, Any]) -> str:
    return f"{run['items']:,} {'SQLite' if run['backend'] == 'sqlite' else 'PostgreSQL'}"


def where_the_time_went(report: dict[str, Any]) -> list[str]:
    """The whole run's wall time by part: the shared set-up, then each run's steps and what lay between
    them (its plan, database copies, counts); and the machine's load while it ran."""
    lines = []
    setup = report.get("setup_s") or {}
    timed = [run for run in report["runs"] if run.get("took_s") is not None]
    if setup or timed:
        parts = []
        if "wall" in setup:
            side = ", ".join(f"{SETUP_NAMES.get(name, name)} {s:.1f} s" for name, s in setup.items() if name != "wall")
            parts.append(f"set-up {setup['wall']:.1f} s ({side}, side by side)")
        for run in timed:
            measured = sum(step.get("wall_s") or 0.0 for step in run["steps"].values())
            parts.append(f"{_label(run)} {run['took_s']:.1f} s (steps {measured:.1f} s)")
        lines.append(f"Where the {report.get('took_s', 0):.1f} s went: {'; '.join(parts)}.")
    if load := report.get("load_average"):
        seen = ", ".join(f"{values[0]:.2f} at the {when}" for when, values in load.items())
        lines.append(f"Load average (1 min) of the machine: {seen}.")
    for name, error in (report.get("setup_errors") or {}).items():
        lines.append(f"The set-up's {SETUP_NAMES.get(name, name)} failed: {error}")
    for run in report["runs"]:
        if run.get("error"):
            lines.append(f"The {_label(run)} run stopped: {run['error'].strip().splitlines()[-1]}")
    return lines


SETUP_NAMES = {"postgresql": "PostgreSQL cluster", "ledgers": "ledgers", "prefect-server": "Prefect server"}


def render(report: dict[str, Any]) -> str:
    machine = report.get("machine", {})
    lines = [HEADER]
    lines += [
        f"Run of {report.get('when', '?')}, {machine.get('cpus', '?')} cores, Python {machine.get('python', '?')}"
        f" ({machine.get('platform', '?')}); the whole run took {report.get('took_s', 0) / 60:.1f} min.",
        *where_the_time_went(report),
        "Each cell is wall seconds / CPU seconds / peak MiB of the step's own process.",
        "",
        *table(report),
        "",
    ]
    if found := cycles(report):
        lines += ["What the cycles queued and sent:", "", *found, ""]
    if found := growth(report):
        lines += [*found, ""]
    lines += [*(f"{note}\n" for note in report.get("notes", []))]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    source, target = (Path(arg) for arg in sys.argv[1:3])
    report = json.loads(source.read_text(encoding="utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(report), encoding="utf-8")
    print(f"the table: {target}")


if __name__ == "__main__":
    main()
