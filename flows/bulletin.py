"""Assemble a bulletin: number it, compute its figures, write Word, PDF and HTML, distribute it."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from duban import config
from tasks.bulletin import issue_bulletin


@flow(name="assemble-bulletin")
def assemble_bulletin(
    period: str, kind: str = "monthly", as_of: date | None = None, out_dir: str | None = None, new_edition: bool = False
) -> dict[str, str]:
    issued = issue_bulletin(
        period, kind, as_of or config.today(), out_dir or str(config.home() / "bulletins"), new_edition
    )
    create_markdown_artifact(
        key=f"bulletin-{issued.record.year}-{issued.record.number}",
        markdown=issued.markdown,
        description=issued.record.title,
    )
    return {"docx": str(issued.docx), "pdf": str(issued.pdf), "html": str(issued.html)}
