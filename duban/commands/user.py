"""`duban user ...`: the Office's accounts from the terminal (the same functions as the admin page)."""

from __future__ import annotations

from datetime import date

import click
from rich.table import Table

from duban.cli_common import as_of_option, entered_at_terminal, out, print_json, user_errors
from duban.glossary import ACCOUNT_ROLE as ROLE_LABELS


@click.group()
def user() -> None:
    """Portal accounts: add, list, disable, enable, reset a password."""


@user.command("add")
@click.option("--unit", required=True, help="The person's unit, e.g. 城关街道.")
@click.option("--login", required=True, help="Sign-in name: 3-32 lowercase letters, digits, . _ -")
@click.option("--name", required=True, help="The person's name, e.g. 张三.")
@click.option("--role", type=click.Choice(sorted(ROLE_LABELS)), help="Default: clerk, staff or leader by unit.")
@click.option("--mobile", default="", help="11 digits.")
@click.option("--wecom-userid", default="", help="The person's WeCom UserID (企业微信账号), for cards and sign-in.")
@as_of_option
@user_errors
@entered_at_terminal
def user_add(unit: str, login: str, name: str, role: str | None, mobile: str, wecom_userid: str, as_of: date) -> None:
    """Open an account; the initial password is DUBAN_NEW_PASSWORD, or generated and printed once."""
    from duban.db import session_scope
    from duban.signin import accounts
    from duban.stored_plan import current_plan
    from duban.wecom import people

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
        if wecom_userid:
            session.flush()
            people.bind(session, account.login, wecom_userid, by=plan.office.name)
    out.print(f"已开通账号 {account.login}（{account.name}，{account.unit}，{ROLE_LABELS[account.role]}）")
    if generated:
        out.print(f"初始密码（仅显示这一次，首次登录须修改）：{password}")


@user.command("list")
@click.option("--unit", default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def user_list(unit: str | None, as_json: bool) -> None:
    """Every account (never a password or its hash)."""
    from duban.db import session_scope
    from duban.signin import accounts

    with session_scope() as session:
        rows = [
            {
                "login": a.login,
                "name": a.name,
                "unit": a.unit,
                "role": a.role,
                "mobile": a.mobile,
                "wecom_userid": a.wecom_userid,
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
    for column in ("登录名", "姓名", "单位", "角色", "企业微信账号", "状态"):
        table.add_column(column)
    for row in rows:
        state = "已停用" if row["disabled"] else ("待首次登录改密" if row["must_change_password"] else "正常")
        table.add_row(
            row["login"], row["name"], row["unit"], ROLE_LABELS[row["role"]], row["wecom_userid"] or "", state
        )
    out.print(table)


@user.command("set")
@click.argument("login")
@click.option("--wecom-userid", required=True, help="The person's WeCom UserID; an empty value unbinds it.")
@user_errors
@entered_at_terminal
def user_set(login: str, wecom_userid: str) -> None:
    """Bind (or unbind) an account's WeCom id: one id, one account."""
    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from duban.wecom import people

    with session_scope() as session:
        account = people.bind(session, login, wecom_userid, by=current_plan(session).office.name)
        bound = account.wecom_userid
    out.print(f"账号 {login} 已绑定企业微信账号 {bound}" if bound else f"账号 {login} 已解除企业微信绑定")


@user.command("sync-wecom")
@click.option("--confirm", is_flag=True, help="Bind the proposed matches; without it nothing is changed.")
@user_errors
@entered_at_terminal
def user_sync_wecom(confirm: bool) -> None:
    """Read the WeCom address book and propose ids for accounts without one, matched by mobile number."""
    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from duban.wecom import people
    from duban.wecom.sync import address_book

    book = address_book()
    with session_scope() as session:
        proposal = people.propose(session, book)
        table = Table(title=f"按手机号匹配企业微信账号（通讯录{len(book)}人）")
        for column in ("登录名", "姓名", "单位", "手机号", "企业微信账号", "通讯录姓名"):
            table.add_column(column)
        for m in proposal.matches:
            table.add_row(m.login, m.name, m.unit, m.mobile, m.userid, m.wecom_name)
        out.print(table)
        for line in proposal.unmatched:
            out.print(f"未匹配：{line}")
        if not confirm:
            out.print(f"共{len(proposal.matches)}个可绑定；核对无误后加 --confirm 执行绑定，未确认前不做任何修改")
            session.rollback()
            return
        bound = people.apply(session, proposal, by=current_plan(session).office.name)
    out.print(f"已绑定{bound}个账号的企业微信账号")


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
    from duban.db import session_scope
    from duban.signin import accounts
    from duban.stored_plan import current_plan

    with session_scope() as session:
        office = current_plan(session).office.name
        (accounts.enable if enabled else accounts.disable)(session, login, by=office)


@user.command("reset-password")
@click.argument("login")
@user_errors
@entered_at_terminal
def user_reset_password(login: str) -> None:
    """A new initial password (DUBAN_NEW_PASSWORD, or generated and printed once), changed at sign-in."""
    from duban.db import session_scope
    from duban.signin import accounts
    from duban.stored_plan import current_plan

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
    from duban.db import session_scope
    from duban.signin import second_factor
    from duban.stored_plan import current_plan

    with session_scope() as session:
        office = current_plan(session).office.name
        uri = second_factor.enrol_now(session, login, by=office)
    out.print(f"账号 {login} 已绑定动态口令，请将以下地址交本人添加到身份验证器应用（仅显示这一次）：")
    out.print(uri)
