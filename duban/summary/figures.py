"""The year-end report's figures, as things stood at the year's end (or on the day of issue, if earlier).

The bulletin's own figures (`duban.bulletin.figures.compute`, over the year) come first, so the report and
the bulletins count alike; then each collector in `COLLECTORS` adds what a month's bulletin has no need of.
Everything is plain JSON, kept with the issued report, so that a re-print needs nothing else, not even the
plan's wording (kept under "wording").

One more part of the report is one collector here (its key and a function of the year) and one section
reading that key in `duban.summary.sections.SECTIONS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from duban.assessment import bulletin as assessment
from duban.bulletin.document import BulletinError
from duban.bulletin.figures import compute, report_standing, tally
from duban.extensions.report import figures as extension_figures
from duban.items.closeout import TERMINAL
from duban.plan import Plan
from duban.reassign.bulletin import rows as reassignment_rows
from duban.reporting.periods import month_end_of, period_of
from duban.reporting.view import period_view
from duban.state.status import ItemState, is_overdue, item_states
from models import Escalation, LedgerItem, RectificationPlan

PENDING = ("requested", "draft", "returned")  # a report not in yet: judged only once its time is past


@dataclass(frozen=True)
class Year:
    """The year reported on: its first day in the programme, the day its figures stand on, the day of issue."""

    year: int
    start: date
    cutoff: date
    as_of: date

    @property
    def end(self) -> date:
        return date(self.year, 12, 31)


def year_of(plan: Plan, year: int, as_of: date) -> Year:
    """The year as the programme holds it; refused when the programme has no such year or it has not begun."""
    programme = plan.programme
    if not programme.start.year <= year <= programme.end.year:
        raise BulletinError(
            f"{year}年不在实施方案的实施期内（{programme.start.isoformat()} 至 {programme.end.isoformat()}）"
        )
    start = max(date(year, 1, 1), programme.start)
    if as_of < start:
        raise BulletinError(f"{as_of.isoformat()}时{year}年度工作尚未开始（自{start.isoformat()}起），不能形成年度报告")
    return Year(year, start, min(as_of, date(year, 12, 31)), as_of)


@dataclass(frozen=True)
class Scope:
    """What a collector reads: the database, the plan, the year, and every item as it stood at the cutoff."""

    session: Session
    plan: Plan
    year: Year
    states: list[ItemState]


def _stages(scope: Scope) -> list[dict]:
    """The ledger by the stage where each problem went wrong (规划、建设、移交、使用)."""
    return [
        {"code": s.code, "name": s.name, **tally([i for i in scope.states if i.stage == s.code], scope.year.cutoff)}
        for s in scope.plan.stages
    ]


def _carried(scope: Scope) -> dict:
    """Items not closed by the cutoff, with the plan revision in force then and its deadline."""
    cutoff, end = scope.year.cutoff, scope.year.end
    in_force: dict[str, tuple[int, date]] = {}
    for code, revision, effective_on in scope.session.exec(
        select(LedgerItem.code, RectificationPlan.revision, RectificationPlan.effective_on)
        .join(RectificationPlan)
        .where(RectificationPlan.effective_on <= cutoff)
    ):
        if revision > in_force.get(code, (0, date.min))[0]:
            in_force[code] = (revision, effective_on)
    descriptions = dict(scope.session.exec(select(LedgerItem.code, LedgerItem.description)).all())
    rows = []
    for s in scope.states:
        if s.status in TERMINAL:
            continue
        revision, revised_on = in_force.get(s.code, (0, None))
        if s.deadline is None:
            where = "no_deadline"
        elif s.deadline > end:
            where = "next_year"
        else:
            where = "overdue" if is_overdue(s, cutoff) else "pending"
        rows.append(
            {
                "code": s.code,
                "township": s.township,
                "community": s.community,
                "category": scope.plan.category(s.category).name,
                "description": descriptions.get(s.code, ""),
                "status": s.status,
                "revision": revision,
                "revised_on": revised_on.isoformat() if revised_on else None,
                "deadline": s.deadline.isoformat() if s.deadline else None,
                "where": where,
                "must_finish": s.must_finish_by is not None,
            }
        )
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or "", r["code"]))
    counts = Counter(r["where"] for r in rows)
    return {
        "total": len(rows),
        **{k: counts[k] for k in ("next_year", "overdue", "pending", "no_deadline")},
        "rows": rows,
    }


def _trend(scope: Scope) -> list[dict]:
    """The completion rate at each month's end in the year (the last month: at the cutoff), for the chart."""
    points, month = [], period_of(scope.year.start)
    while month <= period_of(scope.year.cutoff):
        day = min(month_end_of(month), scope.year.cutoff)
        states = scope.states if day == scope.year.cutoff else item_states(scope.session, scope.plan, day)
        counts = tally(states, day)
        points.append({"month": month, "total": counts["total"], "closed": counts["closed"], "rate": counts["rate"]})
        year, number = int(month[:4]), int(month[5:])
        month = f"{year + number // 12}-{number % 12 + 1:02d}"
    return points


