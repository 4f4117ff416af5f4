"""The long-term mechanism (issue 14): projects walked through their joint-review gates, late signers
reminded and escalated, shortfalls holding a gate until waived or made up, the standards worked out by
hand, the register's import rules, the plan's documents as deliverables, and the CLI.

Every date is worked out by hand on the 2022 calendar: Labour Day 04-30..05-04 off with Sunday 04-24
and Saturday 05-07 worked; Dragon Boat 06-03..06-05 off; Mid-Autumn 09-10..09-12 off; National Day
10-01..10-07 off with 10-08 and 10-09 (a weekend) worked. The plan's ladders: missing_submission
1/3/6 working days late, overdue_item 1/10/20.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from conftest import Cli, db_digest
from openpyxl import Workbook
from sqlmodel import Session, col, func, select

from duban import config
from duban.db import session_scope
from duban.items.evidence import EvidenceRefused
from duban.mechanism import MechanismError, deliverables, gates
from duban.mechanism.follow import ProjectFollowUp, follow
from duban.mechanism.view import project_view
from duban.plan import Plan
from duban.stored_plan import current_plan
from models import AuditEntry, Deliverable, Escalation, OutboxMessage, Project, ProjectGate, Signature, Waiver

OFFICE = "区配套办"
DEPUTY = "分管副区长"
HEADER = [
    "项目编号",
    "项目名称",
    "开发建设单位",
    "所在镇办",
    "地块编号",
    "住户数（户）",
    "总建筑面积（平方米）",
    "供地日期",
    "预售日期",
    "竣工日期",
    "承诺社区用房（平方米）",
    "承诺养老服务用房（平方米）",
    "承诺幼儿园（班）",
    "承诺便民商业设施（平方米）",
    "承诺室外健身场地（平方米）",
    "承诺社区卫生服务站（平方米）",
]
# The gates in the plan's order with their signers, lead department first (read off the plan file).
SIGNERS = {
    "planning_conditions": ["自然资分局", "住建局", "教体局", "民政局", "卫健局", "商务局"],
    "land_supply": ["自然资分局", "住建局", "教体局", "民政局", "卫健局", "商务局"],
    "handover_agreement": ["自然资分局", "教体局", "民政局", "卫健局", "商务局"],
    "construction_permit": ["住建局"],
    "presale_consultation": ["住建局", "教体局", "民政局", "卫健局", "商务局"],
    "completion_review": ["住建局", "自然资分局", "教体局", "民政局", "卫健局", "商务局"],
    "handover_registration": ["自然资分局", "教体局", "民政局", "卫健局", "商务局"],
    "use_supervision": ["民政局", "教体局", "卫健局", "商务局", "财政局"],
}
LEAD = {gate: signers[0] for gate, signers in SIGNERS.items()}
# 1250 households, everything the sample standards ask (see test_required_facilities_...):
# 社区用房 375, 养老 250, 幼儿园 6 班, 便民商业 500, 健身 375, 卫生服务站 0.
FULL_1250 = (375, 250, 6, 500, 375, 0)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def d(text: str) -> date:
    return date.fromisoformat(text)


def iso(day: date | None) -> str | None:
    return day and day.isoformat()


def row(
    code: str,
    households: int,
    commitments: tuple[int, ...],
    *,
    township: str = "城关街道",
    land: str = "2022-05-20",
    presale: str = "2023-06-30",
    completion: str = "2024-12-31",
) -> list[object]:
    own = [code, f"项目{code}", "XX置业有限公司", township, f"DK-{code}", households, households * 100]
    return [*own, land, presale, completion, *commitments]


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    """As a clerk's Excel holds it: dates as dates, numbers as numbers."""
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    dated = [title in ("供地日期", "预售日期", "竣工日期") for title in header]
    for values in rows:
        sheet.append([d(v) if is_date else v for is_date, v in zip(dated, values, strict=True)])
    book.save(path)
    return path


@contextmanager
def work() -> Iterator[tuple[Session, Plan]]:
    """One unit of work, as each CLI command and portal request is."""
    with session_scope() as session:
        yield session, current_plan(session)


def sign(code: str, signer: str, day: str, *, gate: str | None = None, reasons: str = "", conditions: str = "") -> None:
    """One signer's opinion, in its own transaction; with reasons it is a rejection."""
    opinion = {"approve": not reasons, "reasons": reasons, "conditions": conditions}
    with work() as (session, plan):
        gates.sign(session, plan, code, signer=signer, **opinion, as_of=d(day), gate_code=gate)


def sign_all(code: str, gate: str, day: str, signers: list[str] | None = None) -> None:
    for signer in SIGNERS[gate] if signers is None else signers:
        sign(code, signer, day, gate=gate)


def refused(step: object, *args: object, **kwargs: object) -> str:
    """The Chinese message of a step the mechanism refuses."""
    with pytest.raises(MechanismError) as caught, work() as (session, plan):
        step(session, plan, *args, **kwargs)
    return str(caught.value)


def follow_on(day: str) -> ProjectFollowUp:
    with work() as (session, plan):
        return follow(session, plan, d(day))


def gate_rows(code: str) -> dict[str, tuple]:
    with session_scope() as session:
        query = select(ProjectGate).join(Project).where(Project.code == code).order_by(col(ProjectGate.seq))
        dates = ("submitted_on", "due_on", "returned_on", "resubmit_due", "passed_on")
        return {g.gate: (g.state, g.round, *(iso(getattr(g, k)) for k in dates)) for g in session.exec(query)}


def where_project(code: str) -> tuple[str | None, str]:
    with session_scope() as session:
        project = session.exec(select(Project).where(Project.code == code)).one()
        return project.gate, project.gate_state


def signatures(code: str, gate: str) -> list[tuple]:
    with session_scope() as session:
        query = (
            select(Signature)
            .join(ProjectGate)
            .join(Project)
            .where(Project.code == code, ProjectGate.gate == gate)
            .order_by(col(Signature.round), col(Signature.id))
        )
        return [(s.round, s.signer, s.decision, iso(s.due_on), iso(s.signed_on)) for s in session.exec(query)]


def told(cause_key: str, level: int | None = None) -> tuple[str, ...]:
    """The key prefixes of the messages that told a cause's escalations (at `level`): each run of the ladder
    queues one digest per recipient and level, so a message's key names the run, not the cause."""
    with session_scope() as session:
        query = select(Escalation.notice_key).where(Escalation.cause_key == cause_key)
        if level is not None:
            query = query.where(Escalation.level == level)
        return tuple(f"{key}|" for key in session.exec(query))


def messages(*kinds: str, key: str | tuple[str, ...] = "") -> list[tuple[str, str, str]]:
    """(kind, recipient, day) of the queued messages of these kinds, in the order they were queued."""
    with session_scope() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind).in_(kinds)).order_by(col(OutboxMessage.id))
        return [
            (m.kind, m.recipient, m.created_on.isoformat())
            for m in session.exec(query)
            if m.idempotency_key.startswith(key)
        ]


def bodies(kind: str, recipient: str, *, key: str | tuple[str, ...] = "") -> list[str]:
    with session_scope() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient)
        rows = session.exec(query.order_by(col(OutboxMessage.id)))
        return [m.body for m in rows if m.idempotency_key.startswith(key)]


def counts() -> tuple[int, int, int]:
    """Messages, escalations and audit entries: what a repeated run must not add to."""
    with session_scope() as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (OutboxMessage, Escalation, AuditEntry)
        )


def trail(subject: str, key: str) -> list[tuple]:
    with session_scope() as session:
        query = select(AuditEntry).where(AuditEntry.subject == subject, AuditEntry.subject_key == key)
        return [
            (e.action, e.actor, e.effective_on.isoformat(), (e.after or {}).get("gate"))
            for e in session.exec(query.order_by(col(AuditEntry.id)))
        ]


def escalations(cause: str) -> list[tuple]:
    with session_scope() as session:
        query = select(Escalation).where(Escalation.cause == cause).order_by(col(Escalation.id))
        return [
            (e.cause_key, e.level, e.unit, iso(e.missed_due), iso(e.raised_on), iso(e.resolved_on), e.recipients)
            for e in session.exec(query)
        ]


def days(first: str, last: str) -> list[str]:
    return [date.fromordinal(n).isoformat() for n in range(d(first).toordinal(), d(last).toordinal() + 1)]


# -- 1. every gate, a rejection and a resubmission; a pre-sale after completion skips a gate ----------


def submit(code: str, gate: str, day: str, *, note: str = "") -> None:
    """The gate's lead department puts it to the signers."""
    with work() as (session, plan):
        gates.submit(session, plan, code, by=LEAD[gate], note=note, as_of=d(day), gate_code=gate)


def submitted(gate: str, day: str) -> list[tuple]:
    return [("gate_submitted", LEAD[gate], day, gate)]


def approved(gate: str, day: str, signers: list[str] | None = None) -> list[tuple]:
    return [("signed", s, day, gate) for s in SIGNERS[gate] if signers is None or s in signers]


def passes(gate: str, day: str, then: str | None) -> list[tuple]:
    return [("gate_passed", LEAD[gate], day, gate)] + ([("gate_opened", LEAD[then], day, then)] if then else [])


