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
    type: Literal["email"] = Field(description="`email`")
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the email address")


class WecomChannel(_Strict):
    """A WeCom group bot; the webhook key is a secret, so the plan names the variable holding it."""

    type: Literal["wecom"] = Field(description="`wecom`: a WeCom group bot")
    key_env: str = Field(
        description="the name of the environment variable holding the bot's webhook key (never the key itself)"
    )
    mention_mobiles: tuple[str, ...] = Field(default=(), description="mobile numbers the bot's messages @-mention")

    @field_validator("key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME.match(value):
            raise ValueError("须为环境变量名（大写字母、数字、下划线），密钥本身不得写入方案文件")
        return value


class WecomAppChannel(_Strict):
    """The WeCom self-built app: one card to each active account of the unit with a WeCom id (and one
    of `roles`, when given). The app's ids and secret are the server's (DUBAN_WECOM_*), never the plan's."""

    type: Literal["wecom_app"] = Field(description="`wecom_app`: the WeCom self-built app (企业微信自建应用)")
    roles: tuple[str, ...] = Field(
        default=(),
        description="only the unit's accounts of these roles get the card; empty: every active account with a WeCom id",
    )

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

    name: str = Field(description="the person or desk (e.g. 工作专班), shown with the unit's name")
    role: str = Field(default="", description="the contact's role (办公室联络员), shown in brackets")
    phone: str = Field(
        default="",
        max_length=40,
        pattern=r"^[0-9][0-9 -]*$|^$",
        description="a phone number: digits, spaces and dashes, at most 40 characters",
    )
    channels: tuple[Channel, ...] = Field(
        default=(),
        description="where this contact's messages go: email, a WeCom group bot, the WeCom app; none: the file outbox",
    )

    @property
    def email(self) -> str:
        return next((c.to for c in self.channels if isinstance(c, EmailChannel)), "")


class Unit(_Strict):
    name: str = Field(
        min_length=1, description="the unit's short name, as the ledger, forms and commands name it (城关街道, 教体局)"
    )
    full_name: str = Field(
        default="", description="the unit's full name, as documents and the portal's contacts show it"
    )
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
    role: Literal["leader", "deputy"] = Field(
        description="`leader` (组长, the district head) or `deputy` (副组长, the deputy district head in charge)"
    )


class Township(Unit):
    reports_by_day: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description="this township's own monthly due day, instead of `reporting.township_due_day`",
    )


class Office(Unit):
    host: str = Field(description="the department the Office sits in (自然资分局 in the sample)")


class LeadershipGroup(Unit):
    leaders: tuple[Leader, ...] = Field(
        description="the group's leaders: 组长 (`leader`) and the deputy in charge (`deputy`, told at level 3)"
    )


class Chain(_Strict):
    leadership_group: LeadershipGroup = Field(description="the leadership group (领导小组) and its leaders")
    office: Office = Field(description="the leadership group's Office (领导小组办公室), which runs the programme")
    departments: tuple[Unit, ...] = Field(min_length=1, description="the lead departments (牵头部门), at least one")
    townships: tuple[Township, ...] = Field(
        min_length=1, description="the townships and street offices (镇办), at least one"
    )


class Category(_Strict):
    code: str = Field(
        pattern=r"^[a-z][a-z_]*$", description="the category's code (`education`), used in JSON and the code"
    )
    name: str = Field(description="the category's Chinese name, as the ledger's 设施类别 column writes it")
    wording: str = Field(default="", description="the seed's wording of the category, for documents")
    facility_types: tuple[str, ...] = Field(
        default=(), description="the facility types of the category (设施类型, optional in the ledger)"
    )
    lead_department: str = Field(description="the department that leads the category's items by default")


