"""`duban user ...`: the Office's accounts from the terminal (the same functions as the admin page)."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table

from duban.accounts import ROLE_LABELS
from duban.cli_common import as_of_option, entered_at_terminal, out, print_json, user_errors


@click.group()
def user() -> None:
    """Portal accounts: add, list, disable, enable, reset a password."""


@user.command("add")
@click.option("--unit", required=True, help="The person's unit, e.g. 城关街道.")
@click.option("--login", required=True, help="Sign-in name: 3-32 lowercase letters, digits, . _ -")
@click.option("--name", required=True, help="The person's name, e.g. 张三.")
@click.option("--role", type=click.Choice(sorted(ROLE_LABELS)), help="Default: clerk, staff or leader by unit.")
@click.option("--mobile", default="", help="11 digits.")
@as_of_option
@user_errors
@entered_at_terminal
def user_add(unit: str, login: str, name: str, role: str | None, mobile: str, as_of: date) -> None:
    """Open an account; the initial password is DUBAN_NEW_PASSWORD, or generated and printed once."""
    from duban import accounts
    from duban.db import session_scope
    from duban.programme import current_plan

    password, generated = accounts.initial_password()
    with session_scope() as session:
        plan = current_plan(session)
        account = accounts.add(
            session,
            plan,
            unit=unit,
            login=login,
            name=name,
            role=role,
            mobile=mobile,
            password=password,
            by=plan.office.name,
            as_of=as_of,
        )
    out.print(f"已开通账号 {account.login}（{account.name}，{account.unit}，{ROLE_LABELS[account.role]}）")
    if generated:
        out.print(f"初始密码（仅显示这一次，首次登录须修改）：{password}")


@user.command("list")
@click.option("--unit", default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def user_list(unit: str | None, as_json: bool) -> None:
    """Every account (never a password or its hash)."""
    from duban import accounts
    from duban.db import session_scope

    with session_scope() as session:
        rows = [
            {
                "login": a.login,
                "name": a.name,
                "unit": a.unit,
                "role": a.role,
                "mobile": a.mobile,
                "disabled": a.disabled,
                "must_change_password": a.must_change_password,
                "locked_until": a.locked_until.isoformat() if a.locked_until else None,
            }
            for a in accounts.listed(session, unit)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="平台账号")
    for column in ("登录名", "姓名", "单位", "角色", "状态"):
        table.add_column(column)
    for row in rows:
        state = "已停用" if row["disabled"] else ("待首次登录改密" if row["must_change_password"] else "正常")
        table.add_row(row["login"], row["name"], row["unit"], ROLE_LABELS[row["role"]], state)
    out.print(table)


@user.command("disable")
@click.argument("login")
@user_errors
@entered_at_terminal
def user_disable(login: str) -> None:
    """Stop an account: its sessions end at once."""
    _switch(login, enabled=False)
    out.print(f"账号 {login} 已停用")


@user.command("enable")
@click.argument("login")
@user_errors
@entered_at_terminal
def user_enable(login: str) -> None:
    """Open a stopped (or locked) account again."""
    _switch(login, enabled=True)
    out.print(f"账号 {login} 已启用")


def _switch(login: str, *, enabled: bool) -> None:
    from duban import accounts
    from duban.db import session_scope
    from duban.programme import current_plan

    with session_scope() as session:
        office = current_plan(session).office.name
        (accounts.enable if enabled else accounts.disable)(session, login, by=office)


@user.command("reset-password")
@click.argument("login")
@user_errors
@entered_at_terminal
def user_reset_password(login: str) -> None:
    """A new initial password (DUBAN_NEW_PASSWORD, or generated and printed once), changed at sign-in."""
    from duban import accounts
    from duban.db import session_scope
    from duban.programme import current_plan

    password, generated = accounts.initial_password()
    with session_scope() as session:
        plan = current_plan(session)
        accounts.reset_password(session, plan, login, password=password, by=plan.office.name)
    out.print(f"账号 {login} 的密码已重置，首次登录须修改")
    if generated:
        out.print(f"新初始密码（仅显示这一次）：{password}")


@user.command("totp")
@click.argument("login")
@user_errors
@entered_at_terminal
def user_totp(login: str) -> None:
    """Enrol a second factor (TOTP) now: the otpauth:// address is printed once, for the person's app."""
    from duban import second_factor
    from duban.db import session_scope
    from duban.programme import current_plan

    with session_scope() as session:
        office = current_plan(session).office.name
        uri = second_factor.enrol_now(session, login, by=office)
    out.print(f"账号 {login} 已绑定动态口令，请将以下地址交本人添加到身份验证器应用（仅显示这一次）：")
    out.print(uri)
