"""The bulletin as HTML (the browser), PDF (WeasyPrint, CJK font embedded) and Markdown (Prefect)."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from duban.bulletin.document import Chart, Document, Heading, Paragraph, Table, annex_lines, column_widths

# The official fonts are named first; WenQuanYi Zen Hei (installed by the project) renders when they
# are absent, so the PDF always embeds a CJK font.
FALLBACK = '"WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif'
# A table's cells, as the template's CSS sets them: 11 pt text, 3 pt padding each side and a 0.75 pt rule,
# in the 156 mm (442.2 pt) text width; and 10 pt of slack, as the fallback font draws a digit 0.6 em wide
# where the widths count half an em (a date or a project code comes out about 10 pt wider).
CELL_EM, CELL_PADDING, TEXT_WIDTH = 11.0, 2 * 3.0 + 0.75 + 10.0, 442.2


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["j2"]))


def to_html(document: Document) -> str:
    """A self-contained page: chart images are inlined as data URIs."""
    body = f'"{document.fonts.get("body", "仿宋_GB2312")}", "FangSong", {FALLBACK}'
    title = f'"{document.fonts.get("title", "方正小标宋简体")}", "SimSun", {FALLBACK}'
    images = {
        block.path: "data:image/png;base64," + base64.b64encode(block.path.read_bytes()).decode()
        for block in document.blocks
        if isinstance(block, Chart)
    }
    template = _environment().get_template("bulletin.html.j2")
    return template.render(
        doc=document,
        body_fonts=body,
        title_fonts=title,
        images=images,
        widths=[_percent(block) if isinstance(block, Table) else None for block in document.blocks],
        annex_lines=annex_lines(document.annexes),
    )


def _percent(table: Table) -> list[float]:
    """Each column's share of the text width in percent, as the Word file has it: the browser's own
    layout would squeeze a short column (a state, a date) to one character a line."""
    rows = [list(table.header), *(list(map(str, row)) for row in table.rows)]
    ncols = max(len(row) for row in rows)
    rows = [row + [""] * (ncols - len(row)) for row in rows]
    shares = column_widths(rows, ncols, total=TEXT_WIDTH, em=CELL_EM, padding=CELL_PADDING)
    return [round(100 * w / TEXT_WIDTH, 2) for w in shares]


def write_pdf(html: str, path: Path) -> Path:
    from weasyprint import HTML

    HTML(string=html).write_pdf(path)
    return path


def to_markdown(document: Document) -> str:
    """For the Prefect artifact: the same blocks, with clerks' text escaped for Markdown."""
    lines = [
        f"# {_md(document.title)}",
        "",
        f"{document.doc_number}　{document.issue_label}",
        "",
        f"{_md(document.addressees)}：",
        "",
    ]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += ["#" * (block.level + 1) + " " + _md(block.text), ""]
        elif isinstance(block, Paragraph):
            lines += [_md(block.text), ""]
        elif isinstance(block, Table):
            lines += [
                f"**{_md(block.title)}**",
                "",
                "| " + " | ".join(map(_md, block.header)) + " |",
                "|" + "---|" * len(block.header),
            ]
            lines += ["| " + " | ".join(map(_md, row)) + " |" for row in block.rows]
            lines.append("")
        else:
            lines += [f"*{_md(block.caption)}*", ""]
    notes = [_md(line.text) for line in annex_lines(document.annexes)]
    if notes:
        lines += ["  \n".join(notes), ""]  # one paragraph, a hard line break between the names
    lines += [document.signature, document.date_text, "", f"抄送：{_md(document.cc)}"]
    return "\n".join(lines)


def _md(text: str) -> str:
    for char in "\\`*_{}[]<>()#+-!|":
        text = text.replace(char, "\\" + char)
    return text