class Stage(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$", description="the stage's code")
    name: str = Field(description="the stage's Chinese name, as the ledger's 问题环节 column writes it")


class Scope(_Strict):
    category: str = Field(description="a category's code")
    facility_type: str | None = Field(
        default=None, description="one facility type of the category; null: the whole category"
    )


class Milestone(_Strict):
    code: str = Field(
        pattern=r"^[a-z][a-z_]*$", description="the milestone's code, named by `mechanism.deliverables[].milestone`"
    )
    title: str = Field(description="what must be done, as messages and bulletins name it")
    due: date = Field(description="the date it must be done by")
    owners: tuple[str, ...] = Field(min_length=1, description="the units that owe it, by name")
    must_finish: tuple[Scope, ...] = Field(
        default=(), description="the scopes (category, optionally facility type) that must be finished by this date"
    )


class Reporting(_Strict):
    """Monthly round: townships report to their lead department, departments to the Office."""

    first_period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the first reporting month (YYYY-MM)")
    last_period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the last reporting month (YYYY-MM)")
    township_due_day: int = Field(
        default=5, ge=1, le=28, description="the day of the month townships report to their lead departments by"
    )
    department_due_day: int = Field(
        default=10, ge=1, le=28, description="the day of the month lead departments report to the Office by"
    )
    due_on_holiday: Literal["next_working_day", "keep"] = Field(
        default="next_working_day",
        description="a due date on a holiday moves to the next working day, or is kept where it falls",
    )
    reminders_working_days_before: tuple[int, ...] = Field(
        default=(3, 1, 0), description="reminders this many working days before a unit's due date"
    )
    resubmit_within_working_days: int = Field(
        default=2, ge=0, description="working days a township has to resubmit a returned report"
    )

    def covers(self, period: str) -> bool:
        """Whether the plan holds a reporting round in `period` (YYYY-MM)."""
        return self.first_period <= period <= self.last_period

    @field_validator("reminders_working_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _reminder_days(value)


class Ladder(_Strict):
    """Working days late before each escalation level is raised."""

    level1: int = Field(ge=0, description="working days late before level 1 (督办)")
    level2: int = Field(ge=0, description="working days late before level 2 (挂牌督办, the Office told)")
    level3: int = Field(ge=0, description="working days late before level 3 (the deputy district head told)")

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        if not self.level1 <= self.level2 <= self.level3:
            raise ValueError("各级阈值须满足 level1 ≤ level2 ≤ level3")
        return self


class Escalation(_Strict):
    missing_submission: Ladder
    overdue_item: Ladder
    key_items_start_level: int = Field(default=2, ge=1, le=3, description="the level key items (重点难点) start at")


class TrafficLight(_Strict):
    yellow_within_working_days: int = Field(
        ge=0, description="an open item is yellow when no more than this many working days remain"
    )


class CalendarRules(_Strict):
    """China's official calendar, with overrides for years the calendar package does not know."""

    unknown_year: Literal["error", "weekends"] = Field(
        default="error", description="a year the official calendar does not know: an error, or weekends only"
    )
    extra_holidays: tuple[date, ...] = Field(
        default=(), description="days off of a year the calendar package does not know"
    )
    extra_workdays: tuple[date, ...] = Field(default=(), description="make-up working days (调休) of such a year")


CRON = re.compile(r"^\S+(\s+\S+){4}$")


class Schedules(_Strict):
    """When each scheduled flow runs, as cron expressions in Asia/Shanghai."""

    open_period: str = Field(description="cron: the `open-period` flow (the month's round opens)")
    chase_submissions: str = Field(description="cron: the `chase-submissions` flow (reminders, missing reports)")
    escalate_overdue: str = Field(description="cron: the `escalate-overdue` flow (the escalation ladder)")
    dispatch_outbox: str = Field(description="cron: the `dispatch-outbox` flow (delivering queued messages)")
    monthly_bulletin: str = Field(description="cron: the `monthly-bulletin` flow (issues the bulletin on its day)")
    follow_campaigns: str = Field(description="cron: the `follow-campaigns` flow (supervision campaigns)")
    follow_projects: str = Field(
        default="50 9 * * *", description="cron: the `follow-projects` flow (the long-term mechanism)"
    )
    backup: str = Field(default="0 2 * * *", description="cron: the scheduled `backup` flow")

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

    office_hours: tuple[str, str] = Field(
        default=("08:30", "17:30"), description="messages are delivered between these times (HH:MM, Asia/Shanghai)"
    )
    send_on_non_working_days: bool = Field(default=False, description="whether messages are delivered on days off")
    max_attempts: int = Field(default=6, ge=1, description="attempts before a message is dead (the operator is told)")
    backoff_seconds: int = Field(default=60, ge=1, description="the wait before the first retry, doubled each time")
    backoff_max_seconds: int = Field(default=3600, ge=1, description="the longest wait between retries")
    wecom_per_minute: int = Field(
        default=20, ge=1, description="messages a WeCom bot is sent per minute at most (WeCom allows 20)"
    )
    operator: str = Field(description="the unit told of dead (undeliverable) messages")

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: tuple[str, str]) -> tuple[str, str]:
        if not all(re.match(r"^([01]\d|2[0-3]):[0-5]\d$", v) for v in value) or value[0] >= value[1]:
            raise ValueError('办公时间须为 ["08:30", "17:30"] 形式，且开始早于结束')
        return value


class SummaryRules(_Strict):
    """The year-end report (年度工作情况报告) to the leadership group: its fixed wording and who receives it.
    `title` and `opening` may name {district} and {year}; `requirements` also the year's figures (duban/summary)."""

    title: str = Field(
        default="关于{district}{year}年社区配套设施问题整治工作情况的报告",
        description="the year-end report's title; may name {district} and {year}",
    )
    addressees: str = ""  # 主送; empty: the leadership group's full name
    cc: str = ""  # 抄送
    distribution: tuple[str, ...] = ()  # empty: the leadership group's leaders and the Office
    opening: str = Field(
        default="现将{district}{year}年社区配套设施问题整治工作情况报告如下。",
        description="the year-end report's opening sentence; may name {district} and {year}",
    )
    requirements: tuple[str, ...] = ()  # 下一年度工作安排, one paragraph each


class BulletinRules(_Strict):
    """The bulletin's fixed parts: who issues it, its number, who receives it, what it requires next."""

    issuer_mark: str = Field(description="the issuing office's mark (发文机关标志) at the head of the bulletin")
    doc_prefix: str  # 〔year〕N号 is appended
    addressees: str = Field(description="主送: who the bulletin is addressed to")
    cc: str = Field(description="抄送: who receives a copy")
    distribution: tuple[str, ...] = Field(description="the units a bulletin is sent to")
    fonts: dict[str, str] = Field(
        default_factory=dict,
        description="the official fonts by part (title, body, heading1, heading2), named in the document",
    )
    requirements: tuple[str, ...] = Field(
        default=(),
        description="next month's requirements in the monthly bulletin, a paragraph each (may name its figures)",
    )
    monthly_after_working_days: int = Field(default=1, ge=1)  # after the departments' deadline
    campaign_requirements: tuple[str, ...] = Field(
        default=(), description="a campaign bulletin's requirements, one paragraph each"
    )
    # Rows a list of items shows in the body; the full list goes to the annex workbook. Strict, so that
    # `true` or "30" in the plan is refused rather than read as 1 or 30.
    max_list_rows: int = Field(default=30, ge=1, strict=True)
    summary: SummaryRules = SummaryRules()


class EvidenceRules(_Strict):
    """What an evidence file may be: its size, and its types as judged by content (duban/items/evidence.py)."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="the largest evidence file, in bytes")
    types: tuple[Literal["pdf", "jpg", "png", "doc", "docx", "xls", "xlsx", "pptx", "txt"], ...] = Field(
        default=(
            "pdf",
            "jpg",
            "png",
            "doc",
            "docx",
            "xls",
            "xlsx",
            "txt",
        ),
        description="the file types taken as evidence, judged by content, not name",
    )


class Campaigns(_Strict):
    """Supervision campaigns (专项督导): reminders before the response date, when a campaign closes."""

    reminders_working_days_before: tuple[int, ...] = Field(
        default=(1, 0), description="reminders this many working days before a campaign's answer date"
    )
    close_after_working_days: int = Field(
        default=5, ge=1, description="working days after the answer date that a campaign closes with its bulletin"
    )

    @field_validator("reminders_working_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _reminder_days(value)


def _reminder_days(value: tuple[int, ...]) -> tuple[int, ...]:
    if any(n < 0 for n in value):
        raise ValueError("提醒天数不能为负数")
    return tuple(sorted(set(value), reverse=True))


class LedgerRules(_Strict):
    code_prefix: str = Field(min_length=1, description="the prefix of generated item codes (`PT2022-`)")
    code_digits: int = Field(default=4, ge=2, le=8, description="the number of digits after the prefix")


class Limits(_Strict):
    """What one uploaded spreadsheet may hold. Anything beyond is refused before the file is read whole."""

    max_file_bytes: int = Field(default=10_000_000, ge=1, description="the largest spreadsheet file taken, in bytes")
    max_unpacked_bytes: int = Field(default=30_000_000, ge=1)  # an .xlsx's parts, from its zip directory
    max_rows: int = Field(default=10_000, ge=1)  # data rows below the header
    max_columns: int = Field(default=50, ge=1, le=16_384, description="columns a sheet may have")
    max_cell_chars: int = Field(default=10_000, ge=1, description="characters one cell may hold")
    max_xml_elements: int = Field(default=50_000, ge=1_000)  # per row, per shared string, per other XML part
    max_xml_records: int = Field(default=200_000, ge=1_000)  # rows in one sheet, strings in the string table
    max_problems_listed: int = Field(default=200, ge=1, description="problems a refusal lists (then how many more)")


class Portal(_Strict):
    """The web portal's sign-in rules (OWASP ASVS level 2) and how long a unit has to acknowledge."""

    session_hours: int = Field(default=8, ge=1, le=24)  # a session ends this long after sign-in
    idle_minutes: int = Field(default=30, ge=5, le=240)  # or this long after the last request
    password_min_length: int = Field(default=12, ge=8, le=64, description="a chosen password's least length")
    password_classes: int = Field(default=3, ge=1, le=4)  # of lower, upper, digits, others
    passphrase_length: int = Field(default=20, ge=12, le=128)  # this long, one class is enough
    password_min_score: int = Field(default=3, ge=0, le=4)  # zxcvbn's estimate, 0 (guessed at once) to 4
    password_history: int = Field(default=5, ge=0, le=24)  # the last N passwords are not used again
    password_max_age_days: int = Field(default=90, ge=0, le=366)  # then changed at the next sign-in; 0: never
    inactive_days: int = Field(default=90, ge=0, le=366)  # unused this long: disabled at the next sign-in; 0: never
    second_factor_roles: list[str] = Field(
        default_factory=lambda: ["sysadmin", "secadmin", "auditor"],
        description="the account roles that must sign in with a second factor (one-time codes)",
    )
    code_minutes: int = Field(default=5, ge=1, le=30)  # a sign-in awaiting its one-time code ends after this
    # these roles sign in with both the password and their WeCom identity (others: either); docs in README
    wecom_and_password_roles: tuple[AccountRole, ...] = ()
    lockout_after_failures: int = Field(
        default=5, ge=3, le=20, description="failed sign-ins in a row before an account is locked"
    )
    lockout_minutes: int = Field(default=15, ge=1, le=1440, description="how long the first lock lasts")
    lockout_max_minutes: int = Field(default=1440, ge=1, le=10080)  # each lock twice the last, up to this
    failures_per_address: int = Field(default=30, ge=5)  # per client address and lockout window
    acknowledge_within_working_days: int = Field(
        default=1, ge=0, le=10, description="working days a unit has to sign for (签收) a notice before it is chased"
    )
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)  # a whole request with its files
    page_rows: int = Field(default=100, ge=10, le=1000, description="rows a list page shows at a time")


