"""What `duban portal` hands to uvicorn: the app built in each worker process from the command's options."""

from __future__ import annotations

import os
from datetime import date

from duban.web.app import create_app


def app():  # noqa: ANN201 - an ASGI application
    pinned, threads = os.environ.get("DUBAN_PORTAL_AS_OF"), os.environ.get("DUBAN_PORTAL_THREADS")
    return create_app(
        as_of=date.fromisoformat(pinned) if pinned else None,
        https=bool(os.environ.get("DUBAN_PORTAL_HTTPS")),
        threads=int(threads) if threads else None,
    )
