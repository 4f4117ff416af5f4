"""The monthly round on the web: fill, save and submit online (or by the xlsx form), review, accept
or return with a reason, the department's own consolidated report, and 申请更正 of an accepted report.

Every POST answers 303 (duban/web/flash.py): a refresh repeats nothing; a refused save comes back on
its page with the lines the clerk changed kept."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy.orm import defer
from sqlmodel import col, select
from starlette.responses import Response

from duban import audit
from duban.db import session_scope
from duban.files.spreadsheet import RefusedFile, SheetError
from duban.glossary import CORRECTION_STATE, cn_date
from duban.glossary import REPORT_STATUS as STATUS_LABELS
from duban.reporting.corrections import corrections_of, decide_correction, pending_corrections, request_correction
from duban.reporting.forms import (
    WORK_STATES,
    FormRefused,
    changed_entries,
    form_rows,
    submit_form,
    submit_online,
    write_form,
)
from duban.reporting.lines import saved_codes
from duban.reporting.periods import PeriodError, parse_period
from duban.reporting.reports import ReportError, get_submission, items_led_by, latest_version, lines_of, review
from duban.reporting.view import period_view
from duban.stored_plan import current_plan
from duban.textgate import TextRefused
from duban.web import export
from duban.web.deps import Person, Posted, RowId, Signed, need, render, retried, today
from duban.web.flash import back
from duban.web.numbers import PAGES, page_asked, whole
from duban.web.scope import hidden
from duban.web.uploads import received, removed, scratch, uploads_in
from models import ReportCorrection, Review, Submission, SubmissionVersion

router = APIRouter()
REFUSALS = (ReportError, FormRefused, RefusedFile, SheetError, TextRefused, PeriodError)
FIELDS = {"progress": "p", "work_state": "s", "this_month": "m", "obstacles": "o", "next_plan": "n", "opinion": "op"}
SAVED = {True: "草稿已保存", False: "已提交"}


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
    here = f"/reports/{quote(period)}?page={whole(form.get('page'), low=1, high=PAGES) or 1}"
    entered: dict[str, dict[str, str]] = {}
    for name in form:
        short, _, code = name.partition(".")
        if short in ("p", "s") and code:
            entered[code] = {key: str(form.get(f"{one}.{code}") or "") for key, one in FIELDS.items()}
            entered[code]["milestones_done"] = "是" if form.get(f"d.{code}") else ""
    summary = str(form.get("summary") or "")

    def save() -> SubmissionVersion:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            return submit_online(
                session,
                current_plan(session),
                period=period,
                unit=who.unit,
                entered=entered,
                summary=summary,
                as_of=today(request),
                draft=draft,
                base=whole(form.get("base")),
            )

    try:
        version = retried(save)
    except REFUSALS as exc:
        return back(request, here, error=str(exc), values=_kept(who, period, entered, summary))
    return back(request, f"{here}&v={version.version}", notice=f"{SAVED[draft]}（第{version.version}版）")


def _kept(who: Person, period: str, entered: dict[str, dict[str, str]], summary: str) -> dict[str, str]:
    """What a refused save keeps for its page: the lines typed that differ from what the page shows
    (not the hundreds of unchanged fields of a page), and the summary."""
    try:
        with session_scope() as session:
            changed = changed_entries(session, current_plan(session), period=period, unit=who.unit, entered=entered)
    except REFUSALS:
        changed = {}
    kept = {f"{short}.{code}": typed.get(key, "") for code, typed in changed.items() for key, short in FIELDS.items()}
    kept |= {f"d.{code}": typed.get("milestones_done", "") for code, typed in changed.items()}
    return kept | ({"summary": summary} if summary else {})


@router.get("/reports/{period}/form.xlsx")
def download_form(request: Request, period: str, who: Signed) -> Response:
    need(who, kinds=("township", "department"))
    folder = scratch()
    path = folder / f"{period}-{who.unit}-填报表.xlsx"
    try:  # read whole and removed before answering: no scratch file outlives the request
        with session_scope() as session:
            write_form(session, current_plan(session), period=period, unit=who.unit, path=path)
            export.downloaded(session, request, who, "report_form", f"{period}:{who.unit}", path.name)
        content = path.read_bytes()
    except REFUSALS as exc:
        return render(request, "error.html", 400, message=str(exc))
    finally:
        removed(folder)
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


@router.post("/reports/{period}/upload")
def upload_form(request: Request, period: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("township", "department"))
    here = f"/reports/{quote(period)}"
    files = uploads_in(form, "form")
    if len(files) != 1:
        return back(request, here, error="请选择一个填好的 .xlsx 填报表", field="form")
    draft = form.get("action") != "submit"
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            with received(files, max_bytes=plan.limits.max_file_bytes) as (path,):
                version = submit_form(
                    session, plan, path=path, period=period, unit=who.unit, as_of=today(request), draft=draft
                )
    except REFUSALS as exc:
        return back(request, here, error=str(exc), field="form")
    return back(request, f"{here}?v={version.version}", notice=f"{SAVED[draft]}（第{version.version}版）")


@router.post("/reports/{period}/correction")
def ask_correction(request: Request, period: str, who: Signed, form: Posted) -> Response:
    """申请更正: the unit's own accepted report, with a reason."""
    need(who, kinds=("township", "department"))
    here = f"/reports/{quote(period)}"
    reason = str(form.get("reason") or "")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            request_correction(
                session, current_plan(session), period=period, unit=who.unit, reason=reason, as_of=today(request)
            )
    except REFUSALS as exc:
        return back(request, here, error=str(exc), field="reason", values={"reason": reason})
    return back(request, here, notice="更正申请已提交，请等待牵头部门审核。")


