"""The .xlsx exports of the lists whose pages live in other route modules (reports, a campaign's answers,
the project register, the outbox): each reads what its page shows, for whom the page shows it, through
the one export (duban/web/export.py). Registered before those modules, so that `/reports/export.xlsx` is
not taken for a period nor `/projects/export.xlsx` for a project code.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func
from sqlmodel import col, select
from starlette.responses import Response

from duban.campaign.view import ANSWERS, figures
from duban.db import session_scope
from duban.glossary import CHANNEL, OUTBOX_STATUS, REPORT_KIND, REPORT_STATUS, YES_NO, label
from duban.mechanism import view
from duban.stored_plan import current_plan
from duban.web import export
from duban.web.deps import RowId, Signed, need, today
from duban.web.routes.campaigns import _campaign_of
from duban.web.routes.office import outbox_query
from models import OutboxMessage, Submission

router = APIRouter()


@router.get("/reports/export.xlsx")
def reports(request: Request, who: Signed) -> Response:
    """The submissions /reports lists: a unit's own, every unit's for the Office and the leaders."""
    day = today(request)
    with session_scope() as session:
        limit = current_plan(session).limits.max_rows
        scope = [Submission.unit == who.unit] if who.kind in ("township", "department") else []
        total = session.exec(select(func.count()).select_from(Submission).where(*scope)).one()
        query = select(Submission).where(*scope).order_by(col(Submission.period).desc(), col(Submission.unit))
        rows = [
            [
                s.period,
                s.unit,
                label(REPORT_KIND, s.kind),
                label(REPORT_STATUS, s.status),
                s.resubmit_due if s.status == "returned" and s.resubmit_due else s.due_on,
                s.first_submitted_on,
                YES_NO[bool(s.late)],
                len(s.items),
            ]
            for s in session.exec(query.limit(limit))
        ]
        export.on_record(session, request, who, "reports", "月度报送情况", day)
    header = ["报送期", "单位", "报表类型", "状态", "截止日期", "首次报送日期", "迟报", "问题数"]
    return export.xlsx("月度报送情况", header, rows, total=total, limit=limit, day=day)


@router.get("/campaigns/{campaign_id}/export.xlsx")
def campaign_answers(request: Request, campaign_id: RowId, who: Signed) -> Response:
    """A campaign's answers item by item: all of them for the Office and the leaders; a unit's own and
    those of the items it leads for a unit in the campaign (another unit's campaign answers 404)."""
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        campaign = _campaign_of(session, who, campaign_id)
        answered = figures(session, plan, campaign, day)["items"]
        title = campaign.title
        export.on_record(session, request, who, "campaign_answers", f"{title}反馈情况", day)
    if who.kind not in ("office", "leader"):
        answered = [i for i in answered if who.unit in (i["unit"], i["lead_department"])]
    limit = plan.limits.max_rows
    header = ["问题编号", "镇办", "社区", "设施类别", "责任单位", "牵头部门", "反馈情况", "反馈日期"]
    header += ["整改进展情况", "下一步整改措施", "承诺完成时限"]
    rows = [
        [
            i["code"],
            i["township"],
            i["community"],
            i["category"],
            i["unit"],
            i["lead_department"],
            ANSWERS[i["answer"]],
            i["responded_on"],
            i["progress"],
            i["measures"],
            i["promised_by"],
        ]
        for i in answered[:limit]
    ]
    return export.xlsx(f"{title}反馈情况", header, rows, total=len(answered), limit=limit, day=day)


@router.get("/projects/export.xlsx")
def projects(request: Request, who: Signed) -> Response:
    """The project register as /projects lists it: a township's own projects, everyone else all."""
    day = today(request)
    township = who.unit if who.kind == "township" else None
    with session_scope() as session:
        plan = current_plan(session)
        limit = plan.limits.max_rows
        total = view.register_count(session, township=township)
        listed = view.register_rows(session, plan, day, township=township, limit=limit)
        export.on_record(session, request, who, "projects", "新建住宅项目联合审查", day)
    header = ["项目编号", "项目名称", "镇办", "开发企业", "户数", "当前环节", "状态", "期限"]
    header += ["待签署单位", "逾期单位", "配建缺口", "已豁免"]
    rows = [
        [
            r["code"],
            r["name"],
            r["township"],
            r["developer"],
            r["households"],
            r["gate"],
            r["state_label"],
            r["due_on"],
            "、".join(r["waiting"]),
            "、".join(r["late"]),
            r["shortfalls"],
            r["waived"],
        ]
        for r in listed
    ]
    return export.xlsx("新建住宅项目联合审查", header, rows, total=total, limit=limit, day=day)


@router.get("/outbox/export.xlsx")
def outbox(request: Request, who: Signed, status: str = "") -> Response:
    """The Office's outbox, one status or all, newest first."""
    need(who, kinds=("office",))
    day = today(request)
    status = status if status in OUTBOX_STATUS else ""
    with session_scope() as session:
        limit = current_plan(session).limits.max_rows
        where = [OutboxMessage.status == status] if status else []
        total = session.exec(select(func.count()).select_from(OutboxMessage).where(*where)).one()
        rows = [
            [
                m.id,
                label(OUTBOX_STATUS, m.status),
                m.recipient,
                label(CHANNEL, m.channel),
                m.subject,
                m.created_on,
                m.attempts,
                m.last_error,
            ]
            for m in session.exec(outbox_query(status).limit(limit))
        ]
        export.on_record(session, request, who, "outbox", "消息队列", day)
    header = ["编号", "状态", "收件单位", "渠道", "标题", "日期", "尝试次数", "原因"]
    return export.xlsx("消息队列", header, rows, total=total, limit=limit, day=day)
