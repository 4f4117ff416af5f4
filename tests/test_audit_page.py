"""The auditor's page against a real portal on loopback: only the Office's audit administrator reads it;
filters by person, unit, kind and date kept in the URL and paged; bad filters refused in Chinese; the
.xlsx export of the filtered rows; and downloads and exports are themselves on the record without
making the day's state "changed".

One database for the module: the sample ledger, a close-out request with evidence, the portal on
2022-07-15 with 10 rows a page.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import EVIDENCE, PLAN, SAMPLE, Cli
from openpyxl import load_workbook
from portal import quick_home, running_portal, sign_in

from duban.db import session_scope
from duban.signin import accounts
from duban.state.status import kept_state_answers

DAY = date(2022, 7, 15)
PER_PAGE = 10
USERS = {
    "a-audit": ("区配套办", "auditor", "审计员"),
    "pt-staff": ("区配套办", None, "工作人员甲"),
    "pt-admin": ("区配套办", "sysadmin", "管理员甲"),
    "cg-zhang": ("城关街道", None, "张三"),
}
SEQ = re.compile(r'<td data-label="序号" class="num">(\d+)</td>')
NEXT = re.compile(r'<a href="(/audit\?[^"]*)">下一页</a>')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class World:
    home: Path
    base: str
    clients: dict[str, httpx.Client]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("audit-page")
    plan = root / "plan.yaml"
    text = PLAN.read_text(encoding="utf-8").replace("page_rows: 100", f"page_rows: {PER_PAGE}")
    # the auditor signs in with a password only here: the second factor is tests/test_sign_in_assurance.py's
    text = text.replace("second_factor_roles: [sysadmin, secadmin, auditor]", "second_factor_roles: []")
    assert "second_factor_roles: []" in text
    plan.write_text(text, "utf-8")
    home = root / "home"
    with quick_home(home):
        cli = Cli()
        cli("init", "--plan", plan, "--as-of", "2022-04-01")
        cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
        for login, (unit, role, name) in USERS.items():
            cli("user", "add", "--unit", unit, "--login", login, "--name", name, *(["--role", role] if role else []))
        on = ["--by", "城关街道", "--as-of", "2022-05-09"]
        cli("item", "transition", "PT2022-0001", "--to", "in_progress", *on)
        cli(
            "item",
            "transition",
            "PT2022-0001",
            "--to",
            "close_requested",
            *on,
            "--note",
            "已完成",
            "--evidence",
            EVIDENCE,
        )
        with closing(sqlite3.connect(home / "duban.db")) as db, db:
            db.execute("UPDATE account SET must_change_password = 0")
        with running_portal(DAY) as base:
            clients = {login: sign_in(base, login, change_to=None) for login in USERS}
            try:
                yield World(home, base, clients)
            finally:
                for client in clients.values():
                    client.close()
                accounts._dummy.cache_clear()


def query(world: World, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{world.home / 'duban.db'}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


def listed(client: httpx.Client, **params: str) -> list[int]:
    """Every sequence number the page lists for these filters, page by page by its own 下一页 links."""
    found: list[int] = []
    page = client.get("/audit", params=params)
    while True:
        assert page.status_code == 200, page.text[:300]
        found += [int(n) for n in SEQ.findall(page.text)]
        following = NEXT.search(page.text)
        if not following:
            return found
        page = client.get(following.group(1).replace("&amp;", "&"))


def test_only_the_office_auditor_reads_and_exports_the_log(world: World) -> None:
    for login in ("pt-staff", "pt-admin", "cg-zhang"):
        client = world.clients[login]
        for path in ("/audit", "/audit/export.xlsx"):
            assert client.get(path).status_code == 403, (login, path)
        assert 'href="/audit"' not in client.get("/items").text
    page = world.clients["a-audit"].get("/audit")
    assert page.status_code == 200
    assert '<a href="/audit">审计日志</a>' in page.text
    assert "审计管理员" in page.text  # the role's label in the header


def test_a_download_and_an_export_are_on_the_record_and_change_no_state(world: World) -> None:
    (evidence_id,) = query(world, "SELECT e.id FROM evidence e JOIN ledger_item i ON i.id = e.item_id")[0]
    newest = "SELECT max(effective_on) FROM audit_entry WHERE subject = 'item'"
    newest_change = date.fromisoformat(query(world, newest)[0][0])
    client = world.clients["cg-zhang"]
    assert client.get(f"/items/PT2022-0001/evidence/{evidence_id}").status_code == 200
    assert client.get("/items/export.xlsx", params={"status": "close_requested"}).status_code == 200
    assert client.get("/items/PT2022-0001/evidence/999999").status_code == 404  # nothing served, nothing recorded

    taken = query(
        world,
        "SELECT actor, subject, subject_key, action, effective_on, note, person, via FROM audit_entry "
        "WHERE subject IN ('download', 'export') AND person = '张三' ORDER BY seq",
    )
    downloaded, exported = f"PT2022-0001/{evidence_id}", "/items/export.xlsx?status=close_requested"
    assert taken == [
        ("城关街道", "download", downloaded, "evidence", "2022-07-15", EVIDENCE.name, "张三", "portal"),
        ("城关街道", "export", "问题清单", "items", "2022-07-15", exported, "张三", "portal"),
    ]  # fmt: skip
    # the state's replay reads items' entries only: the newest change is still May's, and the kept
    # state still answers that day (an export dated July would otherwise make May "changed")
    assert query(world, newest)[0][0] == str(newest_change)
    with quick_home(world.home), session_scope() as session:
        assert kept_state_answers(session, newest_change)


def test_filters_kept_in_the_url_and_paged(world: World) -> None:
    auditor = world.clients["a-audit"]
    everything = [n for (n,) in query(world, "SELECT seq FROM audit_entry ORDER BY seq DESC")]
    first = auditor.get("/audit")
    assert [int(n) for n in SEQ.findall(first.text)] == everything[:PER_PAGE]
    assert f"共{len(everything)}条" in first.text

    cases = [
        ({"unit": "城关街道"}, "actor = '城关街道'"),
        ({"person": "张三"}, "person = '张三'"),
        ({"subject": "item", "action": "create"}, "subject = 'item' AND action = 'create'"),
        ({"subject": "item", "since": "2022-05-01", "until": "2022-05-31"}, "subject = 'item' AND effective_on >= '2022-05-01' AND effective_on <= '2022-05-31'"),  # noqa: E501
        ({"unit": "区配套办", "until": "2022-04-30"}, "actor = '区配套办' AND effective_on <= '2022-04-30'"),
    ]  # fmt: skip
    for params, where in cases:
        expected = [n for (n,) in query(world, f"SELECT seq FROM audit_entry WHERE {where} ORDER BY seq DESC")]
        assert expected, params
        assert listed(auditor, **params) == expected, params
    # a later page keeps the filters in its links
    page = auditor.get("/audit", params={"subject": "item", "action": "create", "page": "2"})
    assert 'href="/audit?subject=item&amp;action=create&amp;page=3"' in page.text
    assert 'href="/audit?subject=item&amp;action=create&amp;page=1"' in page.text
    # every label Chinese: the kinds offered and the rows shown
    assert '<option value="item" selected>问题</option>' in page.text
    assert '<option value="create" selected>建账</option>' in page.text
    rows = re.findall(r'<td data-label="(?:对象|操作)">(.*?)</td>', page.text)
    assert set(rows) == {"问题", "建账"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2022-13-01"}, "“起始日期”不是有效日期，请按“年-月-日”填写，例如 2022-06-30"),
        ({"until": "９９"}, "“截止日期”不是有效日期，请按“年-月-日”填写，例如 2022-06-30"),
        ({"since": "9999-12-31"}, "“起始日期”超出可查询的年份（2000—2099年）"),
        ({"since": "2022-06-01", "until": "2022-05-01"}, "起始日期不能晚于截止日期"),
        ({"unit": "火星街道"}, "“单位”的筛选条件无效，请从列表中选择"),
        ({"subject": "nonsense"}, "“对象”的筛选条件无效，请从列表中选择"),
        ({"action": "drop"}, "“操作”的筛选条件无效，请从列表中选择"),
    ],
)
def test_bad_filters_are_refused_in_chinese(world: World, params: dict, message: str) -> None:
    for path in ("/audit", "/audit/export.xlsx"):
        page = world.clients["a-audit"].get(path, params=params)
        assert page.status_code == 400
        assert ERROR.search(page.text).group(1) == message


def test_the_export_holds_the_filtered_rows_and_is_recorded(world: World) -> None:
    rows = query(
        world,
        "SELECT seq, at, effective_on, actor, person, subject, subject_key, action, note FROM audit_entry "
        "WHERE actor = '城关街道' AND subject = 'item' ORDER BY seq DESC",
    )
    response = world.clients["a-audit"].get("/audit/export.xlsx", params={"unit": "城关街道", "subject": "item"})
    assert response.status_code == 200
    assert unquote(response.headers["content-disposition"]) == "attachment; filename*=UTF-8''审计日志-2022-07-15.xlsx"
    sheet = load_workbook(io.BytesIO(response.content)).active
    actions = {"create": "建账", "plan": "整治方案", "transition": "状态变更"}
    expected = [
        ("序号", "记录时间", "业务日期", "单位", "经办人", "对象", "编号", "操作", "说明"),
        *[
            (
                seq,
                datetime.fromisoformat(at).replace(tzinfo=UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                datetime.fromisoformat(day),
                actor,
                "操作员代录（城关街道）",  # entered at the Office's terminal for the unit
                "问题",
                key,
                actions[action],
                note or None,
            )
            for seq, at, day, actor, _person, _subject, key, action, note in rows
        ],
    ]
    assert list(sheet.iter_rows(values_only=True)) == expected
    recorded = query(
        world,
        "SELECT actor, subject, subject_key, action, note, person, via FROM audit_entry "
        "WHERE subject = 'export' AND action = 'audit' ORDER BY seq DESC LIMIT 1",
    )
    assert recorded == [
        ("区配套办", "export", "审计日志", "audit", "/audit/export.xlsx?unit=城关街道&subject=item", "审计员", "portal")
    ]
