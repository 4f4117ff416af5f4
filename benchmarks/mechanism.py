"""`make bench-mechanism`: the long-term mechanism's hot paths read today's state, not the history.

    .venv/bin/python benchmarks/mechanism.py                        # 3,000 projects
    .venv/bin/python benchmarks/mechanism.py --projects 3000,10000 --json out.json

For each size: a fresh DUBAN_HOME (SQLite), `duban init` with the sample plan, and a district's
register of N projects telling the stories below. Twelve projects of each story (one per township)
are walked through duban's own functions day by day from 2022-04-11 to the day before AS_OF:
register.write, gates.submit, gates.sign (rejections too), gates.waive, and follow.follow every day
(reminders sent, late signers escalated and resolved). The other projects are copies of these, row
for row (project, gates, signatures, waivers, audit entries, messages, escalations; codes and names
rewritten): what walking each one would write, in seconds rather than an hour. Messages before AS_OF
are marked sent, as the dispatcher would have left them.

A copy of that database then has its history alone doubled: closed-out projects, every gate passed,
copied the same way, as many as make the signatures twice as many; the open work is unchanged.

Then, in one process, each hot path on the two databases in turn (x1, x2, x1, x2, ...: the machine's
load falls on both alike), each run in a fresh session, the best of at least --repeat runs (more while
a path has taken less than --budget seconds): follow on AS_OF (the day's first run, rolled back each
time; then its second run, committed, which must change nothing), view.register_rows (the register
page; also one township's), view.queue for 教体局, view.project_view of one project. Beside each time:
the SQL statements it ran and the tables SQLite read in full for them (EXPLAIN QUERY PLAN).

Each step is its own process under benchmarks/rusage.py (wall, CPU, peak memory). Prints a table and
writes JSON. Nothing asserts a time: other work on the machine makes timings noisy (hence the best
of several); it fails when the data are not what the stories say or the second sweep writes anything.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
PLAN_FILE = ROOT / "plans/community-facilities-2022.yaml"
STARTED_ON = date(2022, 4, 11)  # the first projects registered (township i starts i working days later)
AS_OF = date(2022, 12, 13)  # the day timed, a Tuesday
UNIT = "教体局"  # the queue timed: a countersigner of every gate but one, leading none
REASONS = "幼儿园选址与规划条件不一致，请补充论证材料后重新提交。"
WAIVER = "周边已有公办幼儿园可满足入园需求，经区领导小组研究同意。"
SHARES = {  # of N; the rest are story A
    "B": 0.33,
    "C": 0.08,
    "D": 0.06,
    "E": 0.08,
    "F": 0.03,
    "G": 0.02,
    "H": 0.01,
    "I": 0.01,
    "J": 0.01,
    "K": 0.02,
}
CLOSED = "L"  # every gate passed: the history that doubles
PROFILED = "XM2022-G00"  # project_view is timed on this one: three gates, two passed, two signers late


@dataclass(frozen=True)
class Step:
    """One act on a project: `gap` working days after the one before, or `before` working days before AS_OF."""

    op: str  # register submit sign reject waive
    gap: int = 0
    before: int | None = None
    leave: tuple[str, ...] = ()  # sign: these signers stay waiting
    signer: str = ""  # reject: who rejects


def passes(count: int) -> list[Step]:
    """The next `count` gates passed: each submitted 8 working days after the last, every signer approving 4 later."""
    return [step for _ in range(count) for step in (Step("submit", gap=8), Step("sign", gap=4))]


def late(before: int, after: int) -> list[Step]:
    """Gates passed, 卫健局 signing one of them 8 working days late (level 3 of the ladder, then resolved)."""
    signed_late = [Step("submit", gap=8), Step("sign", gap=4, leave=("卫健局",)), Step("sign", gap=14)]
    return passes(before) + signed_late + passes(after)


LATE = ("教体局", "卫健局")  # signers who have not signed yet in the open stories
STORIES: dict[str, tuple[str, list[Step], tuple[str | None, str]]] = {
    # story: (what it is, its steps after registration, where it ends: gate and state)
    "A": ("three gates passed, the fourth awaits its stage", passes(3), ("construction_permit", "open")),
    "B": ("four gates passed", passes(4), ("presale_consultation", "open")),
    "C": (
        "rejected once by 教体局, resubmitted, three gates passed",
        [Step("submit", gap=3), Step("reject", gap=3, signer="教体局"), Step("submit", gap=2), Step("sign", gap=4)]
        + passes(2),
        ("construction_permit", "open"),
    ),
    "D": (
        "a kindergarten shortfall held the first gate until the Office waived it; four gates passed",
        [Step("submit", gap=3), Step("sign", gap=4), Step("waive", gap=5)] + passes(3),
        ("presale_consultation", "open"),
    ),
    "E": (
        "卫健局 signed the second gate late (escalated, then resolved); four gates passed",
        late(1, 2),
        ("presale_consultation", "open"),
    ),
    "F": (
        "OPEN: third gate in review, 教体局 and 卫健局 not yet due",
        passes(2) + [Step("submit", before=5), Step("sign", before=2, leave=LATE)],
        ("handover_agreement", "in_review"),
    ),
    "G": (
        "OPEN: third gate in review, 教体局 and 卫健局 6 working days late (level 3 today)",
        passes(2) + [Step("submit", before=21), Step("sign", before=15, leave=LATE)],
        ("handover_agreement", "in_review"),
    ),
    "H": (
        "OPEN: first gate approved by all, held by a kindergarten shortfall",
        [Step("submit", before=12), Step("sign", before=8)],
        ("planning_conditions", "in_review"),
    ),
    "I": (
        "OPEN: second gate returned, its resubmission 6 working days late (level 3 today)",
        passes(1) + [Step("submit", before=12), Step("reject", before=8, signer="教体局")],
        ("land_supply", "returned"),
    ),
    "J": (
        "OPEN: second gate returned yesterday",
        passes(1) + [Step("submit", before=6), Step("reject", before=1, signer="教体局")],
        ("land_supply", "returned"),
    ),
    "K": (
        "OPEN: pre-sale consultation in review, due tomorrow (reminded today)",
        passes(4) + [Step("submit", before=4), Step("sign", before=2, leave=("教体局", "卫健局", "商务局"))],
        ("presale_consultation", "in_review"),
    ),
    CLOSED: (
        "closed out: every gate passed, 卫健局 late on the second (escalated, resolved)",
        late(1, 6),
        (None, "done"),
    ),
}
SHORT = "DH"  # stories whose projects commit 3 kindergarten classes fewer than the standard asks

# The rows one project owns, by table, in the order they are inserted (foreign keys first).
OWNED = {
    "project": "id = :pid",
    "project_gate": "project_id = :pid",
    "signature": "gate_id IN (SELECT id FROM project_gate WHERE project_id = :pid)",
    "waiver": "project_id = :pid",
    "audit_entry": "subject = 'project' AND subject_key = :code",
    "outbox": "idempotency_key LIKE :like",
    "escalation": "cause_key LIKE :like",
}

T = TypeVar("T")


# --- building the register -------------------------------------------------------------------------------------


def template_code(story: str, township: int) -> str:
    return f"XM2022-{story}{township:02d}"


def register_row(plan: Any, story: str, index: int, township: str) -> dict[str, Any]:
    households = (1200 if story in SHORT else 600) + 150 * index
    commitments = {s.code: s.required(households) for s in plan.mechanism.standards}
    if story in SHORT:
        commitments["kindergarten"] -= 3
    code = template_code(story, index)
    return {
        "code": code,
        "name": f"{township}样板{story}居住区",
        "developer": "XX置业有限公司",
        "township": township,
        "parcel": f"DK-{code}",
        "households": households,
        "floor_area": households * 100,
        "land_supply_on": date(2022, 5, 20),
        "presale_on": date(2023, 6, 30),
        "completion_on": date(2024, 12, 31),
        "commitments": commitments,
    }


def walk_templates(plan: Any) -> dict[str, list[str]]:
    """Every story's twelve projects through duban's functions, day by day, follow-up each day."""
    from duban.calendar import WorkingCalendar
    from duban.db import session_scope
    from duban.mechanism import gates, register
    from duban.mechanism.follow import follow
    from duban.reporting.periods import add_working_days, working_days_before

    calendar = WorkingCalendar(plan.calendar)
    townships = plan.township_names()
    acts: dict[date, list[tuple[str, Step, dict[str, Any]]]] = {}
    codes: dict[str, list[str]] = {}
    for story, (_, steps, _) in STORIES.items():
        for index, township in enumerate(townships):
            row = register_row(plan, story, index, township)
            codes.setdefault(story, []).append(row["code"])
            day = add_working_days(calendar, STARTED_ON, index)
            acts.setdefault(day, []).append((row["code"], Step("register"), row))
            for step in steps:
                after = day
                if step.before is None:
                    day = add_working_days(calendar, day, step.gap)
                else:
                    day = working_days_before(calendar, AS_OF, step.before)
                assert after <= day < AS_OF, (story, step, day)
                acts.setdefault(day, []).append((row["code"], step, row))
    day = STARTED_ON
    while day < AS_OF:
        with session_scope() as session:
            follow(session, plan, day)
        with session_scope() as session:
            today = acts.get(day, [])
            rows = [(0, row) for _, step, row in today if step.op == "register"]
            if rows:
                register.write(session, plan, rows, actor=plan.office.name, as_of=day)
            for code, step, _ in today:
                if step.op != "register":
                    act(session, plan, code, step, day)
        day += timedelta(days=1)
    with session_scope() as session:
        for story, (_, _, ends) in STORIES.items():
            for code in codes[story]:
                project = gates.get_project(session, code)
                assert (project.gate, project.gate_state) == ends, (code, project.gate, project.gate_state, ends)
    return codes


def act(session: Any, plan: Any, code: str, step: Step, day: date) -> None:
    from duban.mechanism import gates

    gate = gates.current_gate(session, gates.get_project(session, code))
    rule = gates.rule_of(plan, gate)
    if step.op == "submit":
        gates.submit(session, plan, code, by=rule.lead, as_of=day)
    elif step.op == "reject":
        gates.sign(session, plan, code, signer=step.signer, approve=False, reasons=REASONS, as_of=day)
    elif step.op == "waive":
        gates.waive(session, plan, code, standard="kindergarten", reason=WAIVER, by=plan.office.name, as_of=day)
    else:
        waiting = [s.signer for s in gates.signatures_of(session, gate) if s.round == gate.round and not s.decision]
        for signer in waiting:
            if signer not in step.leave:
                gates.sign(session, plan, code, signer=signer, approve=True, as_of=day)


def copies(counts: dict[str, int], first: int, templates: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(template code, new code) for `counts[story]` copies of each story, numbered from `first`."""
    made, serial = [], first
    for story, count in counts.items():
        for n in range(count):
            made.append((templates[story][n % len(templates[story])], f"XM2022-{serial:05d}"))
            serial += 1
    return made


