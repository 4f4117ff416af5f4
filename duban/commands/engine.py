"""`duban serve` and `duban deploy`: the schedules run by Prefect, on this machine or for workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from duban import config
from duban.cli_common import err, out, user_errors
from duban.console import styled


@click.command()
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
    from duban.stored_plan import plan_in_force

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


@click.command()
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
    from duban.reporting.reports import ReportError
    from duban.stored_plan import plan_in_force

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
