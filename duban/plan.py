"""The programme as data: the schema of a plan file and its loader.

Every rule of the programme (a deadline, a threshold, a lead department) lives in the plan file;
code reads it through `Plan`, never restates it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from duban import textgate
from duban.glossary import ACCOUNT_ROLE

UnitKind = Literal["leadership_group", "leader", "office", "department", "township"]
AccountRole = Literal["clerk", "head", "reviewer", "staff", "sysadmin", "secadmin", "auditor", "leader"]
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class PlanError(Exception):
    """A plan file that cannot be used; the message names the file, the key and what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailChannel(_Strict):
    type: Literal["email"]
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")


class WecomChannel(_Strict):
    """A WeCom group bot; the webhook key is a secret, so the plan names the variable holding it."""

    type: Literal["wecom"]
    key_env: str
    mention_mobiles: tuple[str, ...] = ()

    @field_validator("key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME.match(value):
            raise ValueError("须为环境变量名（大写字母、数字、下划线），密钥本身不得写入方案文件")
        return value


class WecomAppChannel(_Strict):
    """The WeCom self-built app: one card to each active account of the unit with a WeCom id (and one
    of `roles`, when given). The app's ids and secret are the server's (DUBAN_WECOM_*), never the plan's."""

    type: Literal["wecom_app"]
    roles: tuple[str, ...] = ()

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [role for role in value if role not in ACCOUNT_ROLE]
        if unknown:
            raise ValueError(f"未知的账号角色：{'、'.join(unknown)}（可用：{'、'.join(ACCOUNT_ROLE)}）")
        return value


Channel = EmailChannel | WecomChannel | WecomAppChannel


class Contact(_Strict):
    """A person or desk of a unit: messages go to its channels; pages and messages show its phone and
    email so that a reader knows whom to ask."""

    name: str
    role: str = ""
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9][0-9 -]*$|^$")
    channels: tuple[Channel, ...] = ()

    @property
    def email(self) -> str:
        return next((c.to for c in self.channels if isinstance(c, EmailChannel)), "")


class Unit(_Strict):
    name: str = Field(min_length=1)
    full_name: str = ""
    contacts: tuple[Contact, ...] = ()

    @property
    def contact_line(self) -> str:
        """联系人：区配套办工作专班（办公室联络员），电话：…，邮箱：…; empty when the plan names no contact."""
        if not self.contacts:
            return ""
        first = self.contacts[0]
        line = f"联系人：{self.name}{first.name}" + (f"（{first.role}）" if first.role else "")
        line += f"，电话：{first.phone}" if first.phone else ""
        line += f"，邮箱：{first.email}" if first.email else ""
        return line


class Leader(Unit):
    role: Literal["leader", "deputy"]


class Township(Unit):
    reports_by_day: int | None = Field(default=None, ge=1, le=28)


class Office(Unit):
    host: str


class LeadershipGroup(Unit):
    leaders: tuple[Leader, ...]


class Chain(_Strict):
    leadership_group: LeadershipGroup
    office: Office
    departments: tuple[Unit, ...] = Field(min_length=1)
    townships: tuple[Township, ...] = Field(min_length=1)