def clone(pairs: list[tuple[str, str]], batch: int = 400) -> dict[str, int]:
    """Copy each template project's rows under a new code (ids renumbered); returns the rows made per table."""
    from sqlalchemy import func, select, text
    from sqlmodel import SQLModel

    import models  # noqa: F401  (the tables, registered on SQLModel.metadata)
    from duban.db import engine

    tables = {name: SQLModel.metadata.tables[name] for name in OWNED}
    owned: dict[str, dict[str, list[dict[str, Any]]]] = {}
    made: Counter[str] = Counter()
    with engine().begin() as connection:
        next_id = {name: (connection.execute(select(func.max(t.c.id))).scalar() or 0) + 1 for name, t in tables.items()}
        for code in sorted({template for template, _ in pairs}):
            pid = connection.execute(text("SELECT id FROM project WHERE code = :code"), {"code": code}).scalar_one()
            params = {"pid": pid, "code": code, "like": f"%:{code}:%"}
            owned[code] = {
                name: [dict(r._mapping) for r in connection.execute(select(t).where(text(OWNED[name])), params)]
                for name, t in tables.items()
            }
    for chunk in range(0, len(pairs), batch):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        for template, code in pairs[chunk : chunk + batch]:
            source = owned[template]
            old = source["project"][0]
            swaps = ((template, code), (old["name"], f"{old['township']}{code[-5:]}号居住区"))
            ids: dict[tuple[str, int], int] = {}
            for name in tables:
                for row in source[name]:
                    new = {key: rewritten(value, swaps) for key, value in row.items()}
                    new["id"] = ids[(name, row["id"])] = next_id[name]
                    next_id[name] += 1
                    if name in ("project_gate", "waiver"):
                        new["project_id"] = ids[("project", row["project_id"])]
                    elif name == "signature":
                        new["gate_id"] = ids[("project_gate", row["gate_id"])]
                    rows[name].append(new)
        with engine().begin() as connection:
            for name, table in tables.items():
                if rows[name]:
                    connection.execute(table.insert(), rows[name])
                    made[name] += len(rows[name])
    return dict(made)


