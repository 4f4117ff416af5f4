"""Every route of the portal, for every kind of person, fed hostile input: never a server error, never a
dropped connection.

The routes are the app's own (`app.routes`), so a new route is fuzzed as soon as it exists. The fields a
route reads are the names its forms and its code use: every `name="..."` of the templates and every
`form.get("...")`/`query_params.get("...")` of the routes, kept for a route when its own source names
them. Hostile values: a number beyond 64 bits, Unicode digits that `isdigit()` accepts and `int()` refuses
(or reads), NUL bytes, dates outside any working calendar, empty values, very long text. POSTs carry the
session's valid CSRF token (and, once, a hostile one).

The sampling, to stay within a minute (about 2,200 requests): for the first person who may use a route
(the Office admin, else the first role not refused), every hostile value in every path parameter, most of
them in each field the route reads (the others plausible) and a few in all fields at once, and a hostile
CSRF token; for every other person, a huge id in the path and in all fields. Sign-in, sign-out and the
password form run last, with accounts of their own (the others' sessions must live to the end).
"""

from __future__ import annotations

import inspect
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import portal_state
import pytest
from conftest import Cli
from fastapi.routing import APIRoute
from portal import PASSWORD, csrf_of, quick_home, running_portal, sign_in

from duban.signin import accounts

ROUTES = Path(__file__).resolve().parents[1] / "duban" / "web" / "routes"
TEMPLATES = ROUTES.parent / "templates"
HOSTILE = [
    "99999999999999999999999",
    "²",
    "①",
    "٣",
    "1\x00",
    "\x00",
    "9999-12-31",
    "0001-01-01",
    "",
    "-1",
    "9" * 400,
    "长" * 2_000,
]
EACH_FIELD = ["99999999999999999999999", "²", "٣", "\x00", "9999-12-31", "0001-01-01", "", "长" * 2_000]
ALL_FIELDS = ["99999999999999999999999", "①", "\x00", "9999-12-31"]  # in every field at once
OTHERS = ["99999999999999999999999"]  # for every other person: in the path, then in every field at once
PLAUSIBLE = {
    "page": "1",
    "base": "1",
    "round": "1",
    "shortfall": "1",
    "due": "2022-06-01",
    "issued_on": "2022-05-12",
    "promised_by": "2022-06-30",
    "title": "模糊测试专项督导",
    "document_no": "测试〔2022〕1号",
    "decision": "allow",
    "action": "draft",
    "state": "drafting",
    "login": "nobody",
    "wecom_userid": "fuzz.nobody",
    "name": "测试",
    "unit": portal_state.TOWNSHIP,
    "role": "clerk",
    "categories": "社区用房",
}
CODE = "PT2022-0001"
ROW_FIELDS = ("g", "m", "d", "p", "s", "o", "op", "n")  # a row's fields, named f"{prefix}.{code}"
# The people: the sample portal's, one of each kind; these first when a route may be used by several.
ORDER = ["pt-admin", "pt-staff", "mz-reviewer", "mz-clerk", "cg-clerk", "cg-head", "qz-leader"]
SPARE, TARGET = "fz-spare", "fz-target"  # signed in and out by the sign-in routes; changed by /accounts
SELF_ENDING = {"/login", "/logout", "/account/password"}
FORGED_HOST = "duban.example.net"  # every request after sign-in names another host


def field_names() -> set[str]:
    """Every field name the portal's templates and routes use."""
    names = set()
    for template in TEMPLATES.rglob("*.html"):
        names |= {n for n in re.findall(r'name="([a-z_]+)"', template.read_text()) if n not in ("viewport",)}
    for module in ROUTES.glob("*.py"):
        names |= set(re.findall(r'(?:form|params|query_params|query)\.get(?:list)?\("([a-z_]+)"', module.read_text()))
    return names - {"csrf_token"}


def fields_of(route: APIRoute, every: set[str]) -> list[str]:
    """The fields a route reads: the known names its own source quotes, and a row's fields when it reads them."""
    source = inspect.getsource(route.endpoint)
    named = sorted(n for n in every if f'"{n}"' in source)
    if 'partition(".")' in source:
        named += [f"{prefix}.{CODE}" for prefix in ROW_FIELDS]
    return named


