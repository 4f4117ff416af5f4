"""The 考核 pages' work at scale: what GET /assessment and GET /assessment/{unit} compute, page by page.

    DUBAN_HOME=... .venv/bin/python benchmarks/assessment_pages.py 2022-12-20 [--unit 城关街道] [--before]

On a database `make bench` left (`benchmarks/run.py --steps cycle,revise --keep`): the pages as of the
day given, for the month under way, a closed month and the year, the overview and one unit's page (with
its trend through the year). Each page runs in a child forked after the imports, so its peak resident
memory (what it touched of the parent's and what it added) and its CPU time are its own. Without
`--before` the closed months are first kept as the daily sweep keeps them (timed: cold, then again when
fresh); `--before` runs what the pages computed before the months were kept (`assess` of the period, and
the year's `trend` on a unit's page), so it also runs against an older checkout. Template rendering is
not included: it is the same either way. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import date


def child(work: Callable[[], object]) -> dict[str, float]:
    """Run `work` in a forked child: its wall time, its CPU time (user + system: what a shared machine's
    load does not inflate) and its peak resident memory."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        started = time.perf_counter()
        work()
        os.write(write, f"{time.perf_counter() - started:.4f}".encode())
        os._exit(0)
    os.close(write)
    took = float(os.read(read, 64) or b"nan")
    os.close(read)
    _, status, used = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"a page failed (status {status})")
    return {
        "wall_s": round(took, 3),
        "cpu_s": round(used.ru_utime + used.ru_stime, 3),
        "peak_mib": round(used.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("day", type=date.fromisoformat)
    parser.add_argument("--unit", help="the unit whose page is timed (default: the plan's first township)")
    parser.add_argument("--before", action="store_true", help="what the pages computed before (assess + trend)")
    args = parser.parse_args()

    from duban.assessment import assess, trend
    from duban.db import migrate, session_scope
    from duban.stored_plan import current_plan

    migrate()
    day = args.day
    with session_scope() as session:
        plan = current_plan(session)
    unit = args.unit or plan.township_names()[0]
    this_month = f"{day.year:04d}-{day.month:02d}"
    closed = f"{day.year:04d}-{day.month - 1:02d}" if day.month > 1 else f"{day.year - 1:04d}-12"
    periods = {"month under way": this_month, "closed month": closed, "year": str(day.year)}
    report: dict[str, object] = {"day": day.isoformat(), "unit": unit, "before": args.before}

    if args.before:

        def overview(period: str) -> Callable[[], object]:
            def run() -> None:
                with session_scope() as session:
                    assess(session, current_plan(session), period, day)

            return run

        def unit_page(period: str) -> Callable[[], object]:
            def run() -> None:
                with session_scope() as session:
                    plan = current_plan(session)
                    assess(session, plan, period, day).for_unit(unit)
                    trend(session, plan, unit, int(period[:4]), day)

            return run

    else:
        from duban.assessment import kept

        def overview(period: str) -> Callable[[], object]:
            def run() -> None:
                with session_scope() as session:
                    kept.standings(session, current_plan(session), kept.parse_span(period), day)

            return run

        def unit_page(period: str) -> Callable[[], object]:
            def run() -> None:
                with session_scope() as session:
                    plan = current_plan(session)
                    span = kept.parse_span(period)
                    _, _, assessed = kept.unit_score(session, plan, span, unit, day)
                    kept.trend(session, plan, unit, span.start.year, day, assessed)

            return run

        def sweep() -> None:
            with session_scope() as session:
                kept.keep_closed(session, current_plan(session), day)

        report["sweep keeps the closed months (cold)"] = child(sweep)
        report["sweep again (all fresh)"] = child(sweep)

    for label, period in periods.items():
        report[f"GET /assessment?period={period} ({label})"] = child(overview(period))
        report[f"GET /assessment/{unit}?period={period} ({label})"] = child(unit_page(period))
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
