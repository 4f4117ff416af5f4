"""Whole numbers from query strings and forms (a page, a version seen, a round seen), parsed here only.

`str.isdigit()` accepts ² and ①, which `int()` refuses; `str.isdecimal()` accepts ٣, which `int()` reads
as 3; a number past 64 bits fails in the database driver. A number a page asks for is none of these:
ASCII digits only, no sign, within a range, or nothing (the caller's default or refusal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

BIGGEST = 2**63 - 1  # what a database integer column holds
PAGES = 999_999  # no list has more pages


def whole(raw: object, *, low: int = 0, high: int = BIGGEST) -> int | None:
    """The number typed, when it is ASCII digits within [low, high]; else None."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > len(str(high)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def page_asked(request: Request) -> int:
    """The page of a list the address asks for (`?page=`), 1 when it asks for none a list can have;
    the route clamps it to the pages there are."""
    return whole(request.query_params.get("page"), low=1, high=PAGES) or 1


PageAsked = Annotated[int, Depends(page_asked)]
