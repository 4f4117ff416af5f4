"""Benchmark: a supervision campaign over a 3,000-item ledger, without the engine.

    .venv/bin/python benchmarks/campaign_3000.py

The sample ledger's 66 rows are repeated (new codes, descriptions marked with their batch) to make
3,000 items in the same 12 townships. The Office starts one campaign over all of them; half the
units answer on their forms; the follow-up runs every day to the closing bulletin. Prints the time
of each phase and the peak memory; nothing here asserts a time.
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 3000


def ledger(path: Path) -> None:
    with (ROOT / "samples/ledger-2022.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, sample = rows[0], rows[1:]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for n in range(ITEMS):
            row = list(sample[n % len(sample)])
            row[0] = f"PT2022-{n + 1:04d}"
            row[6] = f"{row[6]}（第{n // len(sample) + 1}批）"
            writer.writerow(row)


def timed(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label:<44}{now - started:7.1f} s", flush=True)
    return now


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    os.environ["DUBAN_HOME"] = str(home)
    os.environ.pop("DUBAN_DATABASE_URL", None)
    duban = [sys.executable, "-m", "duban.cli"]
    ledger(home / "ledger.csv")
    print(f"a campaign over {ITEMS} items")
    started = time.perf_counter()
    plan_file = str(ROOT / "plans/community-facilities-2022.yaml")
    subprocess.run([*duban, "init", "--plan", plan_file, "--as-of", "2022-04-01"], check=True, capture_output=True)
    subprocess.run(
        [*duban, "ledger", "import", str(home / "ledger.csv"), "--as-of", "2022-04-08", "--no-engine"],
        check=True,
        capture_output=True,
    )
    started = timed("set-up (init + import)", started)

    from duban.campaign.forms import respond, write_response_form
    from duban.campaign.run import follow_campaigns, run_campaign
    from duban.campaign.start import get_campaign
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    campaign = run_campaign(title="全面专项督导", due=date(2022, 4, 15), as_of=date(2022, 4, 11))
    started = timed(f"start: select, freeze, ask {len(campaign.units)} units", started)
    with session_scope() as session:
        plan = current_plan(session)
        found = get_campaign(session, campaign.campaign_id)
        answering = sorted(u for u in campaign.units if u in plan.township_names())[::2]
        for unit in answering:
            path = home / f"{unit}.xlsx"
            write_response_form(session, plan, found, unit, path)
            workbook = load_workbook(path)
            for row in workbook["督导反馈"].iter_rows(min_row=3):
                row[7].value, row[8].value, row[9].value = "正在推进。", "加快推进。", date(2022, 9, 30)
            workbook.save(path)
            respond(session, plan, campaign_id=found.id, unit=unit, path=path, as_of=date(2022, 4, 14))
    started = timed(f"{len(answering)} units: write, fill and read back forms", started)
    day = date(2022, 4, 12)
    while day < date(2022, 4, 22):
        follow_campaigns(day)
        day += timedelta(days=1)
    started = timed("follow-up 04-12..04-21: reminders, escalations", started)
    follow_campaigns(date(2022, 4, 22))
    timed("04-22: the closing bulletin (Word, PDF, HTML)", started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
