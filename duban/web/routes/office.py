"""The Office's pages (and the leaders', read-only): today's dashboard, the ledger by upload, the
bulletins, the outbox and its dead letters."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import col, select
from starlette.responses import FileResponse, Response

from duban import audit, config
from duban.bulletin.issue import stem_of
from duban.calendar import WorkingCalendar
from duban.db import session_scope
from duban.desk import acknowledge, supervision
from duban.files.paths import PathRefused, under
from duban.files.spreadsheet import RefusedFile, SheetError, read_sheet
from duban.ledger import importer
from duban.reporting.view import LEVEL_LABELS
from duban.state.status import LIGHT_LABELS, Lights
from duban.stored_plan import current_plan
from duban.web import charts, export, flash
from duban.web.deps import Posted, RowId, Signed, need, render, today
from duban.web.flash import back
from duban.web.numbers import PageAsked
from duban.web.scope import hidden
from duban.web.uploads import received, uploads_in
from models import BulletinRecord, LedgerItem, OutboxMessage, ReportingPeriod, Submission
from notifications.outbox import OutboxError, requeue

router = APIRouter()
LISTED = 20
FILES = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FILES |= {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/dashboard")
def dashboard(request: Request, who: Signed) -> Response:
    need(who, kinds=("office", "leader"))
    day = today(request)
    with session_scope() as session:
        plan = current_plan(session)
        lights = Lights.on(plan, WorkingCalendar(plan.calendar), day)
        light = lights.column().label("light")
        by_light = dict(session.exec(select(light, func.count()).group_by(light)).all())
        by_status = session.exec(
            select(LedgerItem.township, LedgerItem.status, func.count()).group_by(
                LedgerItem.township, LedgerItem.status
            )
        ).all()
        overdue = session.exec(
            select(LedgerItem.code, LedgerItem.township, LedgerItem.community, LedgerItem.deadline)
            .where(lights.where("red"))
            .order_by(col(LedgerItem.deadline), col(LedgerItem.code))
            .limit(LISTED)
        ).all()
        levels = supervision.counts_by_level(session, day).items()
        period = session.exec(
            select(ReportingPeriod).where(ReportingPeriod.opened_on <= day).order_by(col(ReportingPeriod.period).desc())
        ).first()
        reports = (
            session.exec(
                select(Submission)
                .options(defer(Submission.items))  # a department's scope is thousands of codes the page never shows
                .where(Submission.period == period.period)
                .order_by(col(Submission.kind).desc(), col(Submission.unit))
            ).all()
            if period
            else []
        )
        trend_points = [
            (r.period, r.figures["overall"]["rate"])
            for r in session.exec(
                select(BulletinRecord)
                .where(BulletinRecord.kind == "monthly", BulletinRecord.edition == 1)
                .order_by(col(BulletinRecord.period))
            )
        ]
        unsigned = acknowledge.outstanding_by_unit(session, day)
    rates = _rates(plan.township_names(), by_status)
    return render(
        request,
        "dashboard.html",
        by_light=[(LIGHT_LABELS[k], k, by_light.get(k, 0)) for k in ("red", "yellow", "green", "none")],
        closed=sum(n for _, status, n in by_status if status == "closed"),
        total=sum(n for _, status, n in by_status if status != "cancelled"),
        overdue=overdue,
        red=by_light.get("red", 0),
        levels=[(LEVEL_LABELS[level], n) for level, n in sorted(levels)],
        period=period,
        reports=reports,
        complete=bool(reports)
        and all(s.status in ("accepted", "submitted") for s in reports)
        and all(s.status == "accepted" for s in reports if s.kind == "township"),
        townships=charts.by_township(rates),
        months=charts.by_month(trend_points),
        g=charts,
        unsigned=unsigned,
    )


def _rates(townships: list[str], by_status: list) -> list[tuple[str, float | None]]:
    totals: dict[str, list[int]] = {name: [0, 0] for name in townships}
    for township, status, n in by_status:
        if status == "cancelled" or township not in totals:
            continue
        totals[township][1] += n
        totals[township][0] += n if status == "closed" else 0
    return [(name, round(100 * c / t, 1) if t else None) for name, (c, t) in totals.items()]


@router.get("/ledger/import")
def import_page(request: Request, who: Signed) -> Response:
    need(who, kinds=("office",))
    return _import_page(request)


@router.post("/ledger/import")
def import_ledger(request: Request, who: Signed, form: Posted) -> Response:
    need(who, kinds=("office",))
    files = uploads_in(form, "ledger")
    if len(files) != 1:
        return back(request, "/ledger/import", error="请选择一个台账文件（.xlsx 或 .csv）", field="ledger")
    try:
        with session_scope() as session:
            limits = current_plan(session).limits
        with received(files, max_bytes=limits.max_file_bytes) as (path,), audit.entered_by(who.name, "portal"):
            rows = importer.check(read_sheet(path, limits), actor=who.unit, as_of=today(request))
            result = importer.commit(rows, actor=who.unit, as_of=today(request))
    except RefusedFile as exc:  # the file's problems, row by row, on the page the redirect leads to (nothing imported)
        listed = [[p.file, p.row or "", p.column, p.message, "" if p.value is None else p.value] for p in exc.problems]
        del listed[limits.max_problems_listed :]
        while len(shown := json.dumps(listed, ensure_ascii=False, default=str)) > flash.VALUE_MAX:
            del listed[len(listed) // 2 :]  # what one message may carry; the total still says how many
        kept = {"problems": shown, "total": str(len(exc.problems)), "heading": exc.heading}
        return back(request, "/ledger/import", error=f"{exc.heading}，未导入。", field="ledger", values=kept)
    except SheetError as exc:
        return back(request, "/ledger/import", error=str(exc), field="ledger")
    return back(request, "/ledger/import", notice=f"台账导入完成：{result.summary()}")


def _import_page(request: Request) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
    return render(request, "import.html", max_file=plan.limits.max_file_bytes)


@router.get("/bulletins")
def bulletins(request: Request, who: Signed) -> Response:
    with session_scope() as session:
        rows = session.exec(select(BulletinRecord).order_by(col(BulletinRecord.id).desc()).limit(200)).all()
        prefix = current_plan(session).bulletin.doc_prefix
    folder = config.home() / "bulletins"
    files = {r.id: [f for f in ("docx", "pdf") if (folder / f"{stem_of(r)}.{f}").is_file()] for r in rows}
    annexes = {r.id for r in rows if (folder / f"{stem_of(r)}-附件.xlsx").is_file()}
    return render(request, "bulletins.html", rows=rows, files=files, annexes=annexes, prefix=prefix)


@router.get("/bulletins/{bulletin_id}/{name}")
def bulletin_file(request: Request, bulletin_id: RowId, name: str, who: Signed) -> Response:
    """Any signed-in person: the bulletin goes to every unit of the chain anyway."""
    kind, annex = (name.removesuffix("-附件.xlsx"), True) if name.endswith("-附件.xlsx") else (name, False)
    if (annex and kind != "annex") or (not annex and kind not in FILES):
        raise hidden()
    with session_scope() as session:
        record = session.get(BulletinRecord, bulletin_id)
        if record is None:
            raise hidden()
        stem, title = stem_of(record), shown_title(record)
    filename = f"{stem}-附件.xlsx" if annex else f"{stem}.{kind}"
    named = f"{title}（附件）.xlsx" if annex else f"{title}.{kind}"  # the name on disk stays as it is
    try:
        path = under(config.home() / "bulletins", filename)
    except PathRefused:
        raise hidden() from None
    if not path.is_file():
        raise hidden()
    with session_scope() as session:
        key = f"{bulletin_id}/{'annex' if annex else kind}"
        export.downloaded(session, request, who, "bulletin", key, named)
    return FileResponse(
        path,
        media_type=FILES["xlsx" if annex else kind],
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(named)}"},
    )


def shown_title(record: BulletinRecord) -> str:
    """The bulletin's title as a person reads it (and names the downloaded file): its edition if not the first."""
    return record.title + (f"（第{record.edition}版）" if record.edition > 1 else "")


