"""The `duban` command: what the Office and the units' clerks type.

Interactive commands run duban's plain functions directly and answer at once; the Prefect engine
is used where it earns its start-up cost (a server configured to record the run, or `--engine`).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click
from rich.table import Table

from duban import config
from duban.assessment.commands import assess
from duban.audit_commands import audit
from duban.backup_commands import backup, restore
from duban.campaign.commands import campaign
from duban.cli_common import (
    as_of_option,
    engine_option,
    entered_at_terminal,
    err,
    out,
    parse_date,
    print_json,
    use_engine,
    user_errors,
)
from duban.closeout import STATUS_LABELS, ClosureError
from duban.console import styled
from duban.extensions.commands import extension
from duban.mechanism.commands import deliverable, project
from duban.paths import output_dir
from duban.programme import plan_in_force
from duban.reassign.commands import COMMANDS as REASSIGN_COMMANDS
from duban.reporting.reports import ReportError
from duban.summary_commands import summary
from duban.user_commands import user

LISTED = 20  # codes named on the console; the ledger export has them all


@click.group()
def main() -> None:
    """duban (督办): the Office's ledger, close-out, status and reporting for a district programme."""


@main.command()
@click.option("--plan", "plan_file", required=True, type=click.Path(path_type=Path), help="Plan YAML file.")
@as_of_option
@user_errors
def init(plan_file: Path, as_of: date) -> None:
    """Create or migrate the database and load (or re-load) the plan."""
    from duban.db import migrate, session_scope
    from duban.plan import load_plan
    from duban.programme import apply_plan

    plan, source = load_plan(plan_file)
    migrate()
    with session_scope() as session:
        result = apply_plan(session, plan, source, actor=plan.office.name, as_of=as_of)
    if not result.changed:
        out.print(f"方案“{plan.programme.title}”已是最新，未作任何修改。")
        return
    out.print(f"已加载方案“{plan.programme.title}”（{plan.programme.code}）。")
    for label, names in (("新增", result.added), ("修改", result.updated), ("删除", result.removed)):
        if names:
            out.print(f"  {label}：{'、'.join(names)}")


# -- ledger ----------------------------------------------------------------------------------------


@main.group()
def ledger() -> None:
    """The problem ledger (台账): import, export, blank template."""


@ledger.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "by", help="Unit filing the ledger; default the Office.")
@as_of_option
@click.option(
    "--engine/--no-engine",
    default=None,
    help="Run as a Prefect flow; default: only when PREFECT_API_URL names a server.",
)
@user_errors
@entered_at_terminal
def ledger_import(file: Path, by: str | None, as_of: date, engine: bool | None) -> None:
    """Import a ledger (.xlsx or .csv): all rows or none."""
    from duban.ledger import importer
    from duban.spreadsheet import read_sheet

    actor = by or plan_in_force().office.name
    if use_engine(engine):
        from flows.import_ledger import import_ledger

        state = import_ledger(str(file.resolve()), by=actor, as_of=as_of, return_state=True)
        result = state.result(raise_on_failure=True)
        out.print(
            f"台账导入完成（Prefect 流程）：新增 {len(result['created'])} 项，"
            f"更新 {len(result['updated'])} 项，整治方案修订 {len(result['replanned'])} 项，"
            f"无变化 {len(result['unchanged'])} 项"
        )
        return
    rows = importer.check(read_sheet(file, plan_in_force().limits), actor=actor, as_of=as_of)
    result = importer.commit(rows, actor=actor, as_of=as_of)
    out.print(f"台账导入完成：{result.summary()}")
    created = set(result.created)
    generated = [r.code for r in rows if not r.code_given and r.code in created]
    if generated:
        more = f"等{len(generated)}项（可用 duban ledger export 查看全部）" if len(generated) > LISTED else ""
        out.print(f"  系统生成问题编号：{'、'.join(generated[:LISTED])}{more}")


@ledger.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def ledger_export(file: Path) -> None:
    """Write the ledger with status and progress (.xlsx or .csv)."""
    from duban.db import session_scope
    from duban.ledger.export import export_ledger
    from duban.programme import current_plan

    with session_scope() as session:
        count = export_ledger(session, current_plan(session), file)
    out.print(f"已导出 {count} 项问题到 {file}")


@ledger.command("template")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def ledger_template(file: Path) -> None:
    """Write a blank .xlsx ledger with drop-down lists."""
    from duban.ledger.export import write_template

    write_template(plan_in_force(), file)
    out.print(f"已生成台账模板 {file}")


