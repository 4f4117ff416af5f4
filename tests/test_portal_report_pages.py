"""A unit with more items than a page fills its online report a page at a time: each save keeps every
line (the pages not sent keep what they show), and the submission carries them all."""

from __future__ import annotations

import re
from datetime import date

import yaml
from conftest import PLAN, SAMPLE
from portal import csrf_of, running_portal, sign_in
from sqlmodel import Session, col, select

from duban.db import engine
from duban.reporting.reports import lines_of
from models import Submission, SubmissionLine, SubmissionVersion

PASSWORD = "Initial-pass-2022"


def test_a_large_unit_saves_its_report_page_by_page(cli, tmp_path, monkeypatch):
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["portal"]["page_rows"] = 10
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cli("init", "--plan", plan, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    cli("tick", "--as-of", "2022-05-01")
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    cli("user", "add", "--unit", "民政局", "--login", "mz-wu", "--name", "吴七")
    with Session(engine()) as session:
        items = session.exec(select(Submission).where(Submission.unit == "民政局")).one().items
    pages = -(-len(items) // 10)
    assert pages >= 2  # the sample gives 民政局 more than ten items to consolidate
    with running_portal(date(2022, 5, 8)) as base:
        client = sign_in(base, "mz-wu")
        first = client.get("/reports/2022-05")
        assert re.findall(r'name="p\.([^"]+)"', first.text) == items[:10]
        assert f"（第1页，共{pages}页）" in first.text
        second = client.get("/reports/2022-05?page=2")
        on_two = re.findall(r'name="p\.([^"]+)"', second.text)
        assert on_two == items[10:20]
        typed = {"csrf_token": csrf_of(second.text), "action": "draft", "page": "2", "base": "0"}
        for code in on_two:
            typed |= {f"p.{code}": "40", f"s.{code}": "推进中", f"op.{code}": f"{code}核定"}
        saved = client.post("/reports/2022-05", data=typed)
        assert (saved.status_code, saved.headers["location"]) == (303, "/reports/2022-05?page=2&v=1")
        after = client.get(saved.headers["location"]).text
        assert "草稿已保存（第1版）" in after
        assert re.findall(r'name="p\.[^"]+" value="(\d+)"', after) == ["40"] * len(on_two)
        # read before the save above: refused with a redirect to the same page, the changed line kept
        stale = client.post("/reports/2022-05", data={**typed, "base": "0", f"p.{on_two[0]}": "55"})
        assert (stale.status_code, stale.headers["location"]) == (303, "/reports/2022-05?page=2")
        again = client.get(stale.headers["location"]).text
        assert "刚刚已由本单位其他人员保存" in again
        assert re.findall(r'name="p\.[^"]+" value="(\d+)"', again) == ["55"] + ["40"] * (len(on_two) - 1)
        assert "保存未成功：上面保留了你修改过的内容" in again
        page_one = client.get("/reports/2022-05")
        shown = dict(re.findall(r'name="p\.([^"]+)" value="(\d*)"', page_one.text))
        submit = {"csrf_token": csrf_of(page_one.text), "action": "submit", "page": "1"}
        submit |= {f"p.{c}": v for c, v in shown.items()}
        submit |= {f"s.{c}": "未开工" if v == "0" else "推进中" for c, v in shown.items()}
        first, second = items[0], items[1]  # two lines of page 1 changed; the rest sent as they were
        submit |= {f"p.{first}": "10", f"s.{first}": "推进中", f"op.{second}": "现场核实"}
        response = client.post("/reports/2022-05", data=submit)
        assert (response.status_code, response.headers["location"]) == (303, "/reports/2022-05?page=1&v=2")
    with Session(engine()) as session:
        versions = session.exec(select(SubmissionVersion).order_by(col(SubmissionVersion.version))).all()
        assert [(v.version, v.state) for v in versions] == [(1, "draft"), (2, "submitted")]
        for version in versions:
            lines = {line.item_code: line for line in lines_of(session, version)}
            assert sorted(lines) == sorted(items)  # every line, whichever page was sent
            assert all(lines[c].progress == 40 and lines[c].opinion == f"{c}核定" for c in on_two)
        # what is written: the first save every line; the submission only the page it was sent (page 1)
        stored = session.exec(select(SubmissionLine.version, SubmissionLine.item_code)).all()
        assert sorted(code for number, code in stored if number == 1) == sorted(items)
        assert sorted(code for number, code in stored if number == 2) == [first, second]
        whole = {line.item_code: (line.progress, line.opinion) for line in lines_of(session, versions[1])}
        assert whole[first] == (10, "") and whole[second] == (0, "现场核实")
        assert all(whole[c] == (40, f"{c}核定") for c in on_two)
