"""The portal's security over every route, against real servers on loopback.

Every route of the FastAPI app has an entry in ROUTES (a new route without one fails the first test):
the address it is tried at, who may use it and the form it takes. Against that table: a page without a
session leads to the sign-in, an action without one is refused (401); an action without the session's
CSRF token is refused (403); a leader may post nothing. Then units' isolation (items, evidence,
reports, reviews, campaigns, 签收, identity fields in forms), sessions (tampering, expiry, idleness,
rotation, sign-out, cookie flags plain and behind TLS, disabling and resetting an account), the
lockout and the per-address throttle, the headers and markup of every page (from `duban portal` itself),
uploads, and script typed into fields coming back escaped.

One database is built for the module (accounts, the 2022-05 round, two campaigns, items moved along)
and shared; each refusal is checked to change nothing by a digest of every domain table and of the files
under DUBAN_HOME (web_session is left out: a page read may touch last_seen_at). Passwords are hashed
with argon2id at a low cost in this module (about eighty sign-ins, thirty of them for the throttle).
"""

from __future__ import annotations

import csv
import hashlib
import html
import http.client
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import EVIDENCE, ROOT, SAMPLE, Cli
from openpyxl import load_workbook
from portal import CHANGED, PASSWORD, csrf_of, free_port, quick_home, running_portal, sign_in, token
from processes import start, stop
from wecom_app_fake import WecomAppServer

import plans
from duban.signin import accounts
from duban.web.app import create_app

DAY = date(2022, 5, 3)
PERIOD = "2022-05"
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
PROJECTS = ROOT / "samples" / "projects-2022.xlsx"

# login: (unit, role); every password is PASSWORD. The first eight are shared, signed in once; the
# others belong to one test each (their sessions are ended, their accounts locked or disabled).
ACCOUNTS = {
    "cg-zhang": ("城关街道", None),
    "dc-li": ("东城街道", None),
    "mz-wang": ("民政局", "reviewer"),
    "mz-zhao": ("民政局", None),
    "zj-zhou": ("住建局", "reviewer"),
    "pt-admin": ("区配套办", "sysadmin"),
    "pt-sec": ("区配套办", "secadmin"),
    "pt-aud": ("区配套办", "auditor"),
    "pt-staff": ("区配套办", None),
    "qz-liu": ("区长", None),
    "s-expire": ("西城街道", None),
    "s-idle": ("西城街道", None),
    "s-rotate": ("西城街道", None),
    "s-first": ("西城街道", None),
    "s-logout": ("西城街道", None),
    "s-disable": ("西城街道", None),
    "s-reset": ("西城街道", None),
    "s-https": ("西城街道", None),
    "s-lock": ("南关街道", None),
    "s-throttle": ("南关街道", None),
}
SHARED = ["cg-zhang", "dc-li", "mz-wang", "mz-zhao", "zj-zhou", "pt-admin", "pt-sec", "pt-aud", "pt-staff", "qz-liu"]

# What the portal says (Chinese, as a clerk reads it).
SIGNED_OUT = "登录已失效，请重新登录后再操作"
CSRF_REFUSED = "表单已失效（安全校验未通过），请刷新页面后重新提交"
FORBIDDEN = "你的账号无权进行此操作"
NOT_FOUND = "页面不存在，或你的账号无权查看"
WRONG = "登录名或密码不正确"
LOCKED = "连续5次验证失败，账号已锁定，请稍后再试或联系领导小组办公室解锁"
THROTTLED = "登录失败次数过多，请稍后再试"
DISABLED = "账号已停用，请联系领导小组办公室"
TOO_LARGE = "上传内容过大，已拒绝"
UPLOAD_MAX = 50 * 1024 * 1024  # the plan's portal.upload_max_bytes
IDLE_MINUTES = 30  # the plan's portal.idle_minutes
FAILURES_PER_ADDRESS = 30  # the plan's portal.failures_per_address


@dataclass(frozen=True)
class Route:
    """One route as the tests use it: a concrete address, who may use it, a POST's fields and files."""

    path: str
    actor: str | None = None  # a GET answers `status` for them; a POST is their form
    form: dict[str, str] = field(default_factory=dict)
    files: tuple[tuple[str, str, bytes, str], ...] = ()  # (field, file name, content, type)
    status: int = 200
    public: bool = False
    leader_may: bool = False  # signing out and one's own password