@dataclass
class Site:
    base: str
    routes: list[APIRoute]
    path_values: dict[str, str]
    fields: set[str]
    home: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("route-fuzz")
    home = workdir / "home"
    with quick_home(home):
        portal_state.build(home, workdir)
        cli = Cli()
        for login in (SPARE, TARGET):
            cli("user", "add", "--unit", portal_state.TOWNSHIP, "--login", login, "--name", "测试", "--role", "clerk")
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
            first = {
                table: db.execute(f"SELECT min(id) FROM {table}").fetchone()[0] or 1  # noqa: S608 - our table names
                for table in ("campaign", "bulletin", "outbox", "escalation")
            }
            (first["evidence"],) = db.execute(
                "SELECT evidence.id FROM evidence JOIN ledger_item ON ledger_item.id = evidence.item_id WHERE code = ?",
                (CODE,),
            ).fetchone()
            milestone, owner = db.execute("SELECT milestone, owner FROM deliverable ORDER BY id").fetchone()
        values = {
            "campaign_id": str(first["campaign"]),
            "evidence_id": str(first["evidence"]),
            "bulletin_id": str(first["bulletin"]),
            "message_id": str(first["outbox"]),
            "correction_id": "1",
            "reassignment_id": "1",
            "appeal_id": "1",
            "request_id": "1",
            "period": portal_state.PERIOD,
            "unit": portal_state.TOWNSHIP,
            "milestone": milestone,
            "owner": owner,
            "name": "pdf",
            "kind": "escalation",
            "key": str(first["escalation"]),
            "login": TARGET,
            "action": "unlock",
            "code": CODE,
        }
        with running_portal(portal_state.DAY) as portal:
            routes = api_routes(portal.guard.app.routes)
            try:
                yield Site(str(portal), routes, values, field_names(), home)
            finally:
                accounts._dummy.cache_clear()


def api_routes(routes: list) -> list[APIRoute]:
    """The app's routes, those of its included routers too (FastAPI keeps them as the routers included;
    the portal includes them without a prefix)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def path_of(route: APIRoute, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    """The route's path with its parameters filled: plausible values, one replaced by a hostile one."""
    path = route.path
    for name in re.findall(r"{(\w+)}", path):
        value = hostile[1] if hostile and hostile[0] == name else values[name]
        if name == "code" and value == CODE and path.startswith("/projects"):
            value = "XM2022-001"
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


class Fuzzer:
    """Sends the requests and collects every failure (the test reports them all at once)."""

    def __init__(self, site: Site) -> None:
        self.site, self.failures, self.sent = site, [], 0

    def send(self, client: httpx.Client, method: str, path: str, data: dict[str, str], csrf: str | None) -> int:
        self.sent += 1
        what = f"{client.headers.get('x-who', '?')} {method} {path[:120]} {_short(data)}"
        try:
            if method == "GET":
                response = client.get(path, params=data)
            else:
                response = client.post(path, data=data | ({"csrf_token": csrf} if csrf is not None else {}))
        except httpx.HTTPError as exc:
            self.failures.append(f"{what}: {type(exc).__name__} {exc}")
            return 0
        if response.status_code >= 500:
            self.failures.append(f"{what}: {response.status_code}")
        location = response.headers.get("location")
        if location is not None and (not location.startswith("/") or location.startswith("//")):
            self.failures.append(f"{what}: redirected to {location}")  # never a host, the forged one least
        return response.status_code

    def route(self, client: httpx.Client, csrf: str, route: APIRoute, *, first: bool) -> None:
        """The route's path parameters, one at a time, then its fields (one at a time for the first person,
        all at once for everyone), hostile; the others plausible."""
        site = self.site
        method = "GET" if "GET" in route.methods else "POST"
        fields = fields_of(route, site.fields)
        plausible = {f: PLAUSIBLE.get(f, "2022-06-30" if f.startswith("d.") else "测试") for f in fields}
        path = path_of(route, site.path_values)
        for value in HOSTILE if first else OTHERS:
            for name in re.findall(r"{(\w+)}", route.path):
                self.send(client, method, path_of(route, site.path_values, (name, value)), plausible, csrf)
        for value in ALL_FIELDS if first else OTHERS:
            every = value if method == "POST" else value[:100]  # an address holds at most 64 kB
            self.send(client, method, path, dict.fromkeys(sorted(site.fields | set(fields)), every), csrf)
        if first:
            for value in EACH_FIELD:
                for field in fields:
                    self.send(client, method, path, plausible | {field: value}, csrf)
        if first and method == "POST":
            for value in ("", "\x00", "x" * 5_000):
                self.send(client, method, path, plausible, value)


def _short(data: dict[str, str]) -> str:
    return repr({k: v[:20] for k, v in list(data.items())[:3]})[:100]


