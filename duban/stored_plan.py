"""The plan in force: the text the last `duban init` stored, parsed once per process.

Apart from duban/programme.py (which loads a plan and needs the models) so that a command that only
reads, `duban status`, reads the plan without importing them (duban/state/tables.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import select

from duban.db import engine
from duban.plan import Plan, PlanError, parse_plan
from duban.state.tables import PROGRAMME, execute


class NotInitialised(Exception):
    """The database has no plan yet."""


def current_plan(bind: Any) -> Plan:
    """The plan in force, read through a Session or a Connection."""
    record = execute(bind, select(PROGRAMME.c.source, PROGRAMME.c.code)).first()
    if record is None:
        raise NotInitialised("数据库尚未加载实施方案，请先运行 duban init --plan 方案文件")
    try:
        return _parsed(record.source, record.code)
    except PlanError as exc:
        raise PlanError(
            f"{exc}\n数据库中的方案不符合当前版本的要求（升级后？）：请用更新后的方案文件重新运行 duban init --plan"
        ) from None


@cache
def _parsed(source: str, code: str) -> Plan:
    """Plans are immutable, so one parse serves every later read of the same text."""
    return parse_plan(source, f"数据库中的方案 {code}")


def plan_in_force() -> Plan:
    """The plan stored by the last `duban init`, read in a connection of its own."""
    with engine().connect() as connection:
        return current_plan(connection)
