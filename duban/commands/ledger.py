"""`duban ledger ...`: the problem ledger (台账) imported, exported, and its blank template."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban.cli_common import as_of_option, entered_at_terminal, out, use_engine, user_errors

LISTED = 20  # codes named on the console; the ledger export has them all


@click.group()
def ledger() -> None:
    """The problem ledger (台账): import, export, blank template."""


@ledger.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "by", help="Unit filing the ledger; default the Office.")
@as_of_option
@click.option(
    "--engine/--no-engine",
    default=None,
    help="Run as a Prefect flow; default: only when PREFECT_API_URL names a server.",
)
@user_errors
@entered_at_terminal
def ledger_import(file: Path, by: str | None, as_of: date, engine: bool | None) -> None:
    """Import a ledger (.xlsx or .csv): all rows or none."""
    from duban.files.spreadsheet import read_sheet
    from duban.ledger import importer
    from duban.stored_plan import plan_in_force

    actor = by or plan_in_force().office.name
    if use_engine(engine):
        from flows.import_ledger import import_ledger

        state = import_ledger(str(file.resolve()), by=actor, as_of=as_of, return_state=True)
        result = state.result(raise_on_failure=True)
        out.print(
            f"台账导入完成（Prefect 流程）：新增 {len(result['created'])} 项，"
            f"更新 {len(result['updated'])} 项，整治方案修订 {len(result['replanned'])} 项，"
            f"无变化 {len(result['unchanged'])} 项"
        )
        return
    rows = importer.check(read_sheet(file, plan_in_force().limits), actor=actor, as_of=as_of)
    result = importer.commit(rows, actor=actor, as_of=as_of)
    out.print(f"台账导入完成：{result.summary()}")
    created = set(result.created)
    generated = [r.code for r in rows if not r.code_given and r.code in created]
    if generated:
        more = f"等{len(generated)}项（可用 duban ledger export 查看全部）" if len(generated) > LISTED else ""
        out.print(f"  系统生成问题编号：{'、'.join(generated[:LISTED])}{more}")


@ledger.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def ledger_export(file: Path) -> None:
    """Write the ledger with status and progress (.xlsx or .csv)."""
    from duban.db import session_scope
    from duban.ledger.export import export_ledger
    from duban.stored_plan import current_plan

    with session_scope() as session:
        count = export_ledger(session, current_plan(session), file)
    out.print(f"已导出 {count} 项问题到 {file}")


@ledger.command("template")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def ledger_template(file: Path) -> None:
    """Write a blank .xlsx ledger with drop-down lists."""
    from duban.ledger.export import write_template
    from duban.stored_plan import plan_in_force

    write_template(plan_in_force(), file)
    out.print(f"已生成台账模板 {file}")
