"""The item list's search and filters: one parsed set of filters, turned into SQL conditions on indexed
columns (plus a LIKE on the text for a search), counted and read a page at a time.

At city scale (30,000 items) nothing is read whole: the count and the page are two queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from sqlalchemy import func, or_, union
from sqlmodel import Session, col, select

from duban import textgate
from duban.glossary import LIGHT as LIGHT_LABELS
from duban.items.closeout import STATUS_LABELS
from duban.plan import Plan
from duban.state.status import Lights
from models import LedgerItem

SEARCH_LIMIT = 40  # characters of a search: a code, a community's name, a few words
COLUMNS = (
    "code",
    "township",
    "community",
    "category",
    "facility_type",
    "description",
    "lead_department",
    "responsible_unit",
    "key_difficult",
    "status",
    "progress",
    "deadline",
)


class FilterRefused(ValueError):
    """A filter no page offers (a forged or stale link); the message (Chinese) names it."""


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; "" means no filter on that field."""

    q: str = ""
    township: str = ""
    department: str = ""
    category: str = ""
    light: str = ""
    status: str = ""
    key: str = ""  # "1": key and difficult items only

    @classmethod
    def parse(cls, params: Mapping[str, str], plan: Plan) -> Filters:
        """The filters of a query string, each checked against what the plan and the glossary know."""
        q = textgate.clean(str(params.get("q") or ""), limit=SEARCH_LIMIT, field="查询内容")
        found = cls(q=q, **{name: str(params.get(name) or "").strip() for name in _CHOICES})
        known = {
            "township": (plan.township_names(), "镇办"),
            "department": (plan.department_names(), "牵头部门"),
            "category": ([c.code for c in plan.categories], "设施类别"),
            "light": (list(LIGHT_LABELS), "灯色"),
            "status": (list(STATUS_LABELS), "状态"),
            "key": (["1"], "重点难点"),
        }
        for name, (allowed, label) in known.items():
            value = getattr(found, name)
            if value and value not in allowed:
                raise FilterRefused(f"“{label}”的筛选条件无效，请从列表中选择")
        return found

    def conditions(self, lights: Lights) -> list:
        table = LedgerItem.__table__.c
        conditions = []
        if self.q:
            conditions.append(
                or_(*(col(getattr(LedgerItem, name)).contains(self.q, autoescape=True) for name in _SEARCHED))
            )
        for name, column in (
            ("township", table.township),
            ("department", table.lead_department),
            ("category", table.category),
            ("status", table.status),
        ):
            if getattr(self, name):
                conditions.append(column == getattr(self, name))
        if self.light:
            conditions.append(lights.where(self.light))
        if self.key:
            conditions.append(table.key_difficult.is_(True))
        return conditions

    def query(self, **extra: object) -> str:
        """The filters as a query string (only those set), for pager and export links."""
        values = {k: v for k, v in asdict(self).items() if v} | {k: v for k, v in extra.items() if v}
        return urlencode(values)

    @property
    def any(self) -> bool:
        return any(asdict(self).values())


_SEARCHED = ("code", "community", "description")
_CHOICES = ("township", "department", "category", "light", "status", "key")


def count(session: Session, within: list, conditions: list) -> int:
    """The items that meet every condition and any of `within` (a unit's scope; empty: every item)."""
    scope = [or_(*within)] if within else []
    return session.exec(select(func.count()).select_from(LedgerItem).where(*scope, *conditions)).one()


def rows(session: Session, lights: Lights, within: list, conditions: list, *, offset: int, limit: int) -> list:
    """One page of items by code, each with its light, as named tuples.

    A scope of several conditions (a township's area or its charge) first finds the page's codes as
    the union of each condition's codes in code order, each read from its (unit, code) index, rather
    than sorting all of the unit's thousands of items for one page; then reads those rows."""
    table = LedgerItem.__table__.c
    columns = [*(table[name] for name in COLUMNS), lights.column().label("light")]
    if len(within) < 2:
        query = select(*columns).where(*within, *conditions).order_by(table.code)
        return list(session.exec(query.offset(offset).limit(limit)).all())
    codes = union(*(select(table.code).where(one, *conditions) for one in within))
    page = list(session.exec(codes.order_by(table.code).offset(offset).limit(limit)).scalars())
    if not page:
        return []
    return list(session.exec(select(*columns).where(table.code.in_(page)).order_by(table.code)).all())


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def clamped(page: int, total: int, per_page: int) -> int:
    """A page past the last shows the last (a stale link after the list shrank), never an empty page."""
    return max(1, min(page, pages(total, per_page)))
