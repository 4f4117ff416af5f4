"""What every `duban` command shares: the consoles, the --as-of and --engine options, clerks' errors."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from functools import cache, wraps

import click

from duban import config
from duban.console import LiteralConsole, styled
from duban.textgate import json_shown

out = LiteralConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = LiteralConsole(stderr=True, soft_wrap=True)


@cache
def user_error_types() -> tuple[type[Exception], ...]:
    """The errors that are a clerk's mistake, told in Chinese. Imported when a command fails, not when
    `duban` starts: the modules defining them load SQLAlchemy, pypinyin and more (tests/test_startup.py)."""
    from duban.backup import BackupRefused
    from duban.bulletin.document import BulletinError
    from duban.calendar import UnknownYear
    from duban.campaign.scope import CampaignError
    from duban.files.paths import PathRefused
    from duban.files.spreadsheet import RefusedFile, SheetError
    from duban.items.closeout import ClosureError
    from duban.items.evidence import EvidenceRefused
    from duban.mechanism import MechanismError
    from duban.plan import PlanError
    from duban.reporting.periods import PeriodError
    from duban.reporting.reports import ReportError
    from duban.signin.accounts import AccountError
    from duban.stored_plan import NotInitialised
    from duban.textgate import TextRefused
    from duban.web.proxies import ProxySettingError
    from duban.wecom.config import WecomConfigError
    from notifications.deadletters import OperatorUnreachable
    from notifications.outbox import OutboxError

    return (
        AccountError,
        PlanError,
        BulletinError,
        SheetError,
        RefusedFile,
        ClosureError,
        NotInitialised,
        UnknownYear,
        ReportError,
        PeriodError,
        CampaignError,
        TextRefused,
        PathRefused,
        BackupRefused,
        EvidenceRefused,
        MechanismError,
        OutboxError,
        ProxySettingError,
        OperatorUnreachable,  # through the engine, `tick` fails with the dispatch flow: say so, in Chinese
        WecomConfigError,
    )


def print_json(data: object) -> None:
    """JSON for machines, straight to stdout: no highlighting or wrapping, and no character that a
    terminal would act on (the invisible ones go as \\uXXXX escapes, which JSON reads back alike)."""
    text = json.dumps(data, ensure_ascii=False, default=_dated)  # no indent: the C encoder, 10x faster
    sys.stdout.write(json_shown(text) + "\n")


def _dated(value: object) -> str:
    """Dates as ISO text, so a view's rows go out as they are (anything else is still an error)."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return config.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是有效日期，请按 YYYY-MM-DD 填写") from None


as_of_option = click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="The date the command acts on (Asia/Shanghai); default today.",
)


def user_errors(command: Callable) -> Callable:
    """A clerk's mistake ends the command with its Chinese message and exit status 2, no traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, user_error_types()):
                err.print(styled(("错误：", "red"), str(exc)))
                sys.exit(2)
            if _not_initialised(exc):
                err.print(styled(("错误：", "red"), "数据库尚未初始化，请先运行 duban init --plan 方案文件"))
                sys.exit(2)
            raise

    return wrapper


def collector_paused(command: Callable) -> Callable:
    """No cyclic garbage collection while the command runs: for one that imports its libraries and builds tens
    of thousands of rows to print and exit, the collector's passes over the growing heap found nothing to free
    and took a tenth of its time (`duban status`, bench status-today). Enabled again after, for a caller that
    goes on (the tests run commands in-process)."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return command(*args, **kwargs)
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


def _not_initialised(exc: Exception) -> bool:
    """A query on a database without duban's tables (SQLite and PostgreSQL say it differently)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    return isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in str(exc) or "does not exist" in str(exc)
    )


def entered_at_terminal(command: Callable) -> Callable:
    """A change typed at the Office's terminal for a unit is logged as entered by the operator."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        from duban.audit import entered_by

        with entered_by("", "cli"):
            return command(*args, **kwargs)

    return wrapper


engine_option = click.option(
    "--engine/--no-engine", default=None, help="Run as Prefect flows; default: only when PREFECT_API_URL is set."
)


# Without a server, `--engine` starts a temporary one (10-20 s on this 2-core machine, more when it is
# busy); Prefect gives up after 20 s by default, which a loaded machine exceeded.
TEMPORARY_SERVER_STARTUP_SECONDS = "120"


def use_engine(engine: bool | None) -> bool:
    """Whether to run as flows; set before Prefect is imported, since it reads its settings then."""
    chosen = engine if engine is not None else bool(os.environ.get("PREFECT_API_URL"))
    if chosen and not os.environ.get("PREFECT_API_URL"):
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", TEMPORARY_SERVER_STARTUP_SECONDS)
    return chosen


def warn_undeliverable() -> None:
    """A dead-letter report that reached nobody: said on every `duban status` and `duban outbox`."""
    from notifications.deadletters import warning

    line = warning()
    if line:
        out.print(styled((line, "bold yellow")))
