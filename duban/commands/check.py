"""`duban check`: every item's kept state rebuilt from the audit log, and put back with --repair."""

from __future__ import annotations

import sys
from datetime import date

import click

from duban.cli_common import as_of_option, out, print_json, user_errors


@click.command()
@click.option("--repair", is_flag=True, help="Put the audit log's values back where the kept state differs.")
@click.option("--json", "as_json", is_flag=True)
@as_of_option
@user_errors
def check(repair: bool, as_json: bool, as_of: date) -> None:
    """Rebuild every item's state from the audit log and report where the kept state differs."""
    from rich.table import Table

    from duban.db import session_scope
    from duban.state.check import FIELD_LABELS, differences
    from duban.state.check import repair as put_back
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        found = differences(session)
        repaired = put_back(session, found, actor=plan.office.name, as_of=as_of) if repair and found else 0
    if as_json:
        print_json({"differences": [d.as_dict() for d in found], "repaired_items": repaired})
    elif not found:
        out.print("核查完成：各问题的现状数据与审计日志一致。")
    else:
        table = Table("问题编号", "项目", "现状数据", "审计日志", title=f"现状数据与审计日志不一致（{len(found)}处）")
        for d in found:
            kept, logged = d.as_dict()["kept"], d.as_dict()["logged"]
            table.add_row(d.code, FIELD_LABELS[d.field], str(kept), str(logged))
        out.print(table)
        if repaired:
            out.print(f"已按审计日志修复{repaired}项问题的现状数据。")
    if found and not repaired:
        sys.exit(1)
