"""Sign-in by WeCom identity, over real HTTP: the portal on loopback and the WeCom app look-alike beside it.

The callback signs a person in as a password does (a new session, the same 8-hour and idle limits, the
audit saying 企业微信); an unknown id, a disabled or locked account, a forged, reused or foreign state,
a replayed or expired code, a visitor who is not a member: a Chinese page and no session. `next` never
leads off the site. The plan's `wecom_and_password_roles` (staff here) take both the password and the
WeCom identity, in that order, the same person's; the administrators' one-time code still follows. In
Chromium with a `wxwork` user agent a card's link passes the authorize page and lands on the item; on a
desktop the QR login does the same.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pyotp
import pytest
import yaml
from conftest import PLAN, SAMPLE, Cli
from playwright.sync_api import Browser, BrowserContext, expect
from portal import PASSWORD, csrf_of, quick_home, running_portal
from sqlmodel import select
from wecom_app_fake import WecomAppServer

from duban.audit import view as audit_view
from duban.db import session_scope
from models import AuditEntry

DAY = date(2022, 5, 3)
WXWORK = (
    "Mozilla/5.0 (Linux; Android 12; M2012K11AC) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/107.0.5304.141 Mobile Safari/537.36 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh ColorScheme/Light"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
ALERT = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
NOTICE = re.compile(r'<p class="notice" role="status">(.*?)</p>', re.S)
STATE_REFUSED = "登录请求无效或已失效（已使用过、已超时，或不是从本浏览器发起），请重新登录"
CODE_REFUSED = "企业微信登录凭证无效或已过期，请重新点击企业微信中的链接或重新扫码"
UNKNOWN = "该企业微信账号未绑定督办平台账号，请联系领导小组办公室系统管理员绑定后再登录"
DISABLED = "账号已停用，请联系领导小组办公室"
LOCKED = "连续5次验证失败，账号已锁定，请稍后再试或联系领导小组办公室解锁"
NOT_MEMBER = "你不是本单位企业微信的成员，无法使用企业微信登录，请使用登录名和密码登录"
OTHER_PERSON = "企业微信身份与密码登录的账号不一致，请重新登录"
PASSWORD_TOO = "你的账号须同时使用密码和企业微信身份登录：请先输入登录名和密码"
# login: (unit, role, WeCom UserID)
ACCOUNTS = {
    "cg-zhang": ("城关街道", "clerk", "ZhangSan"),
    "cg-li": ("城关街道", "head", "LiSi"),
    "cg-off": ("城关街道", "clerk", "WangWu"),
    "cg-lock": ("城关街道", "clerk", "ZhaoLiu"),
    "pt-staff": ("区配套办", "staff", "QianQi"),
    "pt-sys": ("区配套办", "sysadmin", "SunBa"),
}
UNBOUND = "ZhouJiu"  # a member of the enterprise with no account


class Clock:
    """The look-alike's clock (seconds), moved by the tests: a code lasts 300 of them."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    home: Path
    base: str
    wecom: WecomAppServer
    clock: Clock
    cli: Cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("wecom-sign-in")
    home = folder / "home"
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    plan["portal"]["wecom_and_password_roles"] = ["staff"]
    plan_file = folder / "plan.yaml"
    plan_file.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    clock = Clock()
    with quick_home(home), WecomAppServer(clock=clock) as wecom, pytest.MonkeyPatch.context() as mp:
        for name, value in wecom.env().items():
            mp.setenv(name, value)
        cli = Cli()
        cli("init", "--plan", plan_file, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role, userid) in ACCOUNTS.items():
            cli("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名", "--role", role)
            cli("user", "set", login, "--wecom-userid", userid)
            wecom.add_member(userid, f"{login}名")
        wecom.add_member(UNBOUND, "周九")
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0 WHERE login != 'cg-li'")
        cli("user", "disable", "cg-off")
        with running_portal(DAY) as base:
            mp.setenv("DUBAN_PORTAL_URL", base.url)
            yield World(home, base.url, wecom, clock, cli)


# --- helpers -------------------------------------------------------------------------------------------


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def new_client(agent: str = WXWORK) -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False, headers={"user-agent": agent})


