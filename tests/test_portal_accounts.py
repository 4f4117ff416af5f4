"""Accounts and signing in, over real HTTP: the admin's actions answer 303, a one-time password is shown
once and still works after a refresh, 解锁 lifts a lock, the sign-in page counts tries left per login name
alike for a name nobody has, and a request past the upload limit gets a page in the layout.

One database for the module (the sample plan and ledger, a handful of accounts), argon2 at a low cost.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import SAMPLE, Cli
from portal import PASSWORD, csrf_of, quick_home, running_portal, sign_in, token

import plans
from duban.signin import accounts

DAY = date(2022, 5, 3)
# login: (unit, role); every password is PASSWORD, no forced change but for the one reset
ACCOUNTS = {
    "pt-admin": ("区配套办", "sysadmin"),
    "pt-sec": ("区配套办", "secadmin"),
    "cg-zhang": ("城关街道", None),
    "a-reset": ("西城街道", None),
    "a-locked": ("南关街道", None),
    "a-count": ("北关街道", None),
    "a-big": ("东城街道", None),
}
WRONG = "登录名或密码不正确"
LOCKED = "连续5次验证失败，账号已锁定，请稍后再试或联系领导小组办公室解锁"  # the plan: 5 in a row
WARNED = {3: f"{WRONG}。再输错2次，账号将被锁定", 4: f"{WRONG}。再输错1次，账号将被锁定"}
UPLOAD_MAX = 50 * 1024 * 1024  # the plan's portal.upload_max_bytes, "50 MB" on the page
ALERT = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
SECRET = re.compile(r'<section class="card secret" id="one-time-password".*?<code>([^<]+)</code>', re.S)


@dataclass
class World:
    home: Path
    base: str
    admin: httpx.Client
    csrf: str
    security: httpx.Client  # the security administrator: unlocks
    security_csrf: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("portal-accounts") / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", plans.without_second_factor(home.parent), "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role) in ACCOUNTS.items():
            role_option = ["--role", role] if role else []
            cli("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名", *role_option)
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(DAY) as base:
            admin = sign_in(base, "pt-admin", change_to=None)
            security = sign_in(base, "pt-sec", change_to=None)
            try:
                yield World(home, base, admin, token(admin, "/accounts"), security, token(security, "/security"))
            finally:
                admin.close()
                security.close()
                accounts._dummy.cache_clear()


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def alert(page: str) -> str | None:
    found = ALERT.search(page)
    return html.unescape(found.group(1)).strip() if found else None


def attempt(client: httpx.Client, login: str, password: str) -> tuple[httpx.Response, str]:
    """One sign-in through the form: the POST's answer and the sign-in page it leads back to."""
    form = client.get("/login")
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_of(form.text)})
    return response, client.get(response.headers["location"]).text if response.status_code == 303 else ""


def main_of(page: str) -> str:
    """The page's <main>, without the per-browser token and with the typed login blanked."""
    main = page[page.index("<main>") : page.index("</main>")]
    main = re.sub(r'name="csrf_token" value="[^"]*"', "", main)
    return re.sub(r'(<input name="login" value=")[^"]*"', r'\1"', main)


def test_a_reset_password_is_shown_once_and_a_refresh_repeats_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUBAN_NEW_PASSWORD")  # generated, as in production: shown to the admin once
    response = world.admin.post("/accounts/a-reset/reset", data={"csrf_token": world.csrf})
    assert (response.status_code, response.headers["location"]) == (303, "/accounts")
    first = world.admin.get("/accounts")
    found = SECRET.search(first.text)
    assert found, first.text[:2000]
    password = html.unescape(found.group(1))
    assert len(password) == 20  # secrets.token_urlsafe(15): a passphrase by the policy
    assert "已重置密码：a-reset" in first.text
    assert "no-store" in first.headers["cache-control"]
    again = world.admin.get("/accounts")  # the refresh
    assert again.status_code == 200
    assert password not in again.text and 'id="one-time-password"' not in again.text
    assert "已重置密码" not in again.text
    assert query(
        world.home, "SELECT count(*) FROM audit_entry WHERE subject_key = 'a-reset' AND action = ?", "reset_password"
    ) == [(1,)]
    own = world.admin.post("/accounts/pt-admin/reset", data={"csrf_token": world.csrf})  # would sign them out
    assert (own.status_code, own.headers["location"]) == (303, "/accounts")
    assert alert(world.admin.get("/accounts").text) == "不能在此重置自己的密码，请通过“修改密码”修改"
    person = httpx.Client(base_url=world.base, timeout=30)
    answer, _ = attempt(person, "a-reset", password)  # the first one-time password still works
    assert (answer.status_code, answer.headers["location"]) == (303, "/account/password")
    assert person.cookies.get("duban_session")


