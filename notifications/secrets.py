"""Secrets (SMTP password, WeCom webhook keys) come from the environment, or from Prefect secret blocks.

They are read at send time and never stored: the outbox and the plan hold only the variable's name.
"""

from __future__ import annotations

import os


def secret(name: str) -> str | None:
    """The environment variable `name`; else, with DUBAN_PREFECT_SECRETS=1, the Prefect Secret block
    of the same name in lower case with dashes (DUBAN_SMTP_URL -> duban-smtp-url)."""
    value = os.environ.get(name)
    if value:
        return value
    if os.environ.get("DUBAN_PREFECT_SECRETS") != "1":
        return None
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name.lower().replace("_", "-")).get())
    except ValueError:
        return None


def live() -> bool:
    """DUBAN_DELIVERY=live sends for real; the default writes every message to $DUBAN_HOME/outbox/."""
    return os.environ.get("DUBAN_DELIVERY", "file") == "live"


def scrub(text: str, *secrets: str | None) -> str:
    """Remove secrets from an error text before it is logged or stored."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return text
