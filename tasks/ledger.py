"""The ledger import's steps, as the engine sees them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.files.spreadsheet import Sheet, read_sheet
from duban.ledger import importer
from duban.ledger.importer import ImportResult, LedgerRow
from duban.stored_plan import plan_in_force


@task(name="read-ledger", cache_policy=NO_CACHE)
def read_ledger(path: str) -> Sheet:
    return read_sheet(Path(path), plan_in_force().limits)


@task(name="validate-ledger", cache_policy=NO_CACHE)
def validate_ledger(sheet: Sheet, actor: str, as_of: date) -> list[LedgerRow]:
    return importer.check(sheet, actor=actor, as_of=as_of)


@task(name="write-ledger", cache_policy=NO_CACHE)
def write_ledger(rows: list[LedgerRow], actor: str, as_of: date) -> ImportResult:
    return importer.commit(rows, actor=actor, as_of=as_of)
