"""The bulletin as HTML (the browser), PDF (WeasyPrint, CJK font embedded) and Markdown (Prefect)."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from duban.bulletin.document import Chart, Document, Heading, Paragraph, Table, annex_lines

# The official fonts are named first; WenQuanYi Zen Hei (installed by the project) renders when they
# are absent, so the PDF always embeds a CJK font.
FALLBACK = '"WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif'


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
        doc=document, body_fonts=body, title_fonts=title, images=images, annex_lines=annex_lines(document.annexes)
    )


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