# -- items -----------------------------------------------------------------------------------------


@main.group()
def item() -> None:
    """One ledger item: its plan, its close-out, its history."""


@item.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def item_show(code: str, as_json: bool) -> None:
    """Show an item, its plan revisions, evidence and full audit history."""
    from duban.db import session_scope
    from duban.item_view import item_view
    from duban.programme import current_plan

    with session_scope() as session:
        view = item_view(session, current_plan(session), code)
    if as_json:
        print_json(view)
        return
    _print_item(view)


@item.command("transition")
@click.argument("code")
@click.option("--to", "target", required=True, help="Target state: code or Chinese name (e.g. closed, 已销号).")
@click.option("--by", "by", required=True, help="The unit making the change.")
@click.option("--note", default="", help="Note or reason (required for close requests and returns).")
@click.option("--evidence", multiple=True, type=click.Path(path_type=Path), help="Evidence file (repeatable).")
@as_of_option
@user_errors
@entered_at_terminal
def item_transition(code: str, target: str, by: str, note: str, evidence: tuple[Path, ...], as_of: date) -> None:
    """Move an item through close-out, as the chain allows."""
    from duban.closeout import transition
    from duban.db import session_scope
    from duban.programme import current_plan

    state = next((k for k, v in STATUS_LABELS.items() if target in (k, v)), target)
    with session_scope() as session:
        moved = transition(
            session,
            current_plan(session),
            code=code,
            target=state,
            by=by,
            as_of=as_of,
            note=note,
            evidence=list(evidence),
            evidence_dir=config.home() / "evidence",
        )
    out.print(f"问题{code}已变更为“{STATUS_LABELS[moved.status]}”（{by}，{as_of.isoformat()}）")


@item.command("plan")
@click.argument("code")
@click.option("--by", "by", required=True, help="The unit making the plan.")
@click.option("--measures", help="Rectification measures (整改措施).")
@click.option("--deadline", callback=lambda c, p, v: None if v is None else parse_date(c, p, v), help="YYYY-MM-DD")
@click.option(
    "--milestone",
    "milestones",
    multiple=True,
    metavar="DATE:TITLE",
    help="A dated step (时间节点), repeatable; replaces the previous steps.",
)
@click.option("--note", default="")
@as_of_option
@user_errors
@entered_at_terminal
def item_plan(
    code: str, by: str, measures: str | None, deadline: date | None, milestones: tuple[str, ...], note: str, as_of: date
) -> None:
    """Make or revise an item's rectification plan (一事一案); revisions are kept."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.rectification import make_plan

    steps = tuple(_milestone(text) for text in milestones) if milestones else None
    with session_scope() as session:
        revision = make_plan(
            session,
            current_plan(session),
            code=code,
            by=by,
            as_of=as_of,
            measures=measures,
            deadline=deadline,
            milestones_in=steps,
            note=note,
        )
    if revision is None:
        out.print(f"问题{code}的整治方案没有变化。")
    else:
        out.print(f"问题{code}的整治方案已登记为第{revision.revision}版。")


def _milestone(text: str) -> tuple[date, str]:
    day, _, title = text.partition(":")
    try:
        return date.fromisoformat(day.strip()), title.strip() or "时间节点"
    except ValueError:
        raise ClosureError(f"时间节点“{text}”格式应为 日期:内容，如 2022-06-30:完成选址") from None


# -- check -----------------------------------------------------------------------------------------


@main.command()
@click.option("--repair", is_flag=True, help="Put the audit log's values back where the kept state differs.")
@click.option("--json", "as_json", is_flag=True)
@as_of_option
@user_errors
def check(repair: bool, as_json: bool, as_of: date) -> None:
    """Rebuild every item's state from the audit log and report where the kept state differs."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.state_check import FIELD_LABELS, differences
    from duban.state_check import repair as put_back

    with session_scope() as session:
        plan = current_plan(session)
        found = differences(session)
        repaired = put_back(session, found, actor=plan.office.name, as_of=as_of) if repair and found else 0
    if as_json:
        print_json({"differences": [d.as_dict() for d in found], "repaired_items": repaired})
    elif not found:
        out.print("核查完成：各问题的现状数据与审计日志一致。")
    else:
        table = Table("问题编号", "项目", "现状数据", "审计日志", title=f"现状数据与审计日志不一致（{len(found)}处）")
        for d in found:
            kept, logged = d.as_dict()["kept"], d.as_dict()["logged"]
            table.add_row(d.code, FIELD_LABELS[d.field], str(kept), str(logged))
        out.print(table)
        if repaired:
            out.print(f"已按审计日志修复{repaired}项问题的现状数据。")
    if found and not repaired:
        sys.exit(1)