def start(world: World, client: httpx.Client, target: str = "/items/PT2022-0001") -> str:
    """/auth/wecom: the address of WeCom's page it sends the browser to."""
    response = client.get(f"{world.base}/auth/wecom", params={"next": target})
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]


def to_callback(world: World, client: httpx.Client, wecom_page: str) -> str:
    """WeCom's side: the authorize page redirects at once; the QR page waits for the scan (its link)."""
    response = client.get(wecom_page)
    if response.status_code == 200:  # the QR page: the phone scans and confirms
        scan = re.search(r'<a id="scan" href="([^"]+)"', response.text).group(1)
        response = client.get(world.wecom.url + html.unescape(scan))
    assert response.status_code == 302, response.text[:300]
    callback = response.headers["location"]
    assert callback.startswith(f"{world.base}/auth/wecom/callback?")
    return callback


def sign_in(world: World, userid: str, target: str = "/items/PT2022-0001", agent: str = WXWORK) -> httpx.Response:
    """The whole way for the member `userid`, from a fresh browser: the callback's answer (client kept open
    on `response.client`)."""
    world.wecom.signed_in = userid
    client = new_client(agent)
    response = client.get(to_callback(world, client, start(world, client, target)))
    response.client = client  # type: ignore[attr-defined]
    return response


def session_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == "duban_session":
            value = rest.split(";", 1)[0]
            return value if value not in ("", '""') else None  # a deletion is no session
    return None


def alert(response: httpx.Response) -> str:
    found = ALERT.search(response.text)
    assert found, f"no refusal shown ({response.status_code}): {response.text[:300]}"
    return html.unescape(found.group(1)).strip()


def refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 403, response.text[:300]
    assert alert(response) == message
    assert session_cookie(response) is None


def sessions_of(world: World, login: str) -> list[tuple]:
    return query(
        world,
        "SELECT s.created_at, s.expires_at, s.awaiting_code, s.awaiting_wecom FROM web_session s"
        " JOIN account a ON a.id = s.account_id WHERE a.login = ?",
        login,
    )


def audit_rows(world: World, key: str, action: str) -> list[dict]:
    rows = query(
        world,
        "SELECT \"after\" FROM audit_entry WHERE subject = 'account' AND subject_key = ? AND action = ?",
        key,
        action,
    )
    return [json.loads(after) for (after,) in rows]


def with_state(callback: str, **changes: str) -> str:
    parts = urlsplit(callback)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.scheme}://{parts.netloc}{parts.path}?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())


# --- where /auth/wecom sends the browser --------------------------------------------------------------


def test_wecoms_browser_goes_to_the_authorize_page_and_a_desktop_to_the_qr_login(world: World) -> None:
    portal = world.base
    with new_client(WXWORK) as phone:
        page = urlsplit(start(world, phone))
        assert phone.cookies.get("duban_login")  # the browser's pre-sign-in token, which the state is bound to
    assert (page.scheme + "://" + page.netloc, page.path, page.fragment) == (
        world.wecom.url,
        "/connect/oauth2/authorize",
        "wechat_redirect",
    )
    params = {k: v[0] for k, v in parse_qs(page.query).items()}
    assert re.fullmatch(r"[0-9a-f]{32}", params.pop("state"))
    assert params == {
        "appid": "wwduban",
        "redirect_uri": f"{portal}/auth/wecom/callback",
        "response_type": "code",
        "scope": "snsapi_base",
        "agentid": "1000002",
    }
    with new_client(DESKTOP) as desktop:
        page = urlsplit(start(world, desktop))
    assert (page.scheme + "://" + page.netloc, page.path) == (world.wecom.url, "/wwlogin/sso/login")
    params = {k: v[0] for k, v in parse_qs(page.query).items()}
    assert re.fullmatch(r"[0-9a-f]{32}", params.pop("state"))
    assert params == {
        "login_type": "CorpApp",
        "appid": "wwduban",
        "agentid": "1000002",
        "redirect_uri": f"{portal}/auth/wecom/callback",
    }


