"""`make bench`'s page (benchmarks/results_page.py) from a run that went wrong: the table still comes out.

Why: `make bench` writes the manual's page even when a step failed or timed out, or a run or the set-up
stopped; the page must then show what was measured and say what went wrong, not fail or hide it.
"""

from __future__ import annotations

from test_docs_reference import results_page  # benchmarks/results_page.py, loaded there once


def _step(status: str, wall: float | None, cpu: float | None = None, peak: float | None = None) -> dict:
    return {"status": status, "wall_s": wall, "cpu_s": cpu, "peak_mib": peak, "exit_code": 0, "note": "", "extra": {}}


REPORT = {
    "when": "2027-01-05T09:00:00+08:00",
    "machine": {"cpus": 2, "python": "3.11.7", "platform": "Linux"},
    "load_average": {"start": [0.31, 0.2, 0.1], "end": [1.05, 0.9, 0.5]},
    "took_s": 512.4,
    "setup_s": {"postgresql": 4.2, "ledgers": 3.1, "prefect-server": 14.8, "wall": 15.0},
    "setup_errors": {},
    "timeout_s": 300,
    "steps": {
        "startup": {"runs": "duban --help", "target_30000": ""},
        "cycle": {"runs": "June", "target_30000": "< 60 s"},
        "catch-up": {"runs": "October", "target_30000": ""},
        "status-today": {"runs": "status today", "target_30000": "< 1 s"},
    },
    "runs": [
        {
            "items": 30000,
            "backend": "sqlite",
            "took_s": 400.0,
            "error": "",
            "ratios": {},
            "steps": {
                "startup": _step("ok", 0.5, 0.49, 40),
                "cycle": _step("ok", 35.25, 30.0, 362),
                "catch-up": _step("timeout", 300.01, 250.5, 510),
                "status-today": _step("failed", 0.8, 0.7, 160),
            },
        },
        {
            "items": 30000,
            "backend": "postgresql",
            "took_s": 80.0,
            "error": "Traceback (most recent call last):\n  ...\nRuntimeError: the cluster went away\n",
            "ratios": {},
            "steps": {"startup": _step("ok", 0.6, 0.58, 41), "cycle": _step("skipped", None)},
        },
    ],
}


def test_a_run_that_went_wrong_still_gives_its_table_and_says_what_went_wrong() -> None:
    page = results_page.render(REPORT).splitlines()
    assert "| step | 30,000 SQLite | 30,000 PostgreSQL | target at 30,000 |" in page
    assert "| cycle: June | 35.25 / 30.00 / 362 | skipped | < 60 s |" in page
    assert "| catch-up: October | >300 / 250.50 / 510 |  |  |" in page
    assert "| status-today: status today | 0.80 / 0.70 / 160 (failed) |  | < 1 s |" in page
    assert "The 30,000 PostgreSQL run stopped: RuntimeError: the cluster went away" in page


def test_the_page_says_how_long_the_whole_run_took_and_where_the_time_went() -> None:
    page = results_page.render(REPORT)
    assert "; the whole run took 8.5 min." in page  # 512.4 s; SQLite's steps: 0.5 + 35.25 + 300.01 + 0.8 s
    assert (
        "Where the 512.4 s went: set-up 15.0 s (PostgreSQL cluster 4.2 s, ledgers 3.1 s, Prefect server 14.8 s,"
        " side by side); 30,000 SQLite 400.0 s (steps 336.6 s); 30,000 PostgreSQL 80.0 s (steps 0.6 s)."
    ) in page
    assert "Load average (1 min) of the machine: 0.31 at the start, 1.05 at the end." in page
    assert "Transcribed" not in page  # the note of a hand-copied file, never in a run's own


def test_a_set_up_that_failed_is_named() -> None:
    report = dict(REPORT, setup_errors={"prefect-server": "ServerError: Prefect 服务器未能启动"})
    assert "The set-up's Prefect server failed: ServerError: Prefect 服务器未能启动" in results_page.render(report)