def asked(gate: str, day: str) -> list[tuple]:
    return [("gate_review", s, day) for s in SIGNERS[gate]]


def told_to_submit(gate: str, day: str) -> list[tuple]:
    return [("gate_open", LEAD[gate], day)]


REASONS = "供地条件未写明幼儿园的建设方式和移交时限"
CONDITIONS = "将6班幼儿园的建设内容、产权归属和移交要求写入供地条件"
WAITING = ("waiting", 0, None, None, None, None, None)
OPEN = ("open", 0, None, None, None, None, None)


def test_a_project_walks_through_every_gate_with_a_rejection_and_a_resubmission(
    initialised: Cli, tmp_path: Path
) -> None:
    # Pre-sale 2023-06-30 comes before completion 2024-12-31: the pre-sale consultation is held.
    register = write_csv(tmp_path / "项目库.csv", [row("XM-A", 1250, FULL_1250)])
    initialised("project", "import", register, "--as-of", "2022-04-22")
    assert gate_rows("XM-A") == {"planning_conditions": OPEN, **{g: WAITING for g in list(SIGNERS)[1:]}}
    assert where_project("XM-A") == ("planning_conditions", "open")
    assert refused(gates.sign, "XM-A", signer="住建局", approve=True, as_of=d("2022-04-22")) == (
        "项目XM-A规划条件联合审查尚未提交会签（待提交），待牵头部门提交后再签署"
    )
    assert refused(gates.submit, "XM-A", by="住建局", as_of=d("2022-04-22")) == (
        "规划条件联合审查由自然资分局牵头，住建局不能提交"
    )
    assert refused(gates.submit, "XM-A", by="自然资分局", as_of=d("2022-04-21")) == "提交日期2022-04-21早于2022-04-22"

    submit("XM-A", "planning_conditions", "2022-04-22")
    # Friday 04-22 + 10 working days: 04-24 (Sun, worked) 25 26 27 28 29, Labour Day off, 05-05 06 07 (Sat,
    # worked) 09 -> 2022-05-09.
    assert gate_rows("XM-A")["planning_conditions"] == ("in_review", 1, "2022-04-22", "2022-05-09", None, None, None)
    assert where_project("XM-A") == ("planning_conditions", "in_review")
    assert refused(gates.sign, "XM-A", signer="住建局", approve=True, as_of=d("2022-04-21")) == (
        "签署日期2022-04-21早于本轮提交日期2022-04-22"
    )

    sign_all("XM-A", "planning_conditions", "2022-04-26")
    assert gate_rows("XM-A")["planning_conditions"][0::6] == ("passed", "2022-04-26")
    assert gate_rows("XM-A")["land_supply"] == OPEN
    assert refused(gates.submit, "XM-A", by="自然资分局", as_of=d("2022-04-25")) == (
        "提交日期2022-04-25早于2022-04-26"  # the land-supply review opened when the planning conditions passed
    )
    submit("XM-A", "land_supply", "2022-04-26")
    # 04-26 + 10: 27 28 29, 05-05 06 07 09 10 11 12 -> 2022-05-12.
    assert gate_rows("XM-A")["land_supply"] == ("in_review", 1, "2022-04-26", "2022-05-12", None, None, None)

    sign("XM-A", "自然资分局", "2022-04-27", gate="land_supply")
    sign("XM-A", "住建局", "2022-04-27", gate="land_supply")
    sign("XM-A", "教体局", "2022-04-29", gate="land_supply", reasons=REASONS, conditions=CONDITIONS)
    # Returned on Friday 04-29; to be submitted again within 2 working days: 05-05 06 -> 2022-05-06.
    returned = ("returned", 1, "2022-04-26", "2022-05-12", "2022-04-29", "2022-05-06", None)
    assert gate_rows("XM-A")["land_supply"] == returned
    assert where_project("XM-A") == ("land_supply", "returned")
    assert signatures("XM-A", "land_supply") == [
        (1, "自然资分局", "approved", "2022-05-12", "2022-04-27"),
        (1, "住建局", "approved", "2022-05-12", "2022-04-27"),
        (1, "教体局", "rejected", "2022-05-12", "2022-04-29"),
        (1, "民政局", "void", "2022-05-12", None),
        (1, "卫健局", "void", "2022-05-12", None),
        (1, "商务局", "void", "2022-05-12", None),
    ]
    [returned_body] = bodies("gate_returned", "自然资分局")
    assert f"不同意理由：{REASONS}" in returned_body and f"整改要求：{CONDITIONS}" in returned_body
    assert "于2022年5月6日前重新提交联合审查" in returned_body
    assert refused(gates.sign, "XM-A", signer="民政局", approve=True, as_of=d("2022-04-29")) == (
        "项目XM-A供地条件联合审查尚未提交会签（已退回），待牵头部门提交后再签署"
    )
    assert refused(gates.submit, "XM-A", by="住建局", as_of=d("2022-05-05")) == (
        "供地条件联合审查由自然资分局牵头，住建局不能提交"
    )
    assert refused(gates.submit, "XM-A", by="自然资分局", as_of=d("2022-04-28")) == "提交日期2022-04-28早于2022-04-29"

    submit("XM-A", "land_supply", "2022-05-05", note="已按要求修改供地条件")
    # Round 2 from Thursday 05-05 + 10: 06 07 09 10 11 12 13 16 17 18 -> 2022-05-18; everyone is asked again.
    assert gate_rows("XM-A")["land_supply"] == ("in_review", 2, "2022-05-05", "2022-05-18", None, None, None)
    assert "（第2次提交）" in bodies("gate_review", "民政局")[-1]
    sign_all("XM-A", "land_supply", "2022-05-10")
    assert signatures("XM-A", "land_supply")[6:] == [
        (2, s, "approved", "2022-05-18", "2022-05-10") for s in SIGNERS["land_supply"]
    ]

    submit("XM-A", "handover_agreement", "2022-05-11")  # a day after it opened
    sign_all("XM-A", "handover_agreement", "2022-05-20")
    for gate, opened_on, signed_on in [  # each submitted the day it opened
        ("construction_permit", "2022-05-20", "2022-05-27"),
        ("presale_consultation", "2022-05-27", "2022-06-06"),
        ("completion_review", "2022-06-06", "2022-06-20"),
        ("handover_registration", "2022-06-20", "2022-07-15"),
        ("use_supervision", "2022-07-15", "2022-08-12"),
    ]:
        assert gate_rows("XM-A")[gate] == OPEN
        submit("XM-A", gate, opened_on)
        sign_all("XM-A", gate, signed_on)

    assert gate_rows("XM-A") == {
        "planning_conditions": ("passed", 1, "2022-04-22", "2022-05-09", None, None, "2022-04-26"),
        "land_supply": ("passed", 2, "2022-05-05", "2022-05-18", None, None, "2022-05-10"),
        # 05-11 + 15: 12 13 16 17 18 19 20 23 24 25 26 27 30 31, 06-01
        "handover_agreement": ("passed", 1, "2022-05-11", "2022-06-01", None, None, "2022-05-20"),
        # 05-20 + 5: 23 24 25 26 27
        "construction_permit": ("passed", 1, "2022-05-20", "2022-05-27", None, None, "2022-05-27"),
        # 05-27 + 5: 30 31, 06-01 02, Dragon Boat 03-05 off, 06
        "presale_consultation": ("passed", 1, "2022-05-27", "2022-06-06", None, None, "2022-06-06"),
        # 06-06 + 10: 07 08 09 10 13 14 15 16 17 20
        "completion_review": ("passed", 1, "2022-06-06", "2022-06-20", None, None, "2022-06-20"),
        # 06-20 + 20: 21 22 23 24 27 28 29 30, 07-01 04 05 06 07 08 11 12 13 14 15 18
        "handover_registration": ("passed", 1, "2022-06-20", "2022-07-18", None, None, "2022-07-15"),
        # 07-15 + 20: 18-22, 25-29, 08-01..05, 08..12
        "use_supervision": ("passed", 1, "2022-07-15", "2022-08-12", None, None, "2022-08-12"),
    }
    assert where_project("XM-A") == (None, "done")

    assert messages("gate_open", "gate_review", "gate_returned", "gate_blocked") == [
        *told_to_submit("planning_conditions", "2022-04-22"),
        *asked("planning_conditions", "2022-04-22"),
        *told_to_submit("land_supply", "2022-04-26"),
        *asked("land_supply", "2022-04-26"),
        ("gate_returned", "自然资分局", "2022-04-29"),
        *asked("land_supply", "2022-05-05"),
        *told_to_submit("handover_agreement", "2022-05-10"),
        *asked("handover_agreement", "2022-05-11"),
        *told_to_submit("construction_permit", "2022-05-20"),
        *asked("construction_permit", "2022-05-20"),
        *told_to_submit("presale_consultation", "2022-05-27"),
        *asked("presale_consultation", "2022-05-27"),
        *told_to_submit("completion_review", "2022-06-06"),
        *asked("completion_review", "2022-06-06"),
        *told_to_submit("handover_registration", "2022-06-20"),
        *asked("handover_registration", "2022-06-20"),
        *told_to_submit("use_supervision", "2022-07-15"),
        *asked("use_supervision", "2022-07-15"),
    ]
    assert trail("project", "XM-A") == [
        ("registered", OFFICE, "2022-04-22", None),
        ("gate_opened", "自然资分局", "2022-04-22", "planning_conditions"),
        *submitted("planning_conditions", "2022-04-22"),
        *approved("planning_conditions", "2022-04-26"),
        *passes("planning_conditions", "2022-04-26", "land_supply"),
        *submitted("land_supply", "2022-04-26"),
        *approved("land_supply", "2022-04-27", ["自然资分局", "住建局"]),
        ("rejected", "教体局", "2022-04-29", "land_supply"),
        ("submission_note", "自然资分局", "2022-05-05", "land_supply"),
        *submitted("land_supply", "2022-05-05"),
        *approved("land_supply", "2022-05-10"),
        *passes("land_supply", "2022-05-10", "handover_agreement"),
        *submitted("handover_agreement", "2022-05-11"),
        *approved("handover_agreement", "2022-05-20"),
        *passes("handover_agreement", "2022-05-20", "construction_permit"),
        *submitted("construction_permit", "2022-05-20"),
        *approved("construction_permit", "2022-05-27"),
        *passes("construction_permit", "2022-05-27", "presale_consultation"),
        *submitted("presale_consultation", "2022-05-27"),
        *approved("presale_consultation", "2022-06-06"),
        *passes("presale_consultation", "2022-06-06", "completion_review"),
        *submitted("completion_review", "2022-06-06"),
        *approved("completion_review", "2022-06-20"),
        *passes("completion_review", "2022-06-20", "handover_registration"),
        *submitted("handover_registration", "2022-06-20"),
        *approved("handover_registration", "2022-07-15"),
        *passes("handover_registration", "2022-07-15", "use_supervision"),
        *submitted("use_supervision", "2022-07-15"),
        *approved("use_supervision", "2022-08-12"),
        *passes("use_supervision", "2022-08-12", None),
    ]
    with session_scope() as session:
        rejection = session.exec(select(AuditEntry).where(AuditEntry.action == "rejected")).one()
        resubmission = session.exec(
            select(AuditEntry).where(AuditEntry.action == "gate_submitted").order_by(col(AuditEntry.id))
        ).all()[2]
    assert (rejection.note, rejection.after) == (
        REASONS,
        {"gate": "land_supply", "round": 1, "decision": "rejected", "conditions": CONDITIONS},
    )
    assert resubmission.after == {"gate": "land_supply", "round": 2, "due_on": "2022-05-18"}
    assert refused(gates.sign, "XM-A", signer="民政局", approve=True, as_of=d("2022-08-15")) == (
        "项目XM-A当前没有待会签的环节"
    )


