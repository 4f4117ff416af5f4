"""`duban assess ...`: the scores of a period, and appeals (申诉) against a line, from the terminal."""

from __future__ import annotations

import sys
from datetime import date
from functools import wraps
from pathlib import Path

import click
from rich.table import Table

from duban.cli_common import as_of_option, entered_at_terminal, err, out, print_json, user_errors
from duban.console import styled


def assessment_errors(command):  # noqa: ANN001, ANN201 - a click callback
    """An AssessmentError ends the command with its Chinese message and exit status 2."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        from duban.assessment import AssessmentError

        try:
            return command(*args, **kwargs)
        except AssessmentError as exc:
            err.print(styled(("错误：", "red"), str(exc)))
            sys.exit(2)

    return wrapper


@click.group(invoke_without_command=True)
@click.option("--period", help="2022-10 (a month), 2022-Q4 (a quarter) or 2022 (a year).")
@click.option("--unit", help="Only this unit's score and lines.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), help="Write an .xlsx: scores and every line.")
@click.option("--from-log", is_flag=True, help="Replay the audit log instead of reading the kept state (a check).")
@as_of_option
@click.pass_context
@user_errors
@assessment_errors
def assess(
    ctx: click.Context,
    period: str | None,
    unit: str | None,
    as_json: bool,
    out_path: Path | None,
    from_log: bool,
    as_of: date,
) -> None:
    """考核: each township's and department's score, rank, cards and every line that made it."""
    if ctx.invoked_subcommand is not None:
        return
    from duban.assessment import AssessmentError
    from duban.assessment import assess as run
    from duban.assessment.rows import points_text
    from duban.assessment.sheet import write_assessment
    from duban.db import session_scope
    from duban.glossary import ASSESSMENT_CAUSE, CARD, UNIT_KIND
    from duban.stored_plan import current_plan

    if not period:
        raise AssessmentError("请用 --period 指定考核期，如 2022-10、2022-Q4 或 2022")
    with session_scope() as session:
        plan = current_plan(session)
        result = run(session, plan, period, as_of, source="logged" if from_log else "kept")
        if unit:
            result.units = [result.for_unit(unit)]
        if out_path is not None:
            write_assessment(result, out_path)
    if as_json:
        print_json(result.as_json())
        return
    table = Table(title=f"{result.span.label}考核（截至{as_of.isoformat()}）")
    for title in ("类别", "排名", "单位", "得分", "警示"):
        table.add_column(title)
    for u in result.units:
        cards = "、".join(f"{CARD[c.colour]}{c.day.isoformat()}" for c in u.cards) or "—"
        table.add_row(UNIT_KIND[u.kind], str(u.rank), u.unit, points_text(u.score), cards)
    out.print(table)
    if unit:
        for line in result.units[0].lines:
            struck = "（已撤销）" if line.struck else ""
            points = f"{points_text(line.points)}{struck}"
            out.print(f"{line.day.isoformat()} {ASSESSMENT_CAUSE[line.cause]} {points} {line.detail} [{line.key}]")
    if out_path is not None:
        out.print(f"已导出：{out_path}")


@assess.command("appeal")
@click.argument("key")
@click.option("--unit", required=True, help="The unit whose line it is.")
@click.option("--reason", required=True, help="Why the line is wrong.")
@as_of_option
@user_errors
@assessment_errors
@entered_at_terminal
def assess_appeal(key: str, unit: str, reason: str, as_of: date) -> None:
    """申诉: contest one line of a unit's score (KEY as `duban assess --unit U` shows it)."""
    from duban.assessment import contest
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        appeal = contest(session, current_plan(session), unit=unit, key=key, reason=reason, as_of=as_of)
        number = appeal.id
    out.print(f"已提出申诉，编号{number}，待领导小组办公室裁定")


@assess.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--uphold/--strike", required=True, help="Keep the line (uphold) or strike it.")
@click.option("--reason", required=True, help="The Office's reason.")
@as_of_option
@user_errors
@assessment_errors
@entered_at_terminal
def assess_decide(appeal_id: int, uphold: bool, reason: str, as_of: date) -> None:
    """The Office decides an appeal: --uphold keeps the points, --strike makes the line count 0."""
    from duban.assessment import decide_appeal
    from duban.db import session_scope
    from duban.glossary import APPEAL_STATE
    from duban.stored_plan import current_plan

    with session_scope() as session:
        appeal = decide_appeal(
            session, current_plan(session), appeal_id=appeal_id, uphold=uphold, reason=reason, as_of=as_of
        )
        state = appeal.state
    out.print(f"申诉{appeal_id}：{APPEAL_STATE[state]}")


@assess.command("appeals")
@click.option("--unit", help="Only this unit's appeals.")
@click.option("--state", type=click.Choice(["pending", "upheld", "struck"]))
@click.option("--json", "as_json", is_flag=True)
@user_errors
def assess_appeals(unit: str | None, state: str | None, as_json: bool) -> None:
    """The appeals, newest first."""
    from duban.assessment import appeals
    from duban.db import session_scope
    from duban.glossary import APPEAL_STATE, ASSESSMENT_CAUSE

    with session_scope() as session:
        found = [a.model_dump() for a in appeals(session, unit=unit, state=state)]
    if as_json:
        print_json({"appeals": found})
        return
    table = Table(title="考核申诉")
    for title in ("编号", "单位", "事由", "分值", "申诉日期", "状态", "申诉理由"):
        table.add_column(title)
    for a in found:
        table.add_row(
            str(a["id"]),
            a["unit"],
            ASSESSMENT_CAUSE[a["cause"]],
            a["points"],
            a["filed_on"].isoformat(),
            APPEAL_STATE[a["state"]],
            a["reason"],
        )
    out.print(table)
