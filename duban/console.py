"""The consoles of the CLI: whatever a clerk typed is printed as it is, never read as markup or escapes.

Text printed goes through `render_str`, so strings, f-strings and table cells alike are shown literally:
`[/x]` stays `[/x]`, and control characters (a terminal escape, a bell) appear as `\\x1b`, `\\x07`.
Styling is given by the code, as `style=` or with `styled`, never by brackets inside text.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from duban.textgate import shown


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line made of plain parts and (text, style) parts, every part literal."""
    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(shown(text), style=style)
    return line


class LiteralConsole(Console):
    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(shown(text), **options)