class Category(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str
    wording: str = ""
    facility_types: tuple[str, ...] = ()
    lead_department: str


class Stage(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str


class Scope(_Strict):
    category: str
    facility_type: str | None = None


class Milestone(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    title: str
    due: date
    owners: tuple[str, ...] = Field(min_length=1)
    must_finish: tuple[Scope, ...] = ()


class Reporting(_Strict):
    """Monthly round: townships report to their lead department, departments to the Office."""

    first_period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    last_period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    township_due_day: int = Field(default=5, ge=1, le=28)
    department_due_day: int = Field(default=10, ge=1, le=28)
    due_on_holiday: Literal["next_working_day", "keep"] = "next_working_day"
    reminders_working_days_before: tuple[int, ...] = (3, 1, 0)
    resubmit_within_working_days: int = Field(default=2, ge=0)

    def covers(self, period: str) -> bool:
        """Whether the plan holds a reporting round in `period` (YYYY-MM)."""
        return self.first_period <= period <= self.last_period

    @field_validator("reminders_working_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _reminder_days(value)


class Ladder(_Strict):
    """Working days late before each escalation level is raised."""

    level1: int = Field(ge=0)
    level2: int = Field(ge=0)
    level3: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        if not self.level1 <= self.level2 <= self.level3:
            raise ValueError("各级阈值须满足 level1 ≤ level2 ≤ level3")
        return self


class Escalation(_Strict):
    missing_submission: Ladder
    overdue_item: Ladder
    key_items_start_level: int = Field(default=2, ge=1, le=3)


class TrafficLight(_Strict):
    yellow_within_working_days: int = Field(ge=0)


class CalendarRules(_Strict):
    """China's official calendar, with overrides for years the calendar package does not know."""

    unknown_year: Literal["error", "weekends"] = "error"
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()


CRON = re.compile(r"^\S+(\s+\S+){4}$")


class Schedules(_Strict):
    """When each scheduled flow runs, as cron expressions in Asia/Shanghai."""

    open_period: str
    chase_submissions: str
    escalate_overdue: str
    dispatch_outbox: str
    monthly_bulletin: str
    follow_campaigns: str
    follow_projects: str = "50 9 * * *"
    backup: str = "0 2 * * *"

    @field_validator(
        "open_period",
        "chase_submissions",
        "escalate_overdue",
        "dispatch_outbox",
        "monthly_bulletin",
        "follow_campaigns",
        "follow_projects",
        "backup",
    )
    @classmethod
    def _cron(cls, value: str) -> str:
        from cronsim import CronSim, CronSimError

        if not CRON.match(value):
            raise ValueError('须为五段式 cron 表达式，如 "0 9 * * *"')
        try:
            CronSim(value, datetime(2022, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"cron 表达式无效：{exc}") from None
        return value


class Notifications(_Strict):
    """How messages leave the outbox: office hours, retries, the WeCom rate, who hears of failures."""

    office_hours: tuple[str, str] = ("08:30", "17:30")
    send_on_non_working_days: bool = False
    max_attempts: int = Field(default=6, ge=1)
    backoff_seconds: int = Field(default=60, ge=1)
    backoff_max_seconds: int = Field(default=3600, ge=1)
    wecom_per_minute: int = Field(default=20, ge=1)
    operator: str

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: tuple[str, str]) -> tuple[str, str]:
        if not all(re.match(r"^([01]\d|2[0-3]):[0-5]\d$", v) for v in value) or value[0] >= value[1]:
            raise ValueError('办公时间须为 ["08:30", "17:30"] 形式，且开始早于结束')
        return value


class SummaryRules(_Strict):
    """The year-end report (年度工作情况报告) to the leadership group: its fixed wording and who receives it.
    `title` and `opening` may name {district} and {year}; `requirements` also the year's figures (duban/summary)."""

    title: str = "关于{district}{year}年社区配套设施问题整治工作情况的报告"
    addressees: str = ""  # 主送; empty: the leadership group's full name
    cc: str = ""  # 抄送
    distribution: tuple[str, ...] = ()  # empty: the leadership group's leaders and the Office
    opening: str = "现将{district}{year}年社区配套设施问题整治工作情况报告如下。"
    requirements: tuple[str, ...] = ()  # 下一年度工作安排, one paragraph each


class BulletinRules(_Strict):
    """The bulletin's fixed parts: who issues it, its number, who receives it, what it requires next."""

    issuer_mark: str
    doc_prefix: str  # 〔year〕N号 is appended
    addressees: str
    cc: str
    distribution: tuple[str, ...]
    fonts: dict[str, str] = Field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    monthly_after_working_days: int = Field(default=1, ge=1)  # after the departments' deadline
    campaign_requirements: tuple[str, ...] = ()
    # Rows a list of items shows in the body; the full list goes to the annex workbook. Strict, so that
    # `true` or "30" in the plan is refused rather than read as 1 or 30.
    max_list_rows: int = Field(default=30, ge=1, strict=True)
    summary: SummaryRules = SummaryRules()


class EvidenceRules(_Strict):
    """What an evidence file may be: its size, and its types as judged by content (duban/evidence_files.py)."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    types: tuple[Literal["pdf", "jpg", "png", "doc", "docx", "xls", "xlsx", "pptx", "txt"], ...] = (
        "pdf",
        "jpg",
        "png",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "txt",
    )


class Campaigns(_Strict):
    """Supervision campaigns (专项督导): reminders before the response date, when a campaign closes."""

    reminders_working_days_before: tuple[int, ...] = (1, 0)
    close_after_working_days: int = Field(default=5, ge=1)

    @field_validator("reminders_working_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _reminder_days(value)


def _reminder_days(value: tuple[int, ...]) -> tuple[int, ...]:
    if any(n < 0 for n in value):
        raise ValueError("提醒天数不能为负数")
    return tuple(sorted(set(value), reverse=True))


class LedgerRules(_Strict):
    code_prefix: str = Field(min_length=1)
    code_digits: int = Field(default=4, ge=2, le=8)


class Limits(_Strict):
    """What one uploaded spreadsheet may hold. Anything beyond is refused before the file is read whole."""

    max_file_bytes: int = Field(default=10_000_000, ge=1)
    max_unpacked_bytes: int = Field(default=30_000_000, ge=1)  # an .xlsx's parts, from its zip directory
    max_rows: int = Field(default=10_000, ge=1)  # data rows below the header
    max_columns: int = Field(default=50, ge=1, le=16_384)
    max_cell_chars: int = Field(default=10_000, ge=1)
    max_xml_elements: int = Field(default=50_000, ge=1_000)  # per row, per shared string, per other XML part
    max_xml_records: int = Field(default=200_000, ge=1_000)  # rows in one sheet, strings in the string table
    max_problems_listed: int = Field(default=200, ge=1)


class Portal(_Strict):
    """The web portal's sign-in rules (OWASP ASVS level 2) and how long a unit has to acknowledge."""

    session_hours: int = Field(default=8, ge=1, le=24)  # a session ends this long after sign-in
    idle_minutes: int = Field(default=30, ge=5, le=240)  # or this long after the last request
    password_min_length: int = Field(default=12, ge=8, le=64)
    password_classes: int = Field(default=3, ge=1, le=4)  # of lower, upper, digits, others
    passphrase_length: int = Field(default=20, ge=12, le=128)  # this long, one class is enough
    password_min_score: int = Field(default=3, ge=0, le=4)  # zxcvbn's estimate, 0 (guessed at once) to 4
    password_history: int = Field(default=5, ge=0, le=24)  # the last N passwords are not used again
    password_max_age_days: int = Field(default=90, ge=0, le=366)  # then changed at the next sign-in; 0: never
    inactive_days: int = Field(default=90, ge=0, le=366)  # unused this long: disabled at the next sign-in; 0: never
    second_factor_roles: list[str] = Field(default_factory=lambda: ["sysadmin", "secadmin", "auditor"])
    code_minutes: int = Field(default=5, ge=1, le=30)  # a sign-in awaiting its one-time code ends after this
    # these roles sign in with both the password and their WeCom identity (others: either); docs in README
    wecom_and_password_roles: tuple[AccountRole, ...] = ()
    lockout_after_failures: int = Field(default=5, ge=3, le=20)
    lockout_minutes: int = Field(default=15, ge=1, le=1440)
    lockout_max_minutes: int = Field(default=1440, ge=1, le=10080)  # each lock twice the last, up to this
    failures_per_address: int = Field(default=30, ge=5)  # per client address and lockout window
    acknowledge_within_working_days: int = Field(default=1, ge=0, le=10)
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)  # a whole request with its files
    page_rows: int = Field(default=100, ge=10, le=1000)


class Backup(_Strict):
    """How many copies the scheduled backup keeps, in its folder and in the second place (duban/backup/).
    Where they go is the machine's (DUBAN_BACKUP_DIR, DUBAN_BACKUP_COPY_TO), not the programme's."""

    keep: int = Field(default=7, ge=1, le=1000)


class DeliverableRule(_Strict):
    """A document the plan requires (专项规划, 联合审查机制, 工作专班): one per owner of its milestone."""

    milestone: str
    title: str
    document: str  # what the issued document is called, e.g. 专项规划


class Standard(_Strict):
    """A provisioning standard (配建标准): what a project of so many households must provide."""

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    category: str
    facility: str = Field(min_length=1, max_length=20)
    measure: str = Field(min_length=1, max_length=20)
    unit: str = Field(min_length=1, max_length=10)
    per_households: int = Field(ge=1)
    amount: int = Field(ge=0)
    minimum: int = Field(default=0, ge=0)
    threshold_households: int = Field(default=0, ge=0)

    def required(self, households: int) -> int:
        """0 below the threshold; else ceil(households × amount ÷ per_households), at least the minimum."""
        if households <= 0 or households < self.threshold_households:
            return 0
        return max(self.minimum, -(-households * self.amount // self.per_households))

    @property
    def label(self) -> str:
        return f"{self.facility}（{self.unit}）"


class Gate(_Strict):
    """A joint-review gate (联合审查/审核) of a new residential project, in the plan's order."""

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str
    lead: str
    countersigners: tuple[str, ...] = ()
    within_working_days: int = Field(ge=1, le=60)
    shortfall_blocks: bool = False
    only_when: Literal["presale_before_completion"] | None = None
    checks: str = ""

    @property
    def signers(self) -> tuple[str, ...]:
        return (self.lead, *(u for u in self.countersigners if u != self.lead))


class Mechanism(_Strict):
    """三、长效机制: the deliverables, the provisioning standards and the joint-review gates."""

    deliverables: tuple[DeliverableRule, ...] = ()
    reminders_working_days_before: tuple[int, ...] = (10, 3, 0)
    signers_reminded_working_days_before: tuple[int, ...] = (1, 0)
    standards: tuple[Standard, ...] = ()
    gates: tuple[Gate, ...] = ()

    @field_validator("reminders_working_days_before", "signers_reminded_working_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _reminder_days(value)

    def gate(self, code: str) -> Gate | None:
        return next((g for g in self.gates if g.code == code), None)

    def standard(self, code: str) -> Standard | None:
        return next((s for s in self.standards if s.code == code), None)


class Extensions(_Strict):
    """延期申请: who decides, in order (the item's lead department, the Office), how many requests an item
    may have, and the scopes whose final date only the leadership group may move (the Office records its
    decision, the request marked 报领导小组)."""

    approvers: tuple[Literal["lead_department", "office"], ...] = Field(
        default=("lead_department", "office"), min_length=1
    )
    max_per_item: int = Field(default=2, ge=1, le=10)
    leadership_group_only: tuple[Scope, ...] = ()

    @field_validator("approvers")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("审批单位不能重复")
        return value

    def protected(self, category: str, facility_type: str | None) -> bool:
        """Whether only the leadership group may move the final date of an item of this category (and type)."""
        return any(
            s.category == category and s.facility_type in (None, facility_type) for s in self.leadership_group_only
        )


class CardCosts(_Strict):
    yellow: Decimal = Field(le=0)
    red: Decimal = Field(le=0)


class LevelPoints(_Strict):
    level1: Decimal = Field(le=0)
    level2: Decimal = Field(le=0)
    level3: Decimal = Field(le=0)


class LatePoints(_Strict):
    per_working_day: Decimal = Field(le=0)
    cap: Decimal = Field(le=0)  # the most one late report costs


class RoleWeights(_Strict):
    lead: Decimal = Field(ge=0)  # 主办: the responsible unit (or the unit that owed the report, the signature...)
    co: Decimal = Field(ge=0)  # 协办: the lead department of an item another unit is responsible for


class AssessmentRules(_Strict):
    """考核: every number of the score (duban/assessment). Deductions are negative, bonuses positive."""

    base: Decimal
    floor: Decimal
    ceiling: Decimal
    weights: RoleWeights
    report_late: LatePoints
    report_missing: Decimal = Field(le=0)
    report_returned: Decimal = Field(le=0)
    item_overdue: Decimal = Field(le=0)
    escalation: LevelPoints
    unacknowledged: Decimal = Field(le=0)
    late_countersign: Decimal = Field(le=0)
    overdue_deliverable: Decimal = Field(le=0)
    extension_refused: Decimal = Field(le=0)
    closed_early: Decimal = Field(ge=0)
    cards: CardCosts

    @model_validator(mode="after")
    def _bounds(self) -> AssessmentRules:
        if not self.floor <= self.base <= self.ceiling:
            raise ValueError("考核分值须满足 floor ≤ base ≤ ceiling")
        return self


class Programme(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    district: str
    start: date
    end: date


class Plan(_Strict):
    programme: Programme
    chain: Chain
    categories: tuple[Category, ...] = Field(min_length=1)
    stages: tuple[Stage, ...] = Field(min_length=1)
    milestones: tuple[Milestone, ...] = ()
    reporting: Reporting
    escalation: Escalation
    traffic_light: TrafficLight
    calendar: CalendarRules = CalendarRules()
    ledger: LedgerRules
    schedules: Schedules
    notifications: Notifications
    bulletin: BulletinRules
    campaigns: Campaigns = Campaigns()
    limits: Limits = Limits()
    evidence: EvidenceRules = EvidenceRules()
    portal: Portal = Portal()
    mechanism: Mechanism = Mechanism()
    backup: Backup = Backup()
    extensions: Extensions = Extensions()

    assessment: AssessmentRules | None = None  # no section: no assessment

    @model_validator(mode="after")
    def _references(self) -> Plan:
        problems = _reference_problems(self)
        if problems:
            raise ValueError("；".join(problems))
        return self

    # -- lookups used across the rules ------------------------------------------------------
    @property
    def office(self) -> Office:
        return self.chain.office

    def units(self) -> list[tuple[UnitKind, Unit]]:
        chain = self.chain
        units: list[tuple[UnitKind, Unit]] = [("leadership_group", chain.leadership_group)]
        units += [("leader", leader) for leader in chain.leadership_group.leaders]
        units.append(("office", chain.office))
        units += [("department", d) for d in chain.departments]
        units += [("township", t) for t in chain.townships]
        return units

    def unit_kind(self, name: str) -> UnitKind | None:
        return next((kind for kind, unit in self.units() if unit.name == name), None)

    def contact_line(self, name: str) -> str:
        """The unit's contact as one line for pages and messages (empty for a unit the plan gives none)."""
        return next((unit.contact_line for _, unit in self.units() if unit.name == name), "")

    def township_names(self) -> list[str]:
        return [t.name for t in self.chain.townships]

    def department_names(self) -> list[str]:
        return [d.name for d in self.chain.departments]

    def category(self, code: str) -> Category:
        return next(c for c in self.categories if c.code == code)

    def category_by_name(self, name: str) -> Category | None:
        return next((c for c in self.categories if name in (c.name, c.code)), None)

    def stage_by_name(self, name: str) -> Stage | None:
        return next((s for s in self.stages if name in (s.name, s.code)), None)

    def must_finish(self, category: str, facility_type: str | None) -> Milestone | None:
        """The milestone that a category (and type) must be finished by, if the plan sets one."""
        for milestone in self.milestones:
            for scope in milestone.must_finish:
                if scope.category == category and scope.facility_type in (None, facility_type):
                    return milestone
        return None


def _reference_problems(plan: Plan) -> list[str]:
    names = [unit.name for _, unit in plan.units()]
    problems = [f"单位名称“{n}”重复" for n in sorted({n for n in names if names.count(n) > 1})]
    departments = set(plan.department_names())
    if plan.chain.office.host not in departments:
        problems.append(f"chain.office.host：“{plan.chain.office.host}”不是方案中的部门")
    codes = [c.code for c in plan.categories]
    problems += [f"类别代码“{c}”重复" for c in sorted({c for c in codes if codes.count(c) > 1})]
    for i, category in enumerate(plan.categories):
        if category.lead_department not in departments:
            problems.append(f"categories[{i}].lead_department：“{category.lead_department}”不是方案中的部门")
    for i, milestone in enumerate(plan.milestones):
        for owner in milestone.owners:
            if owner not in names:
                problems.append(f"milestones[{i}].owners：“{owner}”不是方案中的单位")
        for j, scope in enumerate(milestone.must_finish):
            category = next((c for c in plan.categories if c.code == scope.category), None)
            if category is None:
                problems.append(f"milestones[{i}].must_finish[{j}].category：未知类别“{scope.category}”")
            elif scope.facility_type and scope.facility_type not in category.facility_types:
                problems.append(
                    f"milestones[{i}].must_finish[{j}].facility_type：“{scope.facility_type}”"
                    f"不是{category.name}的设施类型"
                )
    problems += _mechanism_problems(plan, names, departments)
    problems += _scope_problems(plan, "extensions.leadership_group_only", plan.extensions.leadership_group_only)
    problems += [f"bulletin.distribution：“{u}”不是方案中的单位" for u in plan.bulletin.distribution if u not in names]
    problems += [
        f"bulletin.summary.distribution：“{u}”不是方案中的单位"
        for u in plan.bulletin.summary.distribution
        if u not in names
    ]
    if plan.notifications.operator not in names:
        problems.append(f"notifications.operator：“{plan.notifications.operator}”不是方案中的单位")
    if plan.reporting.first_period > plan.reporting.last_period:
        problems.append("reporting：first_period 晚于 last_period")
    if plan.programme.start > plan.programme.end:
        problems.append("programme：start 晚于 end")
    return problems


def _scope_problems(plan: Plan, key: str, scopes: tuple[Scope, ...]) -> list[str]:
    problems = []
    for j, scope in enumerate(scopes):
        category = next((c for c in plan.categories if c.code == scope.category), None)
        if category is None:
            problems.append(f"{key}[{j}].category：未知类别“{scope.category}”")
        elif scope.facility_type and scope.facility_type not in category.facility_types:
            problems.append(f"{key}[{j}].facility_type：“{scope.facility_type}”不是{category.name}的设施类型")
    return problems


def _mechanism_problems(plan: Plan, names: list[str], departments: set[str]) -> list[str]:
    mechanism, problems = plan.mechanism, []
    milestones = {m.code for m in plan.milestones}
    for i, rule in enumerate(mechanism.deliverables):
        if rule.milestone not in milestones:
            problems.append(f"mechanism.deliverables[{i}].milestone：“{rule.milestone}”不是方案中的时间节点")
    categories = {c.code for c in plan.categories}
    codes = [s.code for s in mechanism.standards] + [g.code for g in mechanism.gates]
    problems += [f"mechanism：代码“{c}”重复" for c in sorted({c for c in codes if codes.count(c) > 1})]
    for i, standard in enumerate(mechanism.standards):
        if standard.category not in categories:
            problems.append(f"mechanism.standards[{i}].category：未知类别“{standard.category}”")
    for i, gate in enumerate(mechanism.gates):
        for unit in gate.signers:
            if unit not in departments:
                problems.append(f"mechanism.gates[{i}]：“{unit}”不是方案中的部门")
    return problems


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "literal_error": "取值不在允许范围内",
    "date_from_datetime_parsing": "不是有效日期（格式 YYYY-MM-DD）",
    "date_parsing": "不是有效日期（格式 YYYY-MM-DD）",
    "date_type": "不是有效日期（格式 YYYY-MM-DD）",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "string_type": "须为文字",
    "string_pattern_mismatch": "格式不正确",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "tuple_type": "须为列表",
    "model_type": "须为键值映射",
    "model_attributes_type": "须为键值映射",
    "union_tag_invalid": "渠道类型须为 email、wecom 或 wecom_app",
}


def _describe(error: dict) -> str:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("EmailChannel", "WecomChannel", "WecomAppChannel", "email", "wecom", "wecom_app"):
            continue
        else:
            path += f".{part}" if path else str(part)
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = _PYDANTIC_MESSAGES.get(kind, error["msg"])
    if "input" in error and kind not in ("missing", "model_type") and not isinstance(error["input"], dict):
        message += f"（值：{error['input']!r}）"
    return f"{path or '（根）'}：{message}" if kind != "value_error" or path else message


def _yaml(text: str) -> object:
    """libyaml's safe loader when PyYAML has it (every command reads the plan: 0.1 s less at start-up),
    the pure-Python one to say where a file is broken (its message quotes the line, with a caret)."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return yaml.safe_load(text)


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Validate plan text; every problem is reported at once, each naming its key."""
    try:
        data = _yaml(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"方案文件 {source} 不是有效的 YAML：{exc}") from exc
    if not isinstance(data, dict):
        raise PlanError(f"方案文件 {source} 的顶层须为键值映射")
    unsafe = list(_unsafe_values(data, ""))
    if unsafe:
        lines = "\n".join(f"  - {key}：{what}" for key, what in unsafe)
        raise PlanError(f"方案文件 {source} 有误：\n{lines}")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(f"  - {_describe(e)}" for e in exc.errors())
        raise PlanError(f"方案文件 {source} 有误：\n{lines}") from exc


_WEBHOOK = re.compile(r"qyapi\.weixin\.qq\.com|webhook/send|[?&]key=", re.I)
_KEY_LIKE = re.compile(r"(?=[0-9A-Fa-f-]*[A-Fa-f])(?=[0-9A-Fa-f-]*[0-9])(?:[0-9A-Fa-f]-?){16,}")
_CREDENTIALS = re.compile(r"://[^/@\s]*:[^/@\s]*@")
_SECRETS = (
    (_WEBHOOK, "含有企业微信机器人的网址"),
    (_KEY_LIKE, "含有疑似密钥的字符串"),
    (_CREDENTIALS, "含有带密码的网址"),
)


def _unsafe_values(node: object, key: str) -> Iterator[tuple[str, str]]:
    """Every value anywhere in the plan that holds a control character, or is or holds a webhook address,
    a key or a password; with what is wrong."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _unsafe_values(value, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _unsafe_values(value, f"{key}[{index}]")
    elif isinstance(node, str):
        try:
            textgate.clean(node, multiline=True)
        except textgate.TextRefused as exc:
            yield key, str(exc)
        secret = next((what for pattern, what in _SECRETS if pattern.search(node)), None)
        if secret:
            yield key, f"{secret}，密钥不得写入方案文件（请用 key_env 给出保存密钥的环境变量名）"


def load_plan(path: Path) -> tuple[Plan, str]:
    """The plan and its source text (kept in the database, so later commands need no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"无法读取方案文件 {path}：{exc}") from exc
    return parse_plan(text, str(path)), text


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
