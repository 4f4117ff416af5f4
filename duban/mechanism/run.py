"""The mechanism's steps as plain functions, one transaction each: what the flow and the CLI call."""

from __future__ import annotations

from datetime import date

from duban.db import session_scope
from duban.mechanism.follow import ProjectFollowUp, follow
from duban.stored_plan import current_plan


def follow_projects(as_of: date) -> ProjectFollowUp:
    with session_scope() as session:
        return follow(session, current_plan(session), as_of)
