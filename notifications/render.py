"""Rendering a message kind from its Jinja2 template: a subject and a body, in formal Chinese."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from duban.glossary import CHANNEL, cn_date, cn_period, label
from notifications.markdown import inert, place_lines

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment(markdown: bool = False) -> Environment:
    """Text and HTML (autoescaped) templates; with `markdown`, WeCom's, where every value is made inert."""
    html = select_autoescape(["html.j2", "htm.j2", "xml.j2", "html"], default_for_string=True, default=False)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False if markdown else html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=inert if markdown else None,
    )
    env.filters["cn_date"] = cn_date
    env.filters["cn_period"] = cn_period
    env.filters["channel"] = lambda code: label(CHANNEL, code)
    return env


def render(kind: str, **context: object) -> tuple[str, str]:
    """The template `{kind}.txt.j2` sets `subject`; its output is the body (plain text)."""
    template = environment().get_template(f"{kind}.txt.j2")
    module = template.make_module(context)
    return str(module.subject).strip(), str(module).strip()


def render_as(kind: str, fmt: str, **context: object) -> str:
    """The body of `kind` as `html` (autoescaped, for email) or `md` (WeCom markdown, every value inert)."""
    if fmt == "md":
        return place_lines(environment(markdown=True).get_template(f"{kind}.md.j2").render(context).strip())
    return environment().get_template(f"{kind}.{fmt}.j2").render(context).strip()
