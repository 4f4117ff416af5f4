"""Where duban keeps its data, and what day it is in the district."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def home() -> Path:
    """`DUBAN_HOME` holds the default database and everything duban writes."""
    return _resolved(os.environ.get("DUBAN_HOME", ".duban"), os.getcwd())


@cache
def _resolved(folder: str, cwd: str) -> Path:
    """Resolved once per setting and working folder: every page asks for the database's address."""
    return (Path(cwd) / folder).resolve()


def database_url() -> str:
    """`DUBAN_DATABASE_URL` (any SQLAlchemy URL) wins over the SQLite file in `DUBAN_HOME`."""
    url = os.environ.get("DUBAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'duban.db'}"


def today() -> date:
    """The calendar date in Asia/Shanghai: the default `as_of` of every command."""
    return datetime.now(TZ).date()


# Every environment variable duban reads, with its default and meaning: the manual's reference is written
# from this list (scripts/docs_reference.py), and tests/test_docs_reference.py checks it against the source
# (every DUBAN_* name the code mentions is here, and nothing here is read nowhere). Machine settings live
# here; the programme's rules live in the plan file.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "DUBAN_HOME": (
        "`./.duban`",
        "the default database (`duban.db`) and everything duban writes: evidence files, bulletins, campaign response"
        " forms, the file outbox, uploads, the second factor's key file",
    ),
    "DUBAN_DATABASE_URL": (
        "SQLite in `DUBAN_HOME`",
        "any SQLAlchemy URL; PostgreSQL as `postgresql+psycopg://user:pass@host/db` (a secret with its password)",
    ),
    "PREFECT_API_URL": (
        "unset",
        "when set, `duban ledger import`, `tick`, `replay` and `bulletin` run as Prefect flows recorded on that server,"
        " `campaign start` runs the `supervision-campaign` deployment, `duban serve` uses that server instead of"
        " starting its own, and `duban deploy` registers the deployments there",
    ),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": (
        "`120` (set by duban)",
        "how long `--engine` without a server waits for its temporary Prefect server; duban sets 120 s unless it is"
        " set already",
    ),
    "DUBAN_DELIVERY": (
        "`file`",
        "`live` sends email and WeCom for real; otherwise messages are written to `$DUBAN_HOME/outbox/`",
    ),
    "DUBAN_PREFECT_SECRETS": (
        "unset",
        "`1`: a secret not in the environment (`DUBAN_SMTP_URL`, a bot's key, the app's secret) is read from the"
        " Prefect Secret block of the same name in lower case with dashes (`DUBAN_SMTP_URL` -> `duban-smtp-url`)",
    ),
    "DUBAN_SMTP_URL": ("unset", "apprise `mailto://`/`mailtos://` URL of the SMTP server (a secret)"),
    "DUBAN_SMTP_TIMEOUT": ("20 s", "how long to wait for the SMTP server at each step"),
    "DUBAN_WECOM_API": ("`https://qyapi.weixin.qq.com`", "the WeCom API base URL (bots and the app)"),
    "DUBAN_WECOM_TIMEOUT": ("10 s", "how long to wait for the WeCom API"),
    "DUBAN_WECOM_CORP_ID": ("unset", "the self-built app's corp id (企业ID); all three of the app's settings or none"),
    "DUBAN_WECOM_AGENT_ID": ("unset", "the self-built app's AgentId; all three or none"),
    "DUBAN_WECOM_APP_SECRET": ("unset", "the self-built app's Secret (a secret); all three or none"),
    "DUBAN_WECOM_OAUTH_URL": (
        "`https://open.weixin.qq.com`",
        "WeCom's sign-in host inside WeCom (政务微信 and tests point elsewhere)",
    ),
    "DUBAN_WECOM_SSO_URL": (
        "`https://login.work.weixin.qq.com`",
        "WeCom's QR-code sign-in host in a browser (政务微信 and tests point elsewhere)",
    ),
    "DUBAN_PORTAL_URL": (
        "unset",
        "the portal's address; messages then link to the page that needs their reader, WeCom sign-in calls back to it,"
        " and an `https://` address turns on Secure cookies and HSTS",
    ),
    "DUBAN_SECRET_KEY": (
        "a key file in `DUBAN_HOME`",
        "the Fernet key that seals second-factor secrets (a secret; the same on every machine of a portal)",
    ),
    "DUBAN_NEW_PASSWORD": (
        "unset",
        "the initial password `duban user add` and `reset-password` (and the accounts page) give; otherwise one is"
        " generated and printed once",
    ),
    "DUBAN_TRUSTED_PROXIES": (
        "none",
        "the reverse proxies (addresses or CIDR networks, comma-separated) whose `X-Forwarded-For` the portal believes",
    ),
    "DUBAN_BACKUP_DIR": (
        "unset",
        "where the scheduled `backup` flow puts its backups (outside `DUBAN_HOME`); unset, the flow fails saying so",
    ),
    "DUBAN_BACKUP_COPY_TO": (
        "unset",
        "a second place (a mounted path elsewhere) each scheduled backup is copied to and checked",
    ),
    "DUBAN_PORTAL_AS_OF": (
        "set by `duban portal`",
        "internal: `duban portal --as-of` handed to the server's workers (a portal pinned to one day, as the demo's)",
    ),
    "DUBAN_PORTAL_HTTPS": ("set by `duban portal`", "internal: `duban portal --https` handed to the server's workers"),
    "DUBAN_PORTAL_THREADS": (
        "set by `duban portal`",
        "internal: `duban portal --threads` handed to the server's workers",
    ),
    "DUBAN_SERVE_PID": (
        "set by `duban serve`",
        "internal: serve's process id, handed to the flow runs it starts so that each ends with serve",
    ),
}