@router.get("/reports/{period}/{unit}")
def township_report(request: Request, period: str, unit: str, who: Signed) -> Response:
    return _review_page(request, who, period, unit)


@router.post("/reports/{period}/{unit}/review")
def decide(request: Request, period: str, unit: str, who: Signed, form: Posted) -> Response:
    need(who, kinds=("department",), roles=("reviewer",))
    here = f"/reports/{quote(period)}/{quote(unit)}"
    reason = str(form.get("reason") or "")
    if form.get("decision") not in ("accept", "return"):
        return back(request, here, error="请选择“审核通过”或“退回”")
    accept = form.get("decision") == "accept"
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
                reason=reason,
                as_of=today(request),
            )
    except REFUSALS as exc:
        return back(request, here, error=str(exc), field="reason", values={"reason": reason})
    return back(request, f"/reports/{quote(period)}", notice="审核意见已提交。")


@router.post("/reports/{period}/{unit}/corrections/{correction_id}")
def answer_correction(
    request: Request, period: str, unit: str, correction_id: RowId, who: Signed, form: Posted
) -> Response:
    """A reviewing department allows or refuses a request to correct a report it accepted."""
    need(who, kinds=("department",), roles=("reviewer",))
    here = f"/reports/{quote(period)}/{quote(unit)}"
    answer = str(form.get("answer") or "")
    if form.get("decision") not in ("allow", "refuse"):
        return back(request, here, error="请选择“准予更正”或“不予更正”")
    try:
        with session_scope() as session, audit.entered_by(who.name, "portal"):
            plan = current_plan(session)
            submission = _reviewable(session, plan, who, period, unit)
            correction = session.get(ReportCorrection, correction_id)
            if correction is None or correction.submission_id != submission.id:
                raise hidden()
            decide_correction(
                session,
                plan,
                correction_id=correction.id,
                by=who.unit,
                allow=form.get("decision") == "allow",
                answer=answer,
                as_of=today(request),
            )
    except REFUSALS as exc:
        return back(request, here, error=str(exc), field="answer", values={"answer": answer})
    allowed = form.get("decision") == "allow"
    return back(request, here, notice="已准予更正，报表已重新开放修改。" if allowed else "已不予更正。")


