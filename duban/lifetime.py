"""Processes that must not outlive the one that started them (`duban serve`, its server, its runs)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
SERVE_PID = "DUBAN_SERVE_PID"  # set by `duban serve` for the runs it starts


def die_with_parent(sig: signal.Signals) -> None:
    """Ask the kernel (Linux) to send `sig` to this process when its parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)


def die_with_serve() -> None:
    """In a run's process started by `duban serve`: end with serve, even when serve is killed outright.

    SIGKILL, as a power cut would: serve's server is gone too, so the run could report nothing; what it
    had not committed is rolled back, and the next serve marks the run Crashed.
    """
    serve = os.environ.get(SERVE_PID)
    if not serve or int(serve) == os.getpid():  # not started by serve, or serve itself
        return
    die_with_parent(signal.SIGKILL)
    if os.getppid() != int(serve):  # serve died before the kernel was asked
        os.kill(os.getpid(), signal.SIGKILL)
