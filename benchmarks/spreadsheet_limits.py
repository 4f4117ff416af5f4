"""Benchmark: hostile uploads refused by `duban ledger import` and `duban report submit`.

    .venv/bin/python benchmarks/spreadsheet_limits.py

Writes, in a temporary folder and part by part (tests/raw_xlsx.py), the files a hostile tester
used: .xlsx files of a million rows, a 300 KB .xlsx whose shared-string table inflates to 300 MB, a
100,000-row CSV ledger, a row of five million cells, a million-row file that is not a form and one
that is. Each goes through the CLI in a process of its own, under the sample plan's limits; the
script prints the file's size, the wall time, the process's peak resident memory and the first line
of what it said. The sample ledger, accepted, is the yardstick. Nothing here asserts a time.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import raw_xlsx  # noqa: E402 - found through the path set above, as tests/ is not a package

SAMPLE = ROOT / "samples/ledger-2022.csv"
DUBAN = [sys.executable, "-m", "duban.cli"]
MILLION = 1_000_000


def sample() -> tuple[list[str], list[list[str]]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def csv_ledger(path: Path, count: int, *, short: bool = False) -> Path:
    """The sample's rows over and over; `short` keeps only what a row needs, to stay under the size limit."""
    header, rows = sample()
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for n in range(count):
            row = [f"PT2022-{n + 1:06d}", *rows[n % len(rows)][1:]]
            writer.writerow([*row[:6], "缺失", *[""] * 5] if short else row)
    return path


def numbered_rows(first: int, count: int) -> Iterator[bytes]:
    """Numbered rows of three cells: a township, a progress, a state."""
    for n in range(first, first + count):
        yield (
            f'<row r="{n}"><c t="inlineStr"><is><t>河东镇</t></is></c><c><v>40</v></c>'
            '<c t="inlineStr"><is><t>推进中</t></is></c></row>'
        ).encode()


def small_rows(count: int) -> Iterator[bytes]:
    """Rows as small as a row can be (26 bytes), so that a million stay under the unpacked limit."""
    return (b"<row><c><v>1</v></c></row>" for _ in range(count))


def million_rows(path: Path) -> Path:
    header, _ = sample()
    return raw_xlsx.write(path, {"台账": [raw_xlsx.row(header, 1), *numbered_rows(2, MILLION)]})


def million_small_rows(path: Path) -> Path:
    header, _ = sample()
    return raw_xlsx.write(path, {"台账": [raw_xlsx.row(header), *small_rows(MILLION)]})


def shared_string_bomb(path: Path) -> Path:
    header, _ = sample()
    strings = (b"<si><t>" + b"x" * 1000 + b"</t></si>" for _ in range(300_000))
    return raw_xlsx.write(path, {"台账": [raw_xlsx.row(header)]}, strings=strings)


def wide_row(path: Path) -> Path:
    header, _ = sample()
    return raw_xlsx.write(path, {"台账": [raw_xlsx.row(header), b"<row>" + b"<c/>" * 5_000_000 + b"</row>"]})


def million_row_form(path: Path) -> Path:
    """A million rows under a form's title and header, with the hidden facts of 城关街道's May form."""
    facts = [raw_xlsx.row(["单位", "城关街道"]), raw_xlsx.row(["报送期", "2022-05"])]
    top = [raw_xlsx.row(["城关街道月报表"]), raw_xlsx.row(["问题编号", "社区", "整改进度（%）"])]
    sheets = {"填报": [*top, *small_rows(MILLION)], "表单信息": facts}
    return raw_xlsx.write(path, sheets, hidden=("表单信息",))


def run(args: list[str], folder: Path) -> tuple[float, float, str]:
    """Wall time, peak resident memory (MiB) and the first line printed, for one CLI process. GNU time
    measures the memory: a child of this (large) process would be charged for its pages."""
    report = folder / "time.txt"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *DUBAN, *args], capture_output=True, text=True
    )
    took = time.perf_counter() - started
    peak = int(report.read_text().split()[-1]) / 1024
    first = (done.stdout + done.stderr).splitlines()[0]
    return took, peak, f"[{done.returncode}] {first}"


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="duban-bench-limits-"))
    os.environ["DUBAN_HOME"] = str(home)
    os.environ.pop("DUBAN_DATABASE_URL", None)
    os.environ.pop("PREFECT_API_URL", None)
    plan = str(ROOT / "plans/community-facilities-2022.yaml")
    subprocess.run([*DUBAN, "init", "--plan", plan, "--as-of", "2022-04-01"], check=True, capture_output=True)
    submit = ["report", "submit", "--unit", "城关街道", "--period", "2022-05"]
    ledger = ["ledger", "import", "--as-of", "2022-04-08"]
    cases: list[tuple[str, list[str], Callable[[Path], Path]]] = [
        ("the sample ledger, 66 rows (accepted)", ledger, lambda p: csv_ledger(p.with_suffix(".csv"), 66)),
        ("CSV ledger, 100,000 rows", ledger, lambda p: csv_ledger(p.with_suffix(".csv"), 100_000)),
        ("CSV ledger, 100,000 short rows", ledger, lambda p: csv_ledger(p.with_suffix(".csv"), 100_000, short=True)),
        (".xlsx, 1,000,000 rows of 3 cells", ledger, million_rows),
        (".xlsx, 1,000,000 one-number rows", ledger, million_small_rows),
        (".xlsx, shared strings of 300 MB", ledger, shared_string_bomb),
        (".xlsx, one row of 5,000,000 cells", ledger, wide_row),
        ("submit: 1,000,000 rows, not a form", submit, million_small_rows),
        ("submit: shared strings of 300 MB", submit, shared_string_bomb),
        ("submit: a form of 1,000,000 rows", submit, million_row_form),
    ]
    print("hostile uploads under the sample plan's limits; each case is one `duban` process")
    print(f"  {'case':<38}{'file':>10}{'unpacked':>10}{'time':>8}{'peak':>9}  first line")
    for n, (label, command, build) in enumerate(cases):
        path = build(home / f"case{n}.xlsx")
        size = path.stat().st_size
        unpacked = _unpacked(path)
        args = [*command[:2], str(path), *command[2:]]
        took, peak, first = run(args, home)
        print(f"  {label:<38}{_mb(size):>10}{_mb(unpacked):>10}{took:7.2f}s{peak:6.0f} MiB  {first}", flush=True)
        path.unlink()


def _unpacked(path: Path) -> int:
    if path.suffix != ".xlsx":
        return path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 10_000 else f"{size / 1e3:.1f} KB"


if __name__ == "__main__":
    main()
