"""The bulletin's figures, computed from the database as things stood on `as_of`.

Everything is plain data (JSON-ready), kept with the issued bulletin so that a re-run reproduces it
and the next bulletin can say how each unit's rank moved.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, or_, select

from duban.assessment import bulletin as assessment
from duban.bulletin import mechanism
from duban.bulletin.mechanism import Standing
from duban.extensions.report import figures as extension_figures
from duban.items.closeout import TERMINAL
from duban.plan import Milestone, Plan
from duban.reassign.bulletin import rows as reassignment_rows
from duban.reporting.view import period_view
from duban.state.status import ItemState, is_overdue, item_states
from models import Escalation, LedgerItem, RectificationPlan

NOT_STARTED = ("open", "planned")
UNDER_WAY = ("in_progress", "close_requested", "verified")


def rate(closed: int, total: int) -> float | None:
    """Completion rate in percent, one decimal; None for a unit with nothing to complete."""
    return round(100 * closed / total, 1) if total else None


def tally(states: list[ItemState], as_of: date) -> dict:
    """The counts of a group of items on `as_of` (cancelled ones left out), and its completion rate."""
    live = [s for s in states if s.status != "cancelled"]
    closed = sum(s.status == "closed" for s in live)
    return {
        "total": len(live),
        "closed": closed,
        "under_way": sum(s.status in UNDER_WAY for s in live),
        "not_started": sum(s.status in NOT_STARTED for s in live),
        "overdue": sum(is_overdue(s, as_of) for s in live),
        "rate": rate(closed, len(live)),
    }


def rank(rows: list[dict], key: str = "rate") -> list[dict]:
    """Standard competition ranking (1, 1, 3) by `key` descending; rows without a value are unranked."""
    ranked = sorted((r for r in rows if r[key] is not None), key=lambda r: -r[key])
    position = 0
    for index, row in enumerate(ranked, start=1):
        if index == 1 or row[key] != ranked[index - 2][key]:
            position = index
        row["rank"] = position
    for row in rows:
        row.setdefault("rank", None)
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0))


def report_standing(row: dict | None) -> str:
    """A unit's report for a round (a row of `period_view`'s submissions), as a bulletin issued after the
    deadline judges it: 按时报送, 迟报, 未报送; 无报送任务 when the unit was not asked."""
    if row is None:
        return "无报送任务"
    if row["overdue"] or row["status"] in ("requested", "draft", "returned"):
        return "未报送"
    return "迟报" if row["late"] else "按时报送"


def compute(
    session: Session,
    plan: Plan,
    *,
    period: str | None,
    window: tuple[date, date],
    as_of: date,
    previous: dict | None,
) -> dict:
    """`period` is the reporting round spoken of, None when the bulletin covers no round; `window` the
    days whose events the long-term mechanism's section lists (`mechanism.window`)."""
    states = item_states(session, plan, as_of)
    view = period_view(session, plan, period, as_of) if period else {"submissions": []}
    reports = {s["unit"]: s for s in view["submissions"]}
    before = {(r["unit"]): r["rank"] for r in (previous or {}).get("townships", [])}
    before_departments = {r["unit"]: r["rank"] for r in (previous or {}).get("departments", [])}

    def report_state(unit: str) -> str:
        return report_standing(reports.get(unit))

    townships = []
    for name in plan.township_names():
        counts = tally([s for s in states if s.township == name], as_of)
        townships.append({"unit": name, **counts, "report": report_state(name)})
    departments = []
    for name in plan.department_names():
        counts = tally([s for s in states if s.lead_department == name], as_of)
        departments.append({"unit": name, **counts, "report": report_state(name)})
    townships, departments = rank(townships), rank(departments)
    for rows, earlier in ((townships, before), (departments, before_departments)):
        for row in rows:
            old = earlier.get(row["unit"])
            row["change"] = None if old is None or row["rank"] is None else old - row["rank"]

    categories = [
        {"code": c.code, "name": c.name, **tally([s for s in states if s.category == c.code], as_of)}
        for c in plan.categories
    ]
    overdue = [
        {
            "code": s.code,
            "township": s.township,
            "community": s.community,
            "category": plan.category(s.category).name,
            "deadline": s.deadline.isoformat(),
            "days": -s.working_days_left,
            "key": s.key_difficult,
        }
        for s in states
        if is_overdue(s, as_of)
    ]
    escalations = session.exec(
        select(Escalation)
        .where(
            Escalation.level >= 2,
            Escalation.raised_on <= as_of,
            or_(col(Escalation.resolved_on).is_(None), col(Escalation.resolved_on) > as_of),
        )
        .order_by(col(Escalation.level).desc(), col(Escalation.cause_key))
    ).all()
    highest: dict[str, Escalation] = {}
    for escalation in escalations:
        highest.setdefault(escalation.cause_key, escalation)
    must = [s for s in states if s.must_finish_by and s.status != "cancelled"]
    held = mechanism.standings(session, as_of)
    return {
        "period": period,
        "as_of": as_of.isoformat(),
        "overall": tally(states, as_of) | {"cancelled": sum(s.status == "cancelled" for s in states)},
        "categories": categories,
        "townships": townships,
        "departments": departments,
        "overdue": overdue,
        "reports": {
            "not_reported": [r["unit"] for r in view["submissions"] if report_state(r["unit"]) == "未报送"],
            "late": [r["unit"] for r in view["submissions"] if report_state(r["unit"]) == "迟报"],
            "requested": len(view["submissions"]),
        },
        "escalations": [
            {
                "unit": e.unit,
                "level": e.level,
                "item_code": e.item_code,
                "cause": e.cause,
                "matter": mechanism.matter(session, plan, e.cause, e.cause_key),
                "missed_due": e.missed_due.isoformat(),
                "raised_on": e.raised_on.isoformat(),
            }
            for e in highest.values()
        ],
        "key_items": [
            {
                "code": s.code,
                "township": s.township,
                "category": plan.category(s.category).name,
                "status": s.status,
                "deadline": s.deadline.isoformat() if s.deadline else None,
                "overdue": is_overdue(s, as_of),
            }
            for s in states
            if s.key_difficult
        ],
        "must_finish": {
            "due": _iso(min((s.must_finish_by for s in must), default=None)),
            "total": len(must),
            "closed": sum(s.status == "closed" for s in must),
            "open": [s.code for s in must if s.status not in TERMINAL],
        },
        "must_finish_open": [  # the same items in full, for the annex
            {
                "code": s.code,
                "township": s.township,
                "community": s.community,
                "category": plan.category(s.category).name,
                "status": s.status,
                "deadline": _iso(s.deadline),
            }
            for s in must
            if s.status not in TERMINAL
        ],
        "milestones": _milestones(session, plan, states, held, as_of),
        "mechanism": mechanism.figures(session, plan, held, window, as_of),
        "reassignments": reassignment_rows(session, window[0], min(window[1], as_of)),
        "extensions": extension_figures(session, window, as_of),
        "assessment": assessment.figures(session, plan, period, as_of),
    }


