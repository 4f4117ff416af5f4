"""`duban campaign ...`: what the Office types to start and watch a campaign, and a unit to answer it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.table import Table

from duban.cli_common import (
    as_of_option,
    engine_option,
    entered_at_terminal,
    out,
    parse_date,
    print_json,
    use_engine,
    user_errors,
)
from duban.console import styled


@click.group()
def campaign() -> None:
    """Supervision campaigns (专项督导): start, show, the response form, responding."""


@campaign.command("start")
@click.option("--title", required=True, help="The campaign's name, e.g. 城镇居住区幼儿园专项督导.")
@click.option("--category", "categories", multiple=True, help="Facility category (name or code); repeatable.")
@click.option("--facility", "facility_types", multiple=True, help="Facility type, e.g. 幼儿园; repeatable.")
@click.option("--township", "townships", multiple=True, help="Repeatable.")
@click.option("--department", "departments", multiple=True, help="Lead department; repeatable.")
@click.option("--stage", "stages", multiple=True, help="Stage (name or code); repeatable.")
@click.option("--overdue-only", is_flag=True, help="Only items past their deadline.")
@click.option("--key-only", is_flag=True, help="Only key and difficult items (重点难点).")
@click.option("--due", required=True, callback=parse_date, metavar="DATE", help="Responses are due by this date.")
@click.option("--by", default=None, help="Who starts it; default the Office.")
@click.option("--wait", default=600, show_default=True, help="Seconds to wait for the flow run on a server.")
@as_of_option
@engine_option
@user_errors
@entered_at_terminal
def campaign_start(
    title: str, due: date, by: str | None, wait: int, as_of: date, engine: bool | None, **filters: tuple[str, ...]
) -> None:
    """Start a campaign (once: the same title, scope and date find the first one)."""
    from sqlmodel import select

    from duban.campaign.run import run_campaign, start_on_server
    from duban.campaign.scope import CampaignError, Scope, select_items
    from duban.campaign.start import campaign_key, check, items_of
    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from models import Campaign

    with session_scope() as session:  # what can be refused is refused here, before a flow run is made
        plan = current_plan(session)
        scope = Scope.checked(plan, **filters)
        check(title=title, due=due, as_of=as_of, plan=plan)
        key = campaign_key(title, scope, due)
        before = session.exec(select(Campaign).where(Campaign.key == key)).first()
        on_server = use_engine(engine)
        if on_server and before is None and not select_items(session, plan, scope, as_of):
            raise CampaignError(f"没有符合条件的未销号问题（{scope.describe(plan)}），未发起督导")
    if on_server:
        start_on_server(title=title, due=due, as_of=as_of, by=by, scope=scope, key=key, wait=wait)
    else:
        run_campaign(title=title, due=due, as_of=as_of, by=by, **filters)
    with session_scope() as session:
        found = session.exec(select(Campaign).where(Campaign.key == key)).first()
        if found is None:
            raise CampaignError("专项督导尚未建立（流程运行尚未完成），请稍后用 duban campaign list 查看")
        rows = items_of(session, found.id)
    verb = "已发起" if before is None else "该专项督导此前已发起，未重复发起："
    out.print(
        f"{verb}专项督导第{found.id}号“{found.title}”：{len(rows)}项问题，{len({r.unit for r in rows})}个责任单位，"
        f"{found.due.isoformat()}前反馈，{found.closes_on.isoformat()}结束并通报"
    )


@campaign.command("list")
@as_of_option
@user_errors
def campaign_list(as_of: date) -> None:
    """Every campaign started by the date, and where it stands."""
    from sqlmodel import col, select

    from duban.campaign.view import STAGES, figures
    from duban.db import session_scope
    from duban.stored_plan import current_plan
    from models import Campaign

    table = Table()
    for column in ("编号", "名称", "发起日期", "反馈截止", "问题数", "按期反馈", "逾期反馈", "未反馈", "状态"):
        table.add_column(column)
    with session_scope() as session:
        plan = current_plan(session)
        for found in session.exec(select(Campaign).where(Campaign.started_on <= as_of).order_by(col(Campaign.id))):
            data = figures(session, plan, found, as_of)
            t = data["totals"]
            table.add_row(
                str(found.id),
                found.title,
                found.started_on.isoformat(),
                found.due.isoformat(),
                str(t["items"]),
                str(t["on_time"]),
                str(t["late"]),
                str(t["missing"]),
                STAGES[data["campaign"]["stage"]],
            )
    out.print(table)


@campaign.command("show")
@click.argument("campaign_id", type=int)
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def campaign_show(campaign_id: int, as_of: date, as_json: bool) -> None:
    """Where one campaign stands: each unit's answers, each item's response and promise."""
    from duban.bulletin.content import LEVELS
    from duban.campaign.scope import CampaignError
    from duban.campaign.start import get_campaign
    from duban.campaign.view import ANSWERS, STAGES, figures
    from duban.db import session_scope
    from duban.glossary import ITEM_STATUS as STATUS_LABELS
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        found = get_campaign(session, campaign_id)
        if found.started_on > as_of:
            raise CampaignError(
                f"专项督导第{campaign_id}号于{found.started_on.isoformat()}发起，晚于{as_of.isoformat()}"
            )
        data = figures(session, plan, found, as_of)
    if as_json:
        print_json(data)
        return
    c, t = data["campaign"], data["totals"]
    out.print(
        styled((f"专项督导第{c['id']}号  {c['title']}", "bold"), f"  {STAGES[c['stage']]}（截至{data['as_of']}）")
    )
    out.print(f"  范围：{c['scope']}")
    out.print(f"  发起：{c['started_on']}（{c['started_by']}）  反馈截止：{c['due']}  结束并通报：{c['closes_on']}")
    out.print(
        f"  问题{t['items']}项，责任单位{t['units']}个：按期反馈{t['on_time']}项，逾期反馈{t['late']}项，"
        f"未反馈{t['missing']}项；督导以来销号{t['closed_since']}项"
    )
    units = Table(title="各单位反馈情况")
    for column in ("责任单位", "问题数", "按期反馈", "逾期反馈", "未反馈", "督办"):
        units.add_column(column)
    for u in data["units"]:
        units.add_row(
            u["unit"], str(u["items"]), str(u["on_time"]), str(u["late"]), str(u["missing"]), LEVELS.get(u["level"], "")
        )
    out.print(units)
    items = Table(title="督导问题")
    for column in ("问题编号", "责任单位", "督导时状态", "当前状态", "反馈", "反馈日期", "承诺完成时限"):
        items.add_column(column)
    for r in data["items"]:
        items.add_row(
            r["code"],
            r["unit"],
            STATUS_LABELS[r["status_at_start"]],
            STATUS_LABELS[r["status"]],
            ANSWERS[r["answer"]],
            r["responded_on"] or "",
            r["promised_by"] or "",
        )
    out.print(items)


@campaign.command("form")
@click.argument("campaign_id", type=int)
@click.option("--unit", required=True)
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def campaign_form(campaign_id: int, unit: str, file: Path) -> None:
    """Write the unit's response form (.xlsx), with what it answered before."""
    from duban.campaign.forms import write_response_form
    from duban.campaign.start import get_campaign
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        found = get_campaign(session, campaign_id)
        count = write_response_form(session, current_plan(session), found, unit, file)
    out.print(f"已生成{unit}专项督导第{campaign_id}号反馈表 {file}（{count}项问题）")


@campaign.command("respond")
@click.argument("campaign_id", type=int)
@click.option("--unit", required=True)
@click.argument("file", type=click.Path(path_type=Path))
@as_of_option
@user_errors
@entered_at_terminal
def campaign_respond(campaign_id: int, unit: str, file: Path, as_of: date) -> None:
    """Submit a filled response form: all rows or none; a row left blank stays unanswered."""
    from duban.campaign.forms import respond
    from duban.campaign.start import get_campaign
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        answers = respond(session, current_plan(session), campaign_id=campaign_id, unit=unit, path=file, as_of=as_of)
        found = get_campaign(session, campaign_id)
        late = "（逾期反馈）" if as_of > found.due else ""
    out.print(f"{unit}已反馈专项督导第{campaign_id}号{len(answers)}项问题{late}，{as_of.isoformat()}")