# -- status ----------------------------------------------------------------------------------------


@main.command()
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--limit", default=200, show_default=True, type=click.IntRange(min=0), help="Rows per list of items; 0 for all."
)
@user_errors
def status(as_of: date, as_json: bool, limit: int) -> None:
    """Counts by status, category, township and lead department; overdue items; traffic lights."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.status import summary

    with session_scope() as session:
        plan = current_plan(session)
        data = summary(session, plan, as_of)
    if as_json:
        print_json(data)
        return
    from duban.status_view import print_status

    print_status(out, plan, data, limit)
    _warn_undeliverable()


# -- the monthly round -----------------------------------------------------------------------------


def _run_day(day: date, engine: bool) -> list[tuple[str, object]]:
    if engine:
        from flows.reporting import tick as tick_flow

        return [(slug, None) for slug in tick_flow(day)]
    from deployments.schedules import run_day

    return run_day(plan_in_force(), day)


def _describe_day(day: date, results: list[tuple[str, object]]) -> str:
    parts = []
    for slug, result in results:
        if result is None:
            parts.append(slug)
        elif slug == "open-period":
            parts.append(f"开启报送（{len(result.requests)}个单位）" if result.opened else "报送已开启")
        elif slug == "chase-submissions":
            reminders, ladder = result
            parts.append(f"提醒{len(reminders.sent)}个单位，首次督办{len(ladder.raised)}项")
        elif slug == "escalate-overdue":
            parts.append(f"督办升级{len(result.raised)}项，解除{len(result.resolved)}项")
        elif slug == "follow-campaigns" and (result.reminders or result.ladder.raised or result.closed or result.asked):
            parts.append(
                f"专项督导提醒{len(result.reminders)}个单位，督办{len(result.ladder.raised)}项，"
                f"解除{len(result.ladder.resolved)}项，结束{len(result.closed)}个"
            )
        elif slug == "follow-projects" and (result.passed or result.reminders or result.ladder.raised or result.made):
            parts.append(
                f"长效机制：通过审查环节{len(result.passed)}个，提醒{result.reminders}条，"
                f"督办{len(result.ladder.raised)}项，解除{len(result.ladder.resolved)}项"
            )
        elif slug == "monthly-bulletin" and result is not None:
            parts.append(f"印发{result.record.title}")
        elif slug == "dispatch-outbox":
            parts.append(f"投递消息{result.sent}条（{result.messages}次发送），待办公时间{result.waiting}条")
    return f"{day.isoformat()}：" + ("；".join(parts) if parts else "无计划任务")


@main.command()
@as_of_option
@engine_option
@user_errors
def tick(as_of: date, engine: bool | None) -> None:
    """Run every scheduled flow due on one date (safe to run again)."""
    out.print(_describe_day(as_of, _run_day(as_of, use_engine(engine))))


@main.command()
@click.option("--from", "start", required=True, callback=parse_date, metavar="DATE")
@click.option("--to", "end", required=True, callback=parse_date, metavar="DATE")
@engine_option
@user_errors
def replay(start: date, end: date, engine: bool | None) -> None:
    """Tick every day from one date to another, as the schedules would have."""
    from datetime import timedelta

    from rich.progress import Progress

    if end < start:
        raise click.BadParameter("--to 不能早于 --from")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if use_engine(engine):
        from flows.reporting import replay as replay_flow

        replay_flow(start, end)  # one flow run for the whole range
    else:
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task("重放", total=len(days))
            for day in days:
                _run_day(day, False)
                progress.advance(bar)
    out.print(f"已重放 {start.isoformat()} 至 {end.isoformat()}，共 {len(days)} 天。")


@main.group()
def report() -> None:
    """Monthly reports: the pre-filled form, submitting it, a department's review."""


