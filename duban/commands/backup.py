"""`duban backup` and `duban restore`: a consistent copy of the record, and that copy put back and checked."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from duban.cli_common import out, print_json, user_errors
from duban.glossary import CHECK_RESULT, DATABASE_KIND, label


@click.command()
@click.option(
    "--to", "to", required=True, type=click.Path(path_type=Path), help="Folder of backups; each goes in a new folder."
)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def backup(to: Path, as_json: bool) -> None:
    """Copy the database and the files under DUBAN_HOME, with an SM3 manifest, while everything runs."""
    from duban.audit.chain import head
    from duban.backup.take import take
    from duban.db import session_scope

    taken = take(to)
    made = taken.manifest
    with session_scope() as session:
        anchor = head(session)  # at or after the copy: its entries up to that number never change
    written = f"{anchor[0]}:{anchor[1]}" if anchor else ""
    if as_json:
        print_json({"folder": str(taken.folder), **made.as_dict(), "audit_head": written})
        return
    out.print(
        f"已备份到 {taken.folder}：{label(DATABASE_KIND, made.database)}数据库（结构版本 {made.revision}），"
        f"共{len(made.files)}个文件、{_size(made.size)}，清单 manifest.json 含各文件的 SM3 摘要"
    )
    if anchor:
        out.print(f"审计日志链头：{written}（请另行记录，日后用 duban audit verify --anchor 核对）")


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@user_errors
def restore(folder: Path, as_json: bool) -> None:
    """Put one backup folder into an empty DUBAN_HOME (and empty database), then check it; exit 1 if a check fails."""
    from duban.backup.restore import restore as put_back

    done = put_back(folder)
    made = done.manifest
    if as_json:
        print_json(
            {
                "folder": str(folder),
                "created_at": made.created_at,
                "database": made.database,
                "revision": made.revision,
                "files": len(made.files),
                "migrated": done.migrated,
                "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in done.checks],
            }
        )
    else:
        out.print(
            f"已校验并恢复备份 {folder}（{made.created_at}，duban {made.duban_version}）："
            f"{label(DATABASE_KIND, made.database)}数据库，共{len(made.files)}个文件，均与清单的 SM3 摘要一致"
        )
        if done.migrated:
            out.print(f"备份的数据库结构版本 {made.revision} 较旧，已升级到本程序的版本")
        for check in done.checks:
            out.print(f"{check.name}：{CHECK_RESULT[check.passed]}（{check.detail}）")
    if not done.passed:
        sys.exit(1)


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}MB" if size >= 1024 * 1024 else f"{size / 1024:.1f}KB"
