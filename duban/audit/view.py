"""The audit log as the auditor reads it: filters by person, unit, kind and date, turned into SQL on
indexed columns, counted and read a page at a time (the log may hold millions of rows), newest first."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from duban import config, textgate
from duban.audit import who
from duban.glossary import ACCOUNT_ROLE, AUDIT_ACTION, AUDIT_SUBJECT, cn_period, label
from duban.plan import Plan
from models import AuditEntry

PERSON_LIMIT = 32  # as long as the column
YEARS = range(2000, 2100)  # a date filter outside these is a typing error, not a query
HEADER = ["序号", "记录时间", "业务日期", "单位", "经办人", "对象", "编号", "操作", "说明"]


class AuditFilterRefused(ValueError):
    """A filter the page does not offer, or a date that is not one; the message (Chinese) names it."""


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; "" means no filter on that field. Dates are business days (effective_on)."""

    person: str = ""
    unit: str = ""
    subject: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str], plan: Plan) -> AuditFilters:
        person = textgate.clean(str(params.get("person") or ""), limit=PERSON_LIMIT, field="经办人")
        found = cls(person=person, **{name: str(params.get(name) or "").strip() for name in _OTHERS})
        known = {
            "unit": ([unit.name for _, unit in plan.units()], "单位"),
            "subject": (list(AUDIT_SUBJECT), "对象"),
            "action": (list(AUDIT_ACTION), "操作"),
        }
        for name, (allowed, shown) in known.items():
            if getattr(found, name) and getattr(found, name) not in allowed:
                raise AuditFilterRefused(f"“{shown}”的筛选条件无效，请从列表中选择")
        since, until = _day(found.since, "起始日期"), _day(found.until, "截止日期")
        if since and until and since > until:
            raise AuditFilterRefused("起始日期不能晚于截止日期")
        return found

    def conditions(self) -> list:
        table = AuditEntry.__table__.c
        conditions = [
            column == getattr(self, name)
            for name, column in (
                ("person", table.person),
                ("unit", table.actor),
                ("subject", table.subject),
                ("action", table.action),
            )
            if getattr(self, name)
        ]
        if self.since:
            conditions.append(table.effective_on >= date.fromisoformat(self.since))
        if self.until:
            conditions.append(table.effective_on <= date.fromisoformat(self.until))
        return conditions

    def query(self, **extra: object) -> str:
        """The filters as a query string (only those set), for pager and export links."""
        values = {k: v for k, v in asdict(self).items() if v} | {k: v for k, v in extra.items() if v}
        return urlencode(values)

    @property
    def any(self) -> bool:
        return any(asdict(self).values())


_OTHERS = ("unit", "subject", "action", "since", "until")


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise AuditFilterRefused(f"“{field}”不是有效日期，请按“年-月-日”填写，例如 2022-06-30") from None
    if day.year not in YEARS:
        raise AuditFilterRefused(f"“{field}”超出可查询的年份（{YEARS.start}—{YEARS.stop - 1}年）")
    return day


def count(session: Session, filters: AuditFilters) -> int:
    return session.exec(select(func.count()).select_from(AuditEntry).where(*filters.conditions())).one()


def rows(session: Session, plan: Plan, filters: AuditFilters, *, offset: int, limit: int) -> list[dict]:
    """One page, newest first, each entry as the page and the export show it (labels, local time)."""
    query = select(AuditEntry).where(*filters.conditions()).order_by(col(AuditEntry.seq).desc())
    titles = {d.milestone: d.title for d in plan.mechanism.deliverables}
    return [shown(e, titles) for e in session.exec(query.offset(offset).limit(limit))]


def key_of(entry: AuditEntry, titles: dict[str, str]) -> str:
    """What the entry is about, with the codes inside its key in words: a document's milestone (its
    title), a reporting period (2022年5月); the rest as recorded."""
    parts = entry.subject_key.split(":")
    return "：".join(titles.get(p) or (cn_period(p) if _PERIOD.fullmatch(p) else p) for p in parts)


_PERIOD = re.compile(r"\d{4}-\d{2}")


def shown(entry: AuditEntry, titles: dict[str, str]) -> dict:
    return {
        "seq": entry.seq,
        "at": local_time(entry),
        "effective_on": entry.effective_on,
        "unit": entry.actor,
        "person": who(entry.actor, entry.person, entry.via) if entry.person or entry.via else "",
        "subject": label(AUDIT_SUBJECT, entry.subject),
        "key": key_of(entry, titles),
        "action": label(AUDIT_ACTION, entry.action),
        "note": entry.note or details(entry),
    }


REASONS = {
    "wrong_password": "密码错误",
    "locked": "账号锁定中",
    "no_such_login": "无此登录名",
    "disabled": "账号已停用",
    "inactive": "长期未登录",
    "wecom_unknown": "企业微信账号未绑定",
}
VIA = {"wecom": "企业微信"}


def details(entry: AuditEntry) -> str:
    """An account entry's facts in words (the address a sign-in came from, why it was refused, a lock's
    end, a role given); nothing else is shown of `after`."""
    after = entry.after or {}
    said = []
    if after.get("address"):
        said.append(f"登录地址{after['address']}")
    if after.get("via") in VIA:
        said.append(f"登录方式：{VIA[after['via']]}")
    if after.get("reason") in REASONS:
        said.append(f"原因：{REASONS[after['reason']]}")
    if after.get("locked_until"):
        until = datetime.fromisoformat(after["locked_until"]).astimezone(config.TZ)
        said.append(f"锁定至{until:%Y-%m-%d %H:%M}")
    if entry.subject == "account" and after.get("role"):
        said.append(f"角色：{label(ACCOUNT_ROLE, after['role'])}")
    return "；".join(said)


def cells(row: dict) -> list:
    return [row[name] for name in ("seq", "at", "effective_on", "unit", "person", "subject", "key", "action", "note")]


def local_time(entry: AuditEntry) -> str:
    """When it was recorded, in Beijing time (kept as UTC)."""
    return entry.at.astimezone(config.TZ).strftime("%Y-%m-%d %H:%M:%S")


def described(entry: AuditEntry) -> str:
    """An entry named in one line, for `duban audit verify`: 序号、编号、对象、操作、时间."""
    return (
        f"序号{entry.seq}（编号{entry.id}，{label(AUDIT_SUBJECT, entry.subject)}{entry.subject_key}，"
        f"{label(AUDIT_ACTION, entry.action)}，记录于{local_time(entry)}）"
    )