def test_the_sign_in_page_offers_wecom(world: World) -> None:
    page = httpx.get(f"{world.base}/login", params={"next": "/items/PT2022-0001"}, timeout=30)
    assert '<a class="button" href="/auth/wecom?next=/items/PT2022-0001">企业微信登录</a>' in page.text


# --- the callback signs in as a password does ------------------------------------------------------------


def test_the_callback_signs_in_with_the_same_limits_and_the_audit_says_wecom(world: World) -> None:
    before = query(world, "SELECT count(*) FROM wecom_sign_in")[0][0]
    response = sign_in(world, "ZhangSan")
    client = response.client
    assert response.status_code == 303
    assert response.headers["location"] == "/items/PT2022-0001"
    token = session_cookie(response)
    assert token
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("duban_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert any(h.startswith('duban_login=""') for h in response.headers.get_list("set-cookie"))  # used up
    ((created, expires, awaiting_code, awaiting_wecom),) = sessions_of(world, "cg-zhang")
    span = datetime.fromisoformat(expires) - datetime.fromisoformat(created)
    assert (span, awaiting_code, awaiting_wecom) == (timedelta(hours=8), 0, 0)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert query(world, "SELECT count(*) FROM web_session WHERE token_hash = ?", digest) == [(1,)]
    page = client.get(f"{world.base}/items/PT2022-0001")
    assert page.status_code == 200 and "问题 PT2022-0001" in page.text
    assert query(world, "SELECT count(*) FROM wecom_sign_in")[0][0] == before  # the state is gone
    assert audit_rows(world, "cg-zhang", "sign_in") == [{"address": "127.0.0.1", "via": "wecom"}]
    with session_scope() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.subject_key == "cg-zhang", AuditEntry.action == "sign_in")
        ).one()
        assert audit_view.details(entry) == "登录地址127.0.0.1；登录方式：企业微信"
    # idle past the plan's 30 minutes: the session ends as a password one does
    with closing(sqlite3.connect(world.home / "duban.db")) as db, db:
        old = (datetime.now(UTC) - timedelta(minutes=31)).strftime("%Y-%m-%d %H:%M:%S.%f")
        db.execute("UPDATE web_session SET last_seen_at = ? WHERE token_hash = ?", (old, digest))
    assert client.get(f"{world.base}/items/PT2022-0001").status_code == 303
    client.close()


def test_a_first_sign_in_still_changes_the_initial_password(world: World) -> None:
    """Someone else set cg-li's password and still knows it: the change is forced whichever way one comes."""
    response = sign_in(world, "LiSi", "/items/PT2022-0002")
    assert response.headers["location"] == "/account/password?next=/items/PT2022-0002"
    assert session_cookie(response)
    response.client.close()


def test_a_desktop_signs_in_through_the_qr_login(world: World) -> None:
    response = sign_in(world, "ZhangSan", "/items/PT2022-0003", agent=DESKTOP)
    assert response.status_code == 303 and response.headers["location"] == "/items/PT2022-0003"
    assert session_cookie(response)
    response.client.close()


# --- refusals: a page, no session ------------------------------------------------------------------------


def test_an_unknown_id_a_disabled_or_locked_account_and_a_non_member_are_refused(world: World) -> None:
    refused(sign_in(world, UNBOUND), UNKNOWN)
    assert audit_rows(world, UNBOUND, "sign_in_refused") == [
        {"address": "127.0.0.1", "reason": "wecom_unknown", "via": "wecom"}
    ]
    refused(sign_in(world, "WangWu"), DISABLED)
    assert audit_rows(world, "cg-off", "sign_in_refused") == [
        {"address": "127.0.0.1", "reason": "disabled", "via": "wecom"}
    ]
    until = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with closing(sqlite3.connect(world.home / "duban.db")) as db, db:
        db.execute("UPDATE account SET locked_until = ?, failed_logins = 5 WHERE login = 'cg-lock'", (until,))
    refused(sign_in(world, "ZhaoLiu"), LOCKED)
    assert query(world, "SELECT failed_logins FROM account WHERE login = 'cg-lock'") == [(5,)]  # nothing counted
    # a visitor WeCom knows but who is not a member (an openid, no userid)
    client = new_client()
    callback = to_callback(world, client, start(world, client))
    code = world.wecom.issue_code(None)
    refused(client.get(with_state(callback, code=code)), NOT_MEMBER)
    for login in ("cg-off", "cg-lock"):
        assert sessions_of(world, login) == []


