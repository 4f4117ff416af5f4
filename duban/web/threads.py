"""The portal's threads. Pages get a few per worker process: Python runs one thread at a time in a
process, so forty threads sharing two cores only take turns (measured at 30,000 items: a third more
CPU per page and several times the p95 of two threads). Password hashing (argon2id, 0.2 s and 64 MiB
each) gets threads of its own, so a morning's burst of sign-ins never holds a page up; they run at a
lower CPU priority (nice +10), so that a flood of sign-ins takes the cores only when pages leave them
idle (argon2 releases the GIL: without it, hashing and pages share the cores alike)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread

PAGE_THREADS = 2  # per worker process, unless `duban portal --threads` says otherwise
HASHING_THREADS = 2  # as many as accounts.py lets hash at once
HASHING_NICE = 10  # added to the process's niceness for the hashing threads (Linux: per thread)
P = ParamSpec("P")
T = TypeVar("T")
_hashing: ThreadPoolExecutor | None = None
_made = threading.Lock()
_admitted: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


def limit_pages(threads: int) -> None:
    """Within the event loop (the app's start-up): the threads the pages share."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def _lower_priority() -> None:
    """On Linux a thread has a niceness of its own (setpriority with the thread's id); elsewhere, or where
    refused, the thread keeps the process's."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICE)
    except (AttributeError, OSError):
        pass


def _executor() -> ThreadPoolExecutor:
    global _hashing
    with _made:
        if _hashing is None:
            _hashing = ThreadPoolExecutor(HASHING_THREADS, "duban-hashing", initializer=_lower_priority)
        return _hashing


def hashing(route: Callable[P, T]) -> Callable[P, T]:
    """A route that checks or sets a password runs on the hashing threads, not the pages' ones. Sign-ins
    wait their turn in the event loop, not in the threads' queue: a flood left waiting when the portal
    stops is dropped with its connections rather than hashed first."""

    @functools.wraps(route)
    async def on_hashing_threads(*args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        limiter = _admitted.get(loop)
        if limiter is None:
            limiter = _admitted[loop] = anyio.CapacityLimiter(HASHING_THREADS)
        call = functools.partial(contextvars.copy_context().run, route, *args, **kwargs)
        async with limiter:
            return await loop.run_in_executor(_executor(), call)

    return on_hashing_threads  # type: ignore[return-value]