TXT = ("evidence", "整改说明.txt", "已收回用房，恢复社区服务功能。".encode(), "text/plain")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/login"): Route("/login?next=/items", public=True),
    ("GET", "/refused/too-large"): Route("/refused/too-large", public=True, status=413),  # where the guard sends one
    ("POST", "/login"): Route("/login", form={"login": "dc-li", "password": PASSWORD}, public=True),
    # WeCom sign-in: not offered while the app is not configured (test_wecom_* below configure it)
    ("GET", "/auth/wecom"): Route("/auth/wecom?next=/items", public=True, status=404),
    ("GET", "/auth/wecom/callback"): Route(f"/auth/wecom/callback?code=x&state={'0' * 32}", public=True, status=404),
    ("POST", "/logout"): Route("/logout", "dc-li", leader_may=True),
    ("GET", "/account/password"): Route("/account/password", "dc-li"),
    ("POST", "/account/password"): Route(
        "/account/password",
        "dc-li",
        {"current_password": PASSWORD, "new_password": CHANGED, "new_password_confirm": CHANGED},
        leader_may=True,
    ),
    ("GET", "/"): Route("/", "dc-li"),
    ("POST", "/acknowledge"): Route("/acknowledge", "dc-li", {"kind": "round", "key": PERIOD}),
    ("GET", "/notices"): Route("/notices", "dc-li"),
    ("GET", "/notices/sign-all"): Route("/notices/sign-all", "dc-li"),
    ("POST", "/notices/sign-all"): Route("/notices/sign-all", "dc-li", {"n": f"round|{PERIOD}"}),
    ("GET", "/notices/{kind}/{key}"): Route(f"/notices/round/{PERIOD}", "dc-li"),
    ("POST", "/notices/{kind}/{key}/sign"): Route(f"/notices/round/{PERIOD}/sign", "dc-li"),
    ("GET", "/supervised"): Route("/supervised", "dc-li"),
    ("GET", "/help"): Route("/help", "dc-li"),
    ("GET", "/items"): Route("/items?light=green&status=planned&q=PT2022", "dc-li"),
    ("GET", "/items/export.xlsx"): Route("/items/export.xlsx?township=东城街道&q=PT2022", "dc-li"),
    ("GET", "/items/{code}"): Route("/items/PT2022-0012", "dc-li"),
    ("GET", "/items/{code}/return"): Route("/items/PT2022-0006/return", "mz-wang"),
    ("POST", "/items/{code}/return"): Route("/items/PT2022-0006/return", "mz-wang", {"note": "请补充现场照片"}),
    ("POST", "/items/{code}/transition"): Route(
        "/items/PT2022-0012/transition", "dc-li", {"target": "close_requested", "note": "已整改"}, (TXT,)
    ),
    ("GET", "/items/{code}/evidence/{evidence_id}"): Route("/items/PT2022-0006/evidence/1", "cg-zhang"),
    ("GET", "/reports"): Route("/reports", "dc-li"),
    ("GET", "/reports/export.xlsx"): Route("/reports/export.xlsx", "dc-li"),
    ("GET", "/reports/{period}"): Route(f"/reports/{PERIOD}", "dc-li"),
    ("POST", "/reports/{period}"): Route(
        f"/reports/{PERIOD}",
        "dc-li",
        {"action": "draft", "p.PT2022-0012": "40", "s.PT2022-0012": "推进中", "m.PT2022-0012": "清退商户"},
    ),
    ("GET", "/reports/{period}/form.xlsx"): Route(f"/reports/{PERIOD}/form.xlsx", "dc-li"),
    ("POST", "/reports/{period}/upload"): Route(
        f"/reports/{PERIOD}/upload", "dc-li", {"action": "draft"}, (("form", "填报表.xlsx", b"PK\x03\x04", XLSX),)
    ),
    ("POST", "/reports/{period}/correction"): Route(
        f"/reports/{PERIOD}/correction", "dc-li", {"reason": "进度填报有误"}
    ),
    ("GET", "/reports/{period}/{unit}"): Route(f"/reports/{PERIOD}/城关街道", "mz-wang"),
    ("POST", "/reports/{period}/{unit}/corrections/{correction_id}"): Route(
        f"/reports/{PERIOD}/城关街道/corrections/1", "mz-wang", {"decision": "refuse", "answer": "原填报无误"}
    ),
    ("POST", "/reports/{period}/{unit}/review"): Route(
        f"/reports/{PERIOD}/城关街道/review", "mz-wang", {"decision": "return", "reason": "请补充佐证材料"}
    ),
    ("GET", "/campaigns"): Route("/campaigns", "dc-li"),
    ("GET", "/campaigns/new"): Route("/campaigns/new?title=幼儿园督导&categories=education&preview=1", "pt-staff"),
    ("POST", "/campaigns/new"): Route(
        "/campaigns/new", "pt-staff", {"title": "幼儿园专项督导", "due": "2022-05-31", "categories": "education"}
    ),
    ("GET", "/campaigns/{campaign_id}"): Route("/campaigns/2", "dc-li"),
    ("GET", "/campaigns/{campaign_id}/export.xlsx"): Route("/campaigns/2/export.xlsx", "dc-li"),
    ("POST", "/campaigns/{campaign_id}"): Route(
        "/campaigns/2",
        "dc-li",
        {"g.PT2022-0012": "已清退两户商户", "m.PT2022-0012": "6月底前全部收回", "d.PT2022-0012": "2022-06-30"},
    ),
    ("GET", "/extensions"): Route("/extensions", "dc-li"),
    ("GET", "/extensions/{request_id}"): Route("/extensions/1", "dc-li", status=404),  # none asked
    ("POST", "/extensions/{request_id}/decide"): Route(
        "/extensions/1/decide", "mz-wang", {"decision": "refuse", "reason": "理由不充分"}
    ),
    ("GET", "/reassignments"): Route("/reassignments", "pt-staff"),
    ("GET", "/assessment"): Route("/assessment", "pt-staff"),
    ("GET", "/assessment/appeals"): Route("/assessment/appeals", "pt-staff"),
    ("GET", "/assessment/{unit}"): Route("/assessment/东城街道?period=2022-05", "dc-li"),
    ("POST", "/assessment/{unit}/appeal"): Route(
        "/assessment/东城街道/appeal",
        "dc-li",
        {"key": "report_missing:2022-05:东城街道:2022-05-31", "reason": "已报送"},
    ),
    ("POST", "/assessment/appeals/{appeal_id}/decide"): Route(
        "/assessment/appeals/1/decide", "pt-staff", {"decision": "strike", "reason": "核实无误"}
    ),
    ("POST", "/items/{code}/reassign"): Route(
        "/items/PT2022-0012/reassign", "dc-li", {"township": "城关街道", "reason": "摸排时误记"}
    ),
    ("POST", "/reassignments/{reassignment_id}/decide"): Route(
        "/reassignments/1/decide", "pt-staff", {"decision": "refuse", "answer": "理由不充分"}
    ),
    ("POST", "/items/{code}/extension"): Route(
        "/items/PT2022-0012/extension", "dc-li", {"until": "2022-08-31", "reason": "资金未到位", "progress": "已设计"}
    ),
    ("GET", "/projects"): Route("/projects", "dc-li"),
    ("GET", "/projects/export.xlsx"): Route("/projects/export.xlsx", "dc-li"),
    ("GET", "/projects/{code}"): Route("/projects/XM2022-002", "dc-li"),
    ("POST", "/projects/{code}/submit"): Route(
        "/projects/XM2022-002/submit", "mz-wang", {"gate": "planning_conditions"}
    ),
    ("POST", "/projects/{code}/sign"): Route(
        "/projects/XM2022-001/sign",
        "mz-wang",
        {"gate": "planning_conditions", "decision": "reject", "reasons": "社区用房面积不足"},
    ),
    ("POST", "/projects/{code}/waive"): Route(
        "/projects/XM2022-003/waive", "pt-staff", {"standard": "kindergarten", "reason": "周边已有幼儿园"}
    ),
    ("GET", "/deliverables"): Route("/deliverables", "dc-li"),
    ("POST", "/deliverables/{milestone}/state"): Route(
        "/deliverables/working_groups/state", "cg-zhang", {"state": "drafting"}
    ),
    ("POST", "/deliverables/{milestone}/issue"): Route(
        "/deliverables/working_groups/issue",
        "cg-zhang",
        {"document_no": "城关办发〔2022〕3号", "issued_on": "2022-04-29"},
        (("document", "工作专班通知.txt", "城关街道工作专班成立。".encode(), "text/plain"),),
    ),
    ("GET", "/deliverables/{milestone}/{owner}/file"): Route("/deliverables/working_groups/东城街道/file", "dc-li"),
    ("POST", "/deliverables/{milestone}/{owner}/verify"): Route(
        "/deliverables/working_groups/东城街道/verify", "pt-staff", {"decision": "accept"}
    ),
    ("GET", "/dashboard"): Route("/dashboard", "pt-staff"),
    ("GET", "/ledger/import"): Route("/ledger/import", "pt-staff"),
    ("POST", "/ledger/import"): Route(
        "/ledger/import", "pt-staff", files=(("ledger", "台账.csv", SAMPLE.read_bytes(), "text/csv"),)
    ),
    ("GET", "/bulletins"): Route("/bulletins", "pt-staff"),
    ("GET", "/bulletins/{bulletin_id}/{name}"): Route("/bulletins/1/pdf", "pt-staff", status=404),  # none issued
    ("GET", "/outbox"): Route("/outbox", "pt-staff"),
    ("GET", "/outbox/export.xlsx"): Route("/outbox/export.xlsx?status=sent", "pt-staff"),
    ("POST", "/outbox/{message_id}/retry"): Route("/outbox/1/retry", "pt-staff"),
    ("GET", "/accounts"): Route("/accounts", "pt-admin"),
    ("POST", "/accounts"): Route(
        "/accounts", "pt-admin", {"unit": "西城街道", "login": "xc-new", "name": "新人", "role": "clerk"}
    ),
    ("POST", "/accounts/{login}/wecom"): Route("/accounts/cg-zhang/wecom", "pt-admin", {"wecom_userid": "cg.zhang"}),
    ("POST", "/accounts/{login}/{action}"): Route("/accounts/cg-zhang/disable", "pt-admin"),
    ("GET", "/security"): Route("/security", "pt-sec"),
    ("GET", "/audit"): Route("/audit?subject=account", "pt-aud"),
    ("GET", "/audit/export.xlsx"): Route("/audit/export.xlsx?subject=account", "pt-aud"),
    ("POST", "/security/{login}/{action}"): Route("/security/cg-zhang/sessions", "pt-sec"),
    # signed in already: the code page leads on, and a code is not asked (tests/test_second_factor.py)
    ("GET", "/login/otp"): Route("/login/otp", "dc-li", status=303),
    ("POST", "/login/otp"): Route("/login/otp", "dc-li", {"otp": "123456"}, leader_may=True),
    ("GET", "/account/second-factor"): Route("/account/second-factor", "dc-li"),
    ("GET", "/account/second-factor/qr.svg"): Route("/account/second-factor/qr.svg", "dc-li"),
    ("POST", "/account/second-factor"): Route("/account/second-factor", "dc-li", {"otp": "123456"}, leader_may=True),
}
GETS = sorted(k for k, r in ROUTES.items() if k[0] == "GET" and not r.public)
POSTS = sorted(k for k, r in ROUTES.items() if k[0] == "POST" and not r.public)


