"""The project register (新建居住区项目库), imported from .xlsx or .csv under the ledger's rules: every
problem named by file, row and column at once, and nothing written unless the whole file is right.
Rows are keyed by 项目编号: a new code registers the project and opens its first gate; a known code
updates it (a raised commitment may free a gate held by a shortfall), each change audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from duban import audit
from duban.files.spreadsheet import Problem, RefusedFile, Sheet, column_letter
from duban.ledger import cells
from duban.mechanism import MechanismError, gates
from duban.plan import Plan
from models import Project


class RegisterImportError(RefusedFile):
    heading = "项目库导入失败，未写入任何数据。"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str  # code text count area day
    required: bool = True


BASE = (
    Column("code", "项目编号", "code"),
    Column("name", "项目名称", "text"),
    Column("developer", "开发建设单位", "text"),
    Column("township", "所在镇办", "text"),
    Column("parcel", "地块编号", "text"),
    Column("households", "住户数（户）", "count"),
    Column("floor_area", "总建筑面积（平方米）", "count"),
    Column("land_supply_on", "供地日期", "day", required=False),
    Column("presale_on", "预售日期", "day", required=False),
    Column("completion_on", "竣工日期", "day", required=False),
)
WHOLE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.0)?$")  # 1250, 1,250; Excel's 1250.0 as the cell reader gives it
MAX_HOUSEHOLDS = 100_000
MAX_AMOUNT = 10_000_000


def columns(plan: Plan) -> list[Column]:
    """The register's columns: the project's own, then one commitment per standard of the plan."""
    return [*BASE, *(Column(s.code, f"承诺{s.label}", "amount", required=False) for s in plan.mechanism.standards)]


@dataclass
class RegisterResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # gates passed once a raised commitment freed them

    def summary(self) -> str:
        return f"新增项目 {len(self.created)} 个，更新 {len(self.updated)} 个，无变化 {len(self.unchanged)} 个"


def validate(plan: Plan, sheet: Sheet) -> list[tuple[int, dict[str, Any]]]:
    """Every row checked against the plan; RegisterImportError names every problem, or the rows come back."""
    problems: list[Problem] = []
    wanted = columns(plan)
    mapping: dict[str, int] = {}
    for index, title in enumerate(sheet.header):
        where = f"{column_letter(index)}列"
        column = next((c for c in wanted if c.title == (title or "").strip()), None)
        if column is None:
            known = "、".join(c.title for c in wanted)
            problems.append(Problem(sheet.name, sheet.header_row, where, f"无法识别的列名（可用列名：{known}）", title))
        elif column.key in mapping:
            problems.append(Problem(sheet.name, sheet.header_row, where, f"列“{column.title}”重复出现", title))
        else:
            mapping[column.key] = index
    problems += [
        Problem(sheet.name, sheet.header_row, "", f"缺少必填列“{c.title}”")
        for c in wanted
        if c.required and c.key not in mapping
    ]
    if problems:
        raise RegisterImportError(problems, listed=plan.limits.max_problems_listed)
    townships = set(plan.township_names())
    rows, seen = [], {}
    for number, values in sheet.rows:
        fields: dict[str, Any] = {"commitments": {}}
        for column in wanted:
            if column.key not in mapping:
                continue
            raw = values[mapping[column.key]]
            where = f"{column_letter(mapping[column.key])}列“{column.title}”"
            try:
                value = _read(column, raw)
            except cells.CellError as exc:
                problems.append(Problem(sheet.name, number, where, str(exc), raw))
                continue
            if value is None and column.required:
                problems.append(Problem(sheet.name, number, where, "必填项为空"))
            elif column.key == "township" and value is not None and value not in townships:
                problems.append(Problem(sheet.name, number, where, "不是实施方案中的镇办", raw))
            elif column.key == "code" and value in seen:
                problems.append(Problem(sheet.name, number, where, f"项目编号与第{seen[value]}行重复", raw))
            elif column.kind == "amount":
                fields["commitments"][column.key] = value or 0
            else:
                fields[column.key] = value
        if fields.get("code"):
            seen.setdefault(fields["code"], number)
        presale, completion = fields.get("presale_on"), fields.get("completion_on")
        land = fields.get("land_supply_on")
        for earlier, later, what in (
            (land, presale, "预售日期早于供地日期"),
            (land, completion, "竣工日期早于供地日期"),
        ):
            if earlier and later and later < earlier:
                problems.append(Problem(sheet.name, number, "", what))
        rows.append((number, fields))
    if problems:
        raise RegisterImportError(problems, listed=plan.limits.max_problems_listed)
    return rows


def _read(column: Column, raw: Any) -> Any:
    if column.kind == "code":
        return cells.code(raw)
    if column.kind == "text":
        value = cells.text(raw)
        if value is not None and len(value) > 100:
            raise cells.CellError(f"内容过长（{len(value)}字，最多100字）")
        return value
    if column.kind == "day":
        return cells.day(raw)
    text = cells.text(raw)
    if text is None:
        return None
    limit = MAX_HOUSEHOLDS if column.key == "households" else MAX_AMOUNT
    low = 1 if column.kind == "count" else 0
    if not WHOLE.match(text):
        raise cells.CellError(f"须为{low}到{limit}之间的整数（如 1250 或 1,250）")
    number = int(text.replace(",", "").removesuffix(".0"))
    if not low <= number <= limit:
        raise cells.CellError(f"须为{low}到{limit}之间的整数")
    return number


def write(
    session: Session, plan: Plan, rows: list[tuple[int, dict[str, Any]]], *, actor: str, as_of: date
) -> RegisterResult:
    """One transaction: new projects registered (their first gate opened), known ones updated."""
    if plan.unit_kind(actor) not in ("office", "department"):
        raise MechanismError(f"项目库由{plan.office.name}或部门报送，“{actor}”不能报送")
    result = RegisterResult()
    codes = [fields["code"] for _, fields in rows]
    existing = {p.code: p for p in session.exec(select(Project).where(Project.code.in_(codes)))}
    for _, fields in rows:
        project = existing.get(fields["code"])
        if project is None:
            project = Project(**fields, registered_on=as_of)
            audit.record(
                session,
                actor=actor,
                subject="project",
                key=project.code,
                action="registered",
                effective_on=as_of,
                after=_comparable(project),
            )
            gates.register(session, plan, project, as_of)
            result.created.append(project.code)
            continue
        before = _comparable(project)
        after = {**before, **{k: v for k, v in fields.items() if k != "commitments"}}
        after["commitments"] = {**project.commitments, **fields["commitments"]}
        if after == before:
            result.unchanged.append(project.code)
            continue
        for key, value in after.items():
            setattr(project, key, value)
        session.add(project)
        changed = {k for k in after if after[k] != before[k]}
        audit.record(
            session,
            actor=actor,
            subject="project",
            key=project.code,
            action="updated",
            effective_on=as_of,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        session.flush()
        result.passed += [f"{project.code}:{g}" for g in gates.settle(session, plan, project, as_of)]
        result.updated.append(project.code)
    return result


def _comparable(project: Project) -> dict[str, Any]:
    keys = [c.key for c in BASE] + ["commitments"]
    return {k: dict(getattr(project, k)) if k == "commitments" else getattr(project, k) for k in keys}
