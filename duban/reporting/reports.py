"""Saving reports (drafts, submissions, resubmissions) and departments' reviews of townships' reports.

Every version is kept. A report saved after its due date is marked late, never refused. When a lead
department accepts a township's report, the progress it gives for that department's items becomes
the items' progress.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from duban import audit, textgate
from duban.calendar import WorkingCalendar
from duban.glossary import cn_date, cn_period
from duban.items.closeout import set_status
from duban.items.rectification import in_force
from duban.plan import Plan
from duban.reporting.lines import (
    FEW_CODES,
    ReportLine,
    differing_lines,
    report_lines,
    saved_codes,
    version_lines,
    write_changes,
)
from duban.reporting.periods import add_working_days, month_end_of, parse_period
from models import LedgerItem, MilestoneDone, ReportingPeriod, Review, Submission, SubmissionLine, SubmissionVersion
from notifications.outbox import notify

WORK_STATES = ("未开工", "推进中", "已完成")


class ReportError(Exception):
    """A report action the round does not allow; the message says why, in Chinese."""


def get_submission(session: Session, plan: Plan, period: str, unit: str) -> Submission:
    parse_period(plan, period)
    if plan.unit_kind(unit) is None:
        raise ReportError(f"未知单位“{unit}”：不在实施方案的组织体系中")
    if session.get(ReportingPeriod, period) is None:
        raise ReportError(f"{cn_period(period)}的报送工作尚未开启")
    submission = session.exec(select(Submission).where(Submission.period == period, Submission.unit == unit)).first()
    if submission is None:
        raise ReportError(f"{unit}在{cn_period(period)}没有报送任务（无未销号的台账问题）")
    return submission


def effective_due(submission: Submission) -> date:
    return submission.resubmit_due if submission.status == "returned" and submission.resubmit_due else submission.due_on


def latest_version(
    session: Session, submission: Submission, *, submitted_only: bool = False
) -> SubmissionVersion | None:
    query = select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)
    if submitted_only:
        query = query.where(SubmissionVersion.state == "submitted")
    return session.exec(query.order_by(col(SubmissionVersion.version).desc())).first()


def lines_of(session: Session, version: SubmissionVersion, codes: list[str] | None = None) -> list[SubmissionLine]:
    """A version's whole report, by item code; with `codes`, only theirs (a page of a large unit's form)."""
    return version_lines(session, version.submission_id, version.version, codes)


def check_open(submission: Submission) -> None:
    """An accepted report is locked for everyone: a change goes through 申请更正 (duban/reporting/corrections.py)."""
    if submission.status == "accepted":
        raise ReportError(
            f"{submission.unit}{cn_period(submission.period)}的报表已审核通过，已锁定，不能再修改或提交；"
            "如需更正，请申请更正"
        )


def save_report(
    session: Session,
    plan: Plan,
    *,
    submission: Submission,
    lines: list[ReportLine],
    as_of: date,
    draft: bool,
    source: str = "",
    summary: str = "",
    partial: bool = False,
) -> SubmissionVersion:
    """Keep a new version; a submission after the due date is marked late, except a corrected one.

    `lines` is the whole report; with `partial`, only the lines sent, the others kept as they were in
    the version before. Either way only the lines that changed are written (duban/reporting/lines.py)."""
    check_open(submission)
    opened = session.get(ReportingPeriod, submission.period)
    if as_of < opened.opened_on:
        raise ReportError(f"报送日期{cn_date(as_of)}早于本期开启日期{cn_date(opened.opened_on)}")
    # An accepted report reopened by 申请更正 was on time or not when first sent: its correction is not late.
    late = not draft and submission.status != "correcting" and as_of > effective_due(submission)
    # Two people of one unit saving at once: the version is taken here, once; the later save is refused
    # (and its page keeps what was typed) instead of failing on the versions' unique key.
    table = Submission.__table__  # Core: the object in the session keeps the version it was read with
    taken = session.execute(
        update(table)
        .where(table.c.id == submission.id, table.c.version == submission.version)
        .values(version=submission.version + 1)
    )
    if taken.rowcount != 1:
        raise ReportError(
            f"{submission.unit}{cn_period(submission.period)}的报表刚刚已由本单位其他人员保存，请刷新页面核对后重新保存"
        )
    version = SubmissionVersion(
        submission_id=submission.id,
        version=submission.version + 1,
        state="draft" if draft else "submitted",
        saved_on=as_of,
        saved_at=datetime.now(UTC),
        late=late,
        source=source,
        summary=summary,
    )
    session.add(version)
    session.flush()
    base = report_lines(
        session, submission.id, submission.version, [line.item_code for line in lines] if partial else None
    )
    write_changes(session, version, lines, base, whole=not partial)
    before = {"status": submission.status, "version": submission.version}
    submission.version = version.version
    if draft:
        submission.status = "draft" if submission.status == "requested" else submission.status
    else:
        if submission.first_submitted_on is None:
            submission.first_submitted_on = as_of
            submission.late = late
        submission.last_submitted_on = as_of
        submission.status = "submitted"
    session.add(submission)
    audit.record(
        session,
        actor=submission.unit,
        subject="submission",
        key=f"{submission.period}:{submission.unit}",
        action="draft" if draft else "submit",
        effective_on=as_of,
        before=before,
        after={"status": submission.status, "version": version.version, "late": late, "source": source},
    )
    if not draft and submission.kind == "department":
        _apply_progress(
            session,
            submission,
            differing_lines(session, submission.id, version.version),
            actor=submission.unit,
            as_of=as_of,
            note=f"{cn_period(submission.period)}报表（部门核定）",
        )
    return version


def review(
    session: Session, plan: Plan, *, period: str, township: str, by: str, accept: bool, reason: str, as_of: date
) -> Submission:
    """A lead department accepts a township's latest report, or returns it with a reason."""
    reason = textgate.clean(reason, multiline=True, limit=textgate.NOTE_LIMIT, field="退回理由")
    submission = get_submission(session, plan, period, township)
    month = cn_period(period)
    if submission.kind != "township":
        raise ReportError(f"{township}不是镇办：部门报表由{plan.office.name}汇总，无需审核")
    if by not in submission.reviewers:
        raise ReportError(f"{by}不是{township}{month}报表的审核部门（审核部门：{'、'.join(submission.reviewers)}）")
    if submission.status in ("requested", "draft"):
        raise ReportError(f"{township}{month}的报表尚未提交，无法审核")
    if submission.status == "returned":
        raise ReportError(f"{township}{month}的报表已被退回，须待其重新报送后再审核")
    if submission.status == "correcting":
        raise ReportError(f"{township}{month}的报表正在更正，须待其重新报送后再审核")
    version = latest_version(session, submission, submitted_only=True)
    done = session.exec(
        select(Review).where(
            Review.submission_id == submission.id, Review.version == version.version, Review.department == by
        )
    ).first()
    if done is not None:
        word = "通过" if done.decision == "accepted" else "退回"
        raise ReportError(f"{by}已于{cn_date(done.decided_on)}审核{word}{township}{month}报表第{version.version}版")
    if not accept and not reason.strip():
        raise ReportError("退回报表须说明退回理由")
    if as_of < version.saved_on:
        raise ReportError(f"审核日期{cn_date(as_of)}早于报表提交日期{cn_date(version.saved_on)}")
    session.add(
        Review(
            submission_id=submission.id,
            version=version.version,
            department=by,
            decision="accepted" if accept else "returned",
            reason=reason.strip(),
            decided_on=as_of,
        )
    )
    session.flush()
    before = {"status": submission.status}
    if accept:
        whole = report_lines(session, submission.id, version.version)
        own = _led_by(session, list(whole), by)
        lines = [line for code, line in sorted(whole.items()) if code in own]
        _apply_progress(session, submission, lines, actor=township, as_of=as_of, note=f"{month}报表（{by}审核通过）")
        reviewed = set(
            session.exec(
                select(Review.department).where(
                    Review.submission_id == submission.id,
                    Review.version == version.version,
                    Review.decision == "accepted",
                )
            )
        )
        if reviewed >= set(submission.reviewers):
            submission.status = "accepted"
    else:
        calendar = WorkingCalendar(plan.calendar)
        submission.status = "returned"
        submission.returned_on = as_of
        submission.resubmit_due = add_working_days(calendar, as_of, plan.reporting.resubmit_within_working_days)
        notify(
            session,
            plan,
            key=f"returned:{period}:{township}:v{version.version}:{by}",
            kind="report_returned",
            recipient=township,
            as_of=as_of,
            period=period,
            version=version.version,
            department=by,
            reason=reason.strip(),
            resubmit_due=submission.resubmit_due,
            page=f"/reports/{period}",
        )
    session.add(submission)
    audit.record(
        session,
        actor=by,
        subject="submission",
        key=f"{period}:{township}",
        action="accept" if accept else "return",
        effective_on=as_of,
        before=before,
        after={"status": submission.status, "version": version.version},
        note=reason.strip(),
    )
    return submission