@report.command("form")
@click.option("--unit", required=True)
@click.option("--period", required=True, metavar="YYYY-MM")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def report_form(unit: str, period: str, file: Path) -> None:
    """Write the unit's pre-filled .xlsx form for the period."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.reporting.forms import write_form

    with session_scope() as session:
        count = write_form(session, current_plan(session), period=period, unit=unit, path=file)
    out.print(f"已生成{unit}{period}填报表 {file}（{count}项问题）")


@report.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--unit", required=True)
@click.option("--period", required=True, metavar="YYYY-MM")
@click.option("--draft", is_flag=True, help="Save as a draft: kept, but not yet submitted.")
@as_of_option
@user_errors
@entered_at_terminal
def report_submit(file: Path, unit: str, period: str, draft: bool, as_of: date) -> None:
    """Submit (or save as a draft) a filled form: all rows or none."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.reporting.forms import submit_form

    with session_scope() as session:
        version = submit_form(
            session, current_plan(session), path=file, period=period, unit=unit, as_of=as_of, draft=draft
        )
    what = "草稿已保存" if draft else "已报送"
    late = "（迟报）" if version.late else ""
    out.print(f"{unit}{period}报表{what}：第{version.version}版{late}，{as_of.isoformat()}")


@report.command("review")
@click.option("--by", "by", required=True, help="The reviewing lead department.")
@click.option("--unit", required=True, help="The township whose report is reviewed.")
@click.option("--period", required=True, metavar="YYYY-MM")
@click.option("--accept", "decision", flag_value="accept", help="Accept the report.")
@click.option("--return", "decision", flag_value="return", help="Return it for resubmission (with --reason).")
@click.option("--reason", default="")
@as_of_option
@user_errors
@entered_at_terminal
def report_review(by: str, unit: str, period: str, decision: str | None, reason: str, as_of: date) -> None:
    """A lead department accepts a township's report or returns it with a reason."""
    from duban.db import session_scope
    from duban.glossary import REPORT_STATUS as STATUS_LABELS
    from duban.programme import current_plan
    from duban.reporting.reports import review

    if decision is None:
        raise ReportError("请选择 --accept（通过）或 --return（退回）")
    with session_scope() as session:
        submission = review(
            session,
            current_plan(session),
            period=period,
            township=unit,
            by=by,
            accept=decision == "accept",
            reason=reason,
            as_of=as_of,
        )
    out.print(f"{by}已审核{unit}{period}报表：{STATUS_LABELS[submission.status]}")


@main.group()
def period() -> None:
    """A month's reporting round."""


@period.command("show")
@click.argument("period_code", metavar="YYYY-MM")
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def period_show(period_code: str, as_of: date, as_json: bool) -> None:
    """Who submitted when, who is late, and the open escalations with their levels."""
    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.reporting.view import period_view

    with session_scope() as session:
        view = period_view(session, current_plan(session), period_code, as_of)
    if as_json:
        print_json(view)
        return
    from duban.status_view import print_period

    print_period(out, view)


# -- serving ---------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the Prefect server it starts listens.")
@click.option(
    "--port", default=4200, show_default=True, type=click.IntRange(1, 65535), help="The Prefect server's port."
)
@user_errors
def serve(host: str, port: int) -> None:
    """Run every schedule on this machine until Ctrl+C: a Prefect server (unless PREFECT_API_URL names one)
    and the deployments served against it."""
    from datetime import datetime

    from deployments.local_server import ServerError
    from deployments.serve import AlreadyServing, Started, next_runs
    from deployments.serve import serve as run_serve

    plan = plan_in_force()

    def announce(started: Started) -> None:
        if started.ui_url:
            err.print(f"已启动 Prefect 服务器：{started.api_url}（日志 {started.server_log}）")
            err.print(f"Prefect 界面：{started.ui_url}（可查看各流程的运行记录）")
        else:
            err.print(f"使用 PREFECT_API_URL 指定的 Prefect 服务器：{started.api_url}")
        if started.left_behind:
            err.print(f"上次未正常结束的运行已标记为 Crashed：{'、'.join(started.left_behind)}")
        err.print("各定时流程的下次运行时间（北京时间）：")
        for slug, cron, when in next_runs(plan, datetime.now(config.TZ)):
            err.print(f"  {slug:<18} {when:%Y-%m-%d %H:%M}（{cron}）")
        err.print("  supervision-campaign 按需发起（duban campaign start）")
        err.print("正在运行，按 Ctrl+C 停止（先停止进行中的运行，再停止服务器）")

    try:
        run_serve(plan, config.home(), host=host, port=port, announce=announce)
    except (AlreadyServing, ServerError) as exc:
        err.print(styled(("错误：", "red"), str(exc)))
        sys.exit(2)
    err.print("duban serve 已停止")