def test_a_forged_a_reused_and_another_browsers_state_are_refused(world: World) -> None:
    world.wecom.signed_in = "ZhangSan"
    with new_client() as client:
        callback = to_callback(world, client, start(world, client))
        token = client.cookies.get("duban_login")
        forged = with_state(callback, state="0" * 32)
        refused(client.get(forged), STATE_REFUSED)
        refused(client.get(with_state(callback, state="<script>")), STATE_REFUSED)
        assert client.get(callback).status_code == 303  # the real one still works, once
        reused = with_state(callback, code=world.wecom.issue_code("ZhangSan"))
        client.cookies.set("duban_login", token)  # the same browser, its token kept
        refused(client.get(reused), STATE_REFUSED)
    # state fixation: a callback address made in the attacker's browser, opened in the victim's
    attacker, victim = new_client(), new_client()
    world.wecom.signed_in = "QianQi"
    planted = to_callback(world, attacker, start(world, attacker))
    start(world, victim)  # the victim has a pre-sign-in token of its own
    refused(victim.get(planted), STATE_REFUSED)
    refused(attacker.get(planted), STATE_REFUSED)  # tried once, used up
    attacker.close()
    victim.close()


def test_a_replayed_or_expired_code_is_refused(world: World) -> None:
    with new_client() as client:
        world.wecom.signed_in = "ZhangSan"
        first = to_callback(world, client, start(world, client))
        assert client.get(first).status_code == 303
        assert start(world, client) == "/items/PT2022-0001"  # signed in: a card's link goes straight on
    used = parse_qs(urlsplit(first).query)["code"][0]
    with new_client() as client:
        again = to_callback(world, client, start(world, client))
        refused(client.get(with_state(again, code=used)), CODE_REFUSED)  # a fresh state, a used code
        late = to_callback(world, client, start(world, client))
        world.clock.now += 301  # WeCom's code lasts five minutes
        refused(client.get(late), CODE_REFUSED)


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil", "%2F%2Fevil"])
def test_next_never_leads_off_the_site(world: World, target: str) -> None:
    world.wecom.signed_in = "ZhangSan"
    with new_client() as client:
        # sent as written: %2F%2F is decoded once by the server, to //evil
        response = client.get(f"{world.base}/auth/wecom?next={target}")
        callback = to_callback(world, client, response.headers["location"])
        landed = client.get(callback)
    assert landed.status_code == 303 and landed.headers["location"] == "/"


# --- both the password and WeCom where the plan asks; the one-time code after -------------------------


def password_sign_in(world: World, client: httpx.Client, login: str, target: str) -> httpx.Response:
    form = client.get(f"{world.base}/login", params={"next": target})
    sent = {"login": login, "password": PASSWORD, "csrf_token": csrf_of(form.text), "next": target}
    return client.post(f"{world.base}/login", data=sent)


