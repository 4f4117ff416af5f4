"""WeCom markdown from templates: every value is clerk text, shown inert and literal, by default.

`inert` is the `finalize` of the `.md.j2` environment (see `render`), so it applies to every `{{ }}`
of every WeCom template, as autoescape does for HTML; a template cannot forget it. Only text marked
`| safe` (a digest's parts, already rendered) passes as it is.

WeCom reads `#` headings, `*` emphasis, `[text](url)` links, `` ` `` code, `>` quotes, `<font>`
colours, `<@id>` mentions and `&` entities, and documents no escape character (a backslash would
show and leave the markup working). So those characters become their full-width forms, which WeCom
shows as text and never reads as markup. A value keeps to the line it is written in: its line
breaks continue a `>` quote with `> `, and elsewhere become spaces (a bold title stays one line).
"""

from __future__ import annotations

import re

from markupsafe import Markup

from duban.textgate import INVISIBLE

INERT = str.maketrans(
    {"#": "＃", "*": "＊", "[": "［", "]": "］", "`": "｀", ">": "＞", "<": "＜", "&": "＆", "~": "～"}
)
_BREAK = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")
_CONTROL = re.compile(f"[{INVISIBLE}]")  # after line breaks became LF
LINE = "\x1e"  # a value's own line break until the line it sits on is known (never in a value: a control)


def inert(value: object) -> str:
    """A value as WeCom markdown that shows exactly its text: no link, mention, colour, heading or quote."""
    if isinstance(value, Markup):
        return str(value)
    text = _CONTROL.sub("", _BREAK.sub("\n", str(value))).replace("\t", " ").strip("\n")
    return text.translate(INERT).replace("\n", LINE)


def place_lines(markdown: str) -> str:
    """Resolve values' line breaks once rendered: inside a `>` quote a new `> ` line, elsewhere a space."""
    return "\n".join(line.replace(LINE, "\n> " if line.startswith(">") else " ") for line in markdown.split("\n"))
