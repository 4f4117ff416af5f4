"""Importing a ledger file: all or nothing, every problem reported at once.

Three steps, each a Prefect task in `flows/import_ledger.py` and plain functions here:
`read_sheet` (the file), `validate` (every row against the plan and the database, nothing written),
`write` (one transaction of upserts keyed by 问题编号, each change audited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, func, select

from duban.files.spreadsheet import Problem, RefusedFile, Sheet, column_letter
from duban.items.closeout import STATUS_LABELS, TERMINAL
from duban.items.log import ITEM_FIELDS
from duban.items.rectification import PlanInput, current, in_force, plan_revisions, write_revisions
from duban.items.rectification import as_input as plan_as_input
from duban.ledger import cells
from duban.ledger.columns import COLUMNS, EXPORT_ONLY, IGNORED, LIMITS, LedgerColumn, column_for
from duban.plan import Plan
from models import AuditEntry, LedgerItem


class LedgerImportError(RefusedFile):
    """A ledger file refused: nothing was written."""

    heading = "台账导入失败，未写入任何数据。"


@dataclass(frozen=True)
class LedgerRow:
    """A validated row: every value checked, the code resolved (given, matched or generated)."""

    row: int
    code: str
    code_given: bool
    fields: dict[str, Any]
    plan: PlanInput | None


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    replanned: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.replanned)

    def summary(self) -> str:
        return (
            f"新增 {len(self.created)} 项，更新 {len(self.updated)} 项，"
            f"整治方案修订 {len(self.replanned)} 项，无变化 {len(self.unchanged)} 项"
        )


def validate(session: Session, plan: Plan, sheet: Sheet, *, actor: str, as_of: date) -> list[LedgerRow]:
    """Check every row; raise LedgerImportError naming all problems, or return the rows to write."""
    problems: list[Problem] = []
    mapping = _map_header(sheet, problems)
    if problems:
        raise LedgerImportError(problems, listed=plan.limits.max_problems_listed)
    actor_kind = plan.unit_kind(actor)
    if actor_kind not in ("office", "department", "township"):
        what = "不在实施方案的组织体系中" if actor_kind is None else "不是台账的报送单位"
        raise LedgerImportError([Problem(sheet.name, sheet.header_row, "", f"导入单位“{actor}”{what}")])

    existing = ledger_records(session)
    by_natural_key = {
        _natural_key(i.township, i.community, i.category, i.stage, i.description): i.code for i in existing.values()
    }
    last_change = dict(
        session.exec(
            select(AuditEntry.subject_key, func.max(AuditEntry.effective_on))
            .where(AuditEntry.subject == "item")
            .group_by(AuditEntry.subject_key)
        ).all()
    )
    seen_codes: dict[str, int] = {}
    seen_keys: dict[tuple, int] = {}
    pending: list[tuple[int, str | None, dict[str, Any], PlanInput | None]] = []

    for number, values in sheet.rows:
        row_problems: list[Problem] = []
        parsed = _parse_row(plan, sheet, mapping, number, values, row_problems)
        code = parsed.pop("code")
        plan_input = parsed.pop("plan")
        if not row_problems:
            _check_scope(plan, actor, actor_kind, sheet, number, parsed, existing.get(code or ""), row_problems)
        if code:
            if code in seen_codes:
                row_problems.append(
                    Problem(sheet.name, number, _col(mapping, "code"), f"问题编号与第{seen_codes[code]}行重复", code)
                )
            seen_codes.setdefault(code, number)
        elif not row_problems:
            key = _natural_key(
                parsed["township"], parsed["community"], parsed["category"], parsed["stage"], parsed["description"]
            )
            if key in seen_keys:
                row_problems.append(Problem(sheet.name, number, "", f"与第{seen_keys[key]}行是同一问题（重复行）"))
            seen_keys.setdefault(key, number)
        item = existing.get(code or "")
        changes_closed = (
            item is not None
            and item.status in TERMINAL
            and not row_problems
            and (_item_changes(item, parsed) or (plan_input and _plan_differs(session, item, plan_input)))
        )
        if changes_closed:
            row_problems.append(
                Problem(
                    sheet.name,
                    number,
                    _col(mapping, "code"),
                    f"该问题{STATUS_LABELS[item.status]}，不能再通过导入修改",
                    code,
                )
            )
        if code and code in last_change and as_of < last_change[code]:
            row_problems.append(
                Problem(
                    sheet.name,
                    number,
                    _col(mapping, "code"),
                    f"导入日期{as_of.isoformat()}早于该问题最近一次变更日期{last_change[code].isoformat()}",
                    code,
                )
            )
        problems += row_problems
        pending.append((number, code, parsed, plan_input))

    if problems:
        raise LedgerImportError(problems, listed=plan.limits.max_problems_listed)
    return _resolve_codes(plan, pending, existing, by_natural_key)


WRITE_BATCH = 5000  # rows written per round trip: bounds the memory an import holds at once


def write(session: Session, rows: list[LedgerRow], *, actor: str, as_of: date) -> ImportResult:
    """Upsert validated rows in the caller's transaction; unchanged rows touch nothing.

    The ledger is read once as plain records and the plans in force in two queries; then, a batch of
    rows at a time, new items, plans, milestones and audit entries are inserted in bulk and changed
    items updated in one statement.
    """
    result = ImportResult()
    existing = ledger_records(session)
    olds = in_force(session)
    for start in range(0, len(rows), WRITE_BATCH):
        _write_batch(session, rows[start : start + WRITE_BATCH], existing, olds, result, actor=actor, as_of=as_of)
    changed = set(result.created) | set(result.updated) | set(result.replanned)
    result.unchanged = [row.code for row in rows if row.code not in changed]
    return result


def _write_batch(
    session: Session,
    rows: list[LedgerRow],
    existing: dict[str, ItemRecord],
    olds: dict[int, PlanInput],
    result: ImportResult,
    *,
    actor: str,
    as_of: date,
) -> None:
    entries: list[dict] = []
    new_items: list[ItemRecord] = []
    plans: list[tuple[ItemRecord, PlanInput, str]] = []
    touched = {row.code: existing[row.code].state() for row in rows if row.code in existing}
    for row in rows:
        note = f"台账导入（第{row.row}行）"
        item = existing.get(row.code)
        if item is None:
            item = ItemRecord(code=row.code, created_on=as_of, **row.fields)
            new_items.append(item)
            entries.append(_entry(actor, as_of, note, item.code, "create", None, {**row.fields, "status": "open"}))
            result.created.append(row.code)
        else:
            changes = _item_changes(item, row.fields)
            if changes:
                before = {k: getattr(item, k) for k in changes}
                entries.append(_entry(actor, as_of, note, item.code, "update", before, changes))
                for key, value in changes.items():
                    setattr(item, key, value)
                result.updated.append(row.code)
        if row.plan is not None:
            old = olds.get(item.id) if item.id is not None else None
            plans.append((item, replace(row.plan, milestones=old.milestones) if old else row.plan, note))
    revisions = plan_revisions(plans, olds, actor=actor, as_of=as_of)
    _insert_items(session, new_items)
    _update_items(session, [(existing[code], state) for code, state in touched.items()])
    write_revisions(session, revisions, preceding=entries)
    created = {item.code for item in new_items}
    result.replanned += [item.code for item, _ in revisions.revised if item.code not in created]


@dataclass(slots=True)
class ItemRecord:
    """A ledger row as plain data: tens of thousands are read and written per import, and an ORM
    object costs ten times more to build than its row."""

    code: str
    township: str
    community: str
    category: str
    facility_type: str | None
    stage: str
    description: str
    lead_department: str
    responsible_unit: str
    key_difficult: bool
    created_on: date
    status: str = "open"
    progress: int = 0
    deadline: date | None = None
    plan_revision: int = 0
    id: int | None = None

    def state(self) -> tuple:
        return tuple(getattr(self, name) for name in RECORD_FIELDS)


RECORD_FIELDS = tuple(f for f in ItemRecord.__dataclass_fields__ if f != "id")


def ledger_records(session: Session) -> dict[str, ItemRecord]:
    """The whole ledger as records, by code, in one query."""
    table = LedgerItem.__table__.c
    query = select(*(table[name] for name in (*RECORD_FIELDS, "id")))
    return {row[0]: ItemRecord(*row) for row in session.exec(query)}


def _insert_items(session: Session, items: list[ItemRecord]) -> None:
    if not items:
        return
    table = LedgerItem.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    values = [{name: getattr(item, name) for name in RECORD_FIELDS} for item in items]
    for item, item_id in zip(items, session.execute(statement, values).scalars(), strict=True):
        item.id = item_id


def _update_items(session: Session, items: list[tuple[ItemRecord, tuple]]) -> None:
    """Write only the fields this import changed, so a report or close-out committed meanwhile by
    someone else is not overwritten; items changed alike go in one statement."""
    table = LedgerItem.__table__
    groups: dict[tuple[str, ...], list[dict]] = {}
    for item, before in items:
        now = item.state()
        names = tuple(name for name, old, new in zip(RECORD_FIELDS, before, now, strict=True) if old != new)
        if names:
            groups.setdefault(names, []).append({"item_id": item.id, **{f"new_{n}": getattr(item, n) for n in names}})
    for names, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("item_id"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        session.execute(statement, rows)


def _entry(actor: str, as_of: date, note: str, code: str, action: str, before: dict | None, after: dict) -> dict:
    return {
        "actor": actor,
        "subject": "item",
        "key": code,
        "action": action,
        "effective_on": as_of,
        "before": before,
        "after": after,
        "note": note,
    }


# -- helpers ---------------------------------------------------------------------------------------


def _map_header(sheet: Sheet, problems: list[Problem]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, title in enumerate(sheet.header):
        where = f"{column_letter(index)}列"
        if not title:
            problems.append(Problem(sheet.name, sheet.header_row, where, "表头为空，请填写列名或删除该列"))
            continue
        column = column_for(title)
        if column is None:
            if title.strip() not in EXPORT_ONLY + IGNORED:
                known = "、".join(c.title for c in COLUMNS)
                problems.append(
                    Problem(sheet.name, sheet.header_row, where, f"无法识别的列名（可用列名：{known}）", title)
                )
            continue
        if column.key in mapping:
            problems.append(
                Problem(
                    sheet.name,
                    sheet.header_row,
                    where,
                    f"列“{column.title}”重复出现（已在{column_letter(mapping[column.key])}列）",
                    title,
                )
            )
            continue
        mapping[column.key] = index
    for column in COLUMNS:
        if column.required and column.key not in mapping:
            problems.append(Problem(sheet.name, sheet.header_row, "", f"缺少必填列“{column.title}”"))
    return mapping


def _col(mapping: dict[str, int], key: str) -> str:
    column = next(c for c in COLUMNS if c.key == key)
    return f"{column_letter(mapping[key])}列“{column.title}”" if key in mapping else f"“{column.title}”"


def _parse_row(
    plan: Plan, sheet: Sheet, mapping: dict[str, int], number: int, values: list, problems: list[Problem]
) -> dict[str, Any]:
    raw = {key: values[index] for key, index in mapping.items()}

    def fail(key: str, message: str, value: Any = None) -> None:
        problems.append(Problem(sheet.name, number, _col(mapping, key), message, value))

    def read(column: LedgerColumn, reader=cells.text) -> Any:
        try:
            value = reader(raw.get(column.key))
        except cells.CellError as exc:
            fail(column.key, str(exc), raw.get(column.key))
            return None
        if column.required and value is None:
            fail(column.key, "必填项为空")
        limit = LIMITS.get(column.key)
        if limit and isinstance(value, str) and len(value) > limit:
            fail(column.key, f"内容过长（{len(value)}字，最多{limit}字）")
        return value

    col = {c.key: c for c in COLUMNS}
    out: dict[str, Any] = {}
    out["code"] = read(col["code"], cells.code)

    township = read(col["township"])
    if township is not None and township not in plan.township_names():
        fail("township", "不是本区的镇办（请使用方案中的镇办全称）", township)
    out["township"] = township
    out["community"] = read(col["community"])

    category_name = read(col["category"])
    category = plan.category_by_name(category_name) if category_name else None
    if category_name is not None and category is None:
        fail("category", f"未知设施类别（可选：{'、'.join(c.name for c in plan.categories)}）", category_name)
    out["category"] = category.code if category else None

    facility_type = read(col["facility_type"])
    if facility_type and category and facility_type not in category.facility_types:
        allowed = "、".join(category.facility_types) or "无（该类别不分类型，请留空）"
        fail("facility_type", f"不是“{category.name}”的设施类型（可选：{allowed}）", facility_type)
    out["facility_type"] = facility_type

    stage_name = read(col["stage"])
    stage = plan.stage_by_name(stage_name) if stage_name else None
    if stage_name is not None and stage is None:
        fail("stage", f"问题环节只能是{'、'.join(s.name for s in plan.stages)}", stage_name)
    out["stage"] = stage.code if stage else None
    out["description"] = read(col["description"], cells.long_text)

    lead = read(col["lead_department"])
    if lead is not None and lead not in plan.department_names():
        fail("lead_department", "不是方案中的牵头部门", lead)
    out["lead_department"] = lead or (category.lead_department if category else None)

    responsible = read(col["responsible_unit"])
    if responsible is not None and plan.unit_kind(responsible) not in ("township", "department"):
        fail("responsible_unit", "不是方案中的镇办或部门", responsible)
    out["responsible_unit"] = responsible or township
    out["key_difficult"] = read(col["key_difficult"], cells.yes_no) or False

    measures = read(col["measures"], cells.long_text)
    deadline = read(col["deadline"], cells.day)
    if deadline and not (plan.programme.start <= deadline <= date(plan.programme.end.year + 5, 12, 31)):
        fail(
            "deadline",
            f"完成时限不在合理范围（应不早于方案开始日期{plan.programme.start.isoformat()}）",
            raw.get("deadline"),
        )
    if measures and deadline is None and raw.get("deadline") is None:
        fail("deadline", "已填写整改措施，须同时填写完成时限")
    if deadline and measures is None:
        fail("measures", "已填写完成时限，须同时填写整改措施")
    out["plan"] = None
    if measures and deadline and out["lead_department"] and out["responsible_unit"]:
        out["plan"] = PlanInput(
            measures=measures,
            deadline=deadline,
            lead_unit=out["lead_department"],
            responsible_unit=out["responsible_unit"],
        )
    return out


def _check_scope(
    plan: Plan,
    actor: str,
    kind: str,
    sheet: Sheet,
    number: int,
    fields: dict,
    item: ItemRecord | None,
    problems: list[Problem],
) -> None:
    """A department files its own categories' problems, a township its own; the Office files all."""
    if kind == "office":
        return
    key = "lead_department" if kind == "department" else "township"
    label = "牵头部门" if kind == "department" else "镇办"
    for value in (fields[key], getattr(item, key) if item else None):
        if value is not None and value != actor:
            problems.append(Problem(sheet.name, number, "", f"{actor}无权导入或修改{label}为“{value}”的问题"))
            return


