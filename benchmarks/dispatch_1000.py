"""Benchmark: dispatch 1,000 queued messages to a local SMTP server and a local WeCom look-alike.

    .venv/bin/python benchmarks/dispatch_1000.py

22 units, each reachable by email and by its own WeCom bot; 1,000 outbox rows spread over them.
One dispatch delivers them all: each address's rows go as one digest, split to fit WeCom's 4,096-byte
limit. The rate limits' own bound is 20 calls a minute per bot; the script prints the time taken,
the number of sends, and the busiest bot's calls. Nothing here asserts a time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from fakes import SmtpServer, WecomServer

    home = Path(tempfile.mkdtemp(prefix="duban-bench-dispatch-"))
    os.environ.update(DUBAN_HOME=str(home), DUBAN_DELIVERY="live")
    os.environ.pop("DUBAN_DATABASE_URL", None)
    with SmtpServer() as smtp, WecomServer() as wecom:
        os.environ["DUBAN_SMTP_URL"] = f"mailto://127.0.0.1:{smtp.port}?from=ptb@xxq.gov.cn&name=区配套办"
        os.environ["DUBAN_WECOM_API"] = wecom.url
        from duban.plan import load_plan
        from plans import PLAN, plan_with

        sample, _ = load_plan(PLAN)
        deputy = next(leader.name for leader in sample.chain.leadership_group.leaders if leader.role == "deputy")
        units = [*sample.township_names(), *sample.department_names(), sample.office.name, deputy]
        channels = {}
        for n, unit in enumerate(units):
            os.environ[f"DUBAN_WECOM_BOT{n}"] = wecom.add_bot()
            channels[unit] = [
                {"type": "email", "to": f"u{n}@xxq.gov.cn"},
                {"type": "wecom", "key_env": f"DUBAN_WECOM_BOT{n}"},
            ]
        plan_file = plan_with(home, channels)

        from duban.db import migrate, session_scope
        from duban.programme import apply_plan
        from notifications.dispatch import dispatch
        from notifications.outbox import notify

        loaded, source = load_plan(plan_file)
        migrate()
        today = datetime(2022, 10, 10, 9, 0).astimezone()
        with session_scope() as session:
            apply_plan(session, loaded, source, actor="区配套办", as_of=today.date())
        started = time.perf_counter()
        with session_scope() as session:
            for n in range(500):  # two channels each: 1,000 rows
                notify(
                    session, loaded, key=f"bench:{n}", kind="test", recipient=units[n % len(units)], as_of=today.date()
                )
        queued = time.perf_counter() - started
        started = time.perf_counter()
        result = dispatch(clock=lambda: today)
        took = time.perf_counter() - started
        calls: dict[str, int] = {}
        for request in wecom.requests:
            calls[request["key"]] = calls.get(request["key"], 0) + 1
    print(f"dispatch of 1,000 queued messages ({len(units)} units x email + WeCom bot), one dispatcher")
    print(f"  queueing 1,000 rows:   {queued:6.2f} s")
    print(
        f"  dispatch:              {took:6.2f} s  ({result.sent} rows sent in {result.messages} sends, "
        f"{len(smtp.messages)} emails, {len(wecom.delivered)} WeCom calls)"
    )
    print(f"  busiest bot: {max(calls.values())} calls (limit 20 a minute); failed {result.failed}, dead {result.dead}")


if __name__ == "__main__":
    main()