class Backup(_Strict):
    """How many copies the scheduled backup keeps, in its folder and in the second place (duban/backup/).
    Where they go is the machine's (DUBAN_BACKUP_DIR, DUBAN_BACKUP_COPY_TO), not the programme's."""

    keep: int = Field(
        default=7, ge=1, le=1000, description="backups kept, in the backup folder and in the second place"
    )


class DeliverableRule(_Strict):
    """A document the plan requires (专项规划, 联合审查机制, 工作专班): one per owner of its milestone."""

    milestone: str = Field(description="the milestone (code) the document is due by; each of its owners owes one")
    title: str = Field(description="the document's title, as messages and bulletins name it")
    document: str  # what the issued document is called, e.g. 专项规划


class Standard(_Strict):
    """A provisioning standard (配建标准): what a project of so many households must provide."""

    code: str = Field(pattern=r"^[a-z][a-z_]*$", description="the standard's code")
    category: str = Field(description="the category (code) the facility belongs to")
    facility: str = Field(min_length=1, max_length=20, description="the facility required (社区用房, 幼儿园)")
    measure: str = Field(min_length=1, max_length=20, description="what is measured (建筑面积, 班数)")
    unit: str = Field(min_length=1, max_length=10, description="the unit of measure (m², 班)")
    per_households: int = Field(ge=1, description="households per `amount`")
    amount: int = Field(ge=0, description="what `per_households` households require")
    minimum: int = Field(default=0, ge=0, description="the least required once the threshold is reached")
    threshold_households: int = Field(default=0, ge=0, description="below this many households nothing is required")

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

    code: str = Field(pattern=r"^[a-z][a-z_]*$", description="the gate's code")
    name: str = Field(description="the gate's Chinese name (规划条件联合审查)")
    lead: str = Field(description="the department that leads the gate and submits it")
    countersigners: tuple[str, ...] = Field(default=(), description="the departments that sign besides the lead")
    within_working_days: int = Field(ge=1, le=60, description="working days the signers have to sign")
    shortfall_blocks: bool = Field(
        default=False,
        description="whether a shortfall against the standards holds the gate (until re-filed or waived by the Office)",
    )
    only_when: Literal["presale_before_completion"] | None = Field(
        default=None,
        description="a gate that applies only in a case: `presale_before_completion` (pre-sale before completion)",
    )
    checks: str = Field(default="", description="what the signers check, shown on the project's page")

    @property
    def signers(self) -> tuple[str, ...]:
        return (self.lead, *(u for u in self.countersigners if u != self.lead))


