"""An accepted report is locked for everyone; 申请更正 is the only way to change it: requested with a reason,
refused (nothing changes), requested again, allowed by a reviewing department (the report reopens, is
corrected, resubmitted, not late for the correction, reviewed again). Every POST answers 303 and a refresh
repeats nothing; another unit may not decide."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

import httpx
import pytest
from conftest import Cli
from portal import csrf_of, running_portal, sign_in
from sqlmodel import col, select

from duban.db import session_scope
from duban.reporting.corrections import pending_corrections
from duban.reporting.forms import form_rows, submit_online
from duban.reporting.reports import get_submission, review
from duban.stored_plan import current_plan
from models import AuditEntry, OutboxMessage, ReportCorrection, Review, Submission, SubmissionVersion

PERIOD, TOWNSHIP = "2022-05", "城关街道"
REVIEWERS = ["教体局", "民政局", "商务局", "卫健局"]  # the lead departments of 城关街道's nine items
USERS = [
    ("城关街道", "cg-zhang", "张三", "clerk"),
    ("东城街道", "dc-zhao", "赵六", "clerk"),
    ("民政局", "mz-li", "李四", "reviewer"),
    ("民政局", "mz-wu", "吴七", "clerk"),
    ("住建局", "zj-qian", "钱八", "reviewer"),
]


@pytest.fixture
def accepted(imported: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """城关街道's May report submitted on 2022-05-05 and accepted by its four departments that day."""
    imported("tick", "--as-of", "2022-05-01")
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", "Initial-pass-2022")
    for unit, login, name, role in USERS:
        imported("user", "add", "--unit", unit, "--login", login, "--name", name, "--role", role)
    with session_scope() as session:
        plan = current_plan(session)
        rows = form_rows(session, plan, get_submission(session, plan, PERIOD, TOWNSHIP))
        entered = {r["code"]: {"progress": str(r["progress"]), "work_state": r["work_state"]} for r in rows}
        submit_online(
            session,
            plan,
            period=PERIOD,
            unit=TOWNSHIP,
            entered=entered,
            summary="",
            as_of=date(2022, 5, 5),
            draft=False,
        )
    with session_scope() as session:
        plan = current_plan(session)
        assert get_submission(session, plan, PERIOD, TOWNSHIP).reviewers == REVIEWERS
        for department in REVIEWERS:
            review(
                session,
                plan,
                period=PERIOD,
                township=TOWNSHIP,
                by=department,
                accept=True,
                reason="",
                as_of=date(2022, 5, 5),
            )
    return imported


def state() -> dict:
    """What a POST may change: the report, its versions, reviews, requests, audit entries and messages."""
    with session_scope() as session:
        s = session.exec(select(Submission).where(Submission.period == PERIOD, Submission.unit == TOWNSHIP)).one()
        return {
            "report": (s.status, s.version, s.late, s.first_submitted_on, s.last_submitted_on),
            "versions": [
                (v.version, v.state, v.late)
                for v in session.exec(
                    select(SubmissionVersion)
                    .where(SubmissionVersion.submission_id == s.id)
                    .order_by(col(SubmissionVersion.version))
                )
            ],
            "reviews": len(session.exec(select(Review).where(Review.submission_id == s.id)).all()),
            "requests": [
                (c.number, c.state, c.decided_unit, c.decided_by, c.answer)
                for c in session.exec(select(ReportCorrection).order_by(col(ReportCorrection.id)))
            ],
            "audit": len(session.exec(select(AuditEntry).where(AuditEntry.subject == "submission")).all()),
            "messages": len(session.exec(select(OutboxMessage)).all()),
        }


def where(response: httpx.Response) -> tuple[int, str]:
    """A POST's answer: its status and where it leads (decoded)."""
    return response.status_code, unquote(response.headers.get("location", ""))


def fields_of(html: str) -> list[str]:
    return re.findall(r'name="p\.([^"]+)"', html)


