"""A programme with every kind of page populated, built in seconds for the portal's page walk.

Not the demo's whole year (`make demo` replays 2022 in ~100 s), but the least that puts something on
every page a person can open: the sample ledger; a May round (城关街道's report accepted and locked,
西城街道's awaiting 民政局's review, 东城街道's returned, the others late and escalated); a close-out with
evidence awaiting 民政局's verification and another item closed; a campaign; a bulletin; the sample
project register with signatures and a returned gate; mechanism documents filed and awaiting the
Office; messages in the outbox. Accounts: one a role (township clerk and head, department clerk and
reviewer, office staff and admin, leader), all with the password `portal.PASSWORD` and no forced change.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

from conftest import EVIDENCE, ROOT, SAMPLE, Cli
from sqlmodel import select

import plans
from duban import config
from duban.db import session_scope
from duban.mechanism import deliverables, gates
from duban.mechanism.run import follow_projects
from duban.reporting.forms import form_rows, submit_online
from duban.reporting.reports import get_submission, review
from duban.stored_plan import current_plan
from models import LedgerItem

REGISTER = ROOT / "samples" / "projects-2022.xlsx"
PERIOD = "2022-05"
DAY = date(2022, 5, 16)  # the portal's day: the round past its deadline, escalations raised
TOWNSHIP = "城关街道"
DEPARTMENT = "民政局"
OFFICE = "区配套办"
LEADER = "区长"
# login: (unit, role, name)
ACCOUNTS = {
    "cg-clerk": (TOWNSHIP, "clerk", "张三"),
    "cg-head": (TOWNSHIP, "head", "张主任"),
    "mz-clerk": (DEPARTMENT, "clerk", "赵敏"),
    "mz-reviewer": (DEPARTMENT, "reviewer", "李四"),
    "pt-staff": (OFFICE, "staff", "王五"),
    "pt-admin": (OFFICE, "sysadmin", "钱管理"),
    "pt-sec": (OFFICE, "secadmin", "孙安全"),
    "pt-audit": (OFFICE, "auditor", "周审计"),
    "qz-leader": (LEADER, "leader", "刘区长"),
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def submit_as_is(unit: str, day: date, summary: str) -> None:
    """A unit submits its pre-filled form, one line moved on (so the review has something to read)."""
    with session_scope() as session:
        plan = current_plan(session)
        rows = form_rows(session, plan, get_submission(session, plan, PERIOD, unit))
        entered = {
            r["code"]: {"progress": str(r["progress"]), "work_state": r["work_state"], "opinion": ""} for r in rows
        }
        submit_online(session, plan, period=PERIOD, unit=unit, entered=entered, summary=summary, as_of=day, draft=False)


def build(home: Path, workdir: Path) -> None:
    """Everything, through the CLI and the domain functions, as the units would do it (DUBAN_HOME set)."""
    cli = Cli()
    cli("init", "--plan", plans.without_second_factor(home.parent), "--as-of", "2022-04-01")
    cli("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    for login, (unit, role, name) in ACCOUNTS.items():
        cli("user", "add", "--unit", unit, "--login", login, "--name", name, "--role", role)
    with closing(sqlite3.connect(home / "duban.db")) as db, db:
        db.execute("UPDATE account SET must_change_password = 0")

    # Close-outs: PT2022-0001 awaits 民政局's verification with evidence; PT2022-0002 is closed.
    for code in ("PT2022-0001", "PT2022-0002"):
        cli("item", "transition", code, "--to", "in_progress", "--by", TOWNSHIP, "--as-of", "2022-04-20")
    cli(
        "item", "transition", "PT2022-0002", "--to", "close_requested", "--by", TOWNSHIP,
        "--note", "用房已收回并交付社区使用。", "--evidence", EVIDENCE, "--as-of", "2022-04-25",
    )  # fmt: skip
    lead_0002 = _lead("PT2022-0002")
    cli("item", "transition", "PT2022-0002", "--to", "verified", "--by", lead_0002, "--as-of", "2022-04-26")
    cli("item", "transition", "PT2022-0002", "--to", "closed", "--by", OFFICE, "--as-of", "2022-04-27")

    # The May round: opened, 城关街道 submits, 东城街道 is returned, the rest are late and escalated.
    cli("tick", "--as-of", "2022-05-01")
    for township in (TOWNSHIP, "东城街道", "西城街道"):
        submit_as_is(township, date(2022, 5, 5), "本月各项整治工作按计划推进。")
    with session_scope() as session:
        plan = current_plan(session)
        for department in get_submission(session, plan, PERIOD, TOWNSHIP).reviewers:  # accepted: locked
            review(session, plan, period=PERIOD, township=TOWNSHIP, by=department, accept=True, reason="",
                   as_of=date(2022, 5, 6))  # fmt: skip
        for department in get_submission(session, plan, PERIOD, "东城街道").reviewers[:1]:
            review(
                session, plan, period=PERIOD, township="东城街道", by=department, accept=False,
                reason="本月进展填写过于简略，请补充后重新报送。", as_of=date(2022, 5, 6),
            )  # fmt: skip
    cli(
        "item", "transition", "PT2022-0001", "--to", "close_requested", "--by", TOWNSHIP,
        "--note", "社区用房已清退并恢复使用，附现场说明。", "--evidence", EVIDENCE, "--as-of", "2022-05-09",
    )  # fmt: skip
    cli("campaign", "start", "--title", "社区用房专项督导", "--category", "社区用房", "--due", "2022-05-20",
        "--as-of", "2022-05-10")  # fmt: skip

    # The mechanism: the register, one project signed by some and returned by one, documents filed.
    cli("project", "import", REGISTER, "--as-of", "2022-05-09")
    with session_scope() as session:
        plan = current_plan(session)
        for n in range(1, 9):
            gates.submit(session, plan, f"XM2022-{n:03d}", by="自然资分局", as_of=date(2022, 5, 9))
        for signer in ("自然资分局", "住建局"):
            gates.sign(session, plan, "XM2022-001", signer=signer, approve=True, as_of=date(2022, 5, 10))
        gates.sign(
            session, plan, "XM2022-002", signer="教体局", approve=False,
            reasons="幼儿园配建面积不足，请补充。", as_of=date(2022, 5, 10),
        )  # fmt: skip
    follow_projects(date(2022, 5, 9))
    pdf = workdir / "印发文件.pdf"
    pdf.write_bytes(PDF)
    with session_scope() as session:
        plan = current_plan(session)
        mine = deliverables.deliverables(session, owner=DEPARTMENT)
        deliverables.set_state(session, plan, mine[0].milestone, DEPARTMENT, "drafting", as_of=date(2022, 5, 10))
        deliverables.file_issued(
            session, plan, mine[-1].milestone, DEPARTMENT, document_no="民政〔2022〕8号",
            issued_on=date(2022, 5, 11), path=pdf, store=config.home() / "deliverables", as_of=date(2022, 5, 11),
        )  # fmt: skip

    # Late reports escalated, reminders and the April bulletin queued.
    cli("tick", "--as-of", DAY.isoformat())
    cli("bulletin", "--period", PERIOD, "--as-of", DAY.isoformat())


def _lead(code: str) -> str:
    with session_scope() as session:
        return session.exec(select(LedgerItem.lead_department).where(LedgerItem.code == code)).one()
