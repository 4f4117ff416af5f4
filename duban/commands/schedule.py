"""`duban tick` and `duban replay`: the scheduled flows of a day, or of every day in a range."""

from __future__ import annotations

from datetime import date

import click

from duban.cli_common import as_of_option, engine_option, err, out, parse_date, use_engine, user_errors


def _run_day(day: date, engine: bool) -> list[tuple[str, object]]:
    if engine:
        from flows.reporting import tick as tick_flow

        return [(slug, None) for slug in tick_flow(day)]
    from deployments.schedules import run_day
    from duban.stored_plan import plan_in_force

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


@click.command()
@as_of_option
@engine_option
@user_errors
def tick(as_of: date, engine: bool | None) -> None:
    """Run every scheduled flow due on one date (safe to run again)."""
    out.print(_describe_day(as_of, _run_day(as_of, use_engine(engine))))


@click.command()
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
