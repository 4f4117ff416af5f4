"""Post/redirect/get: what a POST says reaches the next page once, and the database never holds it readable.

A route of the real portal is added for the test (the portal's own `flash.back`, behind the real session
and CSRF checks), so that the mechanism is tested apart from any one form.
"""

from __future__ import annotations

from datetime import date

import httpx
from fastapi import Request
from portal import csrf_of, running_portal, sign_in
from sqlmodel import Session, select

from duban.db import engine
from duban.web.deps import Posted, Signed
from duban.web.flash import back
from models import WebSession

TYPED = "整改说明：<b>第一段</b>\n第二段，含“引号”与 & 符号。"
SECRET = "Kx7-one-time-9Qp"


def _said(request: Request, who: Signed, form: Posted):
    kind = form.get("kind")
    if kind == "secret":
        return back(request, "/items", notice="已重置密码", secret=SECRET)
    return back(request, "/items", error="说明过短，请补充", field="note", values={"note": form.get("note")})


def _anonymous(request: Request):
    return back(request, "/login", error="登录名或密码错误", values={"login": "cg-clerk"})


def _add_routes(base) -> None:
    app = base.guard.app
    app.add_api_route("/test-flash", _said, methods=["POST"])
    app.add_api_route("/test-flash-anonymous", _anonymous, methods=["POST"])


def _flash_column() -> list[str | None]:
    with Session(engine()) as session:
        return [row.flash for row in session.exec(select(WebSession))]


def test_a_refusal_reaches_the_next_page_once_sealed_in_the_database(imported, monkeypatch):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", "Initial-pass-2022")
    imported("user", "add", "--unit", "城关街道", "--login", "cg-clerk", "--name", "张三")
    with running_portal(date(2022, 5, 5)) as base:
        _add_routes(base)
        client = sign_in(base, "cg-clerk")
        token = csrf_of(client.get("/items").text)
        posted = client.post("/test-flash", data={"csrf_token": token, "note": TYPED})
        assert posted.status_code == 303 and posted.headers["location"] == "/items"
        sealed = [f for f in _flash_column() if f]
        assert len(sealed) == 1
        assert "第一段" not in sealed[0] and "说明过短" not in sealed[0]  # nothing readable in the database
        page = client.get("/items")
        assert page.text.count("说明过短，请补充") == 1
        again = client.get("/items")
        assert "说明过短" not in again.text  # once
        assert _flash_column() == [None]

        client.post("/test-flash", data={"csrf_token": token, "kind": "secret"})
        assert SECRET not in "".join(f or "" for f in _flash_column())
        shown = client.get("/items")
        assert "已重置密码" in shown.text and shown.headers["cache-control"] == "no-store"
        assert "已重置密码" not in client.get("/items").text


def test_a_message_sealed_for_one_session_says_nothing_in_another(imported, monkeypatch):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", "Initial-pass-2022")
    imported("user", "add", "--unit", "城关街道", "--login", "cg-clerk", "--name", "张三")
    imported("user", "add", "--unit", "河东镇", "--login", "hd-clerk", "--name", "李四")
    with running_portal(date(2022, 5, 5)) as base:
        _add_routes(base)
        first, second = sign_in(base, "cg-clerk"), sign_in(base, "hd-clerk")
        first.post("/test-flash", data={"csrf_token": csrf_of(first.get("/items").text), "note": TYPED})
        with Session(engine()) as session:
            rows = session.exec(select(WebSession)).all()
            sealed = next(r.flash for r in rows if r.flash)
            for row in rows:
                row.flash = sealed  # a database writer copies one session's message to the other
                session.add(row)
            session.commit()
        assert "说明过短" not in second.get("/items").text
        assert "说明过短" in first.get("/items").text


def test_before_sign_in_the_message_travels_in_a_cookie_for_one_page(imported):
    with running_portal(date(2022, 5, 5)) as base:
        _add_routes(base)
        client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        client.get("/login")  # the pre-session cookie the sign-in form's token lives in
        posted = client.post("/test-flash-anonymous")
        assert posted.status_code == 303 and "duban_flash" in posted.headers["set-cookie"]
        page = client.get("/login")
        assert page.text.count("登录名或密码错误") == 1
        assert 'duban_flash=""' in page.headers.get("set-cookie", "")  # deleted as it was read
        client.cookies.delete("duban_flash")
        assert "登录名或密码错误" not in client.get("/login").text
