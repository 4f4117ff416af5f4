"""Sign-in as an assessor checks it (等保 level 3), over real HTTP against a real portal.

Guessing is limited: thirty guesses at once get five checks; a locked account checks nothing and answers
alike whatever is sent; the current password on the change form counts; each lock lasts twice the one
before; the address throttle counts before it checks. Passwords: the policy refuses the weak ones the
issue lists, the last five are not used again, an old one must be changed, an unused account is
disabled. The second factor: administrators enrol before anything else, sign in with a one-time code,
a wrong or replayed code is refused and five wrong ones lock, a recovery code works once; `duban user
totp` enrols from the terminal and the database holds the secret sealed.

The plan is the sample's (second factor for sysadmin, secadmin and auditor; 5 failures, 15 minutes).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from conftest import PLAN, SAMPLE, Cli
from portal import CHANGED, PASSWORD, csrf_of, quick_home, running_portal, sign_in

DAY = date(2022, 5, 3)
WRONG = "登录名或密码不正确"
LOCKED = "连续5次验证失败，账号已锁定，请稍后再试或联系领导小组办公室解锁"
WARNED = [f"{WRONG}。再输错2次，账号将被锁定", f"{WRONG}。再输错1次，账号将被锁定"]
THROTTLED = "登录失败次数过多，请稍后再试"
ALERT = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
ACCOUNTS = {  # login: (unit, role, name)
    "g-burst": ("城关街道", "clerk", "赵一"),
    "g-change": ("城关街道", "clerk", "钱二"),
    "g-twice": ("城关街道", "clerk", "孙三"),
    "g-weak": ("城关街道", "clerk", "张三"),
    "g-old": ("西城街道", "clerk", "李四"),
    "g-idle": ("西城街道", "clerk", "周五"),
    "g-code": ("西城街道", "clerk", "冯八"),
    "g-again": ("西城街道", "clerk", "陈九"),
    "g-twin": ("西城街道", "clerk", "褚十"),
    "g-key": ("西城街道", "clerk", "卫十一"),
    "g-wait": ("西城街道", "clerk", "蒋十二"),
    "g-trail": ("西城街道", "clerk", "沈十三"),
    "pt-sys": ("区配套办", "sysadmin", "吴六"),
    "pt-sec": ("区配套办", "secadmin", "郑七"),
}


@dataclass
class World:
    home: Path
    base: str
    cli: Cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("sign-in-assurance") / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role, name) in ACCOUNTS.items():
            cli("user", "add", "--unit", unit, "--login", login, "--name", name, "--role", role)
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0 WHERE role = 'clerk'")
        with running_portal(DAY) as base:
            yield World(home, base, cli)


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def execute(world: World, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(world.home / "duban.db")) as db, db:
        db.execute(sql, args)


def alert(page: str) -> str | None:
    found = ALERT.search(page)
    return html.unescape(found.group(1)).strip() if found else None


def attempt(base: str, login: str, password: str) -> tuple[httpx.Response, str]:
    """One sign-in from a fresh browser: the POST's answer and the page it leads to."""
    with httpx.Client(base_url=base, timeout=60) as browser:
        form = browser.get("/login")
        sent = {"login": login, "password": password, "csrf_token": csrf_of(form.text)}
        response = browser.post("/login", data=sent)
        page = browser.get(response.headers["location"]).text if response.status_code == 303 else response.text
        return response, page


