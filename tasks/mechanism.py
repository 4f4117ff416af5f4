"""The long-term mechanism's daily step as the engine sees it: one task over every open project."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.mechanism import run
from duban.mechanism.follow import ProjectFollowUp


@task(name="follow-projects", cache_policy=NO_CACHE)
def follow(as_of: date) -> ProjectFollowUp:
    return run.follow_projects(as_of)