def test_an_accepted_report_is_locked_and_corrected_only_by_request(accepted: Cli) -> None:
    with running_portal(date(2022, 5, 20)) as base:
        clerk = sign_in(base, "cg-zhang")
        page = clerk.get(f"/reports/{PERIOD}")
        assert page.status_code == 200
        assert fields_of(page.text) == []  # read-only: no field of the form
        assert "已审核通过" in page.text and ">申请更正</button>" in page.text
        assert "2022-05" not in re.sub(r'(href|action)="[^"]*"', "", page.text)  # no ISO month in what is shown
        token = csrf_of(page.text)
        before = state()
        assert before["report"][:2] == ("accepted", 1) and before["versions"] == [(1, "submitted", False)]

        # a forged save and submit of the whole form: refused with a redirect, nothing changed
        with session_scope() as session:
            codes = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).items
        forged = {"csrf_token": token, "action": "submit", "page": "1", "base": "1"}
        forged |= {f"p.{c}": "90" for c in codes} | {f"s.{c}": "推进中" for c in codes}
        for action in ("submit", "draft"):
            refused = clerk.post(f"/reports/{PERIOD}", data=forged | {"action": action})
            assert where(refused) == (303, f"/reports/{PERIOD}?page=1")
            told = clerk.get(refused.headers["location"]).text
            assert "城关街道2022年5月的报表已审核通过，已锁定，不能再修改或提交；如需更正，请申请更正" in told
            assert fields_of(told) == []
        assert state() == before

        # 申请更正 without a reason: refused, the field named
        empty = clerk.post(f"/reports/{PERIOD}/correction", data={"csrf_token": token, "reason": "  "})
        assert where(empty) == (303, f"/reports/{PERIOD}")
        assert 'aria-invalid="true"' in clerk.get(f"/reports/{PERIOD}").text
        assert state() == before

        # asked with a reason; the page (and a refresh of it) shows it waiting; a second click adds nothing
        reason = "PT2022-0003整改进度填报有误，应为30%。"
        asked = clerk.post(f"/reports/{PERIOD}/correction", data={"csrf_token": token, "reason": reason})
        assert where(asked) == (303, f"/reports/{PERIOD}")
        shown = clerk.get(f"/reports/{PERIOD}").text
        assert "更正申请已提交，请等待牵头部门审核。" in shown and "待处理" in shown
        after_request = state()
        assert clerk.get(f"/reports/{PERIOD}").status_code == 200 and state() == after_request  # a refresh
        assert after_request["requests"] == [(1, "pending", "", "", "")]
        assert after_request["report"] == before["report"] and after_request["audit"] == before["audit"] + 1
        again = clerk.post(f"/reports/{PERIOD}/correction", data={"csrf_token": token, "reason": reason})
        assert again.status_code == 303
        assert "正在等待教体局或民政局或商务局或卫健局处理" in clerk.get(f"/reports/{PERIOD}").text
        assert state() == after_request
        with session_scope() as session:
            told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "correction_requested")).all()
            assert sorted(m.recipient for m in told) == sorted(REVIEWERS)
            assert all(reason in m.body for m in told)
            assert [s.unit for _, s in pending_corrections(session, "民政局")] == [TOWNSHIP]
            assert pending_corrections(session, "住建局") == []
            number = session.exec(select(ReportCorrection.id)).one()
        decide = f"/reports/{PERIOD}/{TOWNSHIP}/corrections/{number}"

        # who may decide: another township and a department's clerk are refused (403), a department that
        # does not review 城关街道 does not see the request (404); nothing changes
        for login, status in (("dc-zhao", 403), ("mz-wu", 403), ("zj-qian", 404)):
            other = sign_in(base, login)
            answer = other.post(decide, data={"csrf_token": csrf_of(other.get("/reports").text), "decision": "allow"})
            assert answer.status_code == status, login
        assert state() == after_request

        # 民政局 sees the request below the report; refuses it: a reason is required, then nothing changes
        reviewer = sign_in(base, "mz-li")
        review_page = reviewer.get(f"/reports/{PERIOD}/{TOWNSHIP}").text
        assert (
            review_page.index("<table")
            < review_page.index("更正申请（待处理）")
            < review_page.index("不予更正</button>")
        )
        assert reason in review_page
        assert f'href="/reports/{PERIOD}/{TOWNSHIP}">查看并处理' in reviewer.get(f"/reports/{PERIOD}").text
        rtoken = csrf_of(review_page)
        bare = reviewer.post(decide, data={"csrf_token": rtoken, "decision": "refuse", "answer": ""})
        assert where(bare) == (303, f"/reports/{PERIOD}/{TOWNSHIP}")
        assert "不予更正须说明理由" in reviewer.get(f"/reports/{PERIOD}/{TOWNSHIP}").text
        assert state() == after_request
        no = reviewer.post(decide, data={"csrf_token": rtoken, "decision": "refuse", "answer": "经核实，原填报无误。"})
        assert where(no) == (303, f"/reports/{PERIOD}/{TOWNSHIP}")
        refused_state = state()
        assert refused_state["requests"] == [(1, "refused", "民政局", "李四（民政局）", "经核实，原填报无误。")]
        assert refused_state["report"] == before["report"] and refused_state["versions"] == before["versions"]
        assert refused_state["audit"] == after_request["audit"] + 1
        twice = reviewer.post(decide, data={"csrf_token": rtoken, "decision": "allow"})  # a second answer
        assert twice.status_code == 303
        assert "无需重复处理" in reviewer.get(f"/reports/{PERIOD}/{TOWNSHIP}").text
        assert state() == refused_state
        with session_scope() as session:
            audit = session.exec(
                select(AuditEntry.actor, AuditEntry.person, AuditEntry.action)
                .where(AuditEntry.subject == "submission")
                .order_by(col(AuditEntry.id).desc())
            ).first()
            assert audit == ("民政局", "李四", "correction_refuse")
            said = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "correction_decided")).one()
            assert said.recipient == TOWNSHIP and "不予更正" in said.body and "经核实，原填报无误。" in said.body

        # asked again, allowed: the report reopens as 更正中 with its form
        clerk.post(f"/reports/{PERIOD}/correction", data={"csrf_token": token, "reason": "PT2022-0003进度应为30%。"})
        with session_scope() as session:
            second = session.exec(select(ReportCorrection).where(ReportCorrection.state == "pending")).one()
            assert second.number == 2
        allowed = reviewer.post(
            f"/reports/{PERIOD}/{TOWNSHIP}/corrections/{second.id}", data={"csrf_token": rtoken, "decision": "allow"}
        )
        assert allowed.status_code == 303
        reopened = state()
        assert reopened["report"][:2] == ("correcting", 1)
        assert reopened["requests"][1] == (2, "allowed", "民政局", "李四（民政局）", "")
        form = clerk.get(f"/reports/{PERIOD}").text
        assert fields_of(form) == codes and "已准予更正：请修改后重新提交" in form and "更正中" in form

        # corrected and submitted (the due date, 2022-05-10, is long past): version 2, not late
        with session_scope() as session:
            due = get_submission(session, current_plan(session), PERIOD, TOWNSHIP).due_on
        assert due < date(2022, 5, 20)
        fixed = {"csrf_token": csrf_of(form), "action": "submit", "page": "1", "base": "1"}
        fixed |= {"p.PT2022-0003": "30", "s.PT2022-0003": "推进中", "m.PT2022-0003": "已完成主体施工。"}
        sent = clerk.post(f"/reports/{PERIOD}", data=fixed)
        assert where(sent) == (303, f"/reports/{PERIOD}?page=1&v=2")
        corrected = state()
        assert corrected["report"] == ("submitted", 2, False, date(2022, 5, 5), date(2022, 5, 20))
        assert corrected["versions"] == [(1, "submitted", False), (2, "submitted", False)]
        assert clerk.get(sent.headers["location"]).status_code == 200 and state() == corrected  # a refresh

        # reviewed again: 民政局 on the page (no 迟报 shown), the other three directly; locked again
        shown = reviewer.get(f"/reports/{PERIOD}/{TOWNSHIP}").text
        assert "第2版，2022年5月20日提交" in shown and "迟报" not in shown
        ok = reviewer.post(
            f"/reports/{PERIOD}/{TOWNSHIP}/review", data={"csrf_token": csrf_of(shown), "decision": "accept"}
        )
        assert where(ok) == (303, f"/reports/{PERIOD}")
        with session_scope() as session:
            plan = current_plan(session)
            for department in ("教体局", "商务局", "卫健局"):
                review(
                    session,
                    plan,
                    period=PERIOD,
                    township=TOWNSHIP,
                    by=department,
                    accept=True,
                    reason="",
                    as_of=date(2022, 5, 20),
                )
        assert state()["report"][:2] == ("accepted", 2)
        assert fields_of(clerk.get(f"/reports/{PERIOD}").text) == []
