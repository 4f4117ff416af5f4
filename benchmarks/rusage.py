"""Run one command and report its wall time, CPU time and peak memory (for run.py; standard library only).

    python -S benchmarks/rusage.py REPORT.json TIMEOUT_SECONDS -- COMMAND [ARG...]

Why a separate small process: Linux counts in a child's peak RSS (ru_maxrss) the memory of whatever
it was forked from, up to its exec. run.py grows (the SMTP look-alike keeps every message, bulletins
attached), so its children would inherit its size; forked from this ~10 MB process instead, a step's
peak is its own. The child runs in a session of its own; at the timeout the whole session is killed,
and the report still says what it used until then. `-S` keeps this process small (no site packages).
"""

import json
import os
import signal
import sys
import time


def main() -> None:
    report, timeout, separator, *command = sys.argv[1:]
    assert separator == "--" and command, __doc__
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    deadline, killed = started + float(timeout), False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if not killed and time.perf_counter() > deadline:
            os.killpg(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.02)
    result = {
        "wall_s": time.perf_counter() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_kib": usage.ru_maxrss,  # kibibytes on Linux
        "exit_code": os.waitstatus_to_exitcode(status),
        "timed_out": killed,
    }
    with open(report, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