def test_a_presale_after_completion_skips_the_presale_consultation(initialised: Cli, tmp_path: Path) -> None:
    late_presale = row("XM-B", 1250, FULL_1250, presale="2024-09-30", completion="2024-06-30")
    initialised("project", "import", write_csv(tmp_path / "b.csv", [late_presale]), "--as-of", "2022-09-30")
    submit("XM-B", "planning_conditions", "2022-09-30")
    # Friday 09-30 + 10: National Day 10-01..07 off, 10-08 and 10-09 worked, 10 11 12 13 14 17 18 19.
    assert gate_rows("XM-B")["planning_conditions"][:4] == ("in_review", 1, "2022-09-30", "2022-10-19")
    for gate in ("planning_conditions", "land_supply", "handover_agreement", "construction_permit"):
        if gate != "planning_conditions":
            submit("XM-B", gate, "2022-10-10")
        sign_all("XM-B", gate, "2022-10-10")
    rows = gate_rows("XM-B")
    assert rows["presale_consultation"] == ("skipped", 0, None, None, None, None, None)
    assert rows["completion_review"] == OPEN
    assert where_project("XM-B") == ("completion_review", "open")
    assert trail("project", "XM-B")[-3:] == [
        ("gate_passed", "住建局", "2022-10-10", "construction_permit"),
        ("gate_skipped", "住建局", "2022-10-10", "presale_consultation"),
        ("gate_opened", "住建局", "2022-10-10", "completion_review"),
    ]
    with session_scope() as session:
        skipped = session.exec(select(AuditEntry).where(AuditEntry.action == "gate_skipped")).one()
    assert skipped.note == "预售晚于竣工或无预售，不适用"
    assert messages("gate_open", "gate_review", key="gate:XM-B:presale_consultation") == []
    submit("XM-B", "completion_review", "2022-10-11")
    # 10-11 + 10: 12 13 14 17 18 19 20 21 24 25
    assert gate_rows("XM-B")["completion_review"] == ("in_review", 1, "2022-10-11", "2022-10-25", None, None, None)
    assert messages("gate_open", "gate_review")[-7:] == [
        *told_to_submit("completion_review", "2022-10-10"),
        *asked("completion_review", "2022-10-11"),
    ]


# -- 2. a late signer reminded and escalated -------------------------------------------------------


def test_a_late_signer_is_reminded_escalated_day_by_day_and_cleared_by_signing(
    initialised: Cli, tmp_path: Path
) -> None:
    initialised(
        "project", "import", write_csv(tmp_path / "l.csv", [row("XM-L", 1250, FULL_1250)]), "--as-of", "2022-04-22"
    )
    submit("XM-L", "planning_conditions", "2022-04-22")
    sign_all("XM-L", "planning_conditions", "2022-04-26", ["自然资分局", "住建局", "教体局", "民政局", "商务局"])
    idle = ["2022-04-23", "2022-04-30", "2022-05-01", "2022-05-02", "2022-05-03", "2022-05-04", "2022-05-08"]
    idle += ["2022-05-14", "2022-05-15"]
    for day in days("2022-04-22", "2022-05-17"):
        before = counts()
        first = follow_on(day)
        if day in idle:  # not a working day: nothing reminded, nothing raised
            assert (first.reminders, first.ladder.raised, counts()) == (0, [], before), day
        after = counts()
        again = follow_on(day)
        assert (again.made, again.passed, again.reminders, again.ladder.raised) == (0, [], 0, []), day
        assert counts() == after, day

    # Due Monday 05-09: 1 working day before is Saturday 05-07 (worked), 0 is 05-09 itself.
    assert messages("gate_reminder") == [
        ("gate_reminder", "卫健局", "2022-05-07"),
        ("gate_reminder", "卫健局", "2022-05-09"),
    ]
    first, last = bodies("gate_reminder", "卫健局")
    assert "会签期限为2022年5月9日，距期限还有1个工作日" in first and "今日（2022年5月9日）为会签期限" in last
    # Late by 1 working day on 05-10, 3 on 05-12, 6 on 05-17 (10 11 12 13 16 17).
    key = "countersign:XM-L:planning_conditions:r1:卫健局@2022-05-09"
    level1, level2 = ["卫健局", "自然资分局"], [OFFICE, "卫健局", "自然资分局"]
    level3 = [DEPUTY, OFFICE, "卫健局", "自然资分局"]
    assert escalations("late_countersign") == [
        (key, 1, "卫健局", "2022-05-09", "2022-05-10", None, level1),
        (key, 2, "卫健局", "2022-05-09", "2022-05-12", None, level2),
        (key, 3, "卫健局", "2022-05-09", "2022-05-17", None, level3),
    ]
    assert messages("escalation", key=told(key)) == [
        *[("escalation", u, "2022-05-10") for u in level1],
        *[("escalation", u, "2022-05-12") for u in level2],
        *[("escalation", u, "2022-05-17") for u in level3],
    ]
    [warned] = bodies("escalation", DEPUTY, key=told(key, 3))
    assert "卫健局应于2022年5月9日前对“项目XM-L（XM-L）规划条件联合审查”签署会签意见" in warned
    assert "截至2022年5月17日仍未签署，已逾期6个工作日" in warned
    with work() as (session, plan):
        view = project_view(session, plan, gates.get_project(session, "XM-L"), d("2022-05-17"))
    late = [(s["signer"], s["late"]) for s in view["gates"][0]["signatures"]]
    assert late == [(s, s == "卫健局") for s in SIGNERS["planning_conditions"]]

    sign("XM-L", "卫健局", "2022-05-18", gate="planning_conditions")
    assert gate_rows("XM-L")["planning_conditions"][0::6] == ("passed", "2022-05-18")
    resolved_by_signing = [(e[1], e[4], e[5]) for e in escalations("late_countersign")]
    cleared = follow_on("2022-05-18")  # the signature resolved them as it was recorded: nothing left to the sweep
    assert [e for e in cleared.ladder.resolved if e.cause == "late_countersign"] == []
    assert resolved_by_signing == [(e[1], e[4], e[5]) for e in escalations("late_countersign")]
    assert [(e[1], e[4], e[5]) for e in escalations("late_countersign")] == [
        (1, "2022-05-10", "2022-05-18"),
        (2, "2022-05-12", "2022-05-18"),
        (3, "2022-05-17", "2022-05-18"),
    ]
    follow_on("2022-05-19")
    assert len(escalations("late_countersign")) == 3


