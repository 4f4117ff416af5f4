"""`duban status` as tables in the terminal, labelled in Chinese."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from duban.console import styled
from duban.glossary import ITEM_STATUS as STATUS_LABELS
from duban.plan import Plan
from duban.state.status import LIGHT_LABELS

_LIGHT_STYLE = {"green": "green", "yellow": "yellow", "red": "red", "none": "dim"}


def print_status(console: Console, plan: Plan, data: dict, limit: int = 0) -> None:
    """`limit` rows per list of items (0: all): a city's ledger would print tens of thousands."""
    items = data["items"]
    console.print(plan.programme.title, style="bold")
    console.print(f"截至 {data['as_of']}：台账问题共 {items['total']} 项，逾期 {len(items['overdue'])} 项")
    lights = "，".join(f"{LIGHT_LABELS[k]} {v} 项" for k, v in data["lights"].items())
    console.print(f"未销号问题：{lights}")
    categories = {c.code: c.name for c in plan.categories}
    _counts(console, "按状态", "状态", {STATUS_LABELS[k]: v for k, v in items["by_status"].items()})
    _counts(console, "按设施类别", "设施类别", {categories[k]: v for k, v in items["by_category"].items()})
    _counts(console, "按镇办", "镇办", items["by_township"])
    _counts(console, "按牵头部门", "牵头部门", items["by_department"])

    if items["overdue"]:
        table = Table(title="逾期问题")
        for column in ("问题编号", "镇办", "设施类别", "责任单位", "牵头部门", "完成时限", "逾期工作日", "重点难点"):
            table.add_column(column)
        for row in _first(items["overdue"], limit):
            table.add_row(
                row["code"],
                row["township"],
                categories[row["category"]],
                row["responsible_unit"],
                row["lead_department"],
                row["deadline"],
                str(row["working_days_overdue"]),
                "是" if row["key_difficult"] else "",
            )
        console.print(table)
        _left_out(console, len(items["overdue"]), limit)

    table = Table(title="问题亮灯情况（未销号）")
    for column in ("问题编号", "镇办", "设施类别", "状态", "完成时限", "剩余工作日", "亮灯"):
        table.add_column(column)
    lit = [row for row in data["item_lights"] if row["light"] is not None]
    for row in _first(lit, limit):
        style = _LIGHT_STYLE[row["light"]]
        left = "" if row["working_days_left"] is None else str(row["working_days_left"])
        table.add_row(
            row["code"],
            row["township"],
            categories[row["category"]],
            STATUS_LABELS[row["status"]],
            row["deadline"] or "",
            left,
            styled((LIGHT_LABELS[row["light"]], style)),
        )
    console.print(table)
    _left_out(console, len(lit), limit)


def _first(rows: list[dict], limit: int) -> list[dict]:
    return rows[:limit] if limit else rows


def _left_out(console: Console, total: int, limit: int) -> None:
    if limit and total > limit:
        console.print(f"共 {total} 项，仅显示前 {limit} 项（--limit 0 显示全部；完整清单见 --json 或 ledger export）")


def _counts(console: Console, title: str, label: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column(label)
    table.add_column("问题数", justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    console.print(table)


def print_period(console: Console, view: dict) -> None:
    if not view["opened"]:
        console.print(f"{view['period']}的报送工作尚未开启。")
        return
    console.print(
        styled(
            (f"{view['period']} 报送情况", "bold"),
            f"（截至 {view['as_of']}；开启于 {view['opened_on']}，"
            f"镇办截止 {view['township_due']}，部门截止 {view['department_due']}）",
        )
    )
    table = Table(title="报送情况")
    for column in ("单位", "类型", "截止日期", "状态", "报送日期", "版本", "迟报", "审核"):
        table.add_column(column)
    for row in view["submissions"]:
        late = "逾期未报" if row["overdue"] else ("迟报" if row["late"] else "")
        reviews = "、".join(f"{d}{'通过' if v == 'accepted' else '退回'}" for d, v in row["reviews"].items())
        table.add_row(
            row["unit"],
            "镇办" if row["kind"] == "township" else "部门",
            row["due_on"],
            row["status_label"],
            row["last_submitted_on"] or "",
            str(row["version"] or ""),
            late,
            reviews,
        )
    console.print(table)
    if view["late"]:
        console.print(f"逾期或迟报单位：{'、'.join(view['late'])}")
    if view["escalations"]:
        table = Table(title="未解除的督办")
        for column in ("事由", "单位", "问题编号", "应完成日期", "级别", "启动日期", "备注"):
            table.add_column(column)
        for e in view["escalations"]:
            note = "；".join(
                x
                for x in (
                    "重点难点" if e["key_difficult"] else "",
                    f"须于{e['must_finish_by']}前完成" if e["must_finish_by"] else "",
                )
                if x
            )
            table.add_row(
                e["cause_label"],
                e["unit"],
                e["item_code"] or "",
                e["missed_due"],
                f"{e['level']}级·{e['level_label']}",
                e["raised_on"],
                note,
            )
        console.print(table)