def _discipline(scope: Scope) -> dict:
    """Each unit's reports over the year's rounds, judged as the bulletins judge them (a report still
    within its time is not judged), and the escalations raised in the year by unit and level."""
    plan, cutoff = scope.plan, scope.year.cutoff
    asked: dict[str, Counter] = {}
    for number in range(1, 13):
        period = f"{scope.year.year}-{number:02d}"
        if not plan.reporting.covers(period) or period > period_of(cutoff):
            continue
        for row in period_view(scope.session, plan, period, cutoff)["submissions"]:
            if row["status"] in PENDING and not row["overdue"]:
                continue
            asked.setdefault(row["unit"], Counter())[report_standing(row)] += 1
    order = plan.department_names() + plan.township_names()
    reports = [
        {"unit": u, "asked": sum(c.values()), "on_time": c["按时报送"], "late": c["迟报"], "missing": c["未报送"]}
        for u in order
        if (c := asked.get(u))
    ]
    raised = scope.session.exec(
        select(Escalation.unit, Escalation.level, Escalation.cause).where(
            Escalation.raised_on >= scope.year.start, Escalation.raised_on <= cutoff
        )
    ).all()
    by_unit: dict[str, Counter] = {}
    for unit, level, _ in raised:
        by_unit.setdefault(unit, Counter())[level] += 1
    units = [u for u in [*order, *sorted(set(by_unit) - set(order))] if u in by_unit]
    return {
        "reports": reports,
        "escalations": {
            "levels": {str(level): n for level, n in sorted(Counter(level for _, level, _ in raised).items())},
            "causes": dict(sorted(Counter(cause for _, _, cause in raised).items())),
            "units": [{"unit": u, **{f"level{n}": by_unit[u][n] for n in (1, 2, 3)}} for u in units],
        },
    }


def _requests(scope: Scope) -> dict:
    """The year's extension requests (decided in it, or pending at the cutoff) and reassignments approved,
    by the bulletins' own queries."""
    start, cutoff = scope.year.start, scope.year.cutoff
    return {
        "extensions": extension_figures(scope.session, (start, cutoff), scope.year.as_of),
        "reassignments": reassignment_rows(scope.session, start, cutoff),
    }


def _assessment(scope: Scope) -> dict | None:
    """The year's scores, ranks and cards, as known on the day of issue (appeals decided by then count)."""
    return assessment.figures(scope.session, scope.plan, str(scope.year.year), scope.year.as_of)


COLLECTORS: tuple[tuple[str, Callable[[Scope], object]], ...] = (
    ("stages", _stages),
    ("carried", _carried),
    ("trend", _trend),
    ("discipline", _discipline),
    ("requests", _requests),
    ("assessment", _assessment),
)


def compute_year(session: Session, plan: Plan, year: Year) -> dict:
    """The bulletin's figures over the year, the collectors' parts, and the plan's wording, filled in."""
    base = compute(session, plan, period=None, window=(year.start, year.cutoff), as_of=year.cutoff, previous=None)
    scope = Scope(session, plan, year, item_states(session, plan, year.cutoff))
    figures = base | {"year": year.year, "start": year.start.isoformat(), "cutoff": year.cutoff.isoformat()}
    figures |= {key: collect(scope) for key, collect in COLLECTORS}
    figures["wording"] = wording(plan, figures)
    figures["requirements"] = figures["wording"].pop("requirements")
    return figures


def wording(plan: Plan, figures: dict) -> dict:
    """The plan's fixed text for the report with the year's numbers put in (kept, so a re-print matches)."""
    rules, year = plan.bulletin.summary, figures["year"]
    values = {
        "district": plan.programme.district,
        "year": year,
        "next_year": year + 1,
        "carried": figures["carried"]["total"],
        "overdue": figures["carried"]["overdue"],
        "must_finish_open": len(figures["must_finish"]["open"]),
        "department_due_day": plan.reporting.department_due_day,
    }

    def filled(text: str, where: str) -> str:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise BulletinError(
                f"方案 bulletin.summary.{where} 中的占位符有误（{exc}），可用的有：{'、'.join(values)}"
            ) from None

    return {
        "title": filled(rules.title, "title"),
        "opening": filled(rules.opening, "opening"),
        "addressees": rules.addressees or plan.chain.leadership_group.full_name or plan.chain.leadership_group.name,
        "cc": rules.cc,
        "requirements": [filled(text, f"requirements[{n}]") for n, text in enumerate(rules.requirements)],
    }
