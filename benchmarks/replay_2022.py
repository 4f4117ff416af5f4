"""Benchmark: replay the 2022 programme day by day on the sample district, without the engine.

    .venv/bin/python benchmarks/replay_2022.py [--simulate]

Without --simulate no unit ever reports or closes anything: the worst case for reminders and
escalations. With --simulate the demo's synthetic behaviour runs too (scripts/replay_2022.py).
Prints the time of each phase; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--simulate", action="store_true", help="also run the demo's synthetic units")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    os.environ["DUBAN_HOME"] = str(home)
    os.environ.pop("DUBAN_DATABASE_URL", None)
    duban = [sys.executable, "-m", "duban.cli"]
    started = time.perf_counter()
    subprocess.run(
        [*duban, "init", "--plan", str(ROOT / "plans/community-facilities-2022.yaml"), "--as-of", "2022-04-01"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*duban, "ledger", "import", str(ROOT / "samples/ledger-2022.csv"), "--as-of", "2022-04-08"],
        check=True,
        capture_output=True,
    )
    setup = time.perf_counter() - started

    started = time.perf_counter()
    if args.simulate:
        subprocess.run([sys.executable, str(ROOT / "scripts/replay_2022.py")], check=True, capture_output=True)
    else:
        from deployments.schedules import run_day
        from duban.stored_plan import plan_in_force

        plan, day = plan_in_force(), date(2022, 4, 9)
        while day <= date(2022, 12, 31):
            run_day(plan, day)
            day += timedelta(days=1)
    replay = time.perf_counter() - started

    import sqlite3

    with sqlite3.connect(home / "duban.db") as db:
        messages = db.execute("select count(*) from outbox").fetchone()[0]
        escalations = db.execute("select count(*) from escalation").fetchone()[0]
        versions = db.execute("select count(*) from submission_version").fetchone()[0]
        bulletins = db.execute("select count(*) from bulletin").fetchone()[0]
        campaigns = db.execute("select count(*) from campaign").fetchone()[0]
    mode = "with synthetic units" if args.simulate else "silent units (worst case)"
    print(f"replay 2022-04-09..2022-12-31, {mode}")
    print(f"  set-up (init + import of 66 items): {setup:6.1f} s")
    print(f"  replay of 267 days:                 {replay:6.1f} s")
    print(f"  outbox messages {messages}, escalations {escalations}, report versions {versions}")
    print(f"  bulletins {bulletins}, supervision campaigns {campaigns}")


if __name__ == "__main__":
    main()