@main.command()
@click.option("--pool", help="The Prefect work pool (type process) the workers poll.")
@click.option(
    "--working-dir",
    type=click.Path(path_type=Path),
    default=Path.cwd,
    help="Where the project is checked out on every worker machine; default here.",
)
@click.option(
    "--write",
    "write_to",
    type=click.Path(path_type=Path),
    help="Write the deployments as a prefect.yaml there (for `prefect deploy --all`) instead of registering them.",
)
@click.option(
    "--dead-runs-only",
    is_flag=True,
    help="Only set up the automation that marks runs of dead machines Crashed (after `prefect deploy --all`).",
)
@user_errors
def deploy(pool: str | None, working_dir: Path, write_to: Path | None, dead_runs_only: bool) -> None:
    """Register every flow with the Prefect server in PREFECT_API_URL, for that pool's workers, and the
    automation that frees the slot of a run whose machine died."""
    if not dead_runs_only and not pool:
        raise click.UsageError("--pool is required")
    if write_to is not None:
        from deployments.prefect_yaml import render

        write_to.write_text(render(plan_in_force(), work_pool=pool, working_dir=str(working_dir)), encoding="utf-8")
        out.print(f"已写出 {write_to}")
        return
    if not os.environ.get("PREFECT_API_URL"):
        raise ReportError("请先设置 PREFECT_API_URL（Prefect 服务器地址，如 http://127.0.0.1:4200/api）")
    from deployments.dead_runs import SILENT_SECONDS, ensure_automation

    if not dead_runs_only:
        from deployments.build import build

        for deployment in build(plan_in_force(), work_pool=pool, working_dir=str(working_dir.resolve())):
            deployment.apply()
            when = f"{deployment.schedules[0].schedule.cron}，Asia/Shanghai" if deployment.schedules else "按需发起"
            out.print(f"已注册 {deployment.name}（{when}）→ 工作池 {pool}")
    state = "已设置" if ensure_automation() else "已存在"
    out.print(f"{state}自动处理：{SILENT_SECONDS}秒无心跳的运行（所在机器已停止）标记为 Crashed，释放其并发名额")


# -- bulletins -------------------------------------------------------------------------------------


@main.command()
@click.option("--period", required=True, metavar="YYYY-MM | DATE..DATE", help="A month, or a date range.")
@click.option("--kind", type=click.Choice(["monthly", "special", "adhoc"]), default="monthly", show_default=True)
@as_of_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Default: $DUBAN_HOME/bulletins.")
@click.option("--new-edition", is_flag=True, help="Issue a new edition with a new number, recomputed as of the date.")
@engine_option
@user_errors
def bulletin(period: str, kind: str, as_of: date, out_dir: Path | None, new_edition: bool, engine: bool | None) -> None:
    """Assemble (or re-print) a numbered bulletin as Word, PDF and HTML, and queue its distribution."""
    out_dir = output_dir(out_dir or config.home() / "bulletins")
    if use_engine(engine):
        from flows.bulletin import assemble_bulletin

        paths = assemble_bulletin(period, kind, as_of, str(out_dir), new_edition)
        for key in ("docx", "pdf", "html", "annex"):
            if key in paths:
                out.print(paths[key])
        return
    from duban.bulletin.issue import issue
    from duban.db import session_scope
    from duban.programme import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        issued = issue(
            session,
            plan,
            period=period,
            kind=kind,
            as_of=as_of,
            out_dir=out_dir,
            new_edition=new_edition,
        )
        label = (
            f"{issued.record.title}（{plan.bulletin.doc_prefix}〔{issued.record.year}〕"
            f"{issued.record.number}号，第{issued.record.issue}期）"
        )
    err.print(("已印发" if issued.new else "已重新生成（编号、内容不变）") + label)
    for path in (issued.docx, issued.pdf, issued.html, issued.annex):
        if path is not None:
            out.print(str(path))


# -- the outbox ------------------------------------------------------------------------------------