def _milestones(
    session: Session, plan: Plan, states: list[ItemState], held: dict[tuple[str, str], Standing], as_of: date
) -> list[dict]:
    """Met or missed where duban holds the evidence (the ledger, or the documents tracked as
    deliverables); otherwise said plainly."""
    first_plans = dict(
        session.exec(
            select(LedgerItem.code, RectificationPlan.effective_on)
            .join(RectificationPlan)
            .where(RectificationPlan.revision == 1)
        ).all()
    )
    created = dict(session.exec(select(LedgerItem.code, LedgerItem.created_on)).all())
    rows = []
    for milestone in plan.milestones:
        due = milestone.due
        documents = mechanism.owners_of(milestone, held)
        if documents is not None:
            state, verdict = mechanism.milestone_verdict(milestone, documents, as_of)
            rows.append(_milestone(milestone, state, verdict))
            continue
        if milestone.code == "survey":
            late = [c for c, d in created.items() if d > due and d <= as_of]
            verdict = "已完成" if not late else f"{len(late)}项问题晚于时限建账"
        elif milestone.code == "rectification_plans":
            late = [s.code for s in states if (first_plans.get(s.code) or date.max) > due]
            verdict = "已完成" if not late else f"尚有{len(late)}项问题未按时制定整治方案"
        elif milestone.code in ("rectification", "must_finish"):
            scope = [
                s for s in states if s.status != "cancelled" and (milestone.code == "rectification" or s.must_finish_by)
            ]
            open_ = [s.code for s in scope if s.status != "closed"]
            verdict = "已完成" if not open_ else f"尚有{len(open_)}项未销号"
        else:
            verdict = "以牵头部门报告为准"
        state = "未到期" if as_of < due else ("已完成" if verdict == "已完成" else "已逾期")
        if as_of < due and verdict != "以牵头部门报告为准":
            state = "已完成" if verdict == "已完成" else "进行中"
        rows.append(_milestone(milestone, state, verdict))
    return rows


def _milestone(milestone: Milestone, state: str, detail: str) -> dict:
    return {
        "code": milestone.code,
        "title": milestone.title,
        "due": milestone.due.isoformat(),
        "owners": list(milestone.owners),
        "state": state,
        "detail": detail,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
