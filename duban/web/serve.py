"""What `duban portal` hands to uvicorn: the app built in each worker process from the command's options."""

from __future__ import annotations

import os
from datetime import date

from duban.web.app import create_app

# What uvicorn itself times out and limits, per worker. It closes a connection idle between requests after
# `timeout_keep_alive` seconds, but has no timeout for a request's headers or body arriving slowly, nor
# for a client reading the answer slowly: nginx in front absorbs slow clients (README, "Running it").
SERVER_LIMITS = {
    "timeout_keep_alive": 5,  # seconds a kept-alive connection may stay idle
    "timeout_graceful_shutdown": 30,  # at a stop or restart, requests under way get this long
    "limit_concurrency": 1_000,  # connections and requests at once; past it, 503 at once rather than a stall
}


def app():  # noqa: ANN201 - an ASGI application
    pinned, threads = os.environ.get("DUBAN_PORTAL_AS_OF"), os.environ.get("DUBAN_PORTAL_THREADS")
    return create_app(
        as_of=date.fromisoformat(pinned) if pinned else None,
        https=bool(os.environ.get("DUBAN_PORTAL_HTTPS")),
        threads=int(threads) if threads else None,
    )
