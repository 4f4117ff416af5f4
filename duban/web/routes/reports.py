"""The monthly round on the web: fill, save and submit online (or by the xlsx form), review, accept
or return with a reason, and the department's own consolidated report."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import col, select
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from duban import audit
from duban.db import session_scope
from duban.glossary import REPORT_STATUS as STATUS_LABELS
from duban.programme import current_plan
from duban.reporting.forms import WORK_STATES, FormRefused, form_rows, submit_form, submit_online, write_form
from duban.reporting.periods import PeriodError, parse_period
from duban.reporting.reports import (
    ReportError,
    get_submission,
    items_led_by,
    latest_version,
    lines_of,
    review,
)
from duban.reporting.view import period_view
from duban.spreadsheet import RefusedFile, SheetError
from duban.textgate import TextRefused
from duban.web.deps import Person, Posted, Signed, need, render, retried, today
from duban.web.scope import hidden
from duban.web.uploads import received, removed, scratch, uploads_in
from models import Review, Submission, SubmissionVersion

router = APIRouter()
REFUSALS = (ReportError, FormRefused, RefusedFile, SheetError, TextRefused, PeriodError)
FIELDS = {"progress": "p", "work_state": "s", "this_month": "m", "obstacles": "o", "next_plan": "n", "opinion": "op"}


@router.get("/reports")
def reports(request: Request, who: Signed) -> Response:
    with session_scope() as session:
        query = select(Submission).order_by(col(Submission.period).desc(), col(Submission.unit))
        if who.kind in ("township", "department"):
            query = query.where(Submission.unit == who.unit)
        rows = session.exec(query.limit(500)).all()
        periods = sorted({s.period for s in rows}, reverse=True)
    return render(request, "reports.html", rows=rows, periods=periods, labels=STATUS_LABELS)


@router.get("/reports/{period}")
def report_page(request: Request, period: str, who: Signed) -> Response:
    if who.kind in ("office", "leader"):
        return _round(request, period)
    return _own(request, who, period)


@router.post("/reports/{period}")
def save_online(request: Request, period: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    draft = form.get("action") != "submit"
    request.state.form_page = str(form.get("page") or "1")  # a refusal shows the same page again
    entered: dict[str, dict[str, str]] = {}
    for name in form:
        short, _, code = name.partition(".")
        if short in ("p", "s") and code:
            entered[code] = {key: str(form.get(f"{one}.{code}") or "") for key, one in FIELDS.items()}
            entered[code]["milestones_done"] = "是" if form.get(f"d.{code}") else ""

    def save() -> SubmissionVersion:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            return submit_online(
                session,
                current_plan(session),
                period=period,
                unit=who.unit,
                entered=entered,
                summary=str(form.get("summary") or ""),
                as_of=today(request),
                draft=draft,
                base=int(base) if (base := str(form.get("base") or "")).isdigit() else None,
            )

    try:
        version = retried(save)
    except REFUSALS as exc:
        return _own(request, who, period, error=str(exc), status_code=400, entered=entered)
    what = "草稿已保存" if draft else "已提交"
    page = str(form.get("page") or "1")
    page = page if page.isdigit() else "1"
    return RedirectResponse(f"/reports/{period}?saved={quote(what)}&v={version.version}&page={page}", status_code=303)


@router.get("/reports/{period}/form.xlsx")
def download_form(request: Request, period: str, who: Signed) -> Response:
    need(who, kinds=("township", "department"))
    folder = scratch()
    path = folder / f"{period}-{who.unit}-填报表.xlsx"
    try:
        with session_scope() as session:
            write_form(session, current_plan(session), period=period, unit=who.unit, path=path)
    except REFUSALS as exc:
        removed(folder)
        return render(request, "error.html", 400, message=str(exc))
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
        background=BackgroundTask(removed, folder),
    )


@router.post("/reports/{period}/upload")
def upload_form(request: Request, period: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    files = uploads_in(form, "form")
    if len(files) != 1:
        return _own(request, who, period, error="请选择一个填好的 .xlsx 填报表", status_code=400)
    draft = form.get("action") != "submit"
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            with received(files, max_bytes=plan.limits.max_file_bytes) as (path,):
                version = submit_form(
                    session, plan, path=path, period=period, unit=who.unit, as_of=today(request), draft=draft
                )
    except REFUSALS as exc:
        return _own(request, who, period, error=str(exc), status_code=400)
    what = "草稿已保存" if draft else "已提交"
    return RedirectResponse(f"/reports/{period}?saved={quote(what)}&v={version.version}", status_code=303)


@router.get("/reports/{period}/{unit}")
def township_report(request: Request, period: str, unit: str, who: Signed) -> Response:
    return _review_page(request, who, period, unit)


@router.post("/reports/{period}/{unit}/review")
def decide(request: Request, period: str, unit: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("department",), roles=("reviewer",))
    accept = form.get("decision") == "accept"
    if form.get("decision") not in ("accept", "return"):
        return _review_page(request, who, period, unit, error="请选择“审核通过”或“退回”", status_code=400)
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            _reviewable(session, plan, who, period, unit)
            review(
                session,
                plan,
                period=period,
                township=unit,
                by=who.unit,
                accept=accept,
                reason=str(form.get("reason") or ""),
                as_of=today(request),
            )
    except REFUSALS as exc:
        return _review_page(request, who, period, unit, error=str(exc), status_code=400)
    return RedirectResponse(f"/reports/{period}?reviewed={quote(unit)}", status_code=303)


def _own(
    request: Request,
    who: Person,
    period: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    entered: dict | None = None,
) -> Response:
    """The unit's own report: the form pre-filled with its last values, its versions, its reviews."""
    saved = request.query_params.get("saved")
    reviewed = request.query_params.get("reviewed")
    with session_scope() as session:
        plan = current_plan(session)
        try:
            submission = get_submission(session, plan, period, who.unit)
        except REFUSALS as exc:
            return render(request, "error.html", 404, message=str(exc))
        per_page = plan.portal.page_rows
        pages = max(1, -(-len(submission.items) // per_page))
        page = _page_of(request, pages)
        rows = form_rows(session, plan, submission, submission.items[(page - 1) * per_page : page * per_page])
        reviews = session.exec(
            select(Review).where(Review.submission_id == submission.id).order_by(col(Review.id))
        ).all()
        townships = _townships_of(session, who, period) if who.kind == "department" else []
        last = latest_version(session, submission)
        summary = last.summary if last else ""
    notice = f"{saved}（第{request.query_params.get('v', '')}版）" if saved in ("草稿已保存", "已提交") else None
    if reviewed:
        notice = "审核意见已提交。"
    return render(
        request,
        "report.html",
        status_code,
        submission=submission,
        rows=rows,
        reviews=reviews,
        townships=townships,
        labels=STATUS_LABELS,
        states=WORK_STATES,
        summary=summary,
        error=error,
        notice=notice,
        entered=entered or {},
        page=page,
        pages=pages,
    )


def _page_of(request: Request, pages: int) -> int:
    """The page asked for (a link, or the form just sent), within the form's pages."""
    asked = request.query_params.get("page") or getattr(request.state, "form_page", "1")
    return min(max(int(asked), 1), pages) if str(asked).isdigit() else 1


def _townships_of(session, who: Person, period: str) -> list[Submission]:  # noqa: ANN001 - a Session
    rows = session.exec(
        select(Submission)
        .where(Submission.period == period, Submission.kind == "township")
        .order_by(col(Submission.unit))
    ).all()
    return [s for s in rows if who.unit in s.reviewers]


def _reviewable(session, plan, who: Person, period: str, unit: str) -> Submission:  # noqa: ANN001
    """A township's report is shown to its reviewing departments, the Office and the leaders; a
    department's consolidated report to the Office and the leaders; to no one else."""
    try:
        submission = get_submission(session, plan, period, unit)
    except REFUSALS:
        raise hidden() from None
    if who.kind in ("office", "leader"):
        return submission
    if submission.kind != "township" or who.kind != "department" or who.unit not in submission.reviewers:
        raise hidden()
    return submission


def _review_page(
    request: Request, who: Person, period: str, unit: str, *, status_code: int = 200, error: str | None = None
) -> Response:
    """The latest submitted version beside the previous month's accepted one, line by line."""
    with session_scope() as session:
        plan = current_plan(session)
        submission = _reviewable(session, plan, who, period, unit)
        version = latest_version(session, submission, submitted_only=True)
        lines = lines_of(session, version) if version else []
        others = 0
        if who.kind == "department" and version is not None:  # its own categories; the rest are others' to review
            led = items_led_by(session, version, who.unit)
            others = sum(1 for line in lines if line.item_code not in led)
            lines = [line for line in lines if line.item_code in led]
        previous = _previous_month(session, submission)
        reviews = session.exec(
            select(Review).where(Review.submission_id == submission.id).order_by(col(Review.id))
        ).all()
        decided = any(r.department == who.unit and version and r.version == version.version for r in reviews)
        summary = version.summary if version else ""
    return render(
        request,
        "review.html",
        status_code,
        submission=submission,
        version=version,
        lines=lines,
        previous=previous,
        reviews=reviews,
        labels=STATUS_LABELS,
        others=others,
        summary=summary,
        may_decide=who.kind == "department"
        and who.role == "reviewer"
        and submission.status == "submitted"
        and version is not None
        and not decided,
        error=error,
    )


def _previous_month(session, submission: Submission) -> dict:  # noqa: ANN001 - a Session
    earlier = session.exec(
        select(Submission)
        .where(
            Submission.unit == submission.unit,
            Submission.period < submission.period,
            # a township's report counts once accepted; a department's once sent (nobody accepts it)
            col(Submission.status).in_(("accepted",) if submission.kind == "township" else ("submitted",)),
        )
        .order_by(col(Submission.period).desc())
    ).first()
    if earlier is None:
        return {}
    version = latest_version(session, earlier, submitted_only=True)
    return {line.item_code: line for line in lines_of(session, version)} if version else {}


def _round(request: Request, period: str) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        try:
            parse_period(plan, period)
        except PeriodError as exc:
            return render(request, "error.html", 404, message=str(exc))
        view = period_view(session, plan, period, today(request))
    return render(request, "round.html", view=view)