def test_the_plans_roles_give_the_password_then_their_own_wecom_identity(world: World) -> None:
    with new_client(DESKTOP) as client:
        response = password_sign_in(world, client, "pt-staff", "/dashboard")
        assert response.headers["location"] == "/auth/wecom?next=/dashboard"
        assert [row[2:] for row in sessions_of(world, "pt-staff")] == [(0, 1)]
        assert client.get(f"{world.base}/dashboard").headers["location"] == "/auth/wecom?next=/dashboard"
        world.wecom.signed_in = "QianQi"
        landed = client.get(to_callback(world, client, start(world, client, "/dashboard")))
        assert landed.status_code == 303 and landed.headers["location"] == "/dashboard"
        assert [row[2:] for row in sessions_of(world, "pt-staff")] == [(0, 0)]
        assert client.get(f"{world.base}/dashboard").status_code == 200
        assert audit_rows(world, "pt-staff", "wecom_confirmed") == [{"address": "127.0.0.1", "via": "wecom"}]
        client.post(f"{world.base}/logout", data={"csrf_token": csrf_of(client.get(f"{world.base}/help").text)})
    # someone else's WeCom after the password: refused, the half-done session ended
    with new_client(DESKTOP) as client:
        password_sign_in(world, client, "pt-staff", "/dashboard")
        world.wecom.signed_in = "ZhangSan"
        response = client.get(to_callback(world, client, start(world, client, "/dashboard")))
        refused(response, OTHER_PERSON)
        assert sessions_of(world, "pt-staff") == []
    # WeCom first: the password is asked for, nothing recorded as a sign-in
    signed_before = len(audit_rows(world, "pt-staff", "sign_in"))
    response = sign_in(world, "QianQi", "/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/dashboard"
    assert session_cookie(response) is None
    page = response.client.get(f"{world.base}/login?next=/dashboard")
    assert html.unescape(NOTICE.search(page.text).group(1)) == PASSWORD_TOO
    assert len(audit_rows(world, "pt-staff", "sign_in")) == signed_before
    response.client.close()


def test_an_administrator_gives_the_one_time_code_after_wecom(world: World) -> None:
    uri = world.cli("user", "totp", "pt-sys").output
    secret = parse_qs(urlsplit(re.search(r"otpauth://\S+", uri).group(0)).query)["secret"][0]
    response = sign_in(world, "SunBa", "/accounts")
    client = response.client
    assert response.headers["location"] == "/login/otp?next=/accounts"
    assert [row[2:] for row in sessions_of(world, "pt-sys")] == [(1, 0)]
    assert client.get(f"{world.base}/accounts").headers["location"] == "/login/otp"
    form = client.get(f"{world.base}/login/otp?next=/accounts")
    sent = {"otp": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(form.text), "next": "/accounts"}
    response = client.post(f"{world.base}/login/otp", data=sent)
    assert response.headers["location"] == "/accounts"
    assert client.get(f"{world.base}/accounts").status_code == 200
    client.close()


# --- in a real browser -----------------------------------------------------------------------------------


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_cards_link_lands_on_the_item_signed_in_in_wecom_and_on_a_desktop(
    world: World, browser: Browser, people: list[BrowserContext]
) -> None:
    link = f"{world.base}/auth/wecom?next=/items/PT2022-0001"
    world.wecom.signed_in = "ZhangSan"
    phone = browser.new_context(**PHONE, user_agent=WXWORK, locale="zh-CN")
    people.append(phone)
    page = phone.new_page()
    page.goto(link)
    # a redirect without a fragment keeps the one before it (#wechat_redirect, which WeCom's browser reads)
    assert page.url.removesuffix("#wechat_redirect") == f"{world.base}/items/PT2022-0001"
    expect(page.locator("h1")).to_contain_text("问题 PT2022-0001")
    # the same card tapped again: signed in already, straight to the page
    page.goto(link)
    assert page.url == f"{world.base}/items/PT2022-0001"
    # a desktop: the QR login, scanned and confirmed on the phone
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, user_agent=DESKTOP, locale="zh-CN")
    people.append(desk)
    page = desk.new_page()
    page.goto(link)
    assert page.url.startswith(f"{world.wecom.url}/wwlogin/sso/login?")
    with page.expect_navigation(wait_until="load"):
        page.locator("a#scan").click()
    assert page.url == f"{world.base}/items/PT2022-0001"
    expect(page.locator("h1")).to_contain_text("问题 PT2022-0001")
    # a forged state in the browser: refused, in the portal's layout
    other = browser.new_context(user_agent=WXWORK, locale="zh-CN")
    people.append(other)
    page = other.new_page()
    page.goto(f"{world.base}/auth/wecom/callback?code=x&state={'1' * 32}")
    expect(page.locator("p.error")).to_have_text(STATE_REFUSED)
    page.goto(f"{world.base}/items/PT2022-0001")
    assert page.url.startswith(f"{world.base}/login")