@router.get("/outbox")
def outbox(request: Request, who: Signed, page: PageAsked, status: str = "") -> Response:
    need(who, kinds=("office",))
    with session_scope() as session:
        counts = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        status = status if status in ("queued", "sending", "sent", "failed", "dead") else ""
        per_page = current_plan(session).portal.page_rows
        total = counts.get(status, 0) if status else sum(counts.values())
        pages = max(1, -(-total // per_page))
        page = max(1, min(page, pages))
        rows = session.exec(outbox_query(status).offset((page - 1) * per_page).limit(per_page)).all()
    return render(request, "outbox.html", rows=rows, counts=counts, status=status, page=page, pages=pages)


def outbox_query(status: str):  # noqa: ANN201 - a select of messages, newest first
    """The outbox as listed (one status, or all): the page and its export read the same rows."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
    return query.where(OutboxMessage.status == status) if status else query


@router.post("/outbox/{message_id}/retry")
def retry(request: Request, message_id: RowId, who: Signed, _form: Posted) -> Response:
    need(who, kinds=("office",))
    try:
        with session_scope() as session:
            requeue(session, message_id)
    except OutboxError as exc:
        return back(request, "/outbox", error=str(exc))
    return back(request, "/outbox?status=queued", notice=f"第{message_id}号消息已重新排队，将再次发送")