class Mechanism(_Strict):
    """三、长效机制: the deliverables, the provisioning standards and the joint-review gates."""

    deliverables: tuple[DeliverableRule, ...] = ()
    reminders_working_days_before: tuple[int, ...] = Field(
        default=(10, 3, 0), description="reminders to a document's owner this many working days before it is due"
    )
    signers_reminded_working_days_before: tuple[int, ...] = Field(
        default=(1, 0), description="reminders to a gate's signers this many working days before their opinion is due"
    )
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
        default=("lead_department", "office"),
        min_length=1,
        description="who decides an extension request, in order: the item's lead department, then the Office",
    )
    max_per_item: int = Field(default=2, ge=1, le=10, description="extension requests an item may have")
    leadership_group_only: tuple[Scope, ...] = Field(
        default=(), description="scopes whose final date only the leadership group may move (报领导小组)"
    )

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
    yellow: Decimal = Field(le=0, description="a yellow card's points (a unit reaching level 2 on a cause)")
    red: Decimal = Field(
        le=0, description="a red card's points (level 3, or instead of a yellow after the year's first)"
    )


class LevelPoints(_Strict):
    level1: Decimal = Field(le=0, description="points at level 1")
    level2: Decimal = Field(le=0, description="points at level 2")
    level3: Decimal = Field(le=0, description="points at level 3")


