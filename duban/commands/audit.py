"""`duban audit ...`: the audit log from the terminal (the chain's check)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from duban.cli_common import err, out, print_json, user_errors

if TYPE_CHECKING:
    from duban.audit.chain import Broken


@click.group()
def audit() -> None:
    """The audit log: verify its hash chain."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--anchor",
    metavar="SEQ:SM3",
    callback=lambda c, p, v: None if v is None else _anchor(v),
    help="A head written down earlier (printed by verify and by backup): the entry SEQ must still have it.",
)
@user_errors
def audit_verify(as_json: bool, anchor: tuple[int, str] | None) -> None:
    """Walk the chain; name the first entry that does not match (exit status 1), or count the entries."""
    from duban.audit.chain import verify
    from duban.audit.view import described
    from duban.db import session_scope

    with session_scope() as session:
        result = verify(session, anchor)
    broken = result.broken
    if as_json:
        print_json(
            {
                "entries": result.count,
                "head": result.head,
                "broken": None if broken is None else _fields(broken),
            }
        )
    elif broken is None:
        out.print(f"审计日志完整：共{result.count}条，逐条校验一致。链头：{result.count}:{result.head}（请另行记录）")
    else:
        named = "" if broken.entry is None else f"{described(broken.entry)}："
        err.print(f"审计日志校验未通过：{named}{broken.reason}。此前{result.count}条一致。")
    if broken is not None:
        sys.exit(1)


def _anchor(text: str) -> tuple[int, str]:
    seq, _, sm3 = text.partition(":")
    if not (seq.isascii() and seq.isdigit() and len(seq) <= 18 and len(sm3) == 64 and sm3.isascii()):
        raise click.BadParameter("格式应为 序号:64位校验值，例如 1024:3f2a…", param_hint="--anchor")
    return int(seq), sm3.lower()


def _fields(broken: Broken) -> dict:
    entry = broken.entry
    if entry is None:
        return {"seq": broken.seq, "reason": broken.reason}
    return {
        "seq": broken.seq,
        "reason": broken.reason,
        "id": entry.id,
        "subject": entry.subject,
        "key": entry.subject_key,
        "action": entry.action,
        "at": entry.at.isoformat(),
    }