def test_a_locked_account_is_shown_locked_and_the_security_administrator_unlocks_it(world: World) -> None:
    with httpx.Client(base_url=world.base, timeout=30) as guesser:
        for n in range(1, 6):
            attempt(guesser, "a-locked", f"Wrong-pass-{n}-2022")
        answer, page = attempt(guesser, "a-locked", PASSWORD)
        assert answer.status_code == 303 and alert(page) == LOCKED
    ((until,),) = query(world.home, "SELECT locked_until FROM account WHERE login = 'a-locked'")
    shown = datetime.fromisoformat(until).replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    row = re.search(r'<td data-label="登录名">a-locked</td>.*?</tr>', world.admin.get("/accounts").text, re.S)
    assert row, "a-locked not listed"
    assert f"已锁定（至{shown:%H:%M}）" in row.group(0)
    assert "待首次登录改密" not in row.group(0)
    assert "unlock" not in row.group(0)  # the system administrator does not unlock: the security administrator does
    assert world.admin.post("/security/a-locked/unlock", data={"csrf_token": world.csrf}).status_code == 403
    row = re.search(r'<td data-label="登录名">a-locked</td>.*?</tr>', world.security.get("/security").text, re.S)
    assert row and 'action="/security/a-locked/unlock"' in row.group(0)
    response = world.security.post("/security/a-locked/unlock", data={"csrf_token": world.security_csrf})
    assert (response.status_code, response.headers["location"]) == (303, "/security")
    page = world.security.get("/security").text
    assert "已解锁账号：a-locked" in page
    assert 'action="/security/a-locked/unlock"' not in page
    # the next lock would last twice as long: only a success starts the locks again
    state = "SELECT failed_logins, locked_until, lock_count FROM account WHERE login = 'a-locked'"
    assert query(world.home, state) == [(0, None, 1)]
    assert query(
        world.home, "SELECT count(*) FROM audit_entry WHERE subject_key = 'a-locked' AND action = 'unlock'"
    ) == [(1,)]
    with httpx.Client(base_url=world.base, timeout=30) as person:
        answer, _ = attempt(person, "a-locked", PASSWORD)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
    assert query(world.home, "SELECT failed_logins, lock_count FROM account WHERE login = 'a-locked'") == [(0, 0)]
    again = world.security.post("/security/a-locked/unlock", data={"csrf_token": world.security_csrf})  # not locked
    assert again.status_code == 303
    assert alert(world.security.get("/security").text) == "账号“a-locked”未被锁定"


def test_the_tries_left_read_alike_for_a_name_nobody_has(world: World) -> None:
    pages: dict[str, list[tuple[int, str, str | None, str]]] = {}
    for login in ("a-count", "nobody-count"):
        with httpx.Client(base_url=world.base, timeout=30) as browser:
            seen = []
            for n in range(1, 5):
                answer, page = attempt(browser, login, f"Wrong-pass-{n}-2022")
                assert f'<input name="login" value="{login}"' in page  # the typed login kept
                assert f"Wrong-pass-{n}-2022" not in page  # never the password
                seen.append((answer.status_code, answer.headers["location"], alert(page), main_of(page)))
            pages[login] = seen
    expected = [WRONG, WRONG, WARNED[3], WARNED[4]]
    assert [said for _, _, said, _ in pages["a-count"]] == expected
    assert pages["a-count"] == pages["nobody-count"]  # status, place, words and page: the same
    assert {(status, where) for status, where, _, _ in pages["a-count"]} == {(303, "/login?next=/")}
    with httpx.Client(base_url=world.base, timeout=30) as browser:  # the right password starts the count again
        answer, _ = attempt(browser, "a-count", PASSWORD)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        answer, page = attempt(browser, "a-count", "Wrong-pass-9-2022")
        assert answer.status_code == 303, answer.text[:3000]
        assert alert(page) == WRONG
    assert query(world.home, "SELECT failed_logins FROM account WHERE login = 'a-count'") == [(1,)]