def _plan_differs(session: Session, item: ItemRecord, new: PlanInput) -> bool:
    old = current(session, item)
    return old is None or _comparable(plan_as_input(session, old)) != _comparable(new)


def _comparable(plan: PlanInput) -> tuple:
    return plan.measures, plan.deadline, plan.lead_unit, plan.responsible_unit


def _item_changes(item: ItemRecord, fields: dict[str, Any]) -> dict[str, Any]:
    return {k: fields[k] for k in ITEM_FIELDS if getattr(item, k) != fields[k]}


def _natural_key(township: str, community: str, category: str, stage: str, description: str) -> tuple:
    return township, community, category, stage, description


def _resolve_codes(
    plan: Plan, pending: list, existing: dict[str, ItemRecord], by_natural_key: dict[tuple, str]
) -> list[LedgerRow]:
    """Blank codes take the code of the same problem already in the ledger, else the next free one."""
    prefix, digits = plan.ledger.code_prefix, plan.ledger.code_digits
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    used = set(existing) | {code for _, code, _, _ in pending if code}
    next_number = max((int(m.group(1)) for c in used if (m := pattern.match(c))), default=0) + 1
    rows = []
    for number, code, fields, plan_input in pending:
        given = code is not None
        if code is None:
            key = _natural_key(
                fields["township"], fields["community"], fields["category"], fields["stage"], fields["description"]
            )
            code = by_natural_key.get(key)
            if code is None:
                code = f"{prefix}{next_number:0{digits}d}"
                next_number += 1
        rows.append(LedgerRow(row=number, code=code, code_given=given, fields=fields, plan=plan_input))
    return rows


def check(sheet: Sheet, *, actor: str, as_of: date) -> list[LedgerRow]:
    """Validate against the database in force (a read-only session of its own)."""
    from duban.db import session_scope
    from duban.stored_plan import current_plan

    with session_scope() as session:
        return validate(session, current_plan(session), sheet, actor=actor, as_of=as_of)


def commit(rows: list[LedgerRow], *, actor: str, as_of: date) -> ImportResult:
    """Write validated rows in one transaction: all of them, or (on any error) none."""
    from duban.db import session_scope

    with session_scope() as session:
        return write(session, rows, actor=actor, as_of=as_of)