@main.group(invoke_without_command=True)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["queued", "sending", "sent", "failed", "dead"]),
    help="Repeatable.",
)
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(min=0), help="The newest N messages; 0 for all."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def outbox(ctx: click.Context, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Messages waiting, sent, failed or dead (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlmodel import col, func, select

    from duban.db import session_scope
    from models import OutboxMessage

    with session_scope() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
        counting = select(func.count()).select_from(OutboxMessage)
        if statuses:
            query = query.where(col(OutboxMessage.status).in_(statuses))
            counting = counting.where(col(OutboxMessage.status).in_(statuses))
        if limit:
            query = query.limit(limit)
        total = session.exec(counting).one()
        rows = [
            {
                "id": m.id,
                "status": m.status,
                "kind": m.kind,
                "recipient": m.recipient,
                "channel": m.channel,
                "address": m.address,
                "subject": m.subject,
                "attempts": m.attempts,
                "urgent": m.urgent,
                "created_on": m.created_on.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
                "last_error": m.last_error,
            }
            for m in session.exec(query)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="消息队列")
    for column in ("编号", "状态", "类型", "收件单位", "渠道", "标题", "尝试", "原因"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["status"],
            row["kind"],
            row["recipient"],
            row["channel"],
            row["subject"],
            str(row["attempts"]),
            row["last_error"],
        )
    out.print(table)
    if len(rows) < total:
        out.print(f"共 {total} 条，仅显示最新 {len(rows)} 条（--limit 0 显示全部）")
    _warn_undeliverable()


@outbox.command("retry")
@click.argument("message_id", type=int)
@user_errors
def outbox_retry(message_id: int) -> None:
    """Queue a failed or dead message again, with its attempts reset."""
    from duban.db import session_scope
    from notifications.outbox import requeue

    with session_scope() as session:
        requeue(session, message_id)
    out.print(f"消息{message_id}已重新排队，将在下次投递时发送。")


@outbox.command("dispatch")
@click.option("--at", "at", default=None, metavar="DATETIME", help="Replay a past moment (ISO, Asia/Shanghai).")
@user_errors
def outbox_dispatch(at: str | None) -> None:
    """Deliver what is due now (what the dispatch-outbox schedule runs)."""
    from datetime import datetime

    from notifications.deadletters import unreachable
    from notifications.dispatch import dispatch

    clock = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"“{at}”不是有效时间，请按 2023-01-13T10:00:00 填写", param_hint="--at") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=config.TZ)
        clock = lambda: moment  # noqa: E731
    result = dispatch(clock=clock)
    out.print(
        f"已投递{result.sent}条（{result.messages}次发送），失败待重试{result.failed}条，"
        f"无法送达{result.dead}条，待办公时间{result.waiting}条，限流顺延{result.deferred}条。"
    )
    for reason in dict.fromkeys(result.errors):
        out.print(f"  原因：{reason}")
    if result.undeliverable:  # no message can tell the operator: the exit status and the file do
        raise unreachable(result.undeliverable)


@main.group()
def notify() -> None:
    """Checking that messages reach a unit."""


@notify.command("test")
@click.option("--unit", required=True)
@user_errors
def notify_test(unit: str) -> None:
    """Send a test message through every channel of a unit, now, and say what happened."""
    from datetime import UTC, datetime

    from sqlmodel import col, select

    from duban.db import session_scope
    from duban.programme import current_plan
    from models import OutboxMessage
    from notifications.dispatch import dispatch
    from notifications.outbox import notify as queue
    from notifications.secrets import live

    stamp = datetime.now(UTC).isoformat()
    with session_scope() as session:
        plan = current_plan(session)
        if plan.unit_kind(unit) is None:
            raise ReportError(f"未知单位“{unit}”：不在实施方案的组织体系中")
        queue(session, plan, key=f"test:{unit}:{stamp}", kind="test", recipient=unit, as_of=config.today(), urgent=True)
    with session_scope() as session:
        ids = list(
            session.exec(
                select(OutboxMessage.id).where(col(OutboxMessage.idempotency_key).startswith(f"test:{unit}:{stamp}|"))
            )
        )
    dispatch(only=ids)
    with session_scope() as session:
        for row in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))):
            where = f"{row.channel}:{row.address}" if row.address else row.channel
            verdict = {"sent": "已送达", "failed": "发送失败，将重试", "dead": "无法送达"}.get(row.status, row.status)
            if row.status == "sent" and (row.channel == "file" or not live()):
                verdict = f"已写入 {config.home() / 'outbox'}（未实际发送：DUBAN_DELIVERY 不是 live）"
            reason = f"（{row.last_error}）" if row.last_error else ""
            out.print(f"{unit} → {where}：{verdict}{reason}")