def _own(request: Request, who: Person, period: str) -> Response:
    """The unit's own report: the form pre-filled with its last values (read-only once accepted, with
    申请更正), its versions, its reviews and corrections."""
    with session_scope() as session:
        plan = current_plan(session)
        try:
            submission = get_submission(session, plan, period, who.unit)
        except REFUSALS as exc:
            return render(request, "error.html", 404, message=str(exc))
        per_page = plan.portal.page_rows
        pages = max(1, -(-len(submission.items) // per_page))
        page = _page_of(request, pages)
        codes = submission.items[(page - 1) * per_page : page * per_page]
        locked = submission.status == "accepted"
        version = latest_version(session, submission, submitted_only=True) if locked else None
        rows = [] if locked else form_rows(session, plan, submission, codes)
        lines = lines_of(session, version, codes) if version else []
        reviews = session.exec(
            select(Review).where(Review.submission_id == submission.id).order_by(col(Review.id))
        ).all()
        corrections = corrections_of(session, submission)
        townships = _townships_of(session, who, period) if who.kind == "department" else []
        waiting = [(c, s) for c, s in pending_corrections(session, who.unit) if s.period == period]
        last = latest_version(session, submission)
        summary = last.summary if last else ""
    return render(
        request,
        "report.html",
        submission=submission,
        rows=rows,
        lines=lines,
        locked=locked,
        version=version,
        reviews=reviews,
        corrections=corrections,
        correction_labels=CORRECTION_STATE,
        pending=any(c.state == "pending" for c in corrections),
        waiting=waiting,
        townships=townships,
        labels=STATUS_LABELS,
        states=WORK_STATES,
        summary=summary,
        page=page,
        pages=pages,
        max_file=plan.limits.max_file_bytes,
    )


def _page_of(request: Request, pages: int) -> int:
    """The page asked for, within the form's pages."""
    return min(page_asked(request), pages)


def _townships_of(session, who: Person, period: str) -> list[Submission]:  # noqa: ANN001 - a Session
    rows = session.exec(
        select(Submission)
        .options(defer(Submission.items))
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


def _review_page(request: Request, who: Person, period: str, unit: str) -> Response:
    """The latest submitted version beside the previous month's accepted one, line by line; the
    decision (and any correction request to answer) below it."""
    with session_scope() as session:
        plan = current_plan(session)
        submission = _reviewable(session, plan, who, period, unit)
        version = latest_version(session, submission, submitted_only=True)
        codes = sorted(saved_codes(session, submission.id, version.version)) if version else []
        others = 0
        if who.kind == "department" and version is not None:  # its own categories; the rest are others' to review
            led = items_led_by(session, version, who.unit)
            others = sum(1 for code in codes if code not in led)
            codes = [code for code in codes if code in led]
        per_page = plan.portal.page_rows  # a township's report has thousands of lines: a page at a time
        pages = max(1, -(-len(codes) // per_page))
        page = _page_of(request, pages)
        codes = codes[(page - 1) * per_page : page * per_page]
        lines = lines_of(session, version, codes) if version else []
        previous = _previous_month(session, submission, codes)
        reviews = session.exec(
            select(Review).where(Review.submission_id == submission.id).order_by(col(Review.id))
        ).all()
        decided = any(r.department == who.unit and version and r.version == version.version for r in reviews)
        summary = version.summary if version else ""
        corrections = corrections_of(session, submission)
    reviewer = who.kind == "department" and who.role == "reviewer"
    return render(
        request,
        "review.html",
        submission=submission,
        version=version,
        lines=lines,
        previous=previous,
        reviews=reviews,
        labels=STATUS_LABELS,
        corrections=corrections,
        correction_labels=CORRECTION_STATE,
        may_answer=reviewer,
        others=others,
        summary=summary,
        page=page,
        pages=pages,
        may_decide=reviewer and submission.status == "submitted" and version is not None and not decided,
    )


def _previous_month(session, submission: Submission, codes: list[str]) -> dict:  # noqa: ANN001 - a Session
    earlier = session.exec(
        select(Submission)
        .where(
            Submission.unit == submission.unit,
            Submission.period < submission.period,
            # a township's report counts once accepted (a correction under way leaves it standing);
            # a department's once sent (nobody accepts it)
            col(Submission.status).in_(("accepted", "correcting") if submission.kind == "township" else ("submitted",)),
        )
        .order_by(col(Submission.period).desc())
    ).first()
    if earlier is None:
        return {}
    version = latest_version(session, earlier, submitted_only=True)
    return {line.item_code: line for line in lines_of(session, version, codes)} if version else {}


def _round(request: Request, period: str) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        try:
            parse_period(plan, period)
        except PeriodError as exc:
            return render(request, "error.html", 404, message=str(exc))
        view = period_view(session, plan, period, today(request))
    return render(request, "round.html", view=view, day=_cn)


def _cn(iso: str | None) -> str:
    """A date the round's view gives as ISO text, as a page writes it (2022年5月10日)."""
    return cn_date(date.fromisoformat(iso)) if iso else "—"
