"""`duban portal`: the web portal served by uvicorn (FastAPI, loaded only by this command)."""

from __future__ import annotations

import os
from datetime import date

import click

from duban.cli_common import out, parse_date, user_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--as-of",
    "as_of",
    default=None,
    callback=lambda c, p, v: None if v is None else parse_date(c, p, v),
    metavar="DATE",
    help="Pin the portal's day (a replayed programme, a demo); default: each request's today.",
)
@click.option(
    "--https/--no-https",
    "https",
    default=None,
    help="Served behind TLS: Secure __Host- cookies and HSTS. Default: when DUBAN_PORTAL_URL is https.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 64),
    help="Threads for pages in each worker; default 2 (duban/web/threads.py). Password checks have their own.",
)
@user_errors
def portal(host: str, port: int, as_of: date | None, https: bool | None, workers: int, threads: int | None) -> None:
    """The web portal: every person of the chain signs in and answers duban (FastAPI, server-rendered)."""
    import uvicorn
    from sqlalchemy import text

    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from duban.web.proxies import trusted_proxies
    from duban.web.serve import SERVER_LIMITS

    with session_scope() as session:
        current_plan(session)  # refused now, in Chinese, when the database is not initialised
        if session.get_bind().dialect.name == "sqlite":
            # readers go on while a clerk's report is written (kept in the file: the CLI then uses it too)
            session.exec(text("PRAGMA journal_mode=WAL"))
    trusted_proxies()  # refused now, in Chinese, rather than in each worker
    if https is None:
        https = os.environ.get("DUBAN_PORTAL_URL", "").startswith("https://")
    os.environ["DUBAN_PORTAL_AS_OF"] = as_of.isoformat() if as_of else ""
    os.environ["DUBAN_PORTAL_HTTPS"] = "1" if https else ""
    os.environ["DUBAN_PORTAL_THREADS"] = str(threads or "")
    out.print(f"督办平台：http://{host}:{port}/（业务日期：{as_of.isoformat() if as_of else '当天'}）")
    uvicorn.run(
        "duban.web.serve:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app believes X-Forwarded-For from DUBAN_TRUSTED_PROXIES only (proxies.py)
        server_header=False,
        log_level="warning",
        access_log=False,
        **SERVER_LIMITS,
    )
