"""Import a ledger file filed with the Office: read, validate every row, write all or nothing."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from duban import config
from duban.stored_plan import plan_in_force
from tasks.ledger import read_ledger, validate_ledger, write_ledger


@flow(name="import-ledger")
def import_ledger(path: str, by: str | None = None, as_of: date | None = None) -> dict[str, list[str]]:
    as_of = as_of or config.today()
    actor = by or plan_in_force().office.name
    sheet = read_ledger(path)
    rows = validate_ledger(sheet, actor, as_of)
    result = write_ledger(rows, actor, as_of)
    create_markdown_artifact(
        key="ledger-import",
        markdown=f"**台账导入** `{sheet.name}`（{actor}，{as_of.isoformat()}）：{result.summary()}",
    )
    return {
        "created": result.created,
        "updated": result.updated,
        "replanned": result.replanned,
        "unchanged": result.unchanged,
    }