def test_a_returned_gate_not_submitted_again_in_time_escalates_its_lead_department(
    initialised: Cli, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [row("XM-R", 1250, FULL_1250)])
    initialised("project", "import", path, "--as-of", "2022-06-01")
    submit("XM-R", "planning_conditions", "2022-06-01")
    sign("XM-R", "商务局", "2022-06-08", gate="planning_conditions", reasons="便民商业设施位置不明")
    # Returned Wednesday 06-08, to be submitted again within 2 working days: 09 10 -> 06-10. Late by 1
    # working day on 06-13, 3 on 06-15, 6 on 06-20 (13 14 15 16 17 20).
    for day in days("2022-06-08", "2022-06-20"):
        follow_on(day)
    key = "resubmit:XM-R:planning_conditions:r1@2022-06-10"
    assert escalations("late_resubmission") == [
        (key, 1, "自然资分局", "2022-06-10", "2022-06-13", None, ["自然资分局"]),
        (key, 2, "自然资分局", "2022-06-10", "2022-06-15", None, [OFFICE, "自然资分局"]),
        (key, 3, "自然资分局", "2022-06-10", "2022-06-20", None, [DEPUTY, OFFICE, "自然资分局"]),
    ]
    submit("XM-R", "planning_conditions", "2022-06-21", note="已明确便民商业设施位置")
    follow_on("2022-06-21")
    assert [(e[1], e[5]) for e in escalations("late_resubmission")] == [
        (1, "2022-06-21"),
        (2, "2022-06-21"),
        (3, "2022-06-21"),
    ]


# -- 3. a shortfall blocks a gate until waived, or until the register raises the commitment ---------


def test_a_shortfall_holds_a_gate_until_the_office_waives_it_or_the_commitment_is_raised(
    initialised: Cli, tmp_path: Path
) -> None:
    # XM-S, 1800 households: 社区用房 ceil(1800×30/100) = 540 m², committed 400 -> short by 140.
    #   Otherwise 养老 1800×20/100 = 360, 幼儿园 max(6, ceil(5.4) = 6) = 6, 便民 720, 健身 540, 卫生 0 (< 3000).
    # XM-K, 3200 households: 幼儿园 max(6, ceil(3200×3/1000 = 9.6) = 10) = 10 班, committed 6 -> short by 4.
    #   Otherwise 社区用房 960, 养老 640, 便民 1280, 健身 960, 卫生服务站 max(150, 0) = 150 (≥ 3000).
    short = row("XM-S", 1800, (400, 360, 6, 720, 540, 0), township="北关街道")
    kindergarten = [row("XM-K", 3200, (960, 640, 6, 1280, 960, 150), township="西城街道")]
    initialised("project", "import", write_csv(tmp_path / "s.csv", [short, *kindergarten]), "--as-of", "2022-06-01")
    submit("XM-S", "planning_conditions", "2022-06-01")
    submit("XM-K", "planning_conditions", "2022-06-01")
    said_s = "社区用房应配建540平方米，承诺400平方米，缺口140平方米"
    said_k = "幼儿园应配建10班，承诺6班，缺口4班"
    assert f"经核算，该项目配建承诺存在缺口：{said_s}。" in bodies("gate_review", "民政局")[0]

    sign_all("XM-S", "planning_conditions", "2022-06-08")
    sign_all("XM-K", "planning_conditions", "2022-06-08")
    # 06-01 + 10: 06-02, Dragon Boat off, 06 07 08 09 10 13 14 15 16.
    assert gate_rows("XM-S")["planning_conditions"] == ("in_review", 1, "2022-06-01", "2022-06-16", None, None, None)
    assert where_project("XM-S") == ("planning_conditions", "in_review")
    with work() as (session, plan):
        held = {}
        for code in ("XM-S", "XM-K"):
            project = gates.get_project(session, code)
            held[code] = gates.blocked(session, plan, project, gates.current_gate(session, project))
    assert held == {"XM-S": said_s, "XM-K": said_k}
    follow_on("2022-06-09")
    follow_on("2022-06-09")
    assert messages("gate_blocked") == [("gate_blocked", OFFICE, "2022-06-08")] * 2  # once per project
    assert said_s in bodies("gate_blocked", OFFICE)[0] and said_k in bodies("gate_blocked", OFFICE)[1]

    # The register raises XM-K's commitment to 10 classes: the gate is freed by the import itself.
    kindergarten = [row("XM-K", 3200, (960, 640, 10, 1280, 960, 150), township="西城街道")]
    out = initialised(
        "project", "import", write_csv(tmp_path / "s2.csv", [short, *kindergarten]), "--as-of", "2022-06-09"
    )
    assert "新增项目 0 个，更新 1 个，无变化 1 个" in out.output
    assert "补足配建后通过的环节：XM-K:planning_conditions" in out.output
    assert gate_rows("XM-K")["planning_conditions"][0::6] == ("passed", "2022-06-09")
    assert gate_rows("XM-K")["land_supply"] == OPEN
    with session_scope() as session:
        update = session.exec(select(AuditEntry).where(AuditEntry.action == "updated")).one()
    committed = {"community_premises": 960, "elderly_care": 640, "convenience_commerce": 1280, "fitness": 960}
    committed["health_station"] = 150
    assert (update.subject_key, update.before, update.after) == (
        "XM-K",
        {"commitments": {**committed, "kindergarten": 6}},
        {"commitments": {**committed, "kindergarten": 10}},
    )

    # Only the Office records a waiver, with a reason, for a standard that falls short.
    waive = gates.waive
    assert refused(waive, "XM-S", standard="社区用房", reason="已有用房", by="自然资分局", as_of=d("2022-06-10")) == (
        "配建缺口豁免须由区配套办记录，自然资分局无此权限"
    )
    assert (
        refused(waive, "XM-S", standard="社区用房", reason=" ", by=OFFICE, as_of=d("2022-06-10"))
        == "记录豁免须写明理由"
    )
    assert refused(waive, "XM-S", standard="elderly_care", reason="无", by=OFFICE, as_of=d("2022-06-10")) == (
        "项目XM-S的养老服务用房没有缺口（应配建360平方米，承诺360平方米）"
    )
    assert gate_rows("XM-S")["planning_conditions"][0] == "in_review"
    assert not [e for e in trail("project", "XM-S") if e[0] == "shortfall_waived"]

    reason = "该地块紧邻已建成的社区综合服务中心，经研究以既有用房补足"
    with work() as (session, plan):
        gates.waive(session, plan, "XM-S", standard="社区用房", reason=reason, by=OFFICE, as_of=d("2022-06-10"))
    with session_scope() as session:
        [waiver] = session.exec(select(Waiver)).all()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "shortfall_waived")).one()
    assert (waiver.standard, waiver.shortfall, waiver.reason, waiver.granted_on, waiver.granted_by) == (
        "community_premises",
        140,
        reason,
        d("2022-06-10"),
        OFFICE,
    )
    assert (entry.subject, entry.subject_key, entry.actor, entry.effective_on, entry.after, entry.note) == (
        "project",
        "XM-S",
        OFFICE,
        d("2022-06-10"),
        {"standard": "community_premises", "shortfall": 140},
        reason,
    )
    # Passed on the waiver; the next gate opened, its signers not told of a shortfall that was waived.
    assert gate_rows("XM-S")["planning_conditions"][0::6] == ("passed", "2022-06-10")
    assert gate_rows("XM-S")["land_supply"] == OPEN
    submit("XM-S", "land_supply", "2022-06-10")
    # 06-10 + 10: 13 14 15 16 17 20 21 22 23 24
    assert gate_rows("XM-S")["land_supply"][:4] == ("in_review", 1, "2022-06-10", "2022-06-24")
    assert "存在缺口" not in bodies("gate_review", "民政局")[-1]
    assert refused(waive, "XM-S", standard="community_premises", reason="再次", by=OFFICE, as_of=d("2022-06-13")) == (
        "项目XM-S的社区用房缺口140平方米已于2022-06-10记录豁免"
    )
    assert messages("gate_blocked") == [("gate_blocked", OFFICE, "2022-06-08")] * 2


# -- 4. what three projects must provide, worked out by hand ----------------------------------------