def _id(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


@dataclass
class World:
    home: Path
    base: str
    cli: Cli
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]

    def state(self) -> dict:
        return state(self.home)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("portal-security") / "home"
    with quick_home(home):  # argon2 at a few milliseconds a hash (this module signs in many times)
        cli = Cli()
        cli("init", "--plan", plans.without_second_factor(home.parent), "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        cli("tick", "--as-of", "2022-05-01")  # the 2022-05 round: every unit has a submission
        for login, (unit, role) in ACCOUNTS.items():
            role_option = ["--role", role] if role else []
            cli("user", "add", "--unit", unit, "--login", login, "--name", f"{login}名", *role_option)
        for township in ("城关街道", "东城街道"):  # campaign 1: 城关's community premises; 2: 东城's
            title = f"{township}社区用房督导"
            scope = ["--township", township, "--category", "社区用房"]
            cli("campaign", "start", "--title", title, *scope, "--due", "2022-05-20", "--as-of", "2022-05-02")
        for code, by in [("PT2022-0012", "东城街道"), ("PT2022-0014", "东城街道"), ("PT2022-0016", "东城街道")]:
            cli("item", "transition", code, "--to", "in_progress", "--by", by, "--as-of", "2022-05-02")
        # 城关's PT2022-0003 in progress, its PT2022-0006 asked to close with an evidence file (evidence 1)
        on = ["--by", "城关街道", "--as-of", "2022-05-02"]
        cli("item", "transition", "PT2022-0003", "--to", "in_progress", *on)
        cli("item", "transition", "PT2022-0006", "--to", "in_progress", *on)
        cli(
            "item",
            "transition",
            "PT2022-0006",
            "--to",
            "close_requested",
            *on,
            "--note",
            "已整改",
            "--evidence",
            EVIDENCE,
        )
        # the project register (XM2022-001 put to its signers by 自然资分局), and 东城's working group filed
        cli("project", "import", PROJECTS, "--as-of", "2022-05-02")
        cli("project", "submit", "XM2022-001", "--by", "自然资分局", "--as-of", "2022-05-02")
        filed = ["--document-no", "东城办发〔2022〕8号", "--issued-on", "2022-04-28", "--file", EVIDENCE]
        cli("deliverable", "issue", "working_groups", "--by", "东城街道", *filed, "--as-of", "2022-05-02")
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            # The forced change of the first password is gone through once (s-first); the others skip it.
            db.execute("UPDATE account SET must_change_password = 0 WHERE login != 's-first'")
        assert query(home, "SELECT id, item_id FROM evidence") == [(1, item_id(home, "PT2022-0006"))]
        with running_portal(DAY) as base:
            clients = {login: sign_in(base, login, change_to=None) for login in SHARED}
            tokens = {login: token(client) for login, client in clients.items()}
            try:
                yield World(home, base, cli, clients, tokens)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()  # the next module's dummy hash at full cost again


# --- helpers -------------------------------------------------------------------------------------------


def query(home: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def item_id(home: Path, code: str) -> int:
    return query(home, "SELECT id FROM ledger_item WHERE code = ?", code)[0][0]


def state(home: Path) -> dict:
    """Every domain table's rows (digested) and every file under DUBAN_HOME but the database."""
    with closing(sqlite3.connect(f"file:{home / 'duban.db'}?mode=ro", uri=True)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'web_session' ORDER BY name"
            )
        ]
        rows = {t: db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    digests = {t: (len(r), hashlib.sha256(repr(r).encode()).hexdigest()) for t, r in rows.items()}
    files = sorted(
        (str(p.relative_to(home)), p.stat().st_size)
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("duban.db")
    )
    return {"tables": digests, "files": files}


def unit_rows(home: Path, unit: str) -> dict:
    """Everything recorded for one unit: its items, report versions and lines, campaign answers, 签收,
    accounts and the audit entries it is the actor of."""
    return {
        "items": query(home, "SELECT * FROM ledger_item WHERE township = ? OR responsible_unit = ?", unit, unit),
        "submissions": query(home, "SELECT * FROM submission WHERE unit = ?", unit),
        "versions": query(
            home,
            "SELECT v.*, l.* FROM submission_version v JOIN submission s ON s.id = v.submission_id "
            "LEFT JOIN submission_line l ON l.version_id = v.id WHERE s.unit = ?",
            unit,
        ),
        "campaign_items": query(home, "SELECT * FROM campaign_item WHERE unit = ?", unit),
        "acknowledgements": query(home, "SELECT * FROM acknowledgement WHERE unit = ?", unit),
        "accounts": query(home, "SELECT * FROM account WHERE unit = ?", unit),
        "audit": query(home, "SELECT * FROM audit_entry WHERE actor = ?", unit),
        "evidence": query(home, "SELECT * FROM evidence WHERE uploaded_by = ?", unit),
    }


def send(client: httpx.Client, route: Route, csrf: str | None) -> httpx.Response:
    """The route's POST (its form, its files), with `csrf` as the form's token (None: no token)."""
    data = dict(route.form)
    if csrf is not None:
        data["csrf_token"] = csrf
    files = [(name, (filename, content, kind)) for name, filename, content, kind in route.files] or None
    return client.post(route.path, data=data, files=files)


ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def error_of(response: httpx.Response) -> str:
    found = ERROR.search(response.text)
    assert found, f"no error shown ({response.status_code}): {response.text[:500]}"
    return html.unescape(found.group(1)).strip()


def cookie_value(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    return None


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def with_cookie(base: str, name: str, value: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    client.cookies.set(name, value)
    return client


def sign_in_page(client: httpx.Client, login: str, password: str) -> httpx.Response:
    """One sign-in attempt through the form, as a browser makes it."""
    page = client.get("/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_of(page.text)})


def refused_sign_in(client: httpx.Client, login: str, password: str) -> httpx.Response:
    """A sign-in refused: answered 303 back to the sign-in page, no session; that page, saying why."""
    response = sign_in_page(client, login, password)
    assert response.status_code == 303 and response.headers["location"].startswith("/login"), response.text[:300]
    assert cookie_value(response, "duban_session") is None
    return client.get(response.headers["location"])


def sql_time(moment: datetime) -> str:
    """A UTC moment as SQLite holds the sessions' times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def set_session(home: Path, cookie: str, **times: datetime) -> None:
    digest = hashlib.sha256(cookie.encode()).hexdigest()
    with closing(sqlite3.connect(home / "duban.db")) as db, db:
        for column, moment in times.items():
            updated = db.execute(
                f"UPDATE web_session SET {column} = ? WHERE token_hash = ?", (sql_time(moment), digest)
            )
            assert updated.rowcount == 1


def session_rows(home: Path, login: str) -> int:
    return query(
        home, "SELECT count(*) FROM web_session s JOIN account a ON a.id = s.account_id WHERE a.login = ?", login
    )[0][0]


def signed_in(client: httpx.Client) -> bool:
    response = client.get("/help")  # a page every role reaches, the three administrators too
    assert response.status_code in (200, 303), response.status_code
    if response.status_code == 303:
        assert response.headers["location"] == "/login?next=/help"
    return response.status_code == 200


def app_routes() -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path) of every route of the FastAPI app, and its mounts."""
    from starlette.routing import Mount

    app = create_app(as_of=DAY).app
    try:  # FastAPI 0.13x keeps included routers apart; this walks them
        from fastapi.routing import iter_route_contexts

        found = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        found = [(r, r.path, getattr(r, "methods", None)) for r in app.routes]
    routes, mounts = set(), set()
    for route, path, methods in found:
        if isinstance(route, Mount):
            mounts.add(path)
            continue
        routes.update((method, path) for method in methods or () if method != "HEAD")
    return routes, mounts


# --- the table covers the app ----------------------------------------------------------------------------


def test_every_route_of_the_app_is_in_the_table(world: World) -> None:
    routes, mounts = app_routes()
    assert routes == set(ROUTES), "a route was added or removed: give it an entry in ROUTES"
    assert mounts == {"/static"}


# --- 1. without a session ------------------------------------------------------------------------------


NEXT = re.compile(r'<input type="hidden" name="next" value="([^"]*)">')


@pytest.mark.parametrize("key", GETS, ids=_id)
def test_a_page_without_a_session_leads_to_the_sign_in(world: World, key: tuple[str, str]) -> None:
    route = ROUTES[key]
    with httpx.Client(base_url=world.base, timeout=30) as anonymous:
        response = anonymous.get(route.path)
        sent = response.request.url  # the path as the server reads it (decoded), the query as sent
        target = sent.path + (f"?{sent.query.decode()}" if sent.query else "")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + quote(target, safe="/")
        page = anonymous.get(response.headers["location"])
    assert page.status_code == 200
    assert html.unescape(NEXT.search(page.text).group(1)) == target  # back to the page after signing in


@pytest.mark.parametrize("key", POSTS, ids=_id)
def test_an_action_without_a_session_is_refused(world: World, key: tuple[str, str]) -> None:
    route = ROUTES[key]
    before = world.state()
    with httpx.Client(base_url=world.base, timeout=30) as anonymous:
        # the actor's real CSRF token, but no session: a token is not an identity
        response = send(anonymous, route, world.tokens[route.actor])
    assert response.status_code == 401
    assert error_of(response) == SIGNED_OUT
    assert world.state() == before


def test_the_public_routes(world: World) -> None:
    with httpx.Client(base_url=world.base, timeout=30) as anonymous:
        assert anonymous.get("/login").status_code == 200
        assert anonymous.get("/static/portal.css").status_code == 200
        # an outside address as `next` is not followed: the form sends back to this site's home
        page = anonymous.get("/login", params={"next": "//evil.example/x"})
        assert NEXT.search(page.text).group(1) == "/"
        page = anonymous.get("/login", params={"next": "https://evil.example/"})
        assert NEXT.search(page.text).group(1) == "/"


# --- 2. CSRF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["missing", "empty", "wrong", "another session's"])
@pytest.mark.parametrize("key", POSTS, ids=_id)
def test_an_action_without_the_sessions_token_is_refused(world: World, key: tuple[str, str], sent: str) -> None:
    route = ROUTES[key]
    client = world.clients[route.actor]
    other = "cg-zhang" if route.actor != "cg-zhang" else "dc-li"
    csrf = {"missing": None, "empty": "", "wrong": "x" * 43, "another session's": world.tokens[other]}[sent]
    before = world.state()
    response = send(client, route, csrf)
    assert response.status_code == 403
    assert error_of(response) == CSRF_REFUSED
    assert world.state() == before
    assert signed_in(client)  # the session is as it was (a refused sign-out did not sign out)


def test_the_sign_in_form_needs_its_own_token(world: World) -> None:
    before = world.state()
    with httpx.Client(base_url=world.base, timeout=30) as browser:
        form_token = csrf_of(browser.get("/login").text)
        assert browser.cookies.get("duban_login") == form_token  # double submit: cookie and field
        for forged in ("forged", "", form_token[:-1]):
            response = browser.post("/login", data={"login": "dc-li", "password": PASSWORD, "csrf_token": forged})
            assert response.status_code == 403
            assert cookie_value(response, "duban_session") is None
    with httpx.Client(base_url=world.base, timeout=30) as elsewhere:  # the field without its cookie
        response = elsewhere.post("/login", data={"login": "dc-li", "password": PASSWORD, "csrf_token": form_token})
        assert response.status_code == 403
        assert cookie_value(response, "duban_session") is None
    assert world.state() == before


# --- 3. units see and act on their own -----------------------------------------------------------------


ITEM_LINK = re.compile(r'<a href="/items/([^"]+)">')


def test_a_township_reads_only_its_own_items(world: World) -> None:
    dc, office = world.clients["dc-li"], world.clients["pt-staff"]
    own = {
        c for (c,) in query(world.home, "SELECT code FROM ledger_item WHERE '东城街道' IN (township, responsible_unit)")
    }
    others = {
        c
        for (c,) in query(
            world.home, "SELECT code FROM ledger_item WHERE '东城街道' NOT IN (township, responsible_unit)"
        )
    }
    assert len(own) == 8 and len(others) == 58
    assert set(ITEM_LINK.findall(dc.get("/items").text)) == own
    assert ITEM_LINK.findall(dc.get("/items", params={"q": "PT2022-0001"}).text) == []
    for code in sorted(others):
        response = dc.get(f"/items/{code}")
        assert response.status_code == 404, code
        assert error_of(response) == NOT_FOUND
    assert office.get("/items/PT2022-0001").status_code == 200  # the item exists: 404 means "not yours"
    assert dc.get("/items/PT2099-9999").status_code == 404  # alike for one that does not exist
    # a department reads the items it leads or carries out, not another department's
    assert world.clients["mz-wang"].get("/items/PT2022-0001").status_code == 200  # 民政局 leads it
    assert world.clients["mz-wang"].get("/items/PT2022-0002").status_code == 404  # 教体局 leads it
    # the export holds what the list shows: another unit's items never, whatever the filters ask
    for params in ({}, {"township": "城关街道"}, {"q": "PT2022-0001"}):
        exported = load_workbook(io.BytesIO(dc.get("/items/export.xlsx", params=params).content)).active
        assert {row[0] for row in exported.iter_rows(min_row=2, values_only=True)} <= own
    exported = load_workbook(io.BytesIO(dc.get("/items/export.xlsx").content)).active
    assert {row[0] for row in exported.iter_rows(min_row=2, values_only=True)} == own
    assert world.clients["mz-wang"].get("/items/PT2022-0002/return").status_code == 404
    assert world.clients["zj-zhou"].get("/items/PT2022-0006/return").status_code == 404


def test_another_units_evidence_is_not_served(world: World) -> None:
    assert world.clients["cg-zhang"].get("/items/PT2022-0006/evidence/1").content == EVIDENCE.read_bytes()
    dc = world.clients["dc-li"]
    assert dc.get("/items/PT2022-0006/evidence/1").status_code == 404
    assert dc.get("/items/PT2022-0012/evidence/1").status_code == 404  # an own item's address, 城关's file
    assert dc.get("/items/PT2022-0012/evidence/99").status_code == 404


def test_a_township_cannot_move_another_units_item(world: World) -> None:
    dc = world.clients["dc-li"]
    before = world.state()
    for code, target in [("PT2022-0003", "close_requested"), ("PT2022-0003", "cancelled"), ("PT2022-0006", "verified")]:
        form = {"target": target, "note": "已整改", "csrf_token": world.tokens["dc-li"]}
        response = dc.post(f"/items/{code}/transition", data=form, files=[("evidence", TXT[1:])])
        assert response.status_code == 404, (code, target)
    assert world.state() == before
    assert query(world.home, "SELECT status FROM ledger_item WHERE code = 'PT2022-0003'") == [("in_progress",)]


def test_a_township_reports_only_for_itself(world: World) -> None:
    dc, cg = world.clients["dc-li"], world.clients["cg-zhang"]
    listed = dc.get("/reports").text
    assert "城关街道" not in listed and listed.count(f'href="/reports/{PERIOD}"') == 1
    before = world.state()
    # 城关's item codes in 东城's form: refused whole, nothing kept for either unit
    form = {"action": "draft", "p.PT2022-0001": "50", "s.PT2022-0001": "推进中", "m.PT2022-0001": "代填"}
    response = dc.post(f"/reports/{PERIOD}", data=form | {"csrf_token": world.tokens["dc-li"]})
    assert response.status_code == 303  # refused, back to the form with the reason
    assert "提交了不属于本单位本期报送范围的问题编号" in error_of(dc.get(response.headers["location"]))
    assert world.state() == before
    # 城关's own workbook (as 城关 downloads it: the download is on the record), uploaded by 东城: refused,
    # nothing kept
    workbook = cg.get(f"/reports/{PERIOD}/form.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    before = world.state()
    files = [("form", ("城关街道-填报表.xlsx", workbook.content, XLSX))]
    response = dc.post(
        f"/reports/{PERIOD}/upload", data={"action": "submit", "csrf_token": world.tokens["dc-li"]}, files=files
    )
    assert response.status_code == 303
    told = dc.get(response.headers["location"])
    assert error_of(told) == "文件 城关街道-填报表.xlsx 是“城关街道”的填报表，不能作为“东城街道”的报表提交"
    assert world.state() == before
    # 城关's report page: not for a township, nor for a department that does not review 城关
    for login, status in [("dc-li", 404), ("zj-zhou", 404), ("mz-wang", 200), ("pt-staff", 200), ("qz-liu", 200)]:
        assert world.clients[login].get(f"/reports/{PERIOD}/城关街道").status_code == status, login
    assert world.clients["zj-zhou"].get(f"/reports/{PERIOD}/东城街道").status_code == 200  # 住建局 reviews 东城


def test_only_a_reviewing_departments_reviewer_reviews(world: World) -> None:
    before = world.state()
    form = {"decision": "accept", "reason": ""}
    for login, status in [("zj-zhou", 404), ("mz-zhao", 403), ("dc-li", 403), ("cg-zhang", 403), ("pt-staff", 403)]:
        data = form | {"csrf_token": world.tokens[login]}
        response = world.clients[login].post(f"/reports/{PERIOD}/城关街道/review", data=data)
        assert response.status_code == status, login
    assert world.state() == before


def test_a_campaign_is_shown_to_the_units_in_it(world: World) -> None:
    for login, one, two in [
        ("cg-zhang", 200, 404),
        ("dc-li", 404, 200),
        ("mz-wang", 200, 200),  # 民政局 leads the items of both
        ("zj-zhou", 404, 404),
        ("pt-staff", 200, 200),
        ("qz-liu", 200, 200),
    ]:
        client = world.clients[login]
        assert (client.get("/campaigns/1").status_code, client.get("/campaigns/2").status_code) == (one, two), login
    assert 'href="/campaigns/1"' not in world.clients["dc-li"].get("/campaigns").text
    assert world.clients["dc-li"].get("/campaigns/999").status_code == 404
    assert world.clients["dc-li"].get("/campaigns/1/export.xlsx").status_code == 404
    assert world.clients["zj-zhou"].get("/campaigns/2/export.xlsx").status_code == 404
    before = world.state()
    dc = world.clients["dc-li"]
    answer = {"g.PT2022-0001": "代为反馈", "m.PT2022-0001": "无", "d.PT2022-0001": "2022-06-30"}
    response = dc.post("/campaigns/1", data=answer | {"csrf_token": world.tokens["dc-li"]})
    assert response.status_code == 404
    response = dc.post("/campaigns/2", data=answer | {"csrf_token": world.tokens["dc-li"]})  # its own, 城关's item
    assert (response.status_code, response.headers["location"]) == (303, "/campaigns/2")
    assert "提交了不属于本单位本次督导的问题编号" in error_of(dc.get("/campaigns/2"))
    assert world.state() == before


def test_a_unit_acknowledges_only_its_own_requests(world: World) -> None:
    dc = world.clients["dc-li"]
    before = world.state()
    for kind, key in [("campaign", "1"), ("round", "2099-01"), ("escalation", "1"), ("meeting", PERIOD)]:
        response = dc.post("/acknowledge", data={"kind": kind, "key": key, "csrf_token": world.tokens["dc-li"]})
        assert (response.status_code, response.headers["location"]) == (303, "/"), (kind, key)
        assert error_of(dc.get("/")) == "该事项不是本单位待签收的事项"
        assert dc.get(f"/notices/{kind}/{key}").status_code == 404  # nor read, nor signed, on its own page
        signed = dc.post(f"/notices/{kind}/{key}/sign", data={"csrf_token": world.tokens["dc-li"]})
        assert signed.status_code == 404, (kind, key)
    assert world.state() == before


IDENTITY = {  # fields a forged form might carry to act as 城关街道
    "unit": "城关街道",
    "township": "城关街道",
    "by": "城关街道",
    "login": "cg-zhang",
    "account_id": "1",
    "person": "cg-zhang名（城关街道）",
    "period": "2022-04",
    "campaign_id": "1",
    "code": "PT2022-0001",
    "id": "1",
}


def test_identity_is_never_taken_from_a_form(world: World) -> None:
    dc, token_ = world.clients["dc-li"], world.tokens["dc-li"]
    chengguan = unit_rows(world.home, "城关街道")
    dongcheng = unit_rows(world.home, "东城街道")
    response = dc.post("/acknowledge", data={"kind": "round", "key": PERIOD, "csrf_token": token_} | IDENTITY)
    assert response.status_code == 303
    draft = {"action": "draft", "p.PT2022-0011": "30", "s.PT2022-0011": "推进中", "m.PT2022-0011": "方案已定"}
    response = dc.post(f"/reports/{PERIOD}", data=draft | IDENTITY | {"csrf_token": token_})
    assert response.status_code == 303
    answer = {"g.PT2022-0012": "已清退两户商户", "m.PT2022-0012": "继续清退", "d.PT2022-0012": "2022-06-30"}
    response = dc.post("/campaigns/2", data=answer | IDENTITY | {"csrf_token": token_})
    assert response.status_code == 303
    form = {"target": "close_requested", "note": "已整改", "csrf_token": token_} | IDENTITY
    response = dc.post("/items/PT2022-0014/transition", data=form, files=[("evidence", TXT[1:])])
    assert response.status_code == 303
    assert unit_rows(world.home, "城关街道") == chengguan  # nothing for the unit the forms named
    # ... and all of it for the unit signed in
    assert query(
        world.home, "SELECT request_kind, request_key, person FROM acknowledgement WHERE unit = '东城街道'"
    ) == [("round", PERIOD, "dc-li名（东城街道）")]
    assert query(
        world.home,
        "SELECT s.period, v.state, l.item_code, l.this_month FROM submission_line l "
        "JOIN submission_version v ON v.id = l.version_id JOIN submission s ON s.id = v.submission_id "
        "WHERE s.unit = '东城街道' AND l.item_code = 'PT2022-0011' ORDER BY v.id DESC LIMIT 1",
    ) == [(PERIOD, "draft", "PT2022-0011", "方案已定")]
    assert query(world.home, "SELECT unit, progress FROM campaign_item WHERE item_code = 'PT2022-0012'") == [
        ("东城街道", "已清退两户商户")
    ]
    assert query(world.home, "SELECT status FROM ledger_item WHERE code = 'PT2022-0014'") == [("close_requested",)]
    assert query(
        world.home,
        "SELECT actor, person FROM audit_entry WHERE subject_key = 'PT2022-0014' ORDER BY id DESC LIMIT 1",
    ) == [("东城街道", "dc-li名")]
    assert unit_rows(world.home, "东城街道") != dongcheng


@pytest.mark.parametrize("key", [k for k in POSTS if not ROUTES[k].leader_may], ids=_id)
def test_a_leader_posts_nothing(world: World, key: tuple[str, str]) -> None:
    route = ROUTES[key]
    before = world.state()
    response = send(world.clients["qz-liu"], route, world.tokens["qz-liu"])
    assert response.status_code == 403
    assert error_of(response) == FORBIDDEN
    assert world.state() == before


FORBIDDEN_PAGES = [
    ("pt-staff", "GET", "/accounts"),
    ("pt-staff", "POST", "/accounts"),
    ("pt-staff", "POST", "/accounts/cg-zhang/disable"),
    ("pt-staff", "POST", "/accounts/cg-zhang/reset"),
    ("pt-staff", "POST", "/accounts/cg-zhang/wecom"),
    ("mz-wang", "GET", "/accounts"),
    ("dc-li", "GET", "/accounts"),
    ("dc-li", "GET", "/dashboard"),
    ("dc-li", "GET", "/outbox"),
    ("dc-li", "GET", "/outbox/export.xlsx"),
    ("cg-zhang", "GET", "/items/PT2022-0006/return"),  # the township asked; it does not return
    ("cg-zhang", "POST", "/items/PT2022-0006/return"),
    ("dc-li", "GET", "/ledger/import"),
    ("dc-li", "POST", "/ledger/import"),
    ("dc-li", "GET", "/campaigns/new"),
    ("dc-li", "POST", "/campaigns/new"),
    ("dc-li", "POST", "/outbox/1/retry"),
    ("mz-wang", "GET", "/dashboard"),
    ("qz-liu", "GET", "/accounts"),
    ("qz-liu", "GET", "/ledger/import"),
    ("qz-liu", "GET", "/campaigns/new"),
    ("qz-liu", "GET", f"/reports/{PERIOD}/form.xlsx"),
    ("pt-staff", "GET", f"/reports/{PERIOD}/form.xlsx"),
    ("dc-li", "POST", "/projects/XM2022-002/sign"),  # a township signs nothing
    ("mz-zhao", "POST", "/projects/XM2022-001/sign"),  # a department's clerk does not sign
    ("pt-staff", "POST", "/projects/XM2022-001/sign"),
    ("dc-li", "POST", "/projects/XM2022-002/submit"),
    ("pt-staff", "POST", "/projects/XM2022-002/submit"),
    ("mz-wang", "POST", "/projects/XM2022-003/waive"),  # only the Office waives
    ("dc-li", "POST", "/projects/XM2022-002/waive"),
    ("pt-staff", "POST", "/deliverables/working_groups/state"),  # the Office owns no document
    ("pt-staff", "POST", "/deliverables/working_groups/issue"),
    ("dc-li", "POST", "/deliverables/working_groups/东城街道/verify"),  # only the Office verifies
    ("mz-wang", "POST", "/deliverables/working_groups/东城街道/verify"),
    # separated duties: the Office's staff keeps no accounts and no security; each administrator only their own
    ("pt-staff", "GET", "/security"),
    ("pt-staff", "POST", "/security/cg-zhang/unlock"),
    ("pt-admin", "GET", "/security"),
    ("pt-admin", "POST", "/security/cg-zhang/unlock"),
    ("pt-admin", "GET", "/dashboard"),
    ("pt-admin", "GET", "/items"),
    ("pt-admin", "POST", "/campaigns/new"),
    ("pt-admin", "POST", "/outbox/1/retry"),
    ("pt-sec", "GET", "/accounts"),
    ("pt-sec", "POST", "/accounts"),
    ("pt-sec", "POST", "/accounts/cg-zhang/reset"),
    ("pt-sec", "GET", "/items/PT2022-0012"),
    ("pt-sec", "GET", "/reports"),
    ("pt-sec", "GET", "/audit"),
    ("pt-admin", "GET", "/audit/export.xlsx"),
    ("pt-staff", "GET", "/audit"),
    ("pt-aud", "GET", "/accounts"),
    ("pt-aud", "GET", "/security"),
    ("pt-aud", "GET", "/dashboard"),
    ("pt-aud", "GET", "/items/export.xlsx"),
    ("dc-li", "GET", "/security"),
    ("qz-liu", "GET", "/security"),
]


# The Office's four roles against each duty's pages and actions and the staff's work: every one not their own
# refused (三权分立). The accounts acted on are a township clerk's, so nothing turns on whose account it is.
OFFICE = {"pt-staff": "staff", "pt-admin": "sysadmin", "pt-sec": "secadmin", "pt-aud": "auditor"}
DUTY_ROUTES = {
    "sysadmin": [
        ("GET", "/accounts"),
        ("POST", "/accounts"),
        *(("POST", f"/accounts/cg-zhang/{action}") for action in ("disable", "enable", "reset", "wecom")),
    ],
    "secadmin": [
        ("GET", "/security"),
        *(("POST", f"/security/cg-zhang/{action}") for action in ("unlock", "sessions", "second-factor")),
    ],
    "auditor": [("GET", "/audit"), ("GET", "/audit/export.xlsx")],
    "staff": [
        ("GET", "/items"),
        ("GET", "/items/PT2022-0012"),
        ("GET", "/dashboard"),
        ("GET", "/reports"),
        ("GET", "/outbox"),
        ("GET", "/ledger/import"),
        ("POST", "/ledger/import"),
        ("POST", "/campaigns/new"),
        ("POST", "/outbox/1/retry"),
        ("POST", "/items/PT2022-0006/return"),
    ],
}
SEPARATED = [
    (login, method, path)
    for login, role in OFFICE.items()
    for owner, routes in DUTY_ROUTES.items()
    if owner != role
    for method, path in routes
]


@pytest.mark.parametrize(
    ("login", "method", "path"), FORBIDDEN_PAGES + [s for s in SEPARATED if s not in FORBIDDEN_PAGES]
)
def test_a_role_reaches_only_its_pages(world: World, login: str, method: str, path: str) -> None:
    client = world.clients[login]
    before = world.state()
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": world.tokens[login], "unit": "西城街道", "login": "xc-x"})
    assert response.status_code == 403
    assert error_of(response) == FORBIDDEN
    assert world.state() == before
    assert world.clients["pt-admin"].get("/accounts").status_code == 200  # each administrator reaches their own
    assert world.clients["pt-sec"].get("/security").status_code == 200


def test_each_office_role_reaches_its_own_duty(world: World) -> None:
    """The other side of the matrix above: each reaches the pages of its own duty."""
    for login, role in OFFICE.items():
        for method, path in DUTY_ROUTES[role]:
            if method == "GET":
                assert world.clients[login].get(path).status_code == 200, (login, path)


AT_THE_SERVER = "三类管理员账号须由运维人员在服务器上用 duban user 命令办理"


def test_no_administrator_changes_an_administrators_account_or_role_their_own_included(world: World) -> None:
    """The system administrator opens no administrator's account (whatever role is asked for) and disables,
    enables, resets or binds none, their own included; no page or command changes a role once opened."""
    admin, csrf = world.clients["pt-admin"], world.tokens["pt-admin"]
    before = world.state()

    def refused(path: str, form: dict[str, str]) -> str:
        response = admin.post(path, data=form | {"csrf_token": csrf})
        assert response.status_code == 303 and response.headers["location"] == "/accounts", path
        return error_of(admin.get("/accounts"))

    for role in ("sysadmin", "secadmin", "auditor"):
        opened = {"unit": "区配套办", "login": "pt-new", "name": "新管理员", "role": role}
        assert refused("/accounts", opened) == AT_THE_SERVER
    again = {"unit": "区配套办", "login": "pt-admin", "name": "吴六", "role": "staff"}  # one's own login, anew
    assert refused("/accounts", again) == "登录名“pt-admin”已被使用"
    for login in ("pt-sec", "pt-aud"):
        for action in ("disable", "enable", "reset"):
            assert refused(f"/accounts/{login}/{action}", {}) == AT_THE_SERVER
        assert refused(f"/accounts/{login}/wecom", {"wecom_userid": "someone"}) == AT_THE_SERVER
    assert refused("/accounts/pt-admin/disable", {}) == "不能停用自己的账号"
    assert refused("/accounts/pt-admin/reset", {}) == "不能在此重置自己的密码，请通过“修改密码”修改"
    assert refused("/accounts/pt-admin/enable", {}) == AT_THE_SERVER
    assert refused("/accounts/pt-admin/wecom", {"wecom_userid": "pt.admin"}) == AT_THE_SERVER
    no_such = admin.post("/accounts/cg-zhang/role", data={"role": "sysadmin", "csrf_token": csrf})
    assert no_such.status_code == 404  # no action changes a role
    assert world.state() == before
    page = admin.get("/accounts").text
    offered = set(re.findall(r'<option value="([a-z]+)"', page[page.index('name="role"') :]))
    assert offered and not offered & {"sysadmin", "secadmin", "auditor"}
    # no route takes a role for an account already open, and neither does a command
    assert not [r for r in app_routes()[0] if "role" in r[1]]
    assert "No such option '--role'" in world.cli("user", "set", "pt-aud", "--role", "secadmin", status=2).output
    assert query(world.home, "SELECT login, role FROM account WHERE unit = '区配套办' ORDER BY login") == [
        ("pt-admin", "sysadmin"),
        ("pt-aud", "auditor"),
        ("pt-sec", "secadmin"),
        ("pt-staff", "staff"),
    ]


# --- 4. sessions ---------------------------------------------------------------------------------------


def test_a_tampered_cookie_is_no_session(world: World) -> None:
    real = world.clients["dc-li"].cookies["duban_session"]
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    stored = hashlib.sha256(real.encode()).hexdigest()  # what the database holds is not a key
    for forged in (flipped, real[:-1], real + "x", real.upper(), "x" * 101, stored, "", "null"):
        with with_cookie(world.base, "duban_session", forged) as client:
            assert not signed_in(client), forged
            response = client.post(
                "/acknowledge", data={"kind": "round", "key": PERIOD, "csrf_token": world.tokens["dc-li"]}
            )
            assert response.status_code == 401
    assert signed_in(world.clients["dc-li"])  # the real one still works


def test_an_expired_session_is_refused(world: World) -> None:
    client = sign_in(world.base, "s-expire", change_to=None)
    cookie = client.cookies["duban_session"]
    csrf = token(client)
    set_session(world.home, cookie, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert not signed_in(client)
    response = client.post("/acknowledge", data={"kind": "round", "key": PERIOD, "csrf_token": csrf})
    assert response.status_code == 401
    assert session_rows(world.home, "s-expire") == 0  # ended on the server, not only refused


def test_an_idle_session_is_refused(world: World) -> None:
    client = sign_in(world.base, "s-idle", change_to=None)
    cookie = client.cookies["duban_session"]
    now = datetime.now(UTC)
    set_session(world.home, cookie, last_seen_at=now - timedelta(minutes=IDLE_MINUTES - 1))
    assert signed_in(client)  # 29 minutes idle: still on (and seen again now)
    set_session(world.home, cookie, last_seen_at=now - timedelta(minutes=IDLE_MINUTES, seconds=1))
    assert not signed_in(client)
    assert session_rows(world.home, "s-idle") == 0


def test_signing_in_starts_a_new_session(world: World) -> None:
    with with_cookie(world.base, "duban_session", "chosen-by-an-attacker") as browser:
        first = sign_in_page(browser, "s-rotate", PASSWORD)
        assert first.status_code == 303 and first.headers["location"] == "/"
        cookie = cookie_header(first, "duban_session")
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= attributes
        assert "secure" not in attributes  # plain HTTP here; behind TLS see the next test
        assert not any(a.startswith("domain") for a in attributes)
        one = cookie_value(first, "duban_session")
        assert one != "chosen-by-an-attacker"  # a session id is never the browser's to choose
        second = sign_in_page(browser, "s-rotate", PASSWORD)  # signed in already: rotates again
        two = cookie_value(second, "duban_session")
        assert two not in (None, one)
        assert signed_in(browser)
    with with_cookie(world.base, "duban_session", one) as old:
        assert not signed_in(old)
    assert session_rows(world.home, "s-rotate") == 1


def test_the_first_sign_in_changes_the_password_and_the_session(world: World) -> None:
    client = sign_in(world.base, "s-first", change_to=None)
    assert client.get("/items").headers["location"] == "/account/password"  # nothing else until changed
    first = client.cookies["duban_session"]
    form = client.get("/account/password")
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": CHANGED,
            "new_password_confirm": CHANGED,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert changed.status_code == 303
    second = cookie_value(changed, "duban_session")
    assert second not in (None, first)
    assert signed_in(client)
    with with_cookie(world.base, "duban_session", first) as old:
        assert not signed_in(old)


def test_signing_out_ends_the_session_on_the_server(world: World) -> None:
    client = sign_in(world.base, "s-logout", change_to=None)
    cookie, csrf = client.cookies["duban_session"], token(client)
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    cleared = cookie_header(response, "duban_session").lower()
    assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
    assert session_rows(world.home, "s-logout") == 0
    with with_cookie(world.base, "duban_session", cookie) as kept:  # a copy of the cookie kept elsewhere
        assert not signed_in(kept)
        assert kept.post("/acknowledge", data={"kind": "round", "key": PERIOD, "csrf_token": csrf}).status_code == 401


def test_behind_tls_the_cookie_is_host_only_and_secure(world: World) -> None:
    with running_portal(DAY, https=True) as base:
        page = httpx.get(f"{base}/login")
        login_cookie = cookie_header(page, "duban_login")
        assert "secure" in login_cookie.lower()
        form_token = csrf_of(page.text)
        response = httpx.post(
            f"{base}/login",
            data={"login": "s-https", "password": PASSWORD, "csrf_token": form_token},
            headers={"cookie": f"duban_login={form_token}"},
        )
        assert response.status_code == 303
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert cookie_value(response, "duban_session") is None
        header = cookie_header(response, "__Host-duban_session")
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
        assert not any(a.startswith("domain") for a in attributes)
        value = cookie_value(response, "__Host-duban_session")
        assert httpx.get(f"{base}/items", headers={"cookie": f"__Host-duban_session={value}"}).status_code == 200
        # the plain name is not read behind TLS
        assert httpx.get(f"{base}/items", headers={"cookie": f"duban_session={value}"}).status_code == 303


def test_a_disabled_account_is_signed_out_at_once(world: World) -> None:
    client = sign_in(world.base, "s-disable", change_to=None)
    assert signed_in(client)
    world.cli("user", "disable", "s-disable")
    assert not signed_in(client)
    assert session_rows(world.home, "s-disable") == 0
    with httpx.Client(base_url=world.base, timeout=30) as browser:
        assert error_of(refused_sign_in(browser, "s-disable", PASSWORD)) == DISABLED


def test_a_password_reset_ends_the_sessions(world: World) -> None:
    client = sign_in(world.base, "s-reset", change_to=None)
    admin = world.clients["pt-admin"]
    response = admin.post("/accounts/s-reset/reset", data={"csrf_token": world.tokens["pt-admin"]})
    assert (response.status_code, response.headers["location"]) == (303, "/accounts")
    assert not signed_in(client)
    again = sign_in(world.base, "s-reset", change_to=None)  # the new initial password, to be changed
    assert again.get("/account/password").status_code == 200
    world.cli("user", "reset-password", "s-reset")
    assert again.get("/account/password").status_code == 303
    assert session_rows(world.home, "s-reset") == 0


# --- 5. lockout and the per-address throttle ------------------------------------------------------------


def login_field_blank(text: str) -> str:
    return re.sub(r'(<input name="login" value=")[^"]*"', r'\1"', text)


def test_five_wrong_passwords_lock_the_account(world: World) -> None:
    with running_portal(DAY) as base, httpx.Client(base_url=base, timeout=30) as browser:
        unknown = refused_sign_in(browser, "nobody-here", "Some-pass-2022")
        wrong = refused_sign_in(browser, "s-lock", "Wrong-pass-2022")
        # a wrong login and a wrong password read alike: status, message, page
        assert error_of(unknown) == error_of(wrong) == WRONG
        assert login_field_blank(unknown.text) == login_field_blank(wrong.text)
        said = [error_of(refused_sign_in(browser, "s-lock", f"Wrong-pass-{n}-2022")) for n in range(2, 6)]
        # from the third in a row, the tries left; the fifth locks (tests/test_portal_accounts.py: alike for any name)
        assert said == [
            WRONG,
            f"{WRONG}。再输错2次，账号将被锁定",
            f"{WRONG}。再输错1次，账号将被锁定",
            LOCKED,
        ]
        assert error_of(refused_sign_in(browser, "s-lock", PASSWORD)) == LOCKED
    ((locked_until,),) = query(world.home, "SELECT locked_until FROM account WHERE login = 's-lock'")
    until = datetime.fromisoformat(locked_until).replace(tzinfo=UTC)
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    assert query(world.home, "SELECT count(*) FROM audit_entry WHERE subject_key = 's-lock' AND action = 'locked'") == [
        (1,)
    ]
    with httpx.Client(base_url=world.base, timeout=30) as other_server:  # held in the database, for every process
        assert error_of(refused_sign_in(other_server, "s-lock", PASSWORD)) == LOCKED


def test_many_wrong_sign_ins_from_one_address_are_throttled(world: World) -> None:
    with running_portal(DAY) as base:
        with httpx.Client(base_url=base, timeout=30) as browser:
            for n in range(FAILURES_PER_ADDRESS):
                assert error_of(refused_sign_in(browser, f"nobody-{n}", "Some-pass-2022")) == WRONG
            response = sign_in_page(browser, "s-throttle", PASSWORD)  # the right password, the same address
            assert response.status_code == 429
            assert error_of(response) == THROTTLED
            assert cookie_value(response, "duban_session") is None
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, timeout=30, transport=elsewhere) as browser:
            response = sign_in_page(browser, "s-throttle", PASSWORD)
            assert response.status_code == 303
            assert cookie_value(response, "duban_session")
    assert query(world.home, "SELECT failed_logins, locked_until FROM account WHERE login = 's-throttle'") == [
        (0, None)
    ]


# --- 6. headers and markup of every page, from `duban portal` itself --------------------------------------


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`duban portal` as an operator starts it (its own process, its own uvicorn options), on the
    module's database; the shared clients' sessions are valid there too (they live in the database)."""
    port = free_port()
    command = [sys.executable, "-m", "duban.cli", "portal", "--port", str(port), "--as-of", DAY.isoformat()]
    log = tmp_path_factory.mktemp("duban-portal") / "portal.log"
    with log.open("wb") as out:
        process = start(command, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"duban portal did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        stop(process, grace=10)


def declared_too_large(base: str, path: str) -> httpx.Response:
    """A POST declaring a body past the limit, its body never sent: refused before it is read."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(UPLOAD_MAX + 1))
        connection.endheaders()
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)


def assert_safe(response: httpx.Response, *, evidence: bool = False) -> None:
    headers = response.headers
    assert "server" not in headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "no-store" in headers["cache-control"]
    policy = directives(headers["content-security-policy"])
    if evidence:  # a file shown as it is: nothing in it runs, whatever it holds
        assert policy["default-src"] == ["'none'"] and "script-src" not in policy and "sandbox" in policy
    else:
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
    if headers.get("content-type", "").startswith("text/html"):
        page = response.text
        assert INLINE_SCRIPT.findall(page) == []
        assert HANDLER.findall(page) == []
        assert STYLE_ATTRIBUTE.findall(page) == []
        assert "javascript:" not in page.lower()


@pytest.mark.parametrize("key", [k for k in sorted(ROUTES) if k[0] == "GET"], ids=_id)
def test_every_page_carries_the_headers(world: World, served: str, key: tuple[str, str]) -> None:
    route = ROUTES[key]
    if route.public:
        response = httpx.get(served + route.path, timeout=30)
    else:
        response = world.clients[route.actor].get(served + route.path)
    assert response.status_code == route.status
    assert_safe(response, evidence=key[1].endswith(("/evidence/{evidence_id}", "/{owner}/file")))


def test_refusals_and_redirects_carry_the_headers(world: World, served: str) -> None:
    dc = world.clients["dc-li"]
    cases = [
        (httpx.get(f"{served}/items"), 303),  # no session
        (httpx.get(f"{served}/no-such-page"), 404),
        (httpx.get(f"{served}/static/portal.css"), 200),
        (dc.get(f"{served}/dashboard"), 403),
        (dc.get(f"{served}/items/PT2022-0001"), 404),
        (dc.get(f"{served}/campaigns/x"), 422),
        (dc.get(f"{served}/logout"), 405),
        (httpx.post(f"{served}/acknowledge", data={"kind": "round"}), 401),
        (dc.post(f"{served}/acknowledge", data={"kind": "round"}), 403),
        (declared_too_large(served, "/acknowledge"), 413),
    ]
    for response, status in cases:
        assert response.status_code == status, response.request.url
        assert_safe(response)


# --- 7. uploads ----------------------------------------------------------------------------------------


def tree(root: Path) -> list[tuple[str, int]]:
    """Every file and folder under `root` but the database's own files (a refusal's message waits on the
    session's row until the next page: `state` compares the domain tables)."""
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1)
        for p in root.rglob("*")
        if not p.name.startswith("duban.db")
    )


def uploads_left(home: Path) -> list[Path]:
    folder = home / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


def close_out(client: httpx.Client, csrf: str, files: list, code: str = "PT2022-0012") -> httpx.Response:
    return client.post(
        f"/items/{code}/transition",
        data={"target": "close_requested", "note": "已整改", "csrf_token": csrf},
        files=files,
    )


def test_an_oversized_upload_is_refused_and_nothing_kept(world: World) -> None:
    dc, csrf = world.clients["dc-li"], world.tokens["dc-li"]
    before = world.state()
    response = close_out(dc, csrf, [("evidence", ("大文件.txt", b"a" * (UPLOAD_MAX + 1), "text/plain"))])
    assert response.status_code == 413
    assert TOO_LARGE in response.text

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds on the bytes as they come
        yield (
            f'--b0undary\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
            '--b0undary\r\nContent-Disposition: form-data; name="target"\r\n\r\nclose_requested\r\n'
            '--b0undary\r\nContent-Disposition: form-data; name="evidence"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        for _ in range(UPLOAD_MAX // (1024 * 1024) + 1):
            yield b"a" * (1024 * 1024)
        yield b"\r\n--b0undary--\r\n"

    response = dc.post(
        "/items/PT2022-0012/transition",
        content=chunked(),
        headers={"content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 413
    assert TOO_LARGE in response.text
    assert world.state() == before
    assert uploads_left(world.home) == []


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(300)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"PE\x00\x00" + bytes(300)


@pytest.mark.parametrize("content", [ELF, PE], ids=["ELF", "PE"])
def test_evidence_is_judged_by_its_content_not_its_name(world: World, content: bytes) -> None:
    before = world.state()
    response = close_out(
        world.clients["dc-li"], world.tokens["dc-li"], [("evidence", ("x.pdf", content, "application/pdf"))]
    )
    assert response.status_code == 303 and response.headers["location"] == "/items/PT2022-0012"
    assert error_of(world.clients["dc-li"].get("/items/PT2022-0012")) == (
        "佐证材料 x.pdf 的类型（无法识别）不在允许范围内（可提交：pdf、jpg、png、doc、docx、xls、xlsx、txt）"
    )
    assert world.state() == before
    assert uploads_left(world.home) == []
    assert query(world.home, "SELECT status FROM ledger_item WHERE code = 'PT2022-0012'") == [("in_progress",)]


@pytest.mark.parametrize(
    "name", ["../../evil.txt", "..\\x.txt", "/etc/passwd", "../evidence/PT2022-0012/x.txt", ".htaccess"]
)
def test_a_file_name_with_a_path_is_refused(world: World, name: str) -> None:
    outside = world.home.parent
    before, files_before = world.state(), tree(outside)
    passwd = Path("/etc/passwd").stat()
    response = close_out(world.clients["dc-li"], world.tokens["dc-li"], [("evidence", (name, b"evil\n", "text/plain"))])
    assert response.status_code == 303 and response.headers["location"] == "/items/PT2022-0012"
    page = world.clients["dc-li"].get("/items/PT2022-0012")
    assert error_of(page) == f"文件名“{name}”不合法（不能包含路径、控制字符或以点开头），已拒绝"
    assert ">已整改</textarea>" in page.text  # the note typed is kept
    assert world.state() == before
    assert tree(outside) == files_before  # nothing written anywhere near DUBAN_HOME
    assert uploads_left(world.home) == []
    after = Path("/etc/passwd").stat()
    assert (after.st_mtime_ns, after.st_size) == (passwd.st_mtime_ns, passwd.st_size)


def test_a_ledger_with_a_bad_row_imports_nothing_and_says_where(world: World) -> None:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    good = [
        "XC-0001",
        "西城街道",
        "新社区",
        "社区用房",
        "社区服务用房",
        "使用",
        "服务用房被占用",
        "",
        "",
        "收回用房。",
        "2022-09-30",
        "否",
    ]
    bad = [
        "XC-0002",
        "不存在街道",
        "新社区",
        "社区用房",
        "社区服务用房",
        "使用",
        "服务用房被占用",
        "",
        "",
        "收回用房。",
        "明年",
        "否",
    ]
    text = io.StringIO()
    csv.writer(text).writerows([header, good, bad])
    before = world.state()
    response = world.clients["pt-staff"].post(
        "/ledger/import",
        data={"csrf_token": world.tokens["pt-staff"]},
        files=[("ledger", ("新台账.csv", text.getvalue().encode(), "text/csv"))],
    )
    assert response.status_code == 303 and response.headers["location"] == "/ledger/import"
    page = world.clients["pt-staff"].get("/ledger/import").text
    table = re.search(r'<table id="problems" class="cards">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert "共发现 2 处问题" in page
    rows = [
        [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    assert rows == [
        ["新台账.csv", "3", "B列“镇办”", "不是本区的镇办（请使用方案中的镇办全称）", "不存在街道"],
        ["新台账.csv", "3", "K列“完成时限”", "不是有效日期，请按 2022-06-30 的格式填写", "明年"],
    ]
    assert world.state() == before  # the good row is not imported either
    assert query(world.home, "SELECT count(*) FROM ledger_item WHERE code LIKE 'XC-%'") == [(0,)]
    assert uploads_left(world.home) == []


# --- 8. script typed into fields comes back as text ---------------------------------------------------------


def assert_escaped(page: str, raw: str, escaped: str) -> None:
    assert escaped in page
    assert raw not in page
    assert INLINE_SCRIPT.findall(page) == []


def test_script_in_a_close_out_request_is_shown_as_text(world: World) -> None:
    image = "<img src=x onerror=alert(2)>.txt"
    response = world.clients["dc-li"].post(
        "/items/PT2022-0016/transition",
        data={"target": "close_requested", "note": SCRIPT, "csrf_token": world.tokens["dc-li"]},
        files=[("evidence", (image, b"ok\n", "text/plain"))],
    )
    assert response.status_code == 303
    for login in ("dc-li", "mz-wang", "pt-staff"):  # the township, the lead department, the Office
        page = world.clients[login].get("/items/PT2022-0016").text
        assert_escaped(page, SCRIPT, ESCAPED_SCRIPT)
        assert_escaped(page, "<img src=x", "&lt;img src=x onerror=alert(2)&gt;.txt")


def test_script_in_report_fields_is_shown_as_text(world: World) -> None:
    dc = world.clients["dc-li"]
    quoted = '"><svg onload=alert(3)>'
    form = {
        "action": "draft",
        "p.PT2022-0010": "20",
        "s.PT2022-0010": "推进中",
        "m.PT2022-0010": SCRIPT,
        "o.PT2022-0010": quoted,
        "n.PT2022-0010": "</textarea><script>alert(4)</script>",
        "csrf_token": world.tokens["dc-li"],
    }
    response = dc.post(f"/reports/{PERIOD}", data=form)
    assert response.status_code == 303
    page = dc.get(f"/reports/{PERIOD}").text
    assert_escaped(page, SCRIPT, ESCAPED_SCRIPT)
    assert_escaped(page, "<svg", "&#34;&gt;&lt;svg onload=alert(3)&gt;")
    assert_escaped(page, "</textarea><script>", "&lt;/textarea&gt;&lt;script&gt;alert(4)&lt;/script&gt;")
    # a refused form shows what was typed again: escaped as well
    form["p.PT2022-0010"] = "二十"
    response = dc.post(f"/reports/{PERIOD}", data=form)
    assert response.status_code == 303
    assert_escaped(dc.get(response.headers["location"]).text, SCRIPT, ESCAPED_SCRIPT)


def test_script_in_a_campaign_answer_is_shown_as_text(world: World) -> None:
    dc = world.clients["dc-li"]
    form = {
        "g.PT2022-0012": SCRIPT,
        "m.PT2022-0012": "<b onmouseover=alert(5)>措施</b>",
        "d.PT2022-0012": "2022-06-30",
        "csrf_token": world.tokens["dc-li"],
    }
    assert dc.post("/campaigns/2", data=form).status_code == 303
    for login in ("dc-li", "pt-staff"):
        page = world.clients[login].get("/campaigns/2").text
        assert_escaped(page, "<b onmouseover", "&lt;b onmouseover=alert(5)&gt;措施&lt;/b&gt;")
        if login == "dc-li":
            assert_escaped(page, SCRIPT, ESCAPED_SCRIPT)


# --- 9. sign-in by WeCom identity (the app look-alike on loopback; tests/test_wecom_sign_in.py in full) -----

WXWORK = "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 Mobile Safari/537.36 wxwork/4.1.16"
STATE_REFUSED = "登录请求无效或已失效（已使用过、已超时，或不是从本浏览器发起），请重新登录"


@pytest.fixture
def wecom(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[WecomAppServer]:
    """The app configured for the module's portal (the variables are read at each request)."""
    with WecomAppServer() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DUBAN_PORTAL_URL", world.base)
        yield server


def bind(world: World, login: str, userid: str) -> None:
    world.cli("user", "set", login, "--wecom-userid", userid)


def wecom_browser(world: World) -> httpx.Client:
    return httpx.Client(base_url=world.base, timeout=30, headers={"user-agent": WXWORK})


def wecom_callback(browser: httpx.Client, target: str = "/items") -> str:
    """/auth/wecom, then WeCom's authorize page: the callback address it sends the browser back to."""
    start = browser.get(f"/auth/wecom?next={target}")
    assert start.status_code == 303, start.text[:300]
    answer = httpx.get(start.headers["location"], timeout=30)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["location"]


def test_wecom_sign_in_is_not_offered_unless_configured(world: World) -> None:
    with httpx.Client(base_url=world.base, timeout=30) as anonymous:
        assert "/auth/wecom" not in anonymous.get("/login").text
        response = anonymous.get("/auth/wecom?next=/items")
        assert response.status_code == 404
        assert error_of(response) == "本平台未启用企业微信登录，请使用登录名和密码登录"
        assert cookie_value(response, "duban_session") is None


def test_wecom_state_fixation_is_refused(world: World, wecom: WecomAppServer) -> None:
    """A callback address made in one browser (the attacker's code and state) opened in another."""
    wecom.add_member("DcLi", "dc-li名")
    bind(world, "dc-li", "DcLi")
    wecom.signed_in = "DcLi"
    sessions_before = session_rows(world.home, "dc-li")
    with wecom_browser(world) as attacker, wecom_browser(world) as victim:
        planted = wecom_callback(attacker)
        victim.get("/login")  # the victim's own pre-sign-in token
        response = victim.get(planted)
        assert response.status_code == 403
        assert error_of(response) == STATE_REFUSED
        assert cookie_value(response, "duban_session") is None
        assert not signed_in(victim)
        assert attacker.get(planted).status_code == 403  # tried once, used up
    assert session_rows(world.home, "dc-li") == sessions_before


def test_a_wecom_id_bound_to_a_disabled_account_is_refused(world: World, wecom: WecomAppServer) -> None:
    world.cli("user", "add", "--unit", "西城街道", "--login", "s-wecom-off", "--name", "停用人", "--role", "clerk")
    wecom.add_member("WecomOff", "停用人")
    bind(world, "s-wecom-off", "WecomOff")
    world.cli("user", "disable", "s-wecom-off")
    wecom.signed_in = "WecomOff"
    with wecom_browser(world) as browser:
        response = browser.get(wecom_callback(browser))
        assert response.status_code == 403
        assert error_of(response) == DISABLED
        assert cookie_value(response, "duban_session") is None
        assert not signed_in(browser)
    assert session_rows(world.home, "s-wecom-off") == 0


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil", "%2F%2Fevil"])
def test_wecom_sign_in_never_leads_off_the_site(world: World, wecom: WecomAppServer, target: str) -> None:
    wecom.add_member("DcLi", "dc-li名")
    bind(world, "dc-li", "DcLi")
    wecom.signed_in = "DcLi"
    with wecom_browser(world) as browser:
        landed = browser.get(wecom_callback(browser, target))
        assert landed.status_code == 303
        assert landed.headers["location"] == "/"