# -- helpers ---------------------------------------------------------------------------------------


def _warn_undeliverable() -> None:
    """A dead-letter report that reached nobody: said on every `duban status` and `duban outbox`."""
    from notifications.deadletters import warning

    line = warning()
    if line:
        out.print(styled((line, "bold yellow")))


def _print_item(view: dict) -> None:
    out.print(styled((f"问题 {view['code']}", "bold"), f"  {view['status_label']}  进度 {view['progress']}%"))
    for label, key in (
        ("镇办", "township"),
        ("社区", "community"),
        ("设施类别", "category_name"),
        ("设施类型", "facility_type"),
        ("问题环节", "stage_name"),
        ("问题描述", "description"),
        ("牵头部门", "lead_department"),
        ("责任单位", "responsible_unit"),
        ("重点难点", "key_difficult_label"),
        ("必须完成时限", "must_finish_by"),
    ):
        if view.get(key):
            out.print(f"  {label}：{view[key]}")
    for plan in view["plans"]:
        out.print(
            f"  整治方案第{plan['revision']}版（{plan['made_by']}，{plan['effective_on']}）："
            f"{plan['measures']}；完成时限 {plan['deadline']}"
        )
        for step in plan["milestones"]:
            out.print(f"    时间节点 {step['due']}：{step['title']}")
    for evidence in view["evidence"]:
        out.print(f"  佐证材料：{evidence['filename']}（{evidence['uploaded_by']}，{evidence['size']} 字节）")
    table = Table(title="变更记录", show_lines=False)
    for column in ("日期", "单位", "操作", "变更前", "变更后", "说明"):
        table.add_column(column)
    for entry in view["history"]:
        table.add_row(
            entry["effective_on"],
            entry["actor"],
            entry["action_label"],
            entry["before_text"],
            entry["after_text"],
            entry["note"],
        )
    out.print(table)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--as-of",
    "as_of",
    default=None,
    callback=lambda c, p, v: None if v is None else parse_date(c, p, v),
    metavar="DATE",
    help="Pin the portal's day (a replayed programme, a demo); default: each request's today.",
)
@click.option(
    "--https/--no-https",
    "https",
    default=None,
    help="Served behind TLS: Secure __Host- cookies and HSTS. Default: when DUBAN_PORTAL_URL is https.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 64),
    help="Threads for pages in each worker; default 2 (duban/web/threads.py). Password checks have their own.",
)
@user_errors
def portal(host: str, port: int, as_of: date | None, https: bool | None, workers: int, threads: int | None) -> None:
    """The web portal: every person of the chain signs in and answers duban (FastAPI, server-rendered)."""
    import uvicorn
    from sqlalchemy import text

    from duban.db import session_scope
    from duban.programme import current_plan
    from duban.web.proxies import trusted_proxies
    from duban.web.serve import SERVER_LIMITS

    with session_scope() as session:
        current_plan(session)  # refused now, in Chinese, when the database is not initialised
        if session.get_bind().dialect.name == "sqlite":
            # readers go on while a clerk's report is written (kept in the file: the CLI then uses it too)
            session.exec(text("PRAGMA journal_mode=WAL"))
    trusted_proxies()  # refused now, in Chinese, rather than in each worker
    if https is None:
        https = os.environ.get("DUBAN_PORTAL_URL", "").startswith("https://")
    os.environ["DUBAN_PORTAL_AS_OF"] = as_of.isoformat() if as_of else ""
    os.environ["DUBAN_PORTAL_HTTPS"] = "1" if https else ""
    os.environ["DUBAN_PORTAL_THREADS"] = str(threads or "")
    out.print(f"督办平台：http://{host}:{port}/（业务日期：{as_of.isoformat() if as_of else '当天'}）")
    uvicorn.run(
        "duban.web.serve:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app believes X-Forwarded-For from DUBAN_TRUSTED_PROXIES only (proxies.py)
        server_header=False,
        log_level="warning",
        access_log=False,
        **SERVER_LIMITS,
    )


main.add_command(campaign)
main.add_command(project)
main.add_command(deliverable)
main.add_command(user)
main.add_command(backup)
main.add_command(restore)
main.add_command(audit)
main.add_command(summary)
for command in REASSIGN_COMMANDS:  # duban item reassign, reassign-decide, reassignments
    item.add_command(command)
main.add_command(extension)
main.add_command(assess)

if __name__ == "__main__":
    main()