def test_a_request_past_the_limit_gets_a_page_with_the_menu_and_the_limit(world: World) -> None:
    client = sign_in(world.base, "a-big", change_to=None)
    csrf = token(client, "/items/PT2022-0012")
    big = b"a" * (UPLOAD_MAX + 1)
    came_from = f"{world.base}/items/PT2022-0012"
    response = client.post(
        "/items/PT2022-0012/transition",
        data={"target": "close_requested", "note": "已整改", "csrf_token": csrf},
        files=[("evidence", ("现场照片.txt", big, "text/plain"))],
        headers={"referer": came_from},
    )
    assert response.status_code == 413
    page = response.text
    assert alert(page) == "上传内容过大，已拒绝"
    assert '<nav class="menu">' in page and 'href="/items"' in page  # the layout, with the person's menu
    assert "a-big名（东城街道）" in page
    assert "一次提交（含全部附件）不能超过 50 MB" in page
    assert '<a class="button" href="/items/PT2022-0012">返回上一页</a>' in page
    elsewhere = client.post(
        "/acknowledge", content=b"x" * (UPLOAD_MAX + 1), headers={"referer": "https://example.com/"}
    )
    assert elsewhere.status_code == 413
    assert '<a class="button" href="/">返回待办</a>' in elsewhere.text
    anonymous = httpx.post(f"{world.base}/login", content=b"x" * (UPLOAD_MAX + 1), timeout=30)
    assert anonymous.status_code == 413 and "不能超过 50 MB" in anonymous.text
    assert '<nav class="menu">' not in anonymous.text  # nobody signed in: no menu
    assert query(world.home, "SELECT count(*) FROM evidence") == [(0,)]


def test_a_file_past_the_evidence_limit_comes_back_on_the_form_with_the_note_kept(world: World) -> None:
    """25 MB: within what one request may carry (50 MB), past one evidence file's 20 MB: the evidence rule
    refuses it on the item's own page, naming the limit, and what the clerk typed is still there."""
    with closing(sqlite3.connect(world.home / "duban.db")) as db, db:  # an item being worked on, as in May
        db.execute("UPDATE ledger_item SET status = 'in_progress' WHERE code = 'PT2022-0011'")
    client = sign_in(world.base, "a-big", change_to=None)
    csrf = token(client, "/items/PT2022-0011")
    note = "东城街道已完成整改，附现场照片。"
    response = client.post(
        "/items/PT2022-0011/transition",
        data={"target": "close_requested", "note": note, "csrf_token": csrf},
        files=[("evidence", ("现场照片.txt", b"a" * (25 * 1024 * 1024), "text/plain"))],
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/items/PT2022-0011")
    page = client.get(response.headers["location"]).text
    assert "过大" in alert(page) and "20MB" in alert(page).replace(" ", "")
    assert f">{note}</textarea>" in page
    assert query(world.home, "SELECT count(*) FROM evidence") == [(0,)]
    assert query(world.home, "SELECT status FROM ledger_item WHERE code = 'PT2022-0011'") == [("in_progress",)]


def test_the_admin_binds_a_wecom_id_once_and_an_id_held_by_another_is_refused_unchanged(world: World) -> None:
    bound = world.admin.post("/accounts/cg-zhang/wecom", data={"wecom_userid": "ZhangSan", "csrf_token": world.csrf})
    assert (bound.status_code, bound.headers["location"]) == (303, "/accounts")
    page = world.admin.get("/accounts").text
    assert "cg-zhang：已绑定企业微信账号 zhangsan" in page and 'value="zhangsan"' in page
    taken = world.admin.post("/accounts/a-count/wecom", data={"wecom_userid": "zhangsan", "csrf_token": world.csrf})
    assert taken.status_code == 303
    shown = alert(world.admin.get("/accounts").text)
    assert shown == "企业微信账号“zhangsan”已绑定账号 cg-zhang（cg-zhang名），一个企业微信账号只能绑定一个账号"
    bad = world.admin.post("/accounts/a-count/wecom", data={"wecom_userid": "张 三", "csrf_token": world.csrf})
    assert bad.status_code == 303
    assert alert(world.admin.get("/accounts").text) == "企业微信账号（UserID）须为1至64位字母、数字或 _ - @ ."
    duty = world.admin.post("/accounts/pt-sec/wecom", data={"wecom_userid": "sec", "csrf_token": world.csrf})
    assert duty.status_code == 303  # the administrators' own accounts are kept at the server
    assert query(world.home, "SELECT login, wecom_userid FROM account WHERE wecom_userid IS NOT NULL") == [
        ("cg-zhang", "zhangsan")
    ]
    assert query(
        world.home, "SELECT count(*) FROM audit_entry WHERE subject_key = 'cg-zhang' AND action = 'wecom_userid'"
    ) == [(1,)]
    world.admin.post("/accounts/cg-zhang/wecom", data={"wecom_userid": "", "csrf_token": world.csrf})
    assert "cg-zhang：已解除企业微信绑定" in world.admin.get("/accounts").text
    assert query(world.home, "SELECT count(*) FROM account WHERE wecom_userid IS NOT NULL") == [(0,)]
