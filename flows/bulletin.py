"""Assemble a bulletin: number it, compute its figures, write Word, PDF and HTML, distribute it."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from duban import config
from tasks.bulletin import issue_bulletin, issue_monthly


@flow(name="assemble-bulletin")
def assemble_bulletin(
    period: str, kind: str = "monthly", as_of: date | None = None, out_dir: str | None = None, new_edition: bool = False
) -> dict[str, str]:
    issued = issue_bulletin(
        period, kind, as_of or config.today(), out_dir or str(config.home() / "bulletins"), new_edition
    )
    publish(issued.markdown, f"bulletin-{issued.record.year}-{issued.record.number}", issued.record.title)
    return _paths(issued)


@flow(name="monthly-bulletin")
def monthly_bulletin(as_of: date | None = None) -> dict[str, str]:
    """The month's bulletin, on the first day it is due; every other day (or once issued) returns at once."""
    issued = issue_monthly(as_of or config.today())
    if issued is None:
        return {}
    publish(issued.markdown, f"bulletin-{issued.record.year}-{issued.record.number}", issued.record.title)
    return _paths(issued)


@task(name="bulletin-artifact", cache_policy=NO_CACHE)
def publish(markdown: str, key: str, title: str) -> None:
    """Mirror the bulletin in the Prefect UI (the files and the database remain the record)."""
    create_markdown_artifact(key=key, markdown=markdown, description=title)


def _paths(issued) -> dict[str, str]:  # noqa: ANN001 - the issue's result
    """The files of the bulletin: Word, PDF, HTML, and the annex workbook when it lists items."""
    paths = {"docx": str(issued.docx), "pdf": str(issued.pdf), "html": str(issued.html)}
    if issued.annex is not None:
        paths["annex"] = str(issued.annex)
    return paths