def test_required_facilities_of_three_projects_match_the_hand_worked_standards(
    initialised: Cli, tmp_path: Path
) -> None:
    projects = [
        row("XM-1", 1250, (375, 200, 6, 500, 375, 0)),
        row("XM-2", 3451, (1036, 691, 8, 1381, 1036, 100), township="新城街道"),
        row("XM-3", 640, (300, 200, 0, 300, 300, 0), township="南关街道"),
    ]
    initialised("project", "import", write_csv(tmp_path / "three.csv", projects), "--as-of", "2022-05-05")
    expected = {
        # 1250 households (≥ 1000, < 3000):
        #   社区用房 ceil(1250×30/100) = 375 ≥ 300; 养老 ceil(1250×20/100) = 250 ≥ 200;
        #   幼儿园 max(6, ceil(1250×3/1000 = 3.75) = 4) = 6; 便民 1250×40/100 = 500;
        #   健身 ceil(1250×30/100) = 375 ≥ 300; 卫生服务站 0 (below 3000).
        "XM-1": [(375, 375), (250, 200), (6, 6), (500, 500), (375, 375), (0, 0)],
        # 3451 households (≥ 3000): 社区用房 ceil(1035.3) = 1036; 养老 ceil(690.2) = 691;
        #   幼儿园 max(6, ceil(10.353) = 11) = 11; 便民 ceil(1380.4) = 1381; 健身 ceil(1035.3) = 1036;
        #   卫生服务站 max(150, ceil(3451×0/1000) = 0) = 150.
        "XM-2": [(1036, 1036), (691, 691), (11, 8), (1381, 1381), (1036, 1036), (150, 100)],
        # 640 households (< 1000): 社区用房 max(300, ceil(192)) = 300; 养老 max(200, 128) = 200;
        #   幼儿园 0 (below 1000); 便民 ceil(256) = 256; 健身 max(300, 192) = 300; 卫生服务站 0.
        "XM-3": [(300, 300), (200, 200), (0, 0), (256, 300), (300, 300), (0, 0)],
    }
    facilities = ["社区用房", "养老服务用房", "幼儿园", "便民商业设施", "室外健身场地", "社区卫生服务站"]
    for code, figures in expected.items():
        shown = json.loads(initialised("project", "show", code, "--as-of", "2022-05-05", "--json").output)
        got = [(p["facility"], p["required"], p["committed"], p["shortfall"]) for p in shown["provisions"]]
        assert got == [(f, r, c, max(0, r - c)) for f, (r, c) in zip(facilities, figures, strict=True)], code
    listed = json.loads(initialised("project", "list", "--as-of", "2022-05-05", "--json").output)
    # XM-1 short of 50 m² elderly care; XM-2 short of 3 classes and 50 m² of the health station.
    assert [(r["code"], r["shortfalls"], r["waived"]) for r in listed] == [
        ("XM-1", 1, 0),
        ("XM-2", 2, 0),
        ("XM-3", 0, 0),
    ]


# -- 5. the register's import: all or nothing, named problems, repeatable, csv and xlsx -------------


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def bad_rows() -> list[list[object]]:
    in_words, not_whole = row("XM-T-02", 1250, FULL_1250), row("XM-T-03", 1250, FULL_1250)
    in_words[5], not_whole[5] = "一千二百", 1250.5  # 住户数（户）
    return [
        row("XM-T-01", 1250, FULL_1250, township="东关镇"),  # row 2: not a township of the plan
        in_words,  # row 3
        not_whole,  # row 4
        row("XM-T-01", 1250, FULL_1250),  # row 5: the code of row 2 again
        row("XM-T-05", 1250, FULL_1250, land="2022-05-20", presale="2022-03-01"),  # row 6: pre-sale before land
        row("XM-T-06", 1250, FULL_1250),  # row 7: right, and still not written
    ]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_bad_register_is_refused_whole_with_every_problem_named(
    initialised: Cli, tmp_path: Path, suffix: str
) -> None:
    name = f"项目库.{suffix}"
    before = db_digest(config.home())
    out = initialised("project", "import", WRITERS[suffix](tmp_path / name, bad_rows()), status=2).output
    assert "项目库导入失败，未写入任何数据。共发现 5 处问题" in out
    assert f"{name} 第2行 D列“所在镇办”：不是实施方案中的镇办（值：“东关镇”）" in out
    whole = "须为1到100000之间的整数（如 1250 或 1,250）"
    assert f"{name} 第3行 F列“住户数（户）”：{whole}（值：“一千二百”）" in out
    assert f"{name} 第4行 F列“住户数（户）”：{whole}（值：“1250.5”）" in out
    assert f"{name} 第5行 A列“项目编号”：项目编号与第2行重复（值：“XM-T-01”）" in out
    assert f"{name} 第6行：预售日期早于供地日期" in out
    parcel = HEADER.index("地块编号")
    fine = row("XM-T-06", 1250, FULL_1250)
    path = WRITERS[suffix](
        tmp_path / f"缺列.{suffix}", [fine[:parcel] + fine[parcel + 1 :]], HEADER[:parcel] + HEADER[parcel + 1 :]
    )
    out = initialised("project", "import", path, status=2).output
    assert f"缺列.{suffix} 第1行：缺少必填列“地块编号”" in out
    assert db_digest(config.home()) == before
    with session_scope() as session:
        assert session.exec(select(Project)).all() == []


def test_the_same_register_twice_changes_nothing_in_csv_or_xlsx(initialised: Cli, tmp_path: Path) -> None:
    rows = [row("XM-R-1", 1250, FULL_1250), row("XM-R-2", 640, (300, 200, 0, 256, 300, 0), township="河东镇")]
    first = initialised("project", "import", write_xlsx(tmp_path / "r.xlsx", rows), "--as-of", "2022-05-05")
    assert "新增项目 2 个，更新 0 个，无变化 0 个" in first.output
    before, digest = counts(), db_digest(config.home())
    for path in (tmp_path / "r.xlsx", write_csv(tmp_path / "r.csv", rows)):
        again = initialised("project", "import", path, "--as-of", "2022-05-06")
        assert "新增项目 0 个，更新 0 个，无变化 2 个" in again.output
    assert (counts(), db_digest(config.home())) == (before, digest)
    with session_scope() as session:
        stored = session.exec(select(Project).where(Project.code == "XM-R-2")).one()
    assert (stored.township, stored.households, stored.floor_area, stored.presale_on, stored.registered_on) == (
        "河东镇",
        640,
        64000,
        d("2023-06-30"),
        d("2022-05-05"),
    )
    assert stored.commitments == {
        "community_premises": 300,
        "elderly_care": 200,
        "kindergarten": 0,
        "convenience_commerce": 256,
        "fitness": 300,
        "health_station": 0,
    }


# -- 6. the plan's documents as deliverables -------------------------------------------------------


WORKING_GROUPS = ["自然资分局", "教体局", "民政局", "商务局", "卫健局", "城关街道", "东城街道", "西城街道", "南关街道"]
WORKING_GROUPS += ["北关街道", "新城街道", "河东镇", "河西镇", "青山镇", "白云镇", "石桥镇", "柳林镇"]