def rewritten(value: T, swaps: tuple[tuple[str, str], ...]) -> T:
    if isinstance(value, str):
        for old, new in swaps:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {rewritten(k, swaps): rewritten(v, swaps) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [rewritten(v, swaps) for v in value]  # type: ignore[return-value]
    return value


def mark_sent() -> int:
    """Messages before AS_OF delivered, as the dispatcher would have left them (nothing sends here)."""
    from sqlalchemy import text

    from duban.db import engine

    with engine().begin() as connection:
        return connection.execute(
            text(
                "UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at"
                " WHERE status = 'queued' AND created_on < :as_of"
            ),
            {"as_of": AS_OF},
        ).rowcount


def story_counts(projects: int) -> dict[str, int]:
    counts = {story: max(12, round(share * projects)) for story, share in SHARES.items()}
    counts[CLOSED] = 12
    counts["A"] = projects - sum(counts.values())
    assert counts["A"] >= 12, "too few projects for every story"
    return dict(sorted(counts.items()))


def build(projects: int) -> dict[str, Any]:
    """The register at AS_OF: N projects, about a tenth with open work."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "duban.cli", "init", "--plan", str(PLAN_FILE), "--as-of", "2022-04-01"],
        check=True,
        capture_output=True,
    )
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
    templates = walk_templates(plan)
    walked = time.perf_counter() - started
    sent = mark_sent()
    counts = story_counts(projects)
    extra = {story: count - len(templates[story]) for story, count in counts.items()}
    pairs = copies(extra, 1, templates)
    made = clone(pairs)
    return {
        "projects": projects,
        "stories": {story: {"projects": counts[story], "what": STORIES[story][0]} for story in counts},
        "walked_s": round(walked, 1),
        "walked_projects": sum(len(codes) for codes in templates.values()),
        "copied_s": round(time.perf_counter() - started - walked, 1),
        "copied_rows": made,
        "messages_marked_sent": sent,
    }


def double() -> dict[str, Any]:
    """As many closed-out projects as make the signatures (the history's bulk) twice what they were."""
    from sqlalchemy import text

    from duban.db import engine

    with engine().connect() as connection:
        signatures = connection.execute(text("SELECT count(*) FROM signature")).scalar_one()
        projects = connection.execute(text("SELECT count(*) FROM project")).scalar_one()
        per_closed = connection.execute(
            text(
                "SELECT count(*) FROM signature s JOIN project_gate g ON g.id = s.gate_id"
                " JOIN project p ON p.id = g.project_id WHERE p.code = :code"
            ),
            {"code": template_code(CLOSED, 0)},
        ).scalar_one()
    added = math.ceil(signatures / per_closed)
    templates = {CLOSED: [template_code(CLOSED, i) for i in range(12)]}
    started = time.perf_counter()
    made = clone(copies({CLOSED: added}, projects + 1, templates))
    return {"closed_projects_added": added, "copied_s": round(time.perf_counter() - started, 1), "copied_rows": made}


# --- timing ------------------------------------------------------------------------------------------------------

HISTORIES = {"x1": "duban.db", "x2": "history-x2.db"}  # in DUBAN_HOME: as built, and with the history doubled


def use(history: str) -> None:
    """Point duban.db.engine() at one of the two databases (an engine each, kept by URL)."""
    from duban import config

    os.environ["DUBAN_DATABASE_URL"] = f"sqlite:///{config.home() / HISTORIES[history]}"


class Statements:
    """The SQL a block runs (counted), and the tables SQLite reads in full for it (EXPLAIN QUERY PLAN)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.seen: list[tuple[str, Any]] = []
        self.on = False
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if self.on:
            self.seen.append((statement, None if many else parameters))

    def run(self, block: Callable[[], T]) -> dict[str, Any]:
        from duban.db import engine

        self.seen, self.on = [], True
        try:
            block()
        finally:
            self.on = False
        scans: set[str] = set()
        connection = engine().raw_connection()
        try:
            cursor = connection.cursor()
            for statement, parameters in {(s, repr(p)): (s, p) for s, p in self.seen}.values():
                if statement.lstrip().upper().startswith("SELECT") and parameters is not None:
                    for *_, detail in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall():
                        found = re.match(r"SCAN (\w+)", detail)
                        if found and found.group(1) != "CONSTANT":
                            scans.add(found.group(1))
        finally:
            connection.close()
        return {"statements": len(self.seen), "full_scans": sorted(scans)}


def history_counts() -> dict[str, int]:
    from sqlalchemy import text

    from duban.db import engine

    queries = {
        "projects": "SELECT count(*) FROM project",
        "projects_done": "SELECT count(*) FROM project WHERE gate_state = 'done'",
        "projects_in_review": "SELECT count(*) FROM project WHERE gate_state = 'in_review'",
        "projects_returned": "SELECT count(*) FROM project WHERE gate_state = 'returned'",
        "gates_passed": "SELECT count(*) FROM project_gate WHERE state = 'passed'",
        "signatures": "SELECT count(*) FROM signature",
        "signatures_awaited": "SELECT count(*) FROM signature WHERE decision IS NULL",
        "audit_entries": "SELECT count(*) FROM audit_entry",
        "messages": "SELECT count(*) FROM outbox",
        "escalations": "SELECT count(*) FROM escalation",
        "escalations_open": "SELECT count(*) FROM escalation WHERE resolved_on IS NULL",
        "database_mib": "SELECT page_count * page_size / 1048576 FROM pragma_page_count(), pragma_page_size()",
    }
    with engine().connect() as connection:
        return {name: connection.execute(text(sql)).scalar_one() for name, sql in queries.items()}


def timings(repeat: int, budget: float) -> dict[str, Any]:
    """Each hot path on both databases in turn (x1, x2, x1, x2, ...: the machine's load falls on both
    alike), each run in a fresh session; at least `repeat` rounds, more while under `budget` seconds."""
    from sqlmodel import Session

    from duban.db import engine, session_scope
    from duban.mechanism import gates, view
    from duban.mechanism.follow import follow
    from duban.stored_plan import current_plan

    use("x1")
    with session_scope() as session:
        plan = current_plan(session)  # read once, as the daily flow does before its sweep
    sql = Statements()
    counts = {}
    for history in HISTORIES:
        use(history)
        counts[history] = history_counts()
    found: dict[str, dict[str, Any]] = {}

    def measure(name: str, block: Callable[[], T], said: Callable[[T], dict[str, Any]]) -> None:
        runs: dict[str, list[float]] = {history: [] for history in HISTORIES}
        results: dict[str, T] = {}
        spent, rounds = 0.0, 0
        while rounds < repeat or (spent < budget and rounds < 25):
            for history in HISTORIES:
                use(history)
                gc.collect()  # the last run's garbage, not charged to this one
                started = time.perf_counter()
                results[history] = block()
                took = time.perf_counter() - started
                runs[history].append(round(took, 4))
                spent += took
            rounds += 1
        found[name] = {}
        for history in HISTORIES:
            use(history)
            found[name][history] = {
                "best_s": min(runs[history]),
                "runs_s": runs[history],
                **sql.run(block),
                **said(results[history]),
            }

    def sweep_rolled_back() -> Any:
        with Session(engine(), expire_on_commit=False) as session:
            result = follow(session, plan, AS_OF)
            session.rollback()
        return result

    def sweep() -> Any:
        with session_scope() as session:
            return follow(session, plan, AS_OF)

    def swept(result: Any) -> dict[str, Any]:
        ladder = result.ladder
        return {
            "passed": len(result.passed),
            "reminders": result.reminders,
            "escalations_raised": len(ladder.raised),
            "escalations_resolved": len(ladder.resolved),
            "messages": ladder.messages,
        }

    def read(block: Callable[[Session], T]) -> Callable[[], T]:
        def run() -> T:
            with session_scope() as session:
                return block(session)

        return run

    measure("follow_first", sweep_rolled_back, swept)
    open_work = ("projects_in_review", "projects_returned", "signatures_awaited", "escalations_open")
    assert len({tuple(counts[h][k] for k in open_work) for h in HISTORIES}) == 1, "the open work differs"
    for history in HISTORIES:  # the day's first run, kept: what the second run must not add to
        use(history)
        started = time.perf_counter()
        sweep()
        found["follow_first"][history]["committed_once_s"] = round(time.perf_counter() - started, 4)
        counts[history] = {"before_sweep": counts[history], "after_sweep": history_counts()}
    measure("follow_again", sweep, swept)
    for history in HISTORIES:
        use(history)
        now, then = history_counts(), counts[history]["after_sweep"]
        writes = {k: now[k] - then[k] for k in now if now[k] != then[k] and k != "database_mib"}
        assert not writes and not any(swept(sweep()).values()), f"the second sweep wrote {writes} ({history})"
    measure("register_rows", read(lambda s: view.register_rows(s, plan, AS_OF)), lambda rows: {"rows": len(rows)})
    township = plan.township_names()[0]
    measure(
        "register_rows_township",
        read(lambda s: view.register_rows(s, plan, AS_OF, township=township)),
        lambda rows: {"rows": len(rows), "township": township},
    )
    measure(
        "queue",
        read(lambda s: view.queue(s, plan, UNIT, AS_OF)),
        lambda q: {
            "unit": UNIT,
            "to_sign": len(q["to_sign"]),
            "late": sum(r["late"] for r in q["to_sign"]),
            "to_submit": len(q["to_submit"]),
        },
    )
    measure(
        "project_view",
        read(lambda s: view.project_view(s, plan, gates.get_project(s, PROFILED), AS_OF)),
        lambda v: {
            "project": PROFILED,
            "gates": len(v["gates"]),
            "signatures": sum(len(g["signatures"]) for g in v["gates"]),
        },
    )
    return {"counts": counts, "paths": found}


# --- the whole benchmark -----------------------------------------------------------------------------------------

PATHS = [
    ("follow_first", "follow, the day's first run (rolled back)"),
    ("follow_again", "follow, second run (changes nothing)"),
    ("register_rows", "register_rows (every project)"),
    ("register_rows_township", "register_rows (one township)"),
    ("queue", f"queue({UNIT})"),
    ("project_view", "project_view (one project)"),
]


def step(home: Path, name: str, args: list[str], history: str = "x1") -> dict[str, Any]:
    """One step as its own process under rusage.py: its JSON result, with wall, CPU and peak memory."""
    usage, out = home / f"{name}.usage.json", home / f"{name}.json"
    command = [sys.executable, __file__, "--step", name, "--out", str(out), *args]
    env = {**os.environ, "DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": f"sqlite:///{home / HISTORIES[history]}"}
    rusage = [sys.executable, "-S", str(ROOT / "benchmarks/rusage.py"), str(usage), "3600", "--", *command]
    subprocess.run(rusage, check=True, env=env, cwd=ROOT)
    used = json.loads(usage.read_text())
    if used["exit_code"] != 0 or used["timed_out"]:
        raise SystemExit(f"step {name} failed: {used}")
    return {**json.loads(out.read_text()), "process": {k: round(v, 2) for k, v in used.items() if k != "timed_out"}}


def one_size(projects: int, repeat: int, budget: float, keep: bool) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"duban-bench-mechanism-{projects}-"))
    try:
        print(f"--- {projects:,} projects in {home}", flush=True)
        built = step(home, "build", ["--projects", str(projects)])
        print(
            f"  built: {built['walked_projects']} walked through duban in {built['walked_s']} s, the rest copied in "
            f"{built['copied_s']} s",
            flush=True,
        )
        shutil.copyfile(home / HISTORIES["x1"], home / HISTORIES["x2"])
        doubled = step(home, "double", [], history="x2")
        print(f"  history doubled: {doubled['closed_projects_added']:,} closed-out projects copied", flush=True)
        timed = step(home, "time", ["--repeat", str(repeat), "--budget", str(budget)])
        return {"projects": projects, "build": built, "double": doubled, "time": timed}
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def table(result: dict[str, Any]) -> str:
    timed = result["time"]
    lines = [
        f"\n{result['projects']:,} projects on SQLite, AS_OF {AS_OF}: the best of at least "
        f"{min(len(p['x1']['runs_s']) for p in timed['paths'].values())} runs each, x1 and x2 in turn, "
        "a fresh session each (the machine is shared: timings are noisy, read the best)",
    ]
    for history in HISTORIES:
        c = timed["counts"][history]["before_sweep"]
        lines.append(
            f"  history {history}: {c['projects']:,} projects ({c['projects_done']:,} closed out), "
            f"{c['gates_passed']:,} gates passed, {c['signatures']:,} signatures, "
            f"{c['audit_entries']:,} audit entries, {c['messages']:,} messages, "
            f"{c['escalations']:,} escalations, {c['database_mib']} MiB"
        )
    c, d = (timed["counts"][history]["before_sweep"] for history in HISTORIES)
    grew = ", ".join(
        f"{key.replace('_', ' ')} x{d[key] / c[key]:.2f}"
        for key in ("projects", "gates_passed", "signatures", "audit_entries", "messages", "escalations")
    )
    lines += [
        f"  x2/x1: {grew}",
        f"  open work (both): {c['projects_in_review']} gates in review, {c['projects_returned']} returned, "
        f"{c['signatures_awaited']} opinions awaited",
        "",
        f"  {'hot path':<44}{'x1 s':>9}{'x2 s':>9}{'x2/x1':>7}{'SQL x1':>8}{'SQL x2':>8}  tables read in full",
    ]
    for key, label in PATHS:
        a, b = timed["paths"][key]["x1"], timed["paths"][key]["x2"]
        ratio = b["best_s"] / a["best_s"] if a["best_s"] else float("nan")
        scans = ", ".join(sorted(set(a["full_scans"]) | set(b["full_scans"]))) or "-"
        lines.append(
            f"  {label:<44}{a['best_s']:9.3f}{b['best_s']:9.3f}{ratio:7.2f}"
            f"{a['statements']:8}{b['statements']:8}  {scans}"
        )
    first, queue = timed["paths"]["follow_first"]["x1"], timed["paths"]["queue"]["x1"]
    lines += [
        f"  the day's sweep: {first['reminders']} reminders, {first['escalations_raised']} escalations raised "
        f"({first['messages']} messages), {first['escalations_resolved']} resolved; "
        f"{UNIT}'s queue: {queue['to_sign']} to sign ({queue['late']} late)",
        f"  peak memory: build {result['build']['process']['peak_kib'] / 1024:.0f} MiB, "
        f"doubling {result['double']['process']['peak_kib'] / 1024:.0f} MiB, "
        f"timing (both databases, one process) {timed['process']['peak_kib'] / 1024:.0f} MiB; "
        f"timing step {timed['process']['wall_s']:.0f} s",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="3000", help="sizes, comma-separated (default 3000)")
    parser.add_argument("--repeat", type=int, default=3, help="at least this many runs of each path on each database")
    parser.add_argument("--budget", type=float, default=3.0, help="more runs while a path has taken less (seconds)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: a temp file)")
    parser.add_argument("--keep", action="store_true", help="keep each size's DUBAN_HOME")
    parser.add_argument("--step", choices=("build", "double", "time"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        done = {
            "build": lambda: build(int(args.projects)),
            "double": double,
            "time": lambda: timings(args.repeat, args.budget),
        }[args.step]()
        args.out.write_text(json.dumps(done, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return
    started = time.perf_counter()
    results = [one_size(int(n), args.repeat, args.budget, args.keep) for n in args.projects.split(",")]
    for result in results:
        print(table(result))
    path = args.json or Path(tempfile.mkstemp(prefix="duban-bench-mechanism-", suffix=".json")[1])
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"\nJSON: {path}  ({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
