"""The escalation sweep beside the bare SQL that selects the same rows, in one process (for run.py).

    DUBAN_HOME=... .venv/bin/python benchmarks/sweep.py 2022-10-31 [--repeat 3]

Why: `overdue_work` is what `escalate-overdue` runs every morning; the bare query is the floor any
implementation could reach. Both run in this one process, each in a fresh session, best of
`--repeat`; the item codes they select must be the same (the script exits 1 when they are not).
Prints one JSON object: both times, the ratio, how many items, and which SQL was used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import Date, bindparam, text

# What the sweep needs of each overdue item (the columns its message and escalation carry), and the
# overdue milestones of the plans in force not reported done: the rows any implementation must read.
COLUMNS = "i.code, i.community, i.category, i.facility_type, i.responsible_unit, i.lead_department, i.key_difficult"
BARE = (
    f"SELECT {COLUMNS}, i.deadline FROM ledger_item i"
    " WHERE i.deadline < :as_of AND i.status NOT IN ('closed', 'cancelled') ORDER BY i.code"
)
BARE_MILESTONES = (
    f"SELECT {COLUMNS}, m.due, m.title FROM ledger_item i"
    " JOIN rectification_plan p ON p.item_id = i.id AND p.revision = i.plan_revision"
    " JOIN plan_milestone m ON m.plan_id = p.id"
    " WHERE i.status NOT IN ('closed', 'cancelled') AND m.due < :as_of AND NOT EXISTS ("
    "SELECT 1 FROM milestone_done d WHERE d.item_code = i.code AND d.due = m.due AND d.title = m.title"
    " AND d.done_on <= :as_of) ORDER BY i.code, m.seq"
)


T = TypeVar("T")


def best_of(repeat: int, budget: float, run: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `repeat` runs (fewer once `budget` seconds are spent), and the last result."""
    best, spent = float("inf"), 0.0
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = run()
        took = time.perf_counter() - started
        best, spent = min(best, took), spent + took
        if spent > budget:
            break
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0, help="stop repeating after this many seconds")
    args = parser.parse_args()

    from duban.db import engine, session_scope
    from duban.reporting.escalation import overdue_work
    from duban.stored_plan import current_plan

    items, steps = (text(sql).bindparams(bindparam("as_of", type_=Date())) for sql in (BARE, BARE_MILESTONES))
    with session_scope() as session:
        plan = current_plan(session)  # read once, as the daily flow does before its sweep

    def sweep() -> list[str]:
        with session_scope() as session:
            causes = overdue_work(session, plan, args.as_of)
        return sorted({c.item_code for c in causes if c.cause == "overdue_item" and c.item_code})

    def bare() -> list[str]:
        with engine().connect() as connection:
            codes = [row[0] for row in connection.execute(items, {"as_of": args.as_of})]
            connection.execute(steps, {"as_of": args.as_of}).all()
        return sorted(codes)

    sweep_s, swept = best_of(args.repeat, args.budget, sweep)
    bare_s, selected = best_of(args.repeat, args.budget, bare)
    same = swept == selected
    print(
        json.dumps(
            {
                "as_of": args.as_of.isoformat(),
                "sweep_s": round(sweep_s, 4),
                "bare_sql_s": round(bare_s, 4),
                "ratio": round(sweep_s / bare_s, 1) if bare_s else None,
                "items": len(swept),
                "same_rows": same,
                "sql": "the overdue items and milestones, with the columns the sweep reads",
            }
        )
    )
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
