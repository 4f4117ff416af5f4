"""`duban init`: the database created or migrated, the plan loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from duban.cli_common import as_of_option, out, user_errors


@click.command()
@click.option("--plan", "plan_file", required=True, type=click.Path(path_type=Path), help="Plan YAML file.")
@as_of_option
@user_errors
def init(plan_file: Path, as_of: date) -> None:
    """Create or migrate the database and load (or re-load) the plan."""
    from duban.db import migrate, session_scope
    from duban.plan import load_plan
    from duban.programme import apply_plan

    plan, source = load_plan(plan_file)
    migrate()
    with session_scope() as session:
        result = apply_plan(session, plan, source, actor=plan.office.name, as_of=as_of)
    if not result.changed:
        out.print(f"方案“{plan.programme.title}”已是最新，未作任何修改。")
        return
    out.print(f"已加载方案“{plan.programme.title}”（{plan.programme.code}）。")
    for label, names in (("新增", result.added), ("修改", result.updated), ("删除", result.removed)):
        if names:
            out.print(f"  {label}：{'、'.join(names)}")
