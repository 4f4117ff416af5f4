"""The ledger's columns as clerks head them, with the English aliases duban also accepts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LedgerColumn:
    key: str
    title: str
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("code", "问题编号", ("code", "编号")),
    LedgerColumn("township", "镇办", ("township", "镇街", "镇（街道）"), required=True),
    LedgerColumn("community", "社区", ("community", "社区名称"), required=True),
    LedgerColumn("category", "设施类别", ("category",), required=True),
    LedgerColumn("facility_type", "设施类型", ("facility_type", "type")),
    LedgerColumn("stage", "问题环节", ("stage",), required=True),
    LedgerColumn("description", "问题描述", ("description",), required=True),
    LedgerColumn("lead_department", "牵头部门", ("lead_department", "主管部门")),
    LedgerColumn("responsible_unit", "责任单位", ("responsible_unit",)),
    LedgerColumn("measures", "整改措施", ("measures",)),
    LedgerColumn("deadline", "完成时限", ("deadline",)),
    LedgerColumn("key_difficult", "重点难点", ("key_difficult", "key")),
)

# Written by `duban ledger export`, read back without effect: status moves through close-out only.
EXPORT_ONLY: tuple[str, ...] = ("状态", "整改进度", "方案版本")
# Columns clerks habitually add; they carry nothing duban keeps.
IGNORED: tuple[str, ...] = ("序号", "备注")

LIMITS = {"code": 40, "community": 100, "description": 2000, "measures": 2000}


def column_for(header: str) -> LedgerColumn | None:
    name = header.strip().lstrip("*").strip()
    return next((c for c in COLUMNS if name == c.title or name.lower() in {a.lower() for a in c.aliases}), None)
