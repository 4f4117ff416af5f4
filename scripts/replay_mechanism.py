"""The long-term mechanism in the 2022 replay (scripts/replay_2022.py calls `MechanismReplay.act` on
every working day): the register imported, and for nine of its projects each gate submitted by its
lead department when the project reaches that stage, the signers' opinions, and the plan's documents drafted, issued and
verified. What the units do is drawn with a fixed seed; the story's turns are scripted:

- XM2022-005: 民政局 rejects the planning conditions (community premises short of the standard); the
  register is re-filed with the full area and 自然资分局 submits again; all sign.
- XM2022-003: every signer approves, but the kindergarten falls 4 classes short: the gate is held
  until the Office records a waiver with its reason.
- XM2022-011: elderly care short; held until the register is re-filed with the full area in November.
- XM2022-013: 卫健局 rejects the planning conditions in October for a reason other than a shortfall.
- XM2022-007 and XM2022-010: 商务局 signs the handover agreement 7 and the land-supply review 8 working
  days late: escalated up to level 3 each time.
- Deliverables: 石桥镇 and 柳林镇 set up their working groups late; 住建局 issues the completion-
  acceptance mechanism late; the Office returns 民政局's special plan once; 商务局's is not done in 2022.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import col, select

from duban import config
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.files.spreadsheet import read_sheet
from duban.mechanism import deliverables, gates, register
from duban.plan import Plan
from duban.reporting.periods import add_working_days
from models import Project, ProjectGate, Signature

REGISTER = Path(__file__).resolve().parents[1] / "samples" / "projects-2022.xlsx"
REGISTERED_ON = date(2022, 5, 9)
# The projects walked through their gates in 2022; the others wait at their first gate, not yet submitted.
WALKED = ("XM2022-001", "XM2022-003", "XM2022-005", "XM2022-006", "XM2022-007", "XM2022-009", "XM2022-010",
          "XM2022-011", "XM2022-013")  # fmt: skip
SEED = 20220509
FILER = "自然资分局"
# When each gate is submitted, from the project's dates (days; the next working day if it falls on a holiday).
STAGE_DAYS = {
    "planning_conditions": ("land_supply_on", -75),
    "land_supply": ("land_supply_on", -20),
    "handover_agreement": ("land_supply_on", 10),
    "construction_permit": ("land_supply_on", 45),
    "presale_consultation": ("presale_on", -15),
    "completion_review": ("completion_on", 0),
    "handover_registration": ("completion_on", 30),
    "use_supervision": ("completion_on", 90),
}
REJECTIONS = {  # (project, gate, round) -> (signer, reasons, conditions)
    ("XM2022-005", "planning_conditions", 1): (
        "民政局",
        "规划条件中社区用房建筑面积为400平方米，低于配建标准（每百户30平方米，该项目应配建540平方米）。",
        "按540平方米将社区用房纳入规划条件，明确独立设置、首层布置后重新提交。",
    ),
    ("XM2022-013", "planning_conditions", 1): (
        "卫健局",
        "规划条件未明确社区卫生服务站预留用房的位置和独立出入口，不满足使用要求。",
        "补充社区卫生服务站预留用房的布置要求后重新提交。",
    ),
}
APPROVAL_CONDITIONS = {
    (
        "XM2022-003",
        "planning_conditions",
        "教体局",
    ): "幼儿园缺口4个班由周边规划新建幼儿园统筹解决，须经区领导小组办公室同意。",
}
LATE_SIGNERS = {  # working days after the due date
    ("XM2022-007", "handover_agreement", "商务局"): 7,
    ("XM2022-010", "land_supply", "商务局"): 8,
}
WAIVERS = {  # project -> (standard, reason, working days after the gate is held)
    "XM2022-003": (
        "kindergarten",
        "该地块东侧500米处区教体局已规划新建12班幼儿园（2023年建成），可覆盖本项目学位需求；"
        "经区领导小组办公室研究，同意本项目按6个班配建幼儿园。",
        2,
    ),
}
REFILED = {  # project -> (standard, amount committed in the re-filed register, when)
    "XM2022-005": ("community_premises", 540, None),  # the day after the rejection
    "XM2022-011": ("elderly_care", 300, date(2022, 11, 15)),
}
# Deliverables: (milestone, owner) -> [(day, step)], step being a state, "issue:文号" or "return:理由".
DELIVERABLE_STEPS: dict[tuple[str, str], list[tuple[date, str]]] = {
    ("joint_planning_review", "自然资分局"): [
        (date(2022, 5, 5), "drafting"),
        (date(2022, 6, 1), "under_review"),
        (date(2022, 6, 24), "issue:X自然资发〔2022〕18号"),
    ],
    ("joint_completion_review", "住建局"): [
        (date(2022, 5, 16), "drafting"),
        (date(2022, 6, 20), "under_review"),
        (date(2022, 7, 22), "issue:X住建发〔2022〕35号"),
    ],
    ("special_plans", "教体局"): [
        (date(2022, 5, 10), "drafting"),
        (date(2022, 8, 15), "under_review"),
        (date(2022, 9, 28), "issue:X教体发〔2022〕56号"),
    ],
    ("special_plans", "民政局"): [
        (date(2022, 5, 20), "drafting"),
        (date(2022, 9, 20), "under_review"),
        (date(2022, 11, 18), "issue:X民政发〔2022〕41号"),
        (date(2022, 11, 22), "return:所附文件为征求意见稿，未见区政府批复及印发文号页，请上传正式印发文件。"),
        (date(2022, 11, 25), "issue:X民政发〔2022〕43号"),
    ],
    ("special_plans", "卫健局"): [
        (date(2022, 6, 6), "drafting"),
        (date(2022, 10, 17), "under_review"),
        (date(2022, 12, 20), "issue:X卫健发〔2022〕77号"),
    ],
    ("special_plans", "商务局"): [(date(2022, 7, 4), "drafting"), (date(2022, 12, 12), "under_review")],
}
LATE_WORKING_GROUPS = {"石桥镇": date(2022, 5, 10), "柳林镇": date(2022, 5, 20)}


class MechanismReplay:
    def __init__(self, plan: Plan, workdir: Path) -> None:
        self.plan = plan
        self.calendar = WorkingCalendar(plan.calendar)
        self.rng = random.Random(SEED)
        self.workdir = workdir
        self.signing_days: dict[tuple[str, str, int, str], date] = {}
        self.held_since: dict[str, date] = {}
        self.steps = dict(DELIVERABLE_STEPS)
        self.to_verify: dict[tuple[str, str], date] = {}
        self.register = REGISTER  # the register as last filed

    def act(self, day: date) -> None:
        if day == REGISTERED_ON:
            self._file_register(REGISTER, day)
        self._deliverables(day)
        with session_scope() as session:
            query = select(Project).where(col(Project.gate).is_not(None), col(Project.code).in_(WALKED))
            due = [p.code for p in session.exec(query) if p.gate_state != "open" or day >= self._stage_day(p, p.gate)]
        for code in due:
            self._project(code, day)

    # -- the register -------------------------------------------------------------------------------

    def _file_register(self, path: Path, day: date) -> None:
        with session_scope() as session:
            rows = register.validate(self.plan, read_sheet(path, self.plan.limits))
            register.write(session, self.plan, rows, actor=FILER, as_of=day)

    def _refile(self, code: str, standard: str, amount: int, day: date) -> None:
        """The developer raises a commitment: 自然资分局 files the corrected register."""
        workbook = load_workbook(self.register)
        sheet = workbook.active
        header = [c.value for c in sheet[1]]
        column = header.index(f"承诺{self.plan.mechanism.standard(standard).label}")
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == code:
                row[column].value = amount
        path = self.workdir / f"项目库-{code}-{day.isoformat()}.xlsx"
        workbook.save(path)
        self._file_register(path, day)
        self.register = path

    # -- one project ----------------------------------------------------------------------------------

    def _project(self, code: str, day: date) -> None:
        with session_scope() as session:
            project = gates.get_project(session, code)
            gate = gates.current_gate(session, project)
            if gate is None:
                return
            if gate.state == "open" and day >= self._stage_day(project, gate.gate):
                gates.submit(session, self.plan, code, by=gates.rule_of(self.plan, gate).lead, as_of=day)
                return
            if gate.state == "returned":
                refile = REFILED.get(code)
                if refile and refile[2] is None and day == add_working_days(self.calendar, gate.returned_on, 1):
                    session.rollback()
                    self._refile(code, refile[0], refile[1], day)
                    return
                if day >= add_working_days(self.calendar, gate.returned_on, 2):
                    note = "已按会签意见修改，重新提交联合审查。"
                    gates.submit(session, self.plan, code, by=gates.rule_of(self.plan, gate).lead, note=note, as_of=day)
                return
            if gate.state != "in_review":
                return
            self._signatures(session, project, gate, day)
            if gates.blocked(session, self.plan, project, gate):
                self.held_since.setdefault(code, day)
                waiver = WAIVERS.get(code)
                if waiver and day >= add_working_days(self.calendar, self.held_since[code], waiver[2]):
                    gates.waive(
                        session, self.plan, code, standard=waiver[0], reason=waiver[1], by="区配套办", as_of=day
                    )
                refile = REFILED.get(code)
                if refile and refile[2] is not None and day >= refile[2]:
                    session.commit()
                    self._refile(code, refile[0], refile[1], day)

    def _signatures(self, session, project: Project, gate: ProjectGate, day: date) -> None:
        waiting = session.exec(
            select(Signature).where(
                Signature.gate_id == gate.id, Signature.round == gate.round, col(Signature.decision).is_(None)
            )
        ).all()
        for signature in sorted(waiting, key=lambda s: s.id):
            key = (project.code, gate.gate, gate.round, signature.signer)
            if key not in self.signing_days:
                self.signing_days[key] = self._signing_day(key, gate)
            if day < self.signing_days[key]:
                continue
            rejection = REJECTIONS.get((project.code, gate.gate, gate.round))
            if rejection and rejection[0] == signature.signer:
                gates.sign(
                    session,
                    self.plan,
                    project.code,
                    signer=signature.signer,
                    approve=False,
                    reasons=rejection[1],
                    conditions=rejection[2],
                    as_of=day,
                )
                return
            conditions = APPROVAL_CONDITIONS.get((project.code, gate.gate, signature.signer), "")
            gates.sign(
                session,
                self.plan,
                project.code,
                signer=signature.signer,
                approve=True,
                conditions=conditions,
                as_of=day,
            )

    def _signing_day(self, key: tuple[str, str, int, str], gate: ProjectGate) -> date:
        late = LATE_SIGNERS.get((key[0], key[1], key[3]))
        if late:
            return add_working_days(self.calendar, gate.due_on, late)
        if (key[0], key[1], key[2]) in REJECTIONS and REJECTIONS[key[:3]][0] == key[3]:
            return add_working_days(self.calendar, gate.submitted_on, 3)
        span = self.calendar.working_days_after(gate.submitted_on, gate.due_on)
        return add_working_days(self.calendar, gate.submitted_on, self.rng.randint(1, max(1, span - 1)))

    def _stage_day(self, project: Project, gate: str) -> date:
        field, offset = STAGE_DAYS[gate]
        anchor = getattr(project, field) or date.max - timedelta(days=400)
        return anchor + timedelta(days=offset)

    # -- the plan's documents ---------------------------------------------------------------------------

    def _deliverables(self, day: date) -> None:
        if day == date(2022, 4, 11):  # every owner of a working group: set up on a drawn day, two late
            with session_scope() as session:
                deliverables.ensure(session, self.plan, day)
                for row in deliverables.deliverables(session):
                    if row.milestone == "working_groups":
                        when = LATE_WORKING_GROUPS.get(row.owner) or add_working_days(
                            self.calendar, day, self.rng.randint(1, 12)
                        )
                        number = f"{row.owner}〔2022〕{self.rng.randint(3, 30)}号"
                        self.steps[(row.milestone, row.owner)] = [(when, f"issue:{number}")]
        for (milestone, owner), steps in self.steps.items():
            for when, step in steps:
                if when == day:
                    self._step(milestone, owner, step, day)
        for (milestone, owner), when in list(self.to_verify.items()):
            if when == day:
                with session_scope() as session:
                    deliverables.verify(session, self.plan, milestone, owner, by="区配套办", accept=True, as_of=day)
                del self.to_verify[(milestone, owner)]

    def _step(self, milestone: str, owner: str, step: str, day: date) -> None:
        with session_scope() as session:
            if step.startswith("issue:"):
                number = step.removeprefix("issue:")
                row = deliverables.get(session, self.plan, milestone, owner)
                path = self.workdir / f"{owner}-{milestone}.txt"
                path.write_text(
                    f"{number}\n关于印发{row.title}的通知\n（{owner}，{day.isoformat()}）\n", encoding="utf-8"
                )
                deliverables.file_issued(
                    session,
                    self.plan,
                    milestone,
                    owner,
                    document_no=number,
                    issued_on=day,
                    path=path,
                    filename=f"{row.title}（{number}）.txt",
                    store=config.home() / "deliverables",
                    as_of=day,
                )
                returned_later = any(s.startswith("return:") and w > day for w, s in self.steps[(milestone, owner)])
                if not returned_later:
                    self.to_verify[(milestone, owner)] = add_working_days(self.calendar, day, 2)
            elif step.startswith("return:"):
                reason = step.removeprefix("return:")
                deliverables.verify(
                    session, self.plan, milestone, owner, by="区配套办", accept=False, reason=reason, as_of=day
                )
            else:
                deliverables.set_state(session, self.plan, milestone, owner, step, as_of=day)
