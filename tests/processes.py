"""Every process a test starts goes through here: started with default signal handling, waited for with a
bound, and stopped as a process tree (a signal, a grace period, then SIGKILL, and the process reaped).

A suite started as `nohup make test &` runs in a background job, which inherits SIGINT ignored; Prefect's
worker answers SIGTERM by sending itself SIGINT, so without the default restored it would never end.
`tests/test_bounded_waits.py` holds the tests to this module: nothing else starts a process or waits on one
without a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

Command = Sequence[str | os.PathLike[str]]
Spawn = Callable[..., subprocess.Popen]


def default_signals() -> None:
    """For a started process: SIGINT means what a terminal's Ctrl+C means, even under `nohup … &`."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(command: Command, **options: Any) -> subprocess.Popen:
    """A process the test watches and stops itself (with `stop`, or inside `running`)."""
    return subprocess.Popen([str(part) for part in command], preexec_fn=default_signals, **options)


def run(command: Command, *, timeout: float, **options: Any) -> subprocess.CompletedProcess:
    """A command run to its end; past `timeout` seconds it and what it started are killed and the test fails."""
    process = start(command, **options)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process, signal.SIGKILL, grace=5)
        pytest.fail(f"{' '.join(map(str, command))} did not end within {timeout} s and was killed")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def finish(process: subprocess.Popen, timeout: float) -> int:
    """The exit status of a process expected to end by itself; killed (tree and all) if it does not."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process, signal.SIGKILL, grace=5)
        pytest.fail(f"process {process.pid} ({' '.join(map(str, process.args))}) did not end within {timeout} s")


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """`start` for a test: whatever is still running when the test ends is stopped, tree and all."""
    started: list[subprocess.Popen] = []

    def spawn_(command: Command, **options: Any) -> subprocess.Popen:
        started.append(start(command, **options))
        return started[-1]

    yield spawn_
    for process in started:
        stop(process, signal.SIGKILL, grace=5)


@contextlib.contextmanager
def running(command: Command, *, grace: float = 15, **options: Any) -> Iterator[subprocess.Popen]:
    """A process that lives for the block and is stopped (SIGTERM, then SIGKILL after `grace`) after it."""
    process = start(command, **options)
    try:
        yield process
    finally:
        stop(process, signal.SIGTERM, grace=grace)


def stop(process: subprocess.Popen | int, sig: signal.Signals = signal.SIGTERM, grace: float = 15) -> None:
    """The process and every process it started: `sig`, then SIGKILL for whatever is left after `grace`
    seconds, and the process reaped (its exit status stays readable through `process.returncode`)."""
    pid = process if isinstance(process, int) else process.pid
    members = [pid, *descendants(pid)]
    for member in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(m) for m in members):
        time.sleep(0.05)
    for member in members:
        if alive(member):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
    deadline = time.monotonic() + 5  # SIGKILL cannot be refused: this only lets the kernel finish
    while time.monotonic() < deadline and any(alive(m) for m in members):
        time.sleep(0.01)
    if isinstance(process, subprocess.Popen):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)  # collects it
    else:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and those they started (a flow run may run in a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    family, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        family.append(current)
        todo += children.get(current, [])
    return family


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
