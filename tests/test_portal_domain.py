"""What the portal rests on outside the web: accounts by the CLI, 签收 and its ladder, deep links in
messages, and who entered a change (a person on the portal, the operator at the terminal)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from argon2 import PasswordHasher
from conftest import PLAN, SAMPLE
from sqlmodel import Session, col, select

from duban import audit
from duban.db import engine
from duban.desk import acknowledge
from duban.reporting.cycle import escalate_overdue
from models import Account, Acknowledgement, AuditEntry, Escalation, OutboxMessage, WebSession
from plans import plan_with

PASSWORD = "Initial-pass-2022"


def rows(model, *where):  # noqa: ANN001, ANN201 - a table and its conditions
    with Session(engine()) as session:
        return list(session.exec(select(model).where(*where)))


# -- accounts from the terminal ---------------------------------------------------------------------


def test_user_add_prints_a_generated_password_once_and_keeps_only_an_argon2id_hash(initialised, monkeypatch):
    monkeypatch.delenv("DUBAN_NEW_PASSWORD", raising=False)
    out = initialised("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三").output
    assert "已开通账号 cg-zhang（张三，城关街道，经办人）" in out
    password = re.search(r"初始密码（仅显示这一次，首次登录须修改）：(\S+)", out).group(1)
    assert len(password) == 20  # a passphrase by the policy: 20 characters of base64url
    (account,) = rows(Account)
    assert (account.unit, account.role, account.must_change_password, account.disabled) == (
        "城关街道",
        "clerk",
        True,
        False,
    )
    assert account.password_hash.startswith("$argon2id$")
    assert password not in account.password_hash
    assert PasswordHasher().verify(account.password_hash, password)
    listed = json.loads(initialised("user", "list", "--json").output)
    assert listed == [
        {
            "login": "cg-zhang",
            "name": "张三",
            "unit": "城关街道",
            "role": "clerk",
            "mobile": "",
            "wecom_userid": None,  # not bound to a WeCom id (duban user set --wecom-userid)
            "disabled": False,
            "must_change_password": True,
            "locked_until": None,
        }
    ]
    # the audit log says who opened it, and never the password
    (entry,) = rows(AuditEntry, AuditEntry.subject == "account")
    assert (entry.actor, entry.action, entry.via) == ("区配套办", "add", "cli")
    assert password not in json.dumps(entry.after, ensure_ascii=False)


def test_user_add_with_the_password_from_the_environment_prints_none(initialised, monkeypatch):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    out = initialised(
        "user", "add", "--unit", "民政局", "--login", "mz-li", "--name", "李四", "--role", "reviewer"
    ).output
    assert PASSWORD not in out and "初始密码" not in out
    (account,) = rows(Account)
    assert account.role == "reviewer" and PasswordHasher().verify(account.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--unit", "城关街道", "--login", "Cg", "--name", "张三"), PASSWORD, "登录名须为3至32位小写字母"),
        (
            ("--unit", "城关街道", "--login", "cg-a", "--name", "张三", "--role", "sysadmin"),
            PASSWORD,
            "城关街道的账号角色只能是",
        ),
        (("--unit", "领导小组", "--login", "cg-a", "--name", "张三"), PASSWORD, "不是可以开通账号的单位"),
        (("--unit", "城关街道", "--login", "cg-a", "--name", "张三"), "short-1", "密码至少12个字符"),
        (("--unit", "城关街道", "--login", "cg-a", "--name", "张三"), "cg-a-password-1", "密码不能包含登录名"),
        (
            ("--unit", "城关街道", "--login", "cg-a", "--name", "张三", "--mobile", "12ab"),
            PASSWORD,
            "手机号须为11位数字",
        ),
    ],
)
def test_user_add_refuses_bad_input_and_keeps_nothing(initialised, monkeypatch, args, password, message):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", password)
    result = initialised("user", "add", *args, status=2)
    assert message in result.output
    assert rows(Account) == []


def test_disable_and_reset_end_the_sessions_and_are_logged(initialised, monkeypatch):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    initialised("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三")
    initialised("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三", status=2)
    from duban.stored_plan import current_plan
    from duban.web import sessions

    with Session(engine()) as session:
        sessions.start(session, current_plan(session), session.exec(select(Account)).one())
        session.commit()
    assert len(rows(WebSession)) == 1
    initialised("user", "disable", "cg-zhang")
    assert rows(WebSession) == [] and rows(Account)[0].disabled
    initialised("user", "enable", "cg-zhang")
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", "Another-pass-2022")
    initialised("user", "reset-password", "cg-zhang")
    (account,) = rows(Account)
    assert PasswordHasher().verify(account.password_hash, "Another-pass-2022") and account.must_change_password
    actions = [e.action for e in rows(AuditEntry, AuditEntry.subject == "account")]
    assert actions == ["add", "disable", "enable", "reset_password"]
    initialised("user", "disable", "nobody", status=2)


# -- 签收 and its ladder ------------------------------------------------------------------------------


def test_a_request_not_acknowledged_is_reminded_then_escalated_and_resolved_once_acknowledged(imported, monkeypatch):
    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    imported("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三", "--as-of", "2022-04-20")
    imported("tick", "--as-of", "2022-05-01")  # the May round opens (Labour Day holidays: 30 April to 4 May)
    # one working day to acknowledge: 5 May is the first working day after the 1st
    escalate_overdue(date(2022, 5, 4))
    assert rows(OutboxMessage, OutboxMessage.kind == "acknowledge_reminder") == []
    escalate_overdue(date(2022, 5, 5))
    reminders = rows(OutboxMessage, OutboxMessage.kind == "acknowledge_reminder")
    assert [(m.recipient, m.subject) for m in reminders] == [("城关街道", "提醒：请签收2022年5月整治进度报送通知")]
    assert rows(Escalation, Escalation.cause == "unacknowledged") == []
    escalate_overdue(date(2022, 5, 6))  # one working day late: 督办 to the township and its reviewers
    (raised,) = rows(Escalation, Escalation.cause == "unacknowledged")
    assert (raised.unit, raised.level, raised.missed_due, raised.cause_key) == (
        "城关街道",
        1,
        date(2022, 5, 5),
        "ack:round:2022-05:城关街道@2022-05-05",
    )
    with Session(engine()) as session:
        asked = acknowledge.requests(session, date(2022, 5, 6), "城关街道")
    # the escalation about acknowledging is not itself asked to be acknowledged
    assert ("round", "2022-05") in {(r.kind, r.key) for r in asked}
    assert str(raised.id) not in {r.key for r in asked if r.kind == "escalation"}
    assert "民政局" in raised.recipients
    escalate_overdue(date(2022, 5, 6))  # again the same day: nothing new
    assert len(rows(Escalation, Escalation.cause == "unacknowledged")) == 1
    assert len(rows(OutboxMessage, OutboxMessage.kind == "acknowledge_reminder")) == 1
    with Session(engine()) as session:
        assert acknowledge.acknowledge(
            session, unit="城关街道", kind="round", key="2022-05", as_of=date(2022, 5, 6), person="张三（城关街道）"
        )
        assert not acknowledge.acknowledge(
            session, unit="城关街道", kind="round", key="2022-05", as_of=date(2022, 5, 6), person="张三（城关街道）"
        )
        with pytest.raises(acknowledge.AcknowledgeError):
            acknowledge.acknowledge(
                session, unit="东城街道", kind="round", key="2022-06", as_of=date(2022, 5, 6), person="x"
            )
        session.commit()
    (resolved,) = rows(Escalation, Escalation.cause == "unacknowledged")
    assert resolved.resolved_on == date(2022, 5, 6)  # resolved as it is signed, not at the next sweep
    escalate_overdue(date(2022, 5, 7))  # a working Saturday: the sweep finds nothing more to resolve or raise
    (resolved,) = rows(Escalation, Escalation.cause == "unacknowledged")
    assert resolved.resolved_on == date(2022, 5, 6)
    (ack,) = rows(Acknowledgement)
    assert (ack.unit, ack.request_kind, ack.request_key, ack.person) == (
        "城关街道",
        "round",
        "2022-05",
        "张三（城关街道）",
    )
    # units without an account are never asked
    assert {e.unit for e in rows(Escalation, Escalation.cause == "unacknowledged")} == {"城关街道"}


def test_a_unit_given_an_account_late_is_counted_from_that_day_and_only_for_what_it_still_owes(imported, monkeypatch):
    """Opened on 9 May, after the round (1 May): reminded on the next working day, not escalated at once;
    once the report is in, the round is no longer asked to be acknowledged."""
    from duban.reporting.reports import ReportLine, get_submission, save_report
    from duban.stored_plan import current_plan

    monkeypatch.setenv("DUBAN_NEW_PASSWORD", PASSWORD)
    imported("tick", "--as-of", "2022-05-01")
    imported("user", "add", "--unit", "城关街道", "--login", "cg-zhang", "--name", "张三", "--as-of", "2022-05-09")
    escalate_overdue(date(2022, 5, 9))
    assert rows(Escalation, Escalation.cause == "unacknowledged") == []
    assert rows(OutboxMessage, OutboxMessage.kind == "acknowledge_reminder") == []
    escalate_overdue(date(2022, 5, 10))  # 9 May + 1 working day
    reminded = rows(OutboxMessage, OutboxMessage.kind == "acknowledge_reminder")
    assert {m.recipient for m in reminded} == {"城关街道"}
    assert "提醒：请签收2022年5月整治进度报送通知" in {m.subject for m in reminded}
    assert rows(Escalation, Escalation.cause == "unacknowledged") == []
    with Session(engine()) as session:
        plan = current_plan(session)
        submission = get_submission(session, plan, "2022-05", "城关街道")
        lines = [ReportLine(item_code=code, progress=0, work_state="未开工") for code in submission.items]
        save_report(session, plan, submission=submission, lines=lines, as_of=date(2022, 5, 10), draft=False)
        session.commit()
        assert [r for r in acknowledge.requests(session, date(2022, 5, 11), "城关街道") if r.kind == "round"] == []
    escalate_overdue(date(2022, 5, 11))
    assert rows(Escalation, Escalation.cause == "unacknowledged") == []


# -- deep links ----------------------------------------------------------------------------------------


def test_messages_link_to_the_page_that_needs_their_reader(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_PORTAL_URL", "https://duban.xxq.gov.cn/")
    monkeypatch.setenv("DUBAN_WECOM_CG", "k" * 20)
    plan = plan_with(
        tmp_path / "plan",
        {
            "城关街道": [{"type": "wecom", "key_env": "DUBAN_WECOM_CG"}, {"type": "email", "to": "cg@xxq.gov.cn"}],
        },
    )
    cli("init", "--plan", plan, "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    cli("tick", "--as-of", "2022-05-01")
    opened = {
        m.channel: m
        for m in rows(OutboxMessage, OutboxMessage.kind == "round_opened", OutboxMessage.recipient == "城关街道")
    }
    link = "https://duban.xxq.gov.cn/reports/2022-05"
    # the link is the last paragraph, above the signature
    office = "XX区社区配套设施规划建设管理工作领导小组办公室"
    assert opened["email"].body.endswith(f"请登录督办平台办理：{link}\n\n{office}\n2022年5月1日")
    assert f'<a href="{link}">登录督办平台办理</a>' in opened["email"].body_html
    assert opened["wecom"].body.endswith(f"[登录督办平台办理]({link})")


def test_without_a_portal_address_messages_carry_no_link(imported, monkeypatch):
    monkeypatch.delenv("DUBAN_PORTAL_URL", raising=False)
    imported("tick", "--as-of", "2022-05-01")
    bodies = [m.body for m in rows(OutboxMessage)]
    assert bodies and not any("督办平台办理" in b for b in bodies)


def test_an_escalation_links_to_the_item(imported, monkeypatch):
    monkeypatch.setenv("DUBAN_PORTAL_URL", "http://127.0.0.1:8000")
    imported("replay", "--from", "2022-07-01", "--to", "2022-07-05")
    items = rows(OutboxMessage, OutboxMessage.kind == "escalation", col(OutboxMessage.body).contains("/items/"))
    assert items
    for message in items:
        code = re.search(r"问题(PT2022-\d{4})", message.subject + message.body).group(1)
        assert f"请登录督办平台办理：http://127.0.0.1:8000/items/{code}\n\n" in message.body
    # a digest of several items links to the page that lists what is under supervision
    digests = rows(OutboxMessage, OutboxMessage.kind == "escalation", col(OutboxMessage.subject).contains("项逾期事项"))
    assert digests
    for message in digests:
        assert message.page == "/supervised"
        assert "请登录督办平台办理：http://127.0.0.1:8000/supervised\n\n" in message.body


# -- who entered a change --------------------------------------------------------------------------


def test_the_terminal_is_logged_as_the_operator_entering_for_the_unit(imported):
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-04-20")
    view = json.loads(imported("item", "show", "PT2022-0001", "--json").output)
    assert view["history"][-1]["who"] == "操作员代录（城关街道）"
    assert view["history"][0]["who"] == "操作员代录（区配套办）"  # the import, typed at the terminal too
    assert audit.who("城关街道", "张三", "portal") == "张三（城关街道）"
    assert PLAN.exists()


def test_each_close_out_step_tells_whoever_acts_next_with_a_link_to_the_item(imported, monkeypatch):
    monkeypatch.setenv("DUBAN_PORTAL_URL", "https://duban.xxq.gov.cn")
    evidence = SAMPLE.parent / "evidence" / "整改完成情况说明.txt"
    move = ("item", "transition", "PT2022-0001")
    imported(*move, "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-05")
    imported(
        *move,
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        "2022-06-01",
        "--note",
        "已完成",
        "--evidence",
        evidence,
    )
    imported(*move, "--to", "in_progress", "--by", "民政局", "--as-of", "2022-06-02", "--note", "缺少验收材料")
    imported(
        *move,
        "--to",
        "close_requested",
        "--by",
        "城关街道",
        "--as-of",
        "2022-06-02",
        "--note",
        "已补充",
        "--evidence",
        evidence,
    )
    imported(*move, "--to", "verified", "--by", "民政局", "--as-of", "2022-06-03")
    sent = rows(OutboxMessage, OutboxMessage.kind == "closeout")
    assert [(m.recipient, m.subject) for m in sorted(sent, key=lambda m: m.id)] == [
        ("民政局", "问题PT2022-0001申请销号，请核验"),
        ("城关街道", "问题PT2022-0001销号申请被退回，请继续整改"),
        ("民政局", "问题PT2022-0001申请销号，请核验"),
        ("区配套办", "问题PT2022-0001已经部门核验，请审核销号"),
    ]
    returned = next(m for m in sent if m.recipient == "城关街道")
    assert "退回理由：缺少验收材料" in returned.body
    assert all("请登录督办平台办理：https://duban.xxq.gov.cn/items/PT2022-0001\n\n" in m.body for m in sent)


def test_two_people_of_one_unit_saving_at_once_keep_one_version_and_the_second_is_told(imported):
    """Both read the report at version 0; the second save is refused with a clear message, not a server error."""
    from duban.reporting.reports import ReportError, ReportLine, get_submission, save_report
    from duban.stored_plan import current_plan
    from models import SubmissionVersion

    imported("tick", "--as-of", "2022-05-01")
    first, second = Session(engine(), expire_on_commit=False), Session(engine(), expire_on_commit=False)
    plan = current_plan(first)
    mine = get_submission(first, plan, "2022-05", "城关街道")
    theirs = get_submission(second, plan, "2022-05", "城关街道")
    line = [ReportLine(item_code=mine.items[0], progress=10, work_state="推进中")]
    save_report(first, plan, submission=mine, lines=line, as_of=date(2022, 5, 3), draft=True)
    first.commit()
    with pytest.raises(ReportError, match="刚刚已由本单位其他人员保存"):
        save_report(second, plan, submission=theirs, lines=line, as_of=date(2022, 5, 3), draft=True)
    second.rollback()
    first.close(), second.close()
    assert [v.version for v in rows(SubmissionVersion)] == [1]


def test_a_write_refused_by_a_busy_sqlite_is_done_again_and_other_errors_are_not():
    from sqlalchemy.exc import OperationalError

    from duban.web.deps import BUSY_TRIES, retried

    calls = []

    def refused(message: str, times: int) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("UPDATE submission ...", {}, Exception(message))
        return "saved"

    assert retried(lambda: refused("database is locked", 2)) == "saved" and len(calls) == 3
    calls.clear()
    with pytest.raises(OperationalError, match="locked"):
        retried(lambda: refused("database is locked", BUSY_TRIES))
    assert len(calls) == BUSY_TRIES
    calls.clear()
    with pytest.raises(OperationalError, match="no such table"):
        retried(lambda: refused("no such table: account", 1))
    assert len(calls) == 1
