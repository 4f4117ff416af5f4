"""Deep links: a message names the portal page that needs its reader (`DUBAN_PORTAL_URL`).

A link is not a credential: it leads through sign-in to that page, and the page shows only what the
signed-in person may see.
"""

from __future__ import annotations

import os
from urllib.parse import quote


def portal_link(page: str | None) -> str | None:
    """The full address of `page` (a path such as /reports/2022-05), or None without a portal."""
    base = os.environ.get("DUBAN_PORTAL_URL", "").strip().rstrip("/")
    if not page or not base.startswith(("https://", "http://")):
        return None
    return base + quote(page, safe="/?=&")


def text_line(link: str) -> str:
    return f"\n\n请登录督办平台办理：{link}"


def markdown_line(link: str) -> str:
    return f"\n\n[登录督办平台办理]({link})"
