"""A synthetic programme of N items in the sample district's shape, for the benchmarks (seeded).

    .venv/bin/python benchmarks/programme.py 30000 /tmp/bench   # writes ledger.csv and plan.yaml there

Why: the sample ledger has 66 rows; the Office must run 30,000 and more. The townships, categories,
facility types, stages and lead departments come from the plan through duban's own loader, the
communities and the mix of townships, categories and stages from samples/ledger-2022.csv, so the
generated ledger follows the plan if the plan changes. 70% of the items carry a rectification plan
whose deadlines are spread over 2022-05..2023-03 so that on 2022-10-01 about 42% of all items are
overdue; 10% are key items (重点难点). Descriptions are unique, so every row is a distinct problem.

The shipped plan allows 10,000 rows per file: `write_plan` writes a copy with the limits raised for N
(and enough code digits); the shipped plan is never changed.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "plans" / "community-facilities-2022.yaml"
SAMPLE = ROOT / "samples" / "ledger-2022.csv"
SEED = 20220408

PLANNED_SHARE = 0.70  # items with a rectification plan (measures + deadline)
KEY_SHARE = 0.10  # key and difficult items
BLANK_CODE_SHARE = 0.05  # rows left without 问题编号: duban generates one, as in the sample
# Deadline months and weights: 60% of the plans fall due May..September 2022, 40% October..March,
# so 0.7 x 0.6 = 42% of all items are overdue on 2022-10-01.
DEADLINE_MONTHS = [(2022, m, 0.12) for m in range(5, 10)] + [
    (y, m, 0.40 / 6) for y, m in ((2022, 10), (2022, 11), (2022, 12), (2023, 1), (2023, 2), (2023, 3))
]

PROBLEMS = {  # by the stage's name, as the survey found them (the sample's wording)
    "规划": "{where}控制性详细规划未预留{thing}用地，辖区约{households}户居民需前往{km}公里外办理，需求无法满足。",
    "建设": "{where}{thing}建筑面积仅{area}平方米，低于配建标准，辖区{households}户，面积缺口约{gap}平方米。",
    "移交": "{where}规划配建的{thing}（约{area}平方米）已竣工验收，开发企业至今未办理产权移交手续，闲置{months}个月。",
    "使用": "{where}{thing}约{area}平方米被挪作他用，服务功能被挤占，{households}户居民需求无法满足。",
}
MEASURES = {
    "规划": "结合控规修编预留{thing}用地{area}平方米，同步纳入专项规划。",
    "建设": "利用闲置用房改造扩建{thing}，新增建筑面积{gap}平方米，配齐功能区。",
    "移交": "督促开发企业限期完成{thing}产权移交手续，移交后统一投入使用。",
    "使用": "限期收回被挪用的{thing}用房，恢复其服务功能。",
}


class Sample:
    """What the generator draws from: the plan's units and codes, the sample ledger's communities and mix."""

    def __init__(self, plan_file: Path = PLAN, sample_file: Path = SAMPLE) -> None:
        from duban.plan import load_plan

        self.plan, _ = load_plan(plan_file)
        with sample_file.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        self.header = list(rows[0].keys())
        townships = self.plan.township_names()
        self.communities = {t: sorted({r["社区"] for r in rows if r["镇办"] == t}) for t in townships}
        # A township the sample does not mention still gets items, in a community named after it.
        for township, names in self.communities.items():
            names.extend([] if names else [f"{township}中心社区"])
        self.township_weights = _weights(Counter(r["镇办"] for r in rows), townships)
        self.categories = list(self.plan.categories)
        self.category_weights = _weights(Counter(r["设施类别"] for r in rows), [c.name for c in self.categories])
        self.stages = [s.name for s in self.plan.stages]
        self.stage_weights = _weights(Counter(r["问题环节"] for r in rows), self.stages)
        self.departments = self.plan.department_names()


def _weights(counts: Counter, names: list[str]) -> list[float]:
    """The sample's frequency of each name, at least 1, so nothing the plan names is left out."""
    return [max(counts.get(name, 0), 1) for name in names]


