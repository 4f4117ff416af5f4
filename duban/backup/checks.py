"""What a restored copy must pass before anyone relies on it.

Each check is a function of a session that answers a `Check`: the kept state against the log, then the
log's own hash chain (`duban audit verify`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from duban.db import session_scope


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, as the report names it (Chinese)
    passed: bool
    detail: str  # the result in one line (Chinese)


def kept_state(session: Session) -> Check:
    """`duban check`: every item's kept state against the audit log."""
    from duban.state.check import differences

    name = "现状数据与审计日志核查（duban check）"
    found = differences(session)
    if not found:
        return Check(name, True, "各问题的现状数据与审计日志一致")
    codes = "、".join(sorted({d.code for d in found})[:10])
    return Check(name, False, f"{len(found)}处不一致（{codes}）：请运行 duban check 查看")


def audit_chain(session: Session) -> Check:
    """`duban audit verify`: every entry of the audit log against its SM3 chain."""
    from duban.audit.chain import verify

    name = "审计日志完整性校验（duban audit verify）"
    found = verify(session)
    if found.broken is None:
        return Check(name, True, f"审计日志共{found.count}条，校验一致")
    return Check(name, False, f"序号{found.broken.seq}：{found.broken.reason}")


CHECKS: tuple[Callable[[Session], Check], ...] = (kept_state, audit_chain)


def after_restore() -> list[Check]:
    with session_scope() as session:
        return [check(session) for check in CHECKS]