def test_deliverables_are_made_from_the_plan_moved_filed_verified_and_returned(
    initialised: Cli, tmp_path: Path
) -> None:
    with work() as (session, plan):
        # special_plans 4 owners, joint_planning_review 1, joint_completion_review 1, working_groups 17.
        assert deliverables.ensure(session, plan, d("2022-04-01")) == 4 + 1 + 1 + 17
    with work() as (session, plan):
        assert deliverables.ensure(session, plan, d("2022-04-02")) == 0
    with session_scope() as session:
        made = {(r.milestone, r.owner, r.title, r.due.isoformat(), r.state) for r in session.exec(select(Deliverable))}
    assert made == {
        *(
            ("special_plans", o, "社区配套设施专项规划", "2022-12-31", "not_started")
            for o in ["教体局", "民政局", "商务局", "卫健局"]
        ),
        ("joint_planning_review", "自然资分局", "规划及供地联合审查机制", "2022-06-30", "not_started"),
        ("joint_completion_review", "住建局", "竣工验收联合审核机制", "2022-06-30", "not_started"),
        *(("working_groups", o, "工作专班", "2022-04-30", "not_started") for o in WORKING_GROUPS),
    }

    with work() as (session, plan):
        deliverables.set_state(session, plan, "special_plans", "民政局", "drafting", as_of=d("2022-06-01"))
    with work() as (session, plan):
        deliverables.set_state(
            session, plan, "special_plans", "民政局", "under_review", as_of=d("2022-08-01"), note="已报区政府"
        )
    assert refused(deliverables.set_state, "special_plans", "民政局", "issued", as_of=d("2022-08-02")) == (
        "状态只能为未启动、起草中或报审中；已印发须上传印发文件"
    )
    assert refused(deliverables.set_state, "special_plans", "住建局", "drafting", as_of=d("2022-08-02")) == (
        "住建局没有需要报送的“社区配套设施专项规划”"
    )

    store = config.home() / "deliverables"
    junk = tmp_path / "专项规划.pdf"
    junk.write_bytes(b"\x00\x01\x02\x03 not a document")
    with pytest.raises(EvidenceRefused) as caught, work() as (session, plan):
        deliverables.file_issued(
            session, plan, "special_plans", "民政局", document_no="X民发〔2022〕21号", issued_on=d("2022-09-13"),
            path=junk, store=store, as_of=d("2022-09-15"),
        )  # fmt: skip
    assert (
        str(caught.value)
        == "佐证材料 专项规划.pdf 的类型（无法识别）不在允许范围内（可提交：pdf、jpg、png、doc、docx、xls、xlsx、txt）"
    )
    document = tmp_path / "关于印发专项规划的通知.pdf"
    document.write_bytes(PDF)
    digest = hashlib.sha256(PDF).hexdigest()
    assert refused(
        deliverables.file_issued, "special_plans", "民政局", document_no="X民发〔2022〕21号",
        issued_on=d("2022-09-16"), path=document, store=store, as_of=d("2022-09-15"),
    ) == "印发日期2022-09-16晚于今天（2022-09-15）"  # fmt: skip
    with work() as (session, plan):
        deliverables.file_issued(
            session, plan, "special_plans", "民政局", document_no="X民发〔2022〕21号", issued_on=d("2022-09-13"),
            path=document, store=store, as_of=d("2022-09-15"),
        )  # fmt: skip
    with session_scope() as session:
        filed = session.exec(
            select(Deliverable).where(Deliverable.milestone == "special_plans", Deliverable.owner == "民政局")
        ).one()
    assert (filed.state, filed.document_no, filed.issued_on, filed.filename, filed.sha256, filed.stored_as) == (
        "issued",
        "X民发〔2022〕21号",
        d("2022-09-13"),
        "关于印发专项规划的通知.pdf",
        digest,
        f"deliverables/special_plans/民政局/{digest[:16]}.pdf",
    )
    assert (config.home() / filed.stored_as).read_bytes() == PDF
    assert messages("deliverable_filed") == [("deliverable_filed", OFFICE, "2022-09-15")]

    assert refused(deliverables.verify, "special_plans", "民政局", by="民政局", accept=True, as_of=d("2022-09-16")) == (
        "印发文件由区配套办核验，民政局无此权限"
    )
    assert refused(deliverables.verify, "special_plans", "民政局", by=OFFICE, accept=False, as_of=d("2022-09-16")) == (
        "退回须写明理由"
    )

    def file(path: Path, document_no: str, issued_on: str, day: str) -> None:
        with work() as (session, plan):
            deliverables.file_issued(
                session, plan, "special_plans", "民政局", document_no=document_no, issued_on=d(issued_on),
                path=path, store=store, as_of=d(day),
            )  # fmt: skip

    def verdict(day: str, reason: str = "") -> None:
        with work() as (session, plan):
            deliverables.verify(
                session, plan, "special_plans", "民政局", by=OFFICE, accept=not reason, reason=reason, as_of=d(day)
            )

    def current() -> Deliverable:
        with session_scope() as session:
            query = select(Deliverable).where(Deliverable.milestone == "special_plans", Deliverable.owner == "民政局")
            return session.exec(query).one()

    verdict("2022-09-16", "文号有误，应为X民发〔2022〕22号")
    back = current()
    assert (back.state, back.issued_on, back.returned_reason, back.verified_on) == (
        "under_review",
        None,
        "文号有误，应为X民发〔2022〕22号",
        None,
    )
    # The same document again with its number corrected: the Office is told again, and so is the owner
    # when it is returned a second time.
    file(document, "X民发〔2022〕22号", "2022-09-13", "2022-09-19")
    verdict("2022-09-20", "未附规划图纸")
    # A text file called .pdf: judged by its content, kept as text.
    text = tmp_path / "专项规划（含图纸）.pdf"
    text.write_text("XX区社区养老服务设施专项规划（2022—2035年），附规划图纸。\n", encoding="utf-8")
    file(text, "X民发〔2022〕23号", "2022-09-21", "2022-09-21")
    verdict("2022-09-22")
    done = current()
    text_digest = hashlib.sha256(text.read_bytes()).hexdigest()
    assert (done.state, done.document_no, done.verified_on, done.verified_by, done.stored_as) == (
        "issued",
        "X民发〔2022〕23号",
        d("2022-09-22"),
        OFFICE,
        f"deliverables/special_plans/民政局/{text_digest[:16]}.txt",
    )
    assert messages("deliverable_filed", "deliverable_verdict") == [
        ("deliverable_filed", OFFICE, "2022-09-15"),
        ("deliverable_verdict", "民政局", "2022-09-16"),
        ("deliverable_filed", OFFICE, "2022-09-19"),
        ("deliverable_verdict", "民政局", "2022-09-20"),
        ("deliverable_filed", OFFICE, "2022-09-21"),
        ("deliverable_verdict", "民政局", "2022-09-22"),
    ]
    told = bodies("deliverable_verdict", "民政局")
    assert "理由：文号有误，应为X民发〔2022〕22号" in told[0] and "理由：未附规划图纸" in told[1]
    assert "经区领导小组办公室核验，确认已印发" in told[2]
    assert refused(deliverables.set_state, "special_plans", "民政局", "drafting", as_of=d("2022-09-23")) == (
        "社区配套设施专项规划已于2022-09-22经办公室核验确认印发，不能再改状态"
    )
    assert [(a, who, day) for a, who, day, _ in trail("deliverable", "special_plans:民政局")] == [
        ("deliverable_state", "民政局", "2022-06-01"),
        ("deliverable_state", "民政局", "2022-08-01"),
        ("deliverable_issued", "民政局", "2022-09-15"),
        ("deliverable_returned", OFFICE, "2022-09-16"),
        ("deliverable_issued", "民政局", "2022-09-19"),
        ("deliverable_returned", OFFICE, "2022-09-20"),
        ("deliverable_issued", "民政局", "2022-09-21"),
        ("deliverable_verified", OFFICE, "2022-09-22"),
    ]


def test_deliverable_owners_are_reminded_before_and_escalated_after_the_due_date(
    initialised: Cli, tmp_path: Path
) -> None:
    for day in days("2022-06-13", "2022-07-28"):
        follow_on(day)
        before = counts()
        follow_on(day)
        assert counts() == before, day
    # Due Thursday 06-30; 10 working days before: 29 28 27 24 23 22 21 20 17 16 -> 06-16; 3 before -> 06-27.
    mine = [m for m in messages("deliverable_reminder") if m[1] in ("自然资分局", "住建局")]
    assert mine == [
        ("deliverable_reminder", "自然资分局", "2022-06-16"),
        ("deliverable_reminder", "住建局", "2022-06-16"),
        ("deliverable_reminder", "自然资分局", "2022-06-27"),
        ("deliverable_reminder", "住建局", "2022-06-27"),
        ("deliverable_reminder", "自然资分局", "2022-06-30"),
        ("deliverable_reminder", "住建局", "2022-06-30"),
    ]
    assert "距期限还有10个工作日" in bodies("deliverable_reminder", "自然资分局")[0]
    # overdue_item ladder: 1 working day late on 07-01, 10 on 07-14 (07-01 04..08 11..14), 20 on 07-28.
    key = "deliverable:joint_planning_review:自然资分局@2022-06-30"
    raised = [e for e in escalations("overdue_deliverable") if e[0] == key]
    assert raised == [
        (key, 1, "自然资分局", "2022-06-30", "2022-07-01", None, ["自然资分局"]),
        (key, 2, "自然资分局", "2022-06-30", "2022-07-14", None, [OFFICE, "自然资分局"]),
        (key, 3, "自然资分局", "2022-06-30", "2022-07-28", None, [DEPUTY, OFFICE, "自然资分局"]),
    ]
    [warned] = bodies("escalation", DEPUTY, key=told(key, 3))
    assert (
        "自然资分局应于2022年6月30日前印发规划及供地联合审查机制，截至2022年7月28日仍未印发，已逾期20个工作日" in warned
    )

    document = tmp_path / "联合审查机制.pdf"
    document.write_bytes(PDF)
    with work() as (session, plan):
        deliverables.file_issued(
            session, plan, "joint_planning_review", "自然资分局", document_no="X自然资发〔2022〕12号",
            issued_on=d("2022-07-27"), path=document, store=config.home() / "deliverables", as_of=d("2022-07-29"),
        )  # fmt: skip
    follow_on("2022-07-29")
    resolved = {e[0]: e[5] for e in escalations("overdue_deliverable") if e[1] == 3}
    assert resolved[key] == "2022-07-29"
    assert resolved["deliverable:joint_completion_review:住建局@2022-06-30"] is None  # 住建局 has filed nothing
    before = counts()
    follow_on("2022-07-29")
    assert counts() == before


# -- 7. the CLI ------------------------------------------------------------------------------------


