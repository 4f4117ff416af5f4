"""The portal's threads. Pages get a few per worker process: Python runs one thread at a time in a
process, so forty threads sharing two cores only take turns (measured at 30,000 items: a third more
CPU per page and several times the p95 of two threads). Password hashing (argon2id, 0.2 s and 64 MiB
each) gets threads of its own, so a morning's burst of sign-ins never holds a page up."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread

PAGE_THREADS = 2  # per worker process, unless `duban portal --threads` says otherwise
HASHING_THREADS = 2  # as many as accounts.py lets hash at once
P = ParamSpec("P")
T = TypeVar("T")
_hashing: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


def limit_pages(threads: int) -> None:
    """Within the event loop (the app's start-up): the threads the pages share."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def hashing(route: Callable[P, T]) -> Callable[P, T]:
    """A route that checks or sets a password runs on the hashing threads, not the pages' ones."""

    @functools.wraps(route)
    async def on_hashing_threads(*args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        limiter = _hashing.get(loop)
        if limiter is None:
            limiter = _hashing[loop] = anyio.CapacityLimiter(HASHING_THREADS)
        return await anyio.to_thread.run_sync(functools.partial(route, *args, **kwargs), limiter=limiter)

    return on_hashing_threads  # type: ignore[return-value]
