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


def with_link(text: str, link: str) -> str:
    """The link as the notice's last paragraph, above its signature (the issuer and the date)."""
    line = f"请登录督办平台办理：{link}"
    body, gap, signature = text.rpartition("\n\n")
    if not gap or signature.count("\n") != 1:
        return f"{text}\n\n{line}"
    return f"{body}\n\n{line}\n\n{signature}"


def markdown_line(link: str) -> str:
    return f"\n\n[登录督办平台办理]({link})"
