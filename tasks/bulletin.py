"""Issuing a bulletin as the engine sees it: one task for the whole document."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.bulletin.issue import Issued, issue
from duban.bulletin.monthly import assemble_monthly
from duban.db import session_scope
from duban.stored_plan import current_plan


@task(name="issue-bulletin", cache_policy=NO_CACHE)
def issue_bulletin(period: str, kind: str, as_of: date, out_dir: str, new_edition: bool) -> Issued:
    with session_scope() as session:
        return issue(
            session,
            current_plan(session),
            period=period,
            kind=kind,
            as_of=as_of,
            out_dir=Path(out_dir),
            new_edition=new_edition,
        )


@task(name="issue-monthly-bulletin", cache_policy=NO_CACHE)
def issue_monthly(as_of: date) -> Issued | None:
    return assemble_monthly(as_of)