def test_the_cli_walks_a_gate_and_a_deliverable_and_refuses_without_changing_anything(
    initialised: Cli, tmp_path: Path
) -> None:
    cli = initialised
    # 1250 households committing 4 kindergarten classes of max(6, ceil(3.75)) = 6: short by 2.
    path = write_csv(tmp_path / "c.csv", [row("XM-C", 1250, (375, 250, 4, 500, 375, 0))])
    assert "新增项目 1 个，更新 0 个，无变化 0 个" in cli("project", "import", path, "--as-of", "2022-04-22").output
    listed = json.loads(cli("project", "list", "--as-of", "2022-04-22", "--json").output)
    assert [(r["gate"], r["state_label"], r["due_on"], r["waiting"], r["shortfalls"]) for r in listed] == [
        ("规划条件联合审查", "待提交", None, [], 1)
    ]
    out = cli(
        "project", "submit", "XM-C", "--by", "自然资分局", "--gate", "planning_conditions", "--as-of", "2022-04-22"
    )
    assert "项目XM-C规划条件联合审查已提交会签（第1次），会签期限2022-05-09。" in out.output
    [listed] = json.loads(cli("project", "list", "--as-of", "2022-04-22", "--json").output)
    assert (listed["state_label"], listed["due_on"], listed["waiting"]) == (
        "会签中",
        "2022-05-09",
        SIGNERS["planning_conditions"],
    )
    by_lead = ["project", "sign", "XM-C", "--by", "自然资分局", "--approve", "--gate", "planning_conditions"]
    out = cli(*by_lead, "--as-of", "2022-04-25")
    assert "自然资分局已签署项目XM-C规划条件联合审查会签意见：同意。" in out.output

    def no_change(*args: object) -> str:
        before = db_digest(config.home())
        out = cli(*args, status=2).output
        assert db_digest(config.home()) == before, args
        return out

    assert "不同意的，须写明理由" in no_change(
        "project", "sign", "XM-C", "--by", "住建局", "--reject", "--as-of", "2022-04-25"
    )
    assert "财政局不是项目XM-C规划条件联合审查的会签单位" in no_change(
        "project", "sign", "XM-C", "--by", "财政局", "--approve", "--as-of", "2022-04-25"
    )
    assert "自然资分局已于2022-04-25签署本轮意见（同意）" in no_change(
        "project", "sign", "XM-C", "--by", "自然资分局", "--approve", "--as-of", "2022-04-26"
    )
    assert "项目XM-C当前没有待会签的供地条件联合审查" in no_change(
        "project", "sign", "XM-C", "--by", "住建局", "--approve", "--gate", "land_supply", "--as-of", "2022-04-26"
    )
    assert "项目库中没有编号为“XM-404”的项目" in no_change("project", "show", "XM-404", "--as-of", "2022-04-26")
    waive = ["project", "waive", "XM-C", "--standard", "幼儿园", "--reason", "就近已有6班幼儿园"]
    assert "配建缺口豁免须由区配套办记录，教体局无此权限" in no_change(
        *waive, "--by", "教体局", "--as-of", "2022-04-26"
    )
    assert "项目XM-C当前没有待提交会签的环节" in no_change(
        "project", "submit", "XM-C", "--by", "自然资分局", "--as-of", "2022-04-26"
    )

    out = cli(
        "project", "sign", "XM-C", "--by", "住建局", "--reject", "--reasons", "幼儿园配建不足",
        "--conditions", "补足6班", "--as-of", "2022-04-26",
    )  # fmt: skip
    assert "住建局已签署项目XM-C规划条件联合审查会签意见：不同意，已退回牵头部门。" in out.output
    assert "规划条件联合审查由自然资分局牵头，住建局不能提交" in no_change(
        "project", "submit", "XM-C", "--by", "住建局", "--as-of", "2022-04-27"
    )
    out = cli("project", "submit", "XM-C", "--by", "自然资分局", "--note", "已协调开发商", "--as-of", "2022-04-27")
    # 04-27 + 10: 28 29, Labour Day off, 05-05 06 07 09 10 11 12 13.
    assert "项目XM-C规划条件联合审查已提交会签（第2次），会签期限2022-05-13。" in out.output
    for signer in SIGNERS["planning_conditions"]:
        cli("project", "sign", "XM-C", "--by", signer, "--approve", "--as-of", "2022-04-28")
    shown = json.loads(cli("project", "show", "XM-C", "--as-of", "2022-04-28", "--json").output)
    assert (shown["gates"][0]["state"], shown["gates"][0]["round"], shown["gates"][0]["blocked"]) == (
        "in_review",
        2,
        "幼儿园应配建6班，承诺4班，缺口2班",
    )
    out = cli(*waive, "--as-of", "2022-04-29")
    assert "已记录项目XM-C幼儿园缺口2班的豁免。当前环节：供地条件联合审查" in out.output
    shown = json.loads(cli("project", "show", "XM-C", "--as-of", "2022-04-29", "--json").output)
    kindergarten = shown["provisions"][2]
    assert (kindergarten["waived"], kindergarten["waiver_reason"], kindergarten["waiver_by"]) == (
        True,
        "就近已有6班幼儿园",
        "操作员代录（区配套办）",
    )
    assert [(g["code"], g["state"]) for g in shown["gates"][:2]] == [
        ("planning_conditions", "passed"),
        ("land_supply", "open"),
    ]

    mine = json.loads(cli("deliverable", "list", "--owner", "教体局", "--as-of", "2022-04-29", "--json").output)
    assert [(r["milestone"], r["due"], r["state"], r["late"]) for r in mine] == [
        ("working_groups", "2022-04-30", "not_started", False),
        ("special_plans", "2022-12-31", "not_started", False),
    ]
    out = cli("deliverable", "state", "working_groups", "--by", "教体局", "--to", "drafting", "--as-of", "2022-04-29")
    assert "教体局的工作专班：起草中" in out.output
    assert "住建局没有需要报送的“工作专班”" in no_change(
        "deliverable", "state", "working_groups", "--by", "住建局", "--to", "drafting", "--as-of", "2022-04-29"
    )
    junk = tmp_path / "通知.pdf"
    junk.write_bytes(b"\x00\xff\x00 binary")
    issue = ["deliverable", "issue", "working_groups", "--by", "教体局", "--document-no", "X教体发〔2022〕8号"]
    assert "佐证材料 通知.pdf 的类型（无法识别）不在允许范围内" in no_change(
        *issue, "--issued-on", "2022-04-28", "--file", junk, "--as-of", "2022-04-29"
    )
    notice = tmp_path / "关于成立工作专班的通知.pdf"
    notice.write_bytes(PDF)
    out = cli(*issue, "--issued-on", "2022-04-28", "--file", notice, "--as-of", "2022-04-29")
    assert "教体局的工作专班已报送印发文件（X教体发〔2022〕8号），待区配套办核验。" in out.output
    assert "印发文件由区配套办核验，教体局无此权限" in no_change(
        "deliverable", "verify", "working_groups", "--owner", "教体局", "--by", "教体局", "--as-of", "2022-05-05"
    )
    verify = ["deliverable", "verify", "working_groups", "--owner", "教体局"]
    out = cli(*verify, "--reject", "文号有误", "--as-of", "2022-05-05")
    assert "教体局的工作专班已退回：文号有误" in out.output
    issue[-1] = "X教体发〔2022〕9号"
    cli(*issue, "--issued-on", "2022-04-28", "--file", notice, "--as-of", "2022-05-06")
    out = cli(*verify, "--as-of", "2022-05-09")
    assert "教体局的工作专班已核验确认印发。" in out.output
    mine = json.loads(cli("deliverable", "list", "--owner", "教体局", "--as-of", "2022-05-09", "--json").output)
    wanted = {"state": "issued", "document_no": "X教体发〔2022〕9号", "issued_on": "2022-04-28", "late": False}
    assert {k: mine[0][k] for k in [*wanted, "verified_on"]} == {**wanted, "verified_on": "2022-05-09"}
    assert messages("deliverable_filed", "deliverable_verdict") == [
        ("deliverable_filed", OFFICE, "2022-04-29"),
        ("deliverable_verdict", "教体局", "2022-05-05"),
        ("deliverable_filed", OFFICE, "2022-05-06"),
        ("deliverable_verdict", "教体局", "2022-05-09"),
    ]


def test_a_due_date_on_a_holiday_is_reminded_on_the_last_working_day_before_it(initialised: Cli) -> None:
    # 工作专班 are due Saturday 2022-04-30, the first day of the Labour Day holiday (04-30..05-04).
    # The last working day before it is Friday 04-29; 3 working days before that: 04-28 27 26 -> 04-26;
    # 10 before: 28 27 26 25 24(Sunday, a make-up workday) 22 21 20 19 18 -> 04-18.
    for day in days("2022-04-11", "2022-04-30"):
        follow_on(day)
    sent = [m[2] for m in messages("deliverable_reminder") if m[1] == "城关街道"]
    assert sent == ["2022-04-18", "2022-04-26", "2022-04-29"]
    last = bodies("deliverable_reminder", "城关街道")[-1]
    assert "你单位应于2022年4月30日前印发工作专班" in last
    assert "今日为期限前最后一个工作日，请尽快印发并在督办平台上传文件。" in last