def at_once(base: str, tries: list[tuple[str, str]]) -> list[tuple[httpx.Response, str]]:
    """Every sign-in sent together (threads released at one moment), answers in the order given."""
    answers: list = [None] * len(tries)
    go = threading.Barrier(len(tries), timeout=60)

    def one(n: int, login: str, password: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as browser:
            form = browser.get("/login")
            sent = {"login": login, "password": password, "csrf_token": csrf_of(form.text)}
            go.wait(60)
            response = browser.post("/login", data=sent)
            page = browser.get(response.headers["location"]).text if response.status_code == 303 else response.text
            answers[n] = (response, page)

    threads = [threading.Thread(target=one, args=(n, *t), daemon=True) for n, t in enumerate(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(a is not None for a in answers), "a sign-in did not answer"
    return answers


def refusals(world: World, login: str) -> dict[str, int]:
    rows = query(
        world,
        "SELECT json_extract(\"after\", '$.reason'), count(*) FROM audit_entry"
        " WHERE subject = 'account' AND subject_key = ? AND action = 'sign_in_refused' GROUP BY 1",
        login,
    )
    return dict(rows)


def main_of(page: str) -> str:
    main = page[page.index("<main>") : page.index("</main>")]
    main = re.sub(r'name="csrf_token" value="[^"]*"', "", main)
    return re.sub(r'(<input name="login" value=")[^"]*"', r'\1"', main)


def lock_left(world: World, login: str) -> timedelta:
    ((until,),) = query(world, "SELECT locked_until FROM account WHERE login = ?", login)
    return datetime.fromisoformat(until).replace(tzinfo=UTC) - datetime.now(UTC)


# --- guessing ----------------------------------------------------------------------------------------


def test_thirty_guesses_at_once_get_five_checks_and_a_locked_account_answers_alike(world: World) -> None:
    # each burst from a portal process of its own: thirty failures are one address's limit (the throttle)
    with running_portal(DAY) as base:
        answers = at_once(base, [("g-burst", f"Wrong-pass-{n}-2022") for n in range(30)])
    assert all(r.status_code == 303 and "duban_session" not in r.cookies for r, _ in answers)
    assert refusals(world, "g-burst") == {"wrong_password": 5, "locked": 25}  # five checked, whichever came first
    assert query(world, "SELECT lock_count FROM account WHERE login = 'g-burst'") == [(1,)]
    assert timedelta(minutes=14) < lock_left(world, "g-burst") <= timedelta(minutes=15)
    # locked: the right password among thirty more is never checked, and every answer is the same
    tries = [("g-burst", f"Wrong-pass-{n}-2023") for n in range(29)]
    tries.insert(17, ("g-burst", PASSWORD))
    with running_portal(DAY) as base:
        answers = at_once(base, tries)
    assert all(r.status_code == 303 and "duban_session" not in r.cookies for r, _ in answers)
    assert {alert(page) for _, page in answers} == {LOCKED}
    assert len({main_of(page) for _, page in answers}) == 1
    assert refusals(world, "g-burst") == {"wrong_password": 5, "locked": 55}
    assert timedelta(minutes=14) < lock_left(world, "g-burst") <= timedelta(minutes=15)  # not extended
    # a name nobody has reads alike, at the same places
    with running_portal(DAY) as base:
        said = [alert(attempt(base, "g-nobody", f"Wrong-pass-{n}-2022")[1]) for n in range(6)]
    assert said == [WRONG, WRONG, *WARNED, LOCKED, LOCKED]


def test_the_current_password_counts_and_the_fifth_wrong_one_locks_and_signs_out(world: World) -> None:
    client = sign_in(world.base, "g-change", change_to=None)
    form = client.get("/account/password")
    said = []
    for n in range(5):
        sent = {
            "current_password": f"Wrong-pass-{n}-2022",
            "new_password": CHANGED,
            "new_password_confirm": CHANGED,
            "csrf_token": csrf_of(form.text),
        }
        response = client.post("/account/password", data=sent)
        assert response.status_code == 303
        said.append(alert(client.get(response.headers["location"]).text))
    assert said[:4] == [
        "当前密码不正确",
        "当前密码不正确",
        "当前密码不正确。再输错2次，账号将被锁定",
        "当前密码不正确。再输错1次，账号将被锁定",
    ]
    assert said[4] is None  # signed out: the sign-in page, no message of this session
    assert client.get("/items").status_code == 303  # the session ended
    assert timedelta(minutes=14) < lock_left(world, "g-change") <= timedelta(minutes=15)
    assert query(world, "SELECT count(*) FROM audit_entry WHERE subject_key = 'g-change' AND action = 'locked'") == [
        (1,)
    ]
    response, page = attempt(world.base, "g-change", PASSWORD)
    assert alert(page) == LOCKED and "duban_session" not in response.cookies


def test_each_lock_lasts_twice_the_one_before_until_a_success(world: World) -> None:
    for n in range(5):
        attempt(world.base, "g-twice", f"Wrong-pass-{n}-2022")
    assert timedelta(minutes=14) < lock_left(world, "g-twice") <= timedelta(minutes=15)
    execute(world, "UPDATE account SET locked_until = ? WHERE login = 'g-twice'", "2022-01-01 00:00:00.000000")
    for n in range(5):
        attempt(world.base, "g-twice", f"Wrong-pass-{n}-2023")
    assert timedelta(minutes=29) < lock_left(world, "g-twice") <= timedelta(minutes=30)
    assert query(world, "SELECT lock_count FROM account WHERE login = 'g-twice'") == [(2,)]
    execute(world, "UPDATE account SET locked_until = ? WHERE login = 'g-twice'", "2022-01-01 00:00:00.000000")
    response, _ = attempt(world.base, "g-twice", PASSWORD)
    assert response.headers["location"] == "/" and "duban_session" in response.cookies
    assert query(world, "SELECT failed_logins, lock_count, locked_until FROM account WHERE login = 'g-twice'") == [
        (0, 0, None)
    ]


def test_the_address_throttle_counts_before_it_checks(world: World) -> None:
    with running_portal(DAY) as base:  # a process of its own: a fresh count for 127.0.0.1
        answers = at_once(base, [(f"t-nobody-{n}", "Some-pass-2022") for n in range(60)])
    statuses = sorted(r.status_code for r, _ in answers)
    assert statuses == [303] * 30 + [429] * 30  # the plan's failures_per_address, checked; the rest refused
    checked = query(
        world,
        "SELECT count(*) FROM audit_entry WHERE action = 'sign_in_refused' AND subject_key LIKE 't-nobody-%'",
    )
    assert checked == [(30,)]
    assert {alert(page) for r, page in answers if r.status_code == 429} == {THROTTLED}


def test_every_sign_in_lock_and_password_change_is_on_the_record_with_login_and_address(world: World) -> None:
    """The audit log as the auditor reads it: each attempt with the login as typed, the client's address
    and why it was refused; the success, the password change and the lock; never a password."""
    typed = ["Wrong-pass-0-2024", "Trail-pass-2024!", *(f"Wrong-pass-{n}-2025" for n in range(1, 6)), PASSWORD]
    with running_portal(DAY) as base:  # a process of its own: a fresh address count
        attempt(base, "g-trail", typed[0])
        attempt(base, "g-nobody-trail", typed[0])
        client = sign_in(base, "g-trail", change_to=None)
        assert change(client, PASSWORD, typed[1]) is None
        for password in typed[2:7]:
            attempt(base, "g-trail", password)
        attempt(base, "g-trail", typed[1])  # the right one, locked: not checked
    rows = query(
        world,
        "SELECT subject_key, action, \"after\" FROM audit_entry WHERE subject = 'account'"
        " AND subject_key IN ('g-trail', 'g-nobody-trail') AND action != 'add' ORDER BY seq",
    )
    here = {"address": "127.0.0.1"}
    found = [(key, action, json.loads(after)) for key, action, after in rows]
    locked = found[8]
    assert locked[:2] == ("g-trail", "locked") and set(locked[2]) == {"locked_until"}
    assert found[:8] + found[9:] == [
        ("g-trail", "sign_in_refused", here | {"reason": "wrong_password"}),
        ("g-nobody-trail", "sign_in_refused", here | {"reason": "no_such_login"}),
        ("g-trail", "sign_in", here),
        ("g-trail", "change_password", {"must_change_password": False}),
        *[("g-trail", "sign_in_refused", here | {"reason": "wrong_password"})] * 4,
        ("g-trail", "sign_in_refused", here | {"reason": "wrong_password"}),  # the fifth, after the lock
        ("g-trail", "sign_in_refused", here | {"reason": "locked"}),
    ]
    everything = json.dumps(query(world, "SELECT * FROM audit_entry"), ensure_ascii=False, default=str)
    assert not [password for password in typed if password in everything]


# --- passwords ---------------------------------------------------------------------------------------


WEAK = {  # 张三 of 城关街道, login g-weak: what the policy says of each
    "abcdabcdabcd": "至少3类",
    "qwertyqwerty": "至少3类",
    "123412341234": "至少3类",
    "admin1234567": "至少3类",
    "zhangsan1234": "至少3类",
    "城关街道城关街道城关街道": "至少3类",
    "Zhangsan@2022": "不能包含登录名、姓名（含拼音）",
    "城关街道-Pass-2022": "不能包含登录名、姓名（含拼音）、单位名称",
    "g-weak-Pass-2022": "不能包含登录名",
    "Qwerty123456!": "容易被猜中",
    "P@ssw0rd2022!": "容易被猜中",
    "Aaaaaaaaaaa1!": "容易被猜中",
}


def change(client: httpx.Client, current: str, new: str) -> str | None:
    form = client.get("/account/password")
    sent = {"current_password": current, "new_password": new, "new_password_confirm": new}
    response = client.post("/account/password", data=sent | {"csrf_token": csrf_of(form.text)})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200, (page.status_code, page.headers.get("location"))
    return alert(page.text)


def test_weak_passwords_and_the_last_five_are_refused(world: World) -> None:
    client = sign_in(world.base, "g-weak", change_to=None)
    for weak, words in WEAK.items():
        said = change(client, PASSWORD, weak)
        assert said is not None and words in said, (weak, said)
    assert query(world, "SELECT password_changed_at FROM account WHERE login = 'g-weak'") == [(None,)]
    assert change(client, PASSWORD, CHANGED) is None
    client = sign_in(world.base, "g-weak", CHANGED, change_to=None)
    assert change(client, CHANGED, PASSWORD) == "新密码不能与最近5次使用过的密码相同"  # the shared initial one
    assert change(client, CHANGED, "Another-pass-2023!") is None
    client = sign_in(world.base, "g-weak", "Another-pass-2023!", change_to=None)
    assert change(client, "Another-pass-2023!", CHANGED) == "新密码不能与最近5次使用过的密码相同"


def test_an_old_password_must_be_changed_and_an_unused_account_is_disabled(world: World) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=91)).strftime("%Y-%m-%d %H:%M:%S.%f")
    execute(world, "UPDATE account SET password_changed_at = ? WHERE login = 'g-old'", long_ago)
    response, _ = attempt(world.base, "g-old", PASSWORD)
    assert response.headers["location"] == "/account/password"
    assert query(world, "SELECT must_change_password FROM account WHERE login = 'g-old'") == [(1,)]
    execute(world, "UPDATE account SET last_sign_in_at = ? WHERE login = 'g-idle'", long_ago)
    response, page = attempt(world.base, "g-idle", PASSWORD)
    assert "duban_session" not in response.cookies
    assert alert(page) == "账号已连续90天未登录，已停用，请联系领导小组办公室系统管理员启用"
    assert query(world, "SELECT disabled FROM account WHERE login = 'g-idle'") == [(1,)]


# --- the second factor ------------------------------------------------------------------------------


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def secret_of(uri: str) -> str:
    return parse_qs(urlsplit(uri).query)["secret"][0]


def give_code(client: httpx.Client, code: str) -> httpx.Response:
    form = client.get("/login/otp")
    assert form.status_code == 200, form.status_code
    return client.post("/login/otp", data={"otp": code, "csrf_token": csrf_of(form.text)})


def test_an_administrator_enrols_first_then_signs_in_with_a_code_used_once(world: World) -> None:
    client = sign_in(world.base, "pt-sys")  # the first sign-in changes the initial password
    assert client.get("/accounts").headers["location"] == "/account/second-factor"  # nothing before enrolment
    page = client.get("/account/second-factor").text
    secret = re.search(r'<code class="wrap" id="totp-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert len(secret) == 32 and "账户名 pt-sys" in page
    qr = client.get("/account/second-factor/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml") and b"<script" not in qr.content
    assert b'xmlns="http://www.w3.org/2000/svg"' in qr.content  # a document of its own, shown by <img>
    assert secret not in "".join(str(row) for row in query(world, "SELECT * FROM account WHERE login = 'pt-sys'"))
    now = datetime.now(UTC)
    form = csrf_of(page)
    wrong = client.post("/account/second-factor", data={"otp": "000000", "csrf_token": form})
    assert alert(client.get(wrong.headers["location"]).text) == "动态口令不正确，请核对手机时间后重新输入"
    done = client.post("/account/second-factor", data={"otp": code_at(secret, now), "csrf_token": form})
    shown = client.get(done.headers["location"]).text
    recovery = re.search(r'<h2 id="codes-title">.*?<code>([^<]+)</code>', shown, re.S).group(1).split()
    assert len(recovery) == 8 and all(re.fullmatch(r"[0-9a-f]{10}", c) for c in recovery)
    assert "恢复码（仅显示这一次）" not in client.get("/account/second-factor").text  # shown once
    ((kept,),) = query(world, "SELECT recovery_codes FROM account WHERE login = 'pt-sys'")
    kept = json.loads(kept)
    plain = {hashlib.new("sm3", c.encode()).hexdigest() for c in recovery}  # a database copy alone gives nothing
    assert len(kept) == 8 and not plain & set(kept) and not any(c in str(kept) for c in recovery)
    assert client.get("/accounts").status_code == 200
    # next time: the password, then the code; the same code again is refused (replayed)
    with httpx.Client(base_url=world.base, timeout=30) as browser:
        form = browser.get("/login")
        sent = {"login": "pt-sys", "password": CHANGED, "csrf_token": csrf_of(form.text)}
        response = browser.post("/login", data=sent)
        assert response.headers["location"] == "/login/otp"
        assert browser.get("/accounts").headers["location"] == "/login/otp"
        replayed = give_code(browser, code_at(secret, now))
        assert alert(browser.get(replayed.headers["location"]).text) == "动态口令不正确"
        right = give_code(browser, code_at(secret, now + timedelta(seconds=30)))
        assert right.headers["location"] == "/"
        assert browser.get("/").headers["location"] == "/accounts"
        assert browser.get("/accounts").status_code == 200
    # a recovery code once, then never again
    for expected in ("/", None):
        with httpx.Client(base_url=world.base, timeout=30) as browser:
            form = browser.get("/login")
            browser.post("/login", data={"login": "pt-sys", "password": CHANGED, "csrf_token": csrf_of(form.text)})
            answer = give_code(browser, recovery[0])
            if expected:
                assert answer.headers["location"] == expected
            else:
                assert alert(browser.get(answer.headers["location"]).text) == "动态口令不正确"
    assert query(world, "SELECT json_array_length(recovery_codes) FROM account WHERE login = 'pt-sys'") == [(7,)]


def test_the_terminal_enrols_and_the_security_administrator_resets(world: World) -> None:
    out = world.cli("user", "totp", "pt-sec").output
    uri = re.search(r"otpauth://\S+", out).group(0)
    secret = secret_of(uri)
    ((sealed,),) = query(world, "SELECT totp_secret FROM account WHERE login = 'pt-sec'")
    assert secret not in sealed and "otpauth" not in sealed
    with httpx.Client(base_url=world.base, timeout=30) as browser:
        form = browser.get("/login")
        browser.post("/login", data={"login": "pt-sec", "password": PASSWORD, "csrf_token": csrf_of(form.text)})
        assert give_code(browser, code_at(secret, datetime.now(UTC))).headers["location"] == "/account/password"
        form = browser.get("/account/password")
        sent = {"current_password": PASSWORD, "new_password": CHANGED, "new_password_confirm": CHANGED}
        assert browser.post("/account/password", data=sent | {"csrf_token": csrf_of(form.text)}).status_code == 303
        page = browser.get("/security")
        assert page.status_code == 200
        row = re.search(r'<td data-label="登录名">pt-sys</td>.*?</tr>', page.text, re.S).group(0)
        assert "已绑定" in row
        done = browser.post("/security/pt-sys/second-factor", data={"csrf_token": csrf_of(page.text)})
        assert "已重置动态口令" in browser.get(done.headers["location"]).text
    assert query(world, "SELECT totp_secret, recovery_codes FROM account WHERE login = 'pt-sys'") == [(None, "[]")]
    assert query(
        world, "SELECT actor, action FROM audit_entry WHERE subject_key = 'pt-sys' ORDER BY id DESC LIMIT 1"
    ) == [("区配套办", "second_factor_reset")]


def test_wrong_codes_count_and_the_fifth_locks_and_ends_the_half_done_sign_in(world: World) -> None:
    uri = re.search(r"otpauth://\S+", world.cli("user", "totp", "g-code").output).group(0)
    secret = secret_of(uri)
    with httpx.Client(base_url=world.base, timeout=30) as browser:
        form = browser.get("/login")
        sent = {"login": "g-code", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
        assert browser.post("/login", data=sent).headers["location"] == "/login/otp"
        said = []
        for _ in range(4):
            answer = give_code(browser, "000000")
            said.append(alert(browser.get(answer.headers["location"]).text))
        assert said == [
            "动态口令不正确",
            "动态口令不正确",
            "动态口令不正确。再输错2次，账号将被锁定",
            "动态口令不正确。再输错1次，账号将被锁定",
        ]
        fifth = give_code(browser, "000000")
        assert browser.get(fifth.headers["location"]).status_code == 303  # signed out: the half session ended
    assert timedelta(minutes=14) < lock_left(world, "g-code") <= timedelta(minutes=15)
    response, page = attempt(world.base, "g-code", PASSWORD)  # the right password, and a right code ready
    assert alert(page) == LOCKED and "duban_session" not in response.cookies
    assert code_at(secret, datetime.now(UTC))  # the code was never the problem: nothing is checked while locked


def half_signed_in(base: str, login: str, password: str = PASSWORD) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=60)
    form = browser.get("/login")
    sent = {"login": login, "password": password, "csrf_token": csrf_of(form.text)}
    assert browser.post("/login", data=sent).headers["location"] == "/login/otp"
    return browser


def test_a_right_password_does_not_start_the_codes_count_again(world: World) -> None:
    world.cli("user", "totp", "g-again")
    with closing(half_signed_in(world.base, "g-again")) as browser:
        for _ in range(4):
            give_code(browser, "000000")
    assert query(world, "SELECT failed_logins, locked_until FROM account WHERE login = 'g-again'") == [(4, None)]
    with closing(half_signed_in(world.base, "g-again")) as browser:  # the password is right: still four in a row
        give_code(browser, "000000")
    assert timedelta(minutes=14) < lock_left(world, "g-again") <= timedelta(minutes=15)


def test_one_code_sent_twice_at_once_signs_in_once(world: World) -> None:
    secret = secret_of(re.search(r"otpauth://\S+", world.cli("user", "totp", "g-twin").output).group(0))
    browsers = [half_signed_in(world.base, "g-twin") for _ in range(2)]
    forms = [csrf_of(b.get("/login/otp").text) for b in browsers]
    code = code_at(secret, datetime.now(UTC))
    go = threading.Barrier(2, timeout=30)
    answers: list = [None, None]

    def send(n: int) -> None:
        go.wait(30)
        answers[n] = browsers[n].post("/login/otp", data={"otp": code, "csrf_token": forms[n]})

    threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(a.headers["location"] for a in answers) == ["/", "/login/otp"]  # one in, one refused
    for b in browsers:
        b.close()


def test_a_second_factor_sealed_with_another_key_refuses_rather_than_disappears(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = secret_of(re.search(r"otpauth://\S+", world.cli("user", "totp", "g-key").output).group(0))
    monkeypatch.setenv("DUBAN_SECRET_KEY", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=")  # another machine's key
    with closing(half_signed_in(world.base, "g-key")) as browser:  # still asked for the code
        answer = give_code(browser, code_at(secret, datetime.now(UTC)))
        said = alert(browser.get(answer.headers["location"]).text)
    assert said == "动态口令暂时无法核验（服务器密钥与绑定时不一致），请联系运维人员或领导小组办公室安全管理员"


def test_a_sign_in_waiting_for_its_code_ends_after_the_plans_minutes(world: World) -> None:
    world.cli("user", "totp", "g-wait")
    with closing(half_signed_in(world.base, "g-wait")) as browser:
        assert browser.get("/login/otp").status_code == 200
        six_minutes_ago = (datetime.now(UTC) - timedelta(minutes=6)).strftime("%Y-%m-%d %H:%M:%S.%f")
        execute(
            world,
            "UPDATE web_session SET created_at = ? WHERE account_id = (SELECT id FROM account WHERE login = 'g-wait')",
            six_minutes_ago,
        )
        assert browser.get("/login/otp").headers["location"] == "/login?next=/login/otp"  # the plan: 5 minutes
    assert query(
        world, "SELECT count(*) FROM web_session WHERE account_id = (SELECT id FROM account WHERE login = 'g-wait')"
    ) == [(0,)]


# --- the upgrade -----------------------------------------------------------------------------------


def test_an_office_admin_becomes_the_system_administrator_when_the_database_is_migrated(
    initialised: Cli, home: Path
) -> None:
    """Migration 0014: the Office's `admin` of before (who kept accounts) is the `sysadmin`; the staff and
    the units' people keep their roles; every account counts as used at the upgrade (not disabled as unused)."""
    from alembic import command
    from alembic.config import Config

    from duban.db import MIGRATIONS, engine

    opened = {"pt-keeper": ("区配套办", "sysadmin"), "pt-clerk": ("区配套办", "staff"), "cg-li": ("城关街道", "head")}
    for login, (unit, role) in opened.items():
        initialised("user", "add", "--unit", unit, "--login", login, "--name", "李四", "--role", role)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0013")  # the schema before separated duties: the sysadmin was `admin`
    db = home / "duban.db"
    with closing(sqlite3.connect(db)) as conn:
        assert dict(conn.execute("SELECT login, role FROM account")) == {
            "pt-keeper": "admin",
            "pt-clerk": "staff",
            "cg-li": "head",
        }
    initialised("init", "--plan", PLAN, "--as-of", "2022-04-01")  # migrates up again
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT login, role, last_sign_in_at IS NOT NULL FROM account").fetchall()
    assert {login: (role, used) for login, role, used in rows} == {
        "pt-keeper": ("sysadmin", 1),
        "pt-clerk": ("staff", 1),
        "cg-li": ("head", 1),
    }
