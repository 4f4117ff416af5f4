"""Delivery as the engine sees it: one task run per dispatch batch."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from notifications.dispatch import DispatchResult, dispatch


@task(name="dispatch-batch", cache_policy=NO_CACHE)
def dispatch_batch(limit: int, at: datetime | None = None) -> DispatchResult:
    return dispatch(limit=limit, clock=(lambda: at) if at else None)