def _deadline(rng: random.Random) -> date:
    year, month, _ = rng.choices(DEADLINE_MONTHS, weights=[w for _, _, w in DEADLINE_MONTHS])[0]
    day = 15 if rng.random() < 0.1 else calendar.monthrange(year, month)[1]
    return date(year, month, day)


def _typed(day: date, rng: random.Random) -> str:
    """The date as clerks type it: mostly ISO, some 2022/9/30 and 2022年9月30日."""
    roll = rng.random()
    if roll < 0.8:
        return day.isoformat()
    if roll < 0.9:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day.year}年{day.month}月{day.day}日"


def rows(items: int, seed: int = SEED, sample: Sample | None = None) -> Iterator[list[str]]:
    """The ledger's data rows, in the sample file's column order."""
    sample = sample or Sample()
    rng = random.Random(seed)
    townships = sample.plan.township_names()
    prefix, digits = sample.plan.ledger.code_prefix, max(sample.plan.ledger.code_digits, len(str(items)))
    for n in range(1, items + 1):
        township = rng.choices(townships, weights=sample.township_weights)[0]
        community = rng.choice(sample.communities[township])
        category = rng.choices(sample.categories, weights=sample.category_weights)[0]
        facility = rng.choice(category.facility_types) if category.facility_types else ""
        stage = rng.choices(sample.stages, weights=sample.stage_weights)[0]
        numbers = {
            "where": community,
            "thing": facility or category.name,
            "households": rng.randrange(600, 4000, 50),
            "km": rng.randint(2, 6),
            "area": rng.randrange(80, 3200, 10),
            "gap": rng.randrange(50, 600, 10),
            "months": rng.randint(3, 30),
        }
        description = PROBLEMS[stage].format(**numbers) + f"（排查第{n}号）"
        roll = rng.random()  # the lead department: mostly the category's default, left blank
        lead = category.lead_department if roll < 0.10 else rng.choice(sample.departments) if roll < 0.14 else ""
        measures = deadline = ""
        if rng.random() < PLANNED_SHARE:
            measures = MEASURES[stage].format(**numbers)
            deadline = _typed(_deadline(rng), rng)
        key = "是" if rng.random() < KEY_SHARE else "否"
        code = "" if rng.random() < BLANK_CODE_SHARE else f"{prefix}{n:0{digits}d}"
        row = [code, township, community, category.name, facility, stage, description, lead, ""]
        yield [*row, measures, deadline, key]


def write_ledger(path: Path, items: int, seed: int = SEED) -> Path:
    """A ledger CSV (UTF-8 with BOM, as Excel saves it) of `items` rows; the same seed, the same file."""
    sample = Sample()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(sample.header)
        writer.writerows(rows(items, seed, sample))
    return path


def raise_limits(plan_file: Path, items: int, ledger_bytes: int) -> Path:
    """Rewrite `plan_file` (a copy) so one file of `items` rows and `ledger_bytes` bytes is accepted."""
    data = yaml.safe_load(plan_file.read_text(encoding="utf-8"))
    limits = data.setdefault("limits", {})
    for key, needed in (
        ("max_rows", items),
        ("max_file_bytes", 2 * ledger_bytes),
        ("max_unpacked_bytes", 4 * ledger_bytes),
        ("max_xml_records", 2 * items + 1000),
    ):
        limits[key] = max(int(limits.get(key, 0)), needed)
    ledger = data.setdefault("ledger", {})
    ledger["code_digits"] = max(int(ledger.get("code_digits", 4)), len(str(items)))
    plan_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return plan_file


def write_plan(folder: Path, items: int, ledger_bytes: int, source: Path = PLAN) -> Path:
    """A copy of the plan in `folder`, its limits raised for the ledger; the shipped plan is left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "plan.yaml"
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return raise_limits(target, items, ledger_bytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    ledger = write_ledger(args.folder / "ledger.csv", args.items, args.seed)
    plan = write_plan(args.folder, args.items, ledger.stat().st_size)
    print(f"{ledger}\n{plan}")


if __name__ == "__main__":
    main()
