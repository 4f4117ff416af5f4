"""No test waits without a bound: the suite must end even when a server, worker or child process never does
(a background job's inherited SIGINT-ignored once hung it for ever in `kill_tree`).

The helper itself is tested with a real child that ignores SIGTERM and a grandchild it started; the rule is
checked over the tests' own source: processes start through `tests/processes.py` (default signals, a
stop that ends in SIGKILL), and every wait on a process, thread, event or command names its timeout.
"""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import alive, descendants, finish, run, start, stop

TESTS = Path(__file__).parent
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
IGNORE = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
child = subprocess.Popen([sys.executable, "-c", IGNORE])
print(child.pid, flush=True)
time.sleep(600)
"""


def _stubborn() -> tuple[subprocess.Popen, int]:
    process = start([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    grandchild = int(process.stdout.readline())
    return process, grandchild


def test_a_child_that_ignores_sigterm_is_killed_within_its_grace_period() -> None:
    process, grandchild = _stubborn()
    assert descendants(process.pid) == [grandchild]
    began = time.monotonic()
    stop(process, signal.SIGTERM, grace=2)
    took = time.monotonic() - began
    assert 2 <= took < 7  # the grace period, SIGKILL, and the reaping; never the child's own 600 s
    assert process.returncode == -signal.SIGKILL
    assert not alive(process.pid) and not alive(grandchild)


def test_a_child_that_ends_on_sigterm_is_not_waited_for_longer() -> None:
    process = start([sys.executable, "-c", "import time; time.sleep(600)"])
    began = time.monotonic()
    stop(process, signal.SIGTERM, grace=30)
    assert time.monotonic() - began < 5
    assert process.returncode == -signal.SIGTERM


def test_sigint_has_its_default_meaning_in_a_started_process_even_when_the_suite_ignores_it() -> None:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under `nohup make test &`
    try:
        process = start([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"],
                        stdout=subprocess.PIPE, text=True)  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, before)
    assert process.stdout.readline() == "up\n"
    process.send_signal(signal.SIGINT)
    assert finish(process, 10) != 0


def test_a_command_past_its_timeout_is_killed_and_the_test_fails() -> None:
    began = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="did not end within 1 s"):
        run([sys.executable, "-c", STUBBORN], timeout=1, stdout=subprocess.DEVNULL)
    assert time.monotonic() - began < 10


def test_a_process_that_does_not_end_is_killed_by_finish() -> None:
    process, grandchild = _stubborn()
    with pytest.raises(pytest.fail.Exception, match="did not end within 1 s"):
        finish(process, 1)
    assert process.returncode == -signal.SIGKILL and not alive(grandchild)


SUBPROCESS_RUNS = {"run", "call", "check_call", "check_output"}
WAITS = {"wait", "join", "communicate", "wait_for"}  # process, thread, event, barrier, condition, fake server


def unbounded(source: str) -> list[str]:
    """The calls in `source` that start a process other than through tests/processes.py, or wait without a
    timeout: `subprocess.run(...)` without `timeout=`, and `x.wait()`, `x.join()`, `x.communicate()` with no
    argument (a string's `join` always has one)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, keywords = node.func.attr, {k.arg for k in node.keywords}
        owner = node.func.value
        from_subprocess = isinstance(owner, ast.Name) and owner.id == "subprocess"
        if from_subprocess and name == "Popen":
            found.append(f"line {node.lineno}: subprocess.Popen (use processes.start, spawn or running)")
        elif from_subprocess and name in SUBPROCESS_RUNS and "timeout" not in keywords:
            found.append(f"line {node.lineno}: subprocess.{name} without timeout=")
        elif name in WAITS and not node.args and "timeout" not in keywords:
            found.append(f"line {node.lineno}: .{name}() without a timeout")
    return found


def test_the_rule_finds_what_it_should() -> None:
    sample = """
import subprocess
subprocess.run(["x"])
subprocess.run(["x"], timeout=5)
subprocess.Popen(["x"])
p.wait()
p.wait(timeout=3)
t.join()
t.join(5)
"、".join(words)
p.communicate()
"""
    assert unbounded(sample) == [
        "line 3: subprocess.run without timeout=",
        "line 5: subprocess.Popen (use processes.start, spawn or running)",
        "line 6: .wait() without a timeout",
        "line 8: .join() without a timeout",
        "line 11: .communicate() without a timeout",
    ]


def test_no_test_starts_a_process_or_waits_without_a_bound() -> None:
    found = {
        path.name: problems
        for path in sorted(TESTS.glob("*.py"))
        if path.name not in {"processes.py", Path(__file__).name}
        and (problems := unbounded(path.read_text(encoding="utf-8")))
    }
    assert found == {}
