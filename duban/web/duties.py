"""The Office's separated duties (三权分立, 等保 level 3): the system administrator keeps accounts, the
security administrator unlocks, ends sessions and resets second factors, the auditor reads the audit
log. Each reaches only the pages of their duty (and their own password and second factor), whatever
else the Office may do: checked here for every route, not left to each."""

from __future__ import annotations

from duban.glossary import DUTY_PAGES

PAGES = {role: page for role, (page, _title) in DUTY_PAGES.items()}
EVERYONE = ("/account/", "/logout", "/help", "/static/")


def allowed(role: str, path: str) -> bool:
    """True for everyone but the three administrators, who reach their own page (待办 leads there) and
    their own account."""
    page = PAGES.get(role)
    if page is None:
        return True
    return path in ("/", page) or path.startswith((page + "/", *EVERYONE))


def home(role: str) -> str | None:
    """Where an administrator's 待办 leads: their duty's page."""
    return PAGES.get(role)