def items_led_by(session: Session, version: SubmissionVersion, department: str) -> set[str]:
    return _led_by(session, list(saved_codes(session, version.submission_id, version.version)), department)


def _led_by(session: Session, codes: list[str], department: str) -> set[str]:
    query = select(LedgerItem.code).where(LedgerItem.lead_department == department)
    if len(codes) <= FEW_CODES:
        query = query.where(col(LedgerItem.code).in_(codes))
    return set(session.exec(query)) & set(codes)


def _apply_progress(
    session: Session, submission: Submission, lines: list[ReportLine], *, actor: str, as_of: date, note: str
) -> None:
    """Reported progress becomes the item's; work under way moves a planned item to in_progress.

    Only the items a line changes are loaded as objects: a department's report has thousands of lines."""
    codes = [line.item_code for line in lines]
    now = item_states(session, codes)
    lines = [
        line
        for line in lines
        if now[line.item_code][1] not in ("closed", "cancelled")
        and (
            now[line.item_code][0] != line.progress
            or (now[line.item_code][1] == "planned" and line.work_state != "未开工")
            or line.milestones_done
        )
    ]
    changed = [line.item_code for line in lines]
    items = {i.code: i for i in session.exec(select(LedgerItem).where(col(LedgerItem.code).in_(changed)))}
    month_end = month_end_of(submission.period)
    due = due_milestones(session, [items[line.item_code] for line in lines if line.milestones_done], month_end)
    for line in lines:
        item = items[line.item_code]
        if item.status in ("closed", "cancelled"):
            continue
        if item.progress != line.progress:
            audit.record(
                session,
                actor=actor,
                subject="item",
                key=item.code,
                action="progress",
                effective_on=as_of,
                before={"progress": item.progress},
                after={"progress": line.progress},
                note=note,
            )
            item.progress = line.progress
            session.add(item)
        if item.status == "planned" and line.work_state != "未开工":
            set_status(
                session, item, "in_progress", actor=item.responsible_unit, as_of=as_of, note=note, action="开始整改"
            )
        for step_due, title in due.get(item.code, ()):
            session.add(MilestoneDone(item_code=item.code, due=step_due, title=title, done_on=as_of, reported_by=actor))


def item_states(session: Session, codes: list[str]) -> dict[str, tuple[int, str]]:
    """(progress, status) of each item by code, as plain rows: a department's report has thousands."""
    table = LedgerItem.__table__
    query = select(table.c.code, table.c.progress, table.c.status)
    if len(codes) <= FEW_CODES:  # thousands of codes: the whole ledger's three columns cost less to read
        query = query.where(table.c.code.in_(codes))
    return {code: (progress, status) for code, progress, status in session.execute(query)}


def due_milestones(session: Session, items: list[LedgerItem], by: date) -> dict[str, list[tuple[date, str]]]:
    """Each item's milestones due by `by` and not yet reported done, by code (three queries in all)."""
    plans = in_force(session, [item.id for item in items])
    codes = [item.code for item in items]
    done = {
        (m.item_code, m.due, m.title)
        for m in session.exec(select(MilestoneDone).where(col(MilestoneDone.item_code).in_(codes)))
    }
    return {
        item.code: [
            (due, title)
            for due, title in (plans[item.id].milestones if item.id in plans else ())
            if due <= by and (item.code, due, title) not in done
        ]
        for item in items
    }