def test_the_last_two_opinions_signed_at_once_pass_the_gate_once_on_postgresql(
    pg_url: str, initialised: Cli, tmp_path: Path
) -> None:
    """Two departments sign the last two opinions at the same moment. Each transaction sees only its own
    opinion unless they take turns on the project (FOR UPDATE): without that the gate would stay in
    review with every opinion given; with it the second passes the gate, once, and opens the next."""
    import threading
    import time

    initialised("project", "import", write_xlsx(tmp_path / "r.xlsx", [row("XM-C", 1250, FULL_1250)]),
                "--as-of", "2022-05-05")  # fmt: skip
    submit("XM-C", "planning_conditions", "2022-05-05")
    sign_all("XM-C", "planning_conditions", "2022-05-06", SIGNERS["planning_conditions"][:4])
    first_signed, errors = threading.Event(), []

    def first() -> None:  # 卫健局 signs and holds its transaction open for a moment
        try:
            with work() as (session, plan):
                gates.sign(session, plan, "XM-C", signer="卫健局", approve=True, as_of=d("2022-05-09"))
                first_signed.set()
                time.sleep(1.0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            first_signed.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_signed.wait(10)
    sign("XM-C", "商务局", "2022-05-09")  # waits for 卫健局's transaction, then sees its opinion
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == []
    assert where_project("XM-C") == ("land_supply", "open")
    assert [t[:2] for t in trail("project", "XM-C") if t[0] in ("gate_passed", "gate_opened")] == [
        ("gate_opened", "自然资分局"),  # planning_conditions, at registration
        ("gate_passed", "自然资分局"),
        ("gate_opened", "自然资分局"),  # land_supply
    ]

    # two reviewers of one department give one opinion at once: the second is refused, the first kept
    submit("XM-C", "land_supply", "2022-05-10")
    both, told = threading.Barrier(2), []

    def reviewer(conditions: str) -> None:
        both.wait(5)
        try:
            sign("XM-C", "教体局", "2022-05-11", conditions=conditions)
            told.append(("kept", conditions))
        except MechanismError as exc:
            told.append(("refused", str(exc)))

    pair = [threading.Thread(target=reviewer, args=(r,)) for r in ("条件甲", "条件乙")]
    for t in pair:
        t.start()
    for t in pair:
        t.join(timeout=60)
        assert not t.is_alive()
    kept = [r for outcome, r in told if outcome == "kept"]
    assert len(kept) == 1
    assert [r for outcome, r in told if outcome == "refused"] == ["教体局已于2022-05-11签署本轮意见（同意）"]
    assert [s for s in signatures("XM-C", "land_supply") if s[1] == "教体局"] == [
        (1, "教体局", "approved", "2022-05-24", "2022-05-11")
    ]
    with work() as (session, _):
        [conditions] = session.exec(select(Signature.conditions).where(Signature.signer == "教体局")
                                    .join(ProjectGate).where(ProjectGate.gate == "land_supply")).all()  # fmt: skip
    assert conditions == kept[0]


# -- what a person saw is what is applied ----------------------------------------------------------


def test_a_waiver_covers_the_shortfall_it_saw_and_a_stale_page_is_refused(initialised: Cli, tmp_path: Path) -> None:
    # 1800 households: 社区用房 ceil(1800*30/100) = 540 m²; 400 committed, 140 short.
    short = (400, 360, 6, 720, 540, 0)
    register_file = write_xlsx(tmp_path / "r.xlsx", [row("XM-W", 1800, short)])
    initialised("project", "import", register_file, "--as-of", "2022-05-05")
    submit("XM-W", "planning_conditions", "2022-05-05")
    waive = gates.waive
    # the page showed 100 m² short (say, before a re-filed register): refused, nothing recorded
    assert refused(
        waive,
        "XM-W",
        standard="社区用房",
        reason="以既有用房补足",
        by=OFFICE,
        as_of=d("2022-05-06"),
        shortfall_seen=100,
    ) == ("项目XM-W的社区用房缺口已变为140平方米，请刷新页面核对后重新记录豁免")
    assert refused(waive, "XM-W", standard="社区用房", reason="补足", by=OFFICE, as_of=d("2022-05-04")) == (
        "豁免日期2022-05-04早于项目入库日期2022-05-05"
    )
    with work() as (session, plan):
        waive(session, plan, "XM-W", standard="社区用房", reason="以既有用房补足", by=OFFICE, as_of=d("2022-05-06"),
              shortfall_seen=140)  # fmt: skip

    # the developer then commits less (300 m²: 240 short): the waiver of 140 no longer covers it
    lower = (300, 360, 6, 720, 540, 0)
    initialised("project", "import", write_xlsx(tmp_path / "r2.xlsx", [row("XM-W", 1800, lower)]),
                "--as-of", "2022-05-09")  # fmt: skip
    sign_all("XM-W", "planning_conditions", "2022-05-10")
    assert gate_rows("XM-W")["planning_conditions"][0] == "in_review"  # held: 100 m² beyond the waiver
    with work() as (session, plan):
        project = gates.get_project(session, "XM-W")
        assert gates.blocked(session, plan, project, gates.current_gate(session, project)) == (
            "社区用房应配建540平方米，承诺300平方米，缺口240平方米"
        )
    # a new waiver of the whole 240 replaces the old one; both stay in the audit log
    with work() as (session, plan):
        waive(session, plan, "XM-W", standard="community_premises", reason="经区政府常务会研究同意",
              by=OFFICE, as_of=d("2022-05-11"), shortfall_seen=240)  # fmt: skip
    assert gate_rows("XM-W")["planning_conditions"][0::6] == ("passed", "2022-05-11")
    with session_scope() as session:
        [held] = session.exec(select(Waiver)).all()
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "shortfall_waived")).all()
    assert (held.shortfall, held.reason, held.granted_on) == (240, "经区政府常务会研究同意", d("2022-05-11"))
    assert [(e.before, e.after, e.note) for e in entries] == [
        (None, {"standard": "community_premises", "shortfall": 140}, "以既有用房补足"),
        (
            {"standard": "community_premises", "shortfall": 140},
            {"standard": "community_premises", "shortfall": 240},
            "经区政府常务会研究同意",
        ),
    ]

    # an opinion given on a page of round 1 after the gate was returned and submitted again: refused
    submit("XM-W", "land_supply", "2022-05-11")
    sign("XM-W", "民政局", "2022-05-12", gate="land_supply", reasons="移交条款不全")
    submit("XM-W", "land_supply", "2022-05-13")
    with pytest.raises(MechanismError) as caught, work() as (session, plan):
        gates.sign(session, plan, "XM-W", signer="教体局", approve=True, as_of=d("2022-05-16"),
                   gate_code="land_supply", round_seen=1)  # fmt: skip
    assert str(caught.value) == "项目XM-W供地条件联合审查已重新提交（第2轮），请刷新页面查看后重新签署"
    assert [s for s in signatures("XM-W", "land_supply") if s[1] == "教体局"] == [
        (1, "教体局", "void", "2022-05-25", None),
        (2, "教体局", None, "2022-05-27", None),
    ]


def test_the_office_verifies_only_the_document_it_opened(initialised: Cli, tmp_path: Path) -> None:
    first, second = tmp_path / "第1号.pdf", tmp_path / "草稿.txt"
    first.write_bytes(PDF)
    second.write_text("征求意见稿", encoding="utf-8")
    with work() as (session, plan):
        deliverables.ensure(session, plan, d("2022-06-01"))
    for path, number in ((first, "X民发〔2022〕1号"), (second, "X民发〔2022〕9号")):
        with work() as (session, plan):
            deliverables.file_issued(session, plan, "special_plans", "民政局", document_no=number,
                                     issued_on=d("2022-06-01"), path=path, store=config.home() / "deliverables",
                                     as_of=d("2022-06-01"))  # fmt: skip
    opened = hashlib.sha256(PDF).hexdigest()  # the Office's page showed the first filing
    assert refused(
        deliverables.verify, "special_plans", "民政局", by=OFFICE, accept=True, as_of=d("2022-06-02"),
        document_seen=opened,
    ) == "民政局已重新报送社区配套设施专项规划的印发文件（X民发〔2022〕9号），请刷新页面查看后再核验"  # fmt: skip
    with session_scope() as session:
        query = select(Deliverable).where(Deliverable.owner == "民政局", Deliverable.milestone == "special_plans")
        row = session.exec(query).one()
    assert (row.document_no, row.verified_on) == ("X民发〔2022〕9号", None)


def test_a_revised_plan_may_not_drop_a_gate_projects_are_on(initialised: Cli, tmp_path: Path) -> None:
    import yaml
    from conftest import PLAN

    initialised("project", "import", write_xlsx(tmp_path / "r.xlsx", [row("XM-P", 1250, FULL_1250)]),
                "--as-of", "2022-05-05")  # fmt: skip
    data = yaml.safe_load(Path(PLAN).read_text(encoding="utf-8"))
    data["mechanism"]["gates"] = [g for g in data["mechanism"]["gates"] if g["code"] != "planning_conditions"]
    revised = tmp_path / "revised.yaml"
    revised.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = initialised("init", "--plan", revised, "--as-of", "2022-05-06", status=2).output
    assert (
        "修改后的方案删除了仍在使用的联合审查环节或配建标准：联合审查环节“planning_conditions”仍有1个项目未通过" in out
    )


def test_a_households_figure_must_be_a_plain_whole_number(initialised: Cli, tmp_path: Path) -> None:
    for typed in ("1e3", "1,2,0,0"):
        path = write_csv(tmp_path / "r.csv", [row("XM-N", 1250, FULL_1250)])
        text = path.read_text(encoding="utf-8-sig").replace(",1250,125000,", f',"{typed}",125000,')
        path.write_text(text, encoding="utf-8-sig")
        out = initialised("project", "import", path, status=2).output
        assert f"r.csv 第2行 F列“住户数（户）”：须为1到100000之间的整数（如 1250 或 1,250）（值：“{typed}”）" in out


def test_the_register_is_read_a_page_at_a_time(initialised: Cli, tmp_path: Path) -> None:
    from duban.mechanism.view import register_count, register_rows

    rows = [row(f"XM-R{n}", 1250, FULL_1250, township=t) for n, t in enumerate(["城关街道", "河东镇", "城关街道"])]
    initialised("project", "import", write_xlsx(tmp_path / "r.xlsx", rows), "--as-of", "2022-05-05")
    submit("XM-R2", "planning_conditions", "2022-05-05")
    with work() as (session, plan):
        assert register_count(session) == 3 and register_count(session, township="城关街道") == 2
        second = register_rows(session, plan, d("2022-05-20"), offset=2, limit=2)
        mine = register_rows(session, plan, d("2022-05-20"), township="城关街道", offset=1, limit=1)
    shown = [(r["code"], r["state"], r["waiting"][:2]) for r in second]
    assert shown == [("XM-R2", "in_review", ["自然资分局", "住建局"])]
    assert [(r["code"], r["township"]) for r in mine] == [("XM-R2", "城关街道")]