def signed(base: str, login: str) -> tuple[httpx.Client, str]:
    client = sign_in(base, login, PASSWORD, change_to=None)
    client.headers["x-who"] = login
    client.headers["host"] = FORGED_HOST
    return client, csrf_of(client.get("/account/password").text)


def test_no_route_answers_a_server_error(site: Site) -> None:
    fuzz = Fuzzer(site)
    people = {login: signed(site.base, login) for login in ORDER}
    ordinary = [r for r in site.routes if r.path not in SELF_ENDING]
    assert len(ordinary) > 40, [r.path for r in ordinary]  # the app's routes were found
    for route in ordinary:
        method = "GET" if "GET" in route.methods else "POST"
        first = None
        for login in ORDER:  # the first person the route does not refuse outright
            client, csrf = people[login]
            if fuzz.send(client, method, path_of(route, site.path_values), {}, csrf) not in (403, 0):
                first = login
                break
        first = first or ORDER[0]
        for login in ORDER:
            fuzz.route(*people[login], route, first=login == first)

    # Sign-in, sign-out and the password form: a spare account, signed in again whenever one ended it.
    anonymous = httpx.Client(base_url=site.base, follow_redirects=False, timeout=30, headers={"host": FORGED_HOST})
    for value in HOSTILE:
        login_csrf = csrf_of(anonymous.get("/login").text)
        for data in ({"login": value, "password": value}, {"login": TARGET, "password": value}):
            fuzz.send(anonymous, "POST", "/login", data, login_csrf)
        fuzz.send(anonymous, "GET", "/login", {"next": value}, None)
        fuzz.send(anonymous, "POST", "/login", {"login": SPARE, "password": PASSWORD}, value)
    client, csrf = signed(site.base, SPARE)
    for value in HOSTILE:
        fuzz.send(client, "GET", "/account/password", {"next": value}, None)
        for field in ("new_password", "new_password_confirm"):
            new = "Fuzz-pass-2022!"
            data = {"current_password": PASSWORD, "new_password": new, "new_password_confirm": new}
            fuzz.send(client, "POST", "/account/password", data | {field: value}, csrf)
        fuzz.send(client, "POST", "/logout", {}, value)
    fuzz.send(client, "POST", "/logout", {}, csrf)
    assert not fuzz.failures, f"{len(fuzz.failures)} of {fuzz.sent} requests failed:\n" + "\n".join(fuzz.failures[:80])


PHISHING = "您的账号存在风险，请致电 400-000-0000 核实"


@pytest.mark.parametrize("login", ["cg-clerk", "pt-staff"])
def test_a_link_cannot_put_words_in_a_notice(site: Site, login: str) -> None:
    """Confirmations travel from the POST in the session (duban/web/flash.py), never in the address: the
    query parameters a page once read (saved, v, done, changed, notice, error) say nothing."""
    client, _ = signed(site.base, login)
    words = dict.fromkeys(("saved", "v", "done", "changed", "notice", "error", "message"), PHISHING)
    for path in ("/", f"/reports/{portal_state.PERIOD}", "/items", "/campaigns", "/notices", "/help"):
        page = client.get(path, params=words | {"page": "1"})
        assert page.status_code == 200, path
        assert PHISHING not in page.text, path
        assert 'role="status"' not in page.text and 'role="alert"' not in page.text, path  # base.html's messages


def test_files_kept_are_sandboxed_shown_or_downloaded(site: Site) -> None:
    """Evidence (a text file here) is shown in the browser, a filed PDF downloaded; both sandboxed."""
    with closing(sqlite3.connect(site.home / "duban.db")) as db:
        code, evidence_id = db.execute(
            "SELECT ledger_item.code, evidence.id FROM evidence JOIN ledger_item ON ledger_item.id = evidence.item_id"
        ).fetchone()
        milestone, owner = db.execute("SELECT milestone, owner FROM deliverable WHERE stored_as != ''").fetchone()
    client, _ = signed(site.base, "pt-staff")
    evidence = client.get(f"/items/{code}/evidence/{evidence_id}")
    document = client.get(f"/deliverables/{milestone}/{owner}/file")
    for response, shown, kind in [(evidence, "inline", "text/plain"), (document, "attachment", "application/pdf")]:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
        assert response.headers["content-disposition"].startswith(f"{shown}; filename*=UTF-8''")
        policy = [part.strip() for part in response.headers["content-security-policy"].split(";")]
        assert "sandbox" in policy and "default-src 'none'" in policy
    assert document.content == portal_state.PDF
