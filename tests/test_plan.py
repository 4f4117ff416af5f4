"""The plan file: the sample encodes the seed; broken plans are refused naming key and fault."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from conftest import PLAN

from duban.plan import PlanError, load_plan, parse_plan

SEED_CATEGORIES = {
    "education": ("教育设施", ("中学", "小学", "幼儿园"), "教体局"),
    "community_premises": ("社区用房", ("社区办公用房", "社区服务用房"), "民政局"),
    "elderly_care": ("养老服务设施", ("养老服务站", "日间照料中心"), "民政局"),
    "convenience_commerce": ("便民商业设施", ("便民市场", "便利店"), "商务局"),
    "sports": ("体育设施", ("体育场馆", "健身设施"), "教体局"),
    "health": ("医疗卫生设施", ("社区卫生服务站",), "卫健局"),
    "canteen": ("社区食堂", (), "民政局"),
}
TOWNSHIPS = [
    "城关街道",
    "东城街道",
    "西城街道",
    "南关街道",
    "北关街道",
    "新城街道",
    "河东镇",
    "河西镇",
    "青山镇",
    "白云镇",
    "石桥镇",
    "柳林镇",
]
DEPARTMENTS = ["教体局", "民政局", "商务局", "卫健局", "自然资分局", "住建局", "发改局", "财政局"]


def test_sample_plan_encodes_the_seed() -> None:
    plan, _ = load_plan(PLAN)
    assert plan.township_names() == TOWNSHIPS
    assert plan.department_names() == DEPARTMENTS
    assert [leader.name for leader in plan.chain.leadership_group.leaders] == ["区长", "分管副区长"]
    assert plan.office.name == "区配套办" and plan.office.host == "自然资分局"
    assert {c.code: (c.name, c.facility_types, c.lead_department) for c in plan.categories} == SEED_CATEGORIES
    assert [s.name for s in plan.stages] == ["规划", "建设", "移交", "使用"]
    due = {m.code: m.due for m in plan.milestones}
    assert due == {
        "survey": date(2022, 4, 8),
        "rectification_plans": date(2022, 4, 18),
        "rectification": date(2022, 12, 31),
        "must_finish": date(2022, 12, 31),
        "special_plans": date(2022, 12, 31),
        "joint_planning_review": date(2022, 6, 30),
        "joint_completion_review": date(2022, 6, 30),
        "working_groups": date(2022, 4, 30),  # the seed sets no date: a sample value, said so in the plan
    }
    owners = {m.code: m.owners for m in plan.milestones}
    assert owners["joint_planning_review"] == ("自然资分局",)
    assert owners["joint_completion_review"] == ("住建局",)
    assert plan.reporting.township_due_day == 5 and plan.reporting.department_due_day == 10
    assert plan.must_finish("education", "幼儿园").due == date(2022, 12, 31)
    assert plan.must_finish("community_premises", None).due == date(2022, 12, 31)
    assert plan.must_finish("education", "小学") is None
    assert plan.must_finish("canteen", None) is None


def _broken(edit) -> str:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    edit(data)
    return yaml.safe_dump(data, allow_unicode=True)


BROKEN = {
    "missing reporting": (lambda d: d.pop("reporting"), ["reporting：缺少必填项"]),
    "unknown key": (lambda d: d["traffic_light"].update(yelow=3), ["traffic_light.yelow：不认识的键"]),
    "lead department not in the chain": (
        lambda d: d["categories"][0].update(lead_department="教育局"),
        ["categories[0].lead_department：“教育局”不是方案中的部门"],
    ),
    "bad milestone date": (
        lambda d: d["milestones"][0].update(due="2022-04-31"),
        ["milestones[0].due：不是有效日期", "2022-04-31"],
    ),
    "webhook key written into the plan": (
        lambda d: d["chain"]["office"]["contacts"][0]["channels"].append(
            {"type": "wecom", "key_env": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
        ),
        ["chain.office.contacts[0].channels[1].key_env", "密钥本身不得写入方案文件"],
    ),
    "secret as an extra key": (
        lambda d: d["chain"]["office"]["contacts"][0]["channels"].append(
            {"type": "wecom", "key_env": "DUBAN_WECOM_OFFICE", "key": "abc"}
        ),
        ["channels[1].key：不认识的键"],
    ),
    "duplicate unit": (lambda d: d["chain"]["townships"].append({"name": "城关街道"}), ["单位名称“城关街道”重复"]),
    "escalation ladder out of order": (
        lambda d: d["escalation"]["overdue_item"].update(level2=30),
        ["escalation.overdue_item：各级阈值须满足 level1 ≤ level2 ≤ level3"],
    ),
    "township due day out of range": (
        lambda d: d["reporting"].update(township_due_day=35),
        ["reporting.township_due_day：数值过大"],
    ),
    "must-finish type unknown": (
        lambda d: d["milestones"][3]["must_finish"][0].update(facility_type="托儿所"),
        ["milestones[3].must_finish[0].facility_type：“托儿所”不是教育设施的设施类型"],
    ),
    "countersigner not a department": (
        lambda d: d["mechanism"]["gates"][0]["countersigners"].append("城关街道"),
        ["mechanism.gates[0]：“城关街道”不是方案中的部门"],
    ),
    "deliverable of no milestone": (
        lambda d: d["mechanism"]["deliverables"][0].update(milestone="special_plan"),
        ["mechanism.deliverables[0].milestone：“special_plan”不是方案中的时间节点"],
    ),
    "standard of an unknown category": (
        lambda d: d["mechanism"]["standards"][0].update(category="parking"),
        ["mechanism.standards[0].category：未知类别“parking”"],
    ),
    "standard per zero households": (
        lambda d: d["mechanism"]["standards"][0].update(per_households=0),
        ["mechanism.standards[0].per_households：数值过小"],
    ),
    "gate code used twice": (
        lambda d: d["mechanism"]["gates"][1].update(code="planning_conditions"),
        ["mechanism：代码“planning_conditions”重复"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_plan_names_key_and_fault(case: str) -> None:
    edit, expected = BROKEN[case]
    with pytest.raises(PlanError) as caught:
        parse_plan(_broken(edit), "broken.yaml")
    message = str(caught.value)
    assert "broken.yaml" in message
    for fragment in expected:
        assert fragment in message


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(PlanError, match="不是有效的 YAML"):
        parse_plan("a: [1, 2", "x.yaml")
    with pytest.raises(PlanError, match="顶层须为键值映射"):
        parse_plan("- 1\n- 2\n", "x.yaml")