class LatePoints(_Strict):
    per_working_day: Decimal = Field(
        le=0, description="points per working day from the due date to the first submission"
    )
    cap: Decimal = Field(le=0)  # the most one late report costs


class RoleWeights(_Strict):
    lead: Decimal = Field(ge=0)  # 主办: the responsible unit (or the unit that owed the report, the signature...)
    co: Decimal = Field(ge=0)  # 协办: the lead department of an item another unit is responsible for


class AssessmentRules(_Strict):
    """考核: every number of the score (duban/assessment). Deductions are negative, bonuses positive."""

    base: Decimal = Field(description="the score every unit starts from")
    floor: Decimal = Field(description="the lowest score")
    ceiling: Decimal = Field(description="the highest score")
    weights: RoleWeights = Field(description="how much a line counts for 主办 (`lead`) and 协办 (`co`)")
    report_late: LatePoints = Field(description="points for a late report: per working day, capped")
    report_missing: Decimal = Field(le=0, description="points for a report not submitted by its month's last day")
    report_returned: Decimal = Field(le=0, description="points for each return of a report")
    item_overdue: Decimal = Field(le=0, description="points per item and month end on which it stands overdue")
    escalation: LevelPoints = Field(description="points for each escalation raised, by level")
    unacknowledged: Decimal = Field(le=0, description="points for a notice not signed for, when first escalated")
    late_countersign: Decimal = Field(le=0, description="points for a late countersignature, when first escalated")
    overdue_deliverable: Decimal = Field(le=0, description="points for a mechanism document late, when first escalated")
    extension_refused: Decimal = Field(le=0, description="points for an extension request refused")
    closed_early: Decimal = Field(ge=0, description="bonus points for an item closed before its deadline")
    cards: CardCosts = Field(description="what a yellow and a red card cost")

    @model_validator(mode="after")
    def _bounds(self) -> AssessmentRules:
        if not self.floor <= self.base <= self.ceiling:
            raise ValueError("考核分值须满足 floor ≤ base ≤ ceiling")
        return self


class Programme(_Strict):
    code: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="the programme's short code (lower case, digits, dashes); one database holds one programme",
    )
    title: str = Field(description="the programme's title, as documents name it")
    district: str = Field(description="the district's name (XX区), used in bulletins and the year-end report")
    start: date = Field(description="the programme's first day")
    end: date = Field(description="the programme's last day")


class Plan(_Strict):
    programme: Programme = Field(description="which programme this is: its code, title, district and dates")
    chain: Chain = Field(description="the chain of units: leadership group, Office, lead departments, townships")
    categories: tuple[Category, ...] = Field(
        min_length=1, description="the facility categories supervised, at least one"
    )
    stages: tuple[Stage, ...] = Field(
        min_length=1, description="the stages where a problem went wrong (问题环节): 规划, 建设, 移交, 使用"
    )
    milestones: tuple[Milestone, ...] = Field(
        default=(),
        description="the dated milestones (survey, plans, rectification, documents) and their owners",
    )
    reporting: Reporting
    escalation: Escalation = Field(description="the escalation ladder (督办): working days late before each level")
    traffic_light: TrafficLight = Field(description="the traffic light of open items")
    calendar: CalendarRules = CalendarRules()
    ledger: LedgerRules = Field(description="how generated item codes look")
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
