"""Clerk text is data everywhere it goes: a hostile but realistic corpus against the real CLI.

Text that would be code somewhere (a spreadsheet formula, console markup, a path) is stored as typed
and comes out inert in every workbook, CSV, form and console line; text that cannot be stored safely
(control characters, line breaks in one-line fields, codes that name paths) is refused with the
row, column and code point, and nothing changes. Evidence files, output paths and plan files too.
"""

from __future__ import annotations

import csv
import json
import os
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import EVIDENCE, PLAN, SAMPLE, Cli, db_digest
from openpyxl import load_workbook
from reporting_helpers import fill_form
from test_ledger_import import write_csv

from duban.files.paths import PathRefused, under

FORMULA = '=HYPERLINK("http://evil.example/","点此")'
COMMAND = "=cmd|' /C calc'!A0 [/x] [bold]粗[/bold] <script>alert(1)</script>"
MEASURES = "@SUM(1+1)\n-第二行：+3"
HOSTILE = [
    "H-1",
    "城关街道",
    FORMULA,
    "社区用房",
    "社区服务用房",
    "使用",
    COMMAND,
    "",
    "",
    MEASURES,
    "2022-10-31",
    "否",
]


def _sample_rows() -> list[list[str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[1:]


@pytest.fixture
def hostile(imported: Cli, tmp_path: Path) -> Cli:
    imported("ledger", "import", write_csv(tmp_path / "带公式.csv", [HOSTILE]), "--as-of", "2022-04-08")
    return imported


def test_formula_text_is_stored_as_typed_and_comes_out_as_text(hostile: Cli, home: Path, tmp_path: Path) -> None:
    hostile("ledger", "export", tmp_path / "导出.xlsx")
    with zipfile.ZipFile(tmp_path / "导出.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    sheet = load_workbook(tmp_path / "导出.xlsx").active
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "H-1"]
    assert [(c.value, c.data_type) for c in (row[2], row[6], row[9])] == [
        (FORMULA, "s"),
        (COMMAND, "s"),
        (MEASURES, "s"),
    ]

    hostile("ledger", "export", tmp_path / "导出.csv")
    with (tmp_path / "导出.csv").open(encoding="utf-8-sig", newline="") as handle:
        exported = {r[0]: r for r in csv.reader(handle)}
    assert [exported["H-1"][i] for i in (2, 6, 9)] == ["'" + FORMULA, "'" + COMMAND, "'" + MEASURES]
    before = db_digest(home)
    again = hostile("ledger", "import", tmp_path / "导出.csv", "--as-of", "2022-04-08").output
    assert f"无变化 {len(_sample_rows()) + 1} 项" in again
    assert db_digest(home) == before

    shown = hostile("item", "show", "H-1").output
    assert "[/x] [bold]粗[/bold] <script>alert(1)</script>" in shown and FORMULA in shown
    hostile("status", "--as-of", "2022-05-06")


def test_a_township_with_formula_text_answers_its_forms(hostile: Cli, tmp_path: Path) -> None:
    """Its locked cells read back as the text sent, so the form is accepted, not refused as edited."""
    hostile("tick", "--as-of", "2022-05-01")
    form = tmp_path / "城关街道-2022-05.xlsx"
    hostile("report", "form", "--unit", "城关街道", "--period", "2022-05", form)
    sheet = load_workbook(form)["填报"]
    cells = {r[0].value: r for r in sheet.iter_rows(min_row=3)}
    assert (cells["H-1"][1].value, cells["H-1"][1].data_type) == (FORMULA, "s")
    codes = [code for code in cells if code]
    fill_form(form, {code: {"整改进度（%）": 0, "工作状态": "未开工"} for code in codes})
    out = hostile("report", "submit", form, "--unit", "城关街道", "--period", "2022-05", "--as-of", "2022-05-05")
    assert "城关街道2022-05报表已报送：第1版，2022-05-05" in out.output

    start = ("campaign", "start", "--title", "社区用房专项督导", "--township", "城关街道", "--due", "2022-05-20")
    hostile(*start, "--as-of", "2022-05-09")
    answer = tmp_path / "城关街道-督导反馈表.xlsx"
    hostile("campaign", "form", "1", "--unit", "城关街道", answer)
    sheet = load_workbook(answer).active
    [row] = [r for r in sheet.iter_rows(min_row=3) if r[0].value == "H-1"]
    assert (row[2].value, row[2].data_type) == (FORMULA, "s")
    answers = {"整改进展情况": "@SUM(已开展)", "下一步整改措施": "+收回用房", "承诺完成时限": "2022-08-31"}
    fill_form(answer, {"H-1": answers}, sheet.title)
    said = hostile("campaign", "respond", "1", "--unit", "城关街道", answer, "--as-of", "2022-05-12").output
    assert "城关街道已反馈专项督导第1号1项问题，2022-05-12" in said
    shown = hostile("campaign", "show", "1", "--as-of", "2022-05-12", "--json").output
    assert "@SUM(已开展)" in shown


BAD_TEXT = {
    "bell in a community": ({2: "幸福\x07里社区"}, "第2行 C列“社区”：含有不可见的控制字符（U+0007），请删除后重新填写"),
    "terminal escape in a description": ({6: "用房被占\x1b[2J"}, "第2行 G列“问题描述”：含有不可见的控制字符（U+001B）"),
    "line break in a community": ({2: "幸福里\n社区"}, "第2行 C列“社区”：只能填写一行文字，不能换行"),
    "right-to-left override": ({6: "用房\u202e被占"}, "第2行 G列“问题描述”：含有不可见的控制字符（U+202E）"),
    "code that climbs out": (
        {0: "../../x"},
        "第2行 A列“问题编号”：编号只能由字母、数字、汉字、“-”和“_”组成，且不能以“-”或“_”开头",
    ),
    "absolute path as a code": ({0: "/etc/passwd"}, "第2行 A列“问题编号”：编号只能由字母"),
    "code with a space": ({0: "PT 1"}, "第2行 A列“问题编号”：编号只能由字母"),
    "code too long": ({0: "P" * 41}, "第2行 A列“问题编号”：编号过长（41个字符，最多40个）"),
}


@pytest.mark.parametrize("case", list(BAD_TEXT))
def test_unsafe_text_is_refused_with_its_place_and_changes_nothing(
    case: str, imported: Cli, home: Path, tmp_path: Path
) -> None:
    change, expected = BAD_TEXT[case]
    row = list(HOSTILE)
    for index, value in change.items():
        row[index] = value
    path = write_csv(tmp_path / "坏台账.csv", [row])
    before = db_digest(home)
    message = imported("ledger", "import", path, "--as-of", "2022-05-06", status=2).output
    assert f"坏台账.csv {expected}" in message
    assert "\x1b" not in message and "\x07" not in message  # shown escaped, never sent to the terminal
    assert db_digest(home) == before


def test_description_may_hold_several_lines(imported: Cli, tmp_path: Path) -> None:
    row = list(HOSTILE)
    row[6] = "第一行\r\n第二行\t（附注）"
    imported("ledger", "import", write_csv(tmp_path / "多行.csv", [row]), "--as-of", "2022-04-08")
    assert "第一行\n第二行\t（附注）" in imported("item", "show", "H-1", "--json").output.replace("\\n", "\n").replace(
        "\\t", "\t"
    )


BAD_ARGUMENTS = {
    "escape in a note": (
        ("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--note", "好\x1b[31m"),
        "“说明”含有不可见的控制字符（U+001B）",
    ),
    "header injection in a campaign title": (
        ("campaign", "start", "--title", "督导\r\nBcc: all@xxq.gov.cn", "--facility", "幼儿园", "--due", "2022-05-20"),
        "“督导名称”只能填写一行文字，不能换行",
    ),
    "bell in measures": (
        ("item", "plan", "PT2022-0004", "--by", "城关街道", "--measures", "收回\x07用房", "--deadline", "2022-10-31"),
        "“整改措施”含有不可见的控制字符（U+0007）",
    ),
    "line break in a milestone": (
        ("item", "plan", "PT2022-0001", "--by", "城关街道", "--milestone", "2022-06-15:清退\n商户"),
        "“时间节点”只能填写一行文字，不能换行",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_unsafe_arguments_are_refused(case: str, imported: Cli, home: Path) -> None:
    args, expected = BAD_ARGUMENTS[case]
    before = db_digest(home)
    assert expected in imported(*args, "--as-of", "2022-05-09", status=2).output
    assert db_digest(home) == before


# -- evidence files ----------------------------------------------------------------------------------


def _evidence_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "空.pdf"
    empty.write_bytes(b"")
    link = tmp_path / "x.pdf"
    link.symlink_to("/etc/passwd")
    folder = tmp_path / "材料"
    folder.mkdir()
    program = tmp_path / "验收报告.pdf"
    program.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    return {
        "empty": (empty, "佐证材料 空.pdf 是空文件（0字节）"),
        "symlink": (link, "佐证材料 x.pdf 是符号链接，请直接提交文件本身"),
        "folder": (folder, f"{folder} 是文件夹，请提交其中的文件"),
        "program named .pdf": (
            program,
            "佐证材料 验收报告.pdf 的类型（无法识别）不在允许范围内"
            "（可提交：pdf、jpg、png、doc、docx、xls、xlsx、txt）",
        ),
    }


@pytest.mark.parametrize("case", ["empty", "symlink", "folder", "program named .pdf"])
def test_evidence_that_is_not_a_plain_allowed_file_is_refused(
    case: str, imported: Cli, home: Path, tmp_path: Path
) -> None:
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-09")
    path, expected = _evidence_cases(tmp_path)[case]
    before = db_digest(home)
    args = ("--by", "城关街道", "--note", "已完成", "--evidence", path, "--as-of", "2022-05-10")
    assert expected in imported("item", "transition", "PT2022-0001", "--to", "close_requested", *args, status=2).output
    assert db_digest(home) == before
    assert not (home / "evidence").exists() or not any((home / "evidence").rglob("*.*"))


def test_evidence_is_kept_by_its_digest_whatever_its_name(imported: Cli, home: Path, tmp_path: Path) -> None:
    long_name = tmp_path / ("验" * 80 + ".txt")  # 80 characters of 3 bytes: 244 bytes, a legal name
    long_name.write_bytes(EVIDENCE.read_bytes())
    pdf = tmp_path / "竣工验收报告.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-09")
    args = ("--by", "城关街道", "--note", "已完成", "--evidence", long_name, "--evidence", pdf, "--as-of", "2022-05-10")
    imported("item", "transition", "PT2022-0001", "--to", "close_requested", *args)
    folder = home / "evidence" / "PT2022-0001"
    stored = sorted(re.sub(r"^[0-9a-f]{16}", "HASH", p.relative_to(folder).as_posix()) for p in folder.rglob("*.*"))
    assert stored == ["HASH.pdf", "HASH.txt"]
    assert long_name.name in imported("item", "show", "PT2022-0001").output


def test_evidence_over_the_plans_size_is_refused(initialised: Cli, home: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    data["evidence"] = {"max_bytes": 100, "types": ["txt"]}
    small = tmp_path / "plan.yaml"
    small.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    initialised("init", "--plan", small, "--as-of", "2022-04-01")
    initialised("ledger", "import", SAMPLE, "--as-of", "2022-04-08")
    initialised("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-09")
    size = EVIDENCE.stat().st_size
    args = ("--by", "城关街道", "--note", "已完成", "--evidence", EVIDENCE, "--as-of", "2022-05-10")
    out = initialised("item", "transition", "PT2022-0001", "--to", "close_requested", *args, status=2).output
    assert f"佐证材料 {EVIDENCE.name} 过大（{size / 1024 / 1024:.1f}MB，最多0.0MB）" in out


# -- paths ---------------------------------------------------------------------------------------------


def test_paths_under_duban_home_stay_there(tmp_path: Path) -> None:
    for parts in (("..", "x"), ("a/../../b",), ("/etc",), ("",), ("x" * 256,)):
        with pytest.raises(PathRefused):
            under(tmp_path, *parts)
    (tmp_path / "out").symlink_to("/etc")
    with pytest.raises(PathRefused):
        under(tmp_path, "out", "passwd")
    assert under(tmp_path, "PT2022-0001", "ab.pdf") == tmp_path / "PT2022-0001" / "ab.pdf"


def test_output_paths_are_checked(imported: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "导出"
    folder.mkdir()
    assert f"{folder} 是一个文件夹，请给出要写入的文件名" in imported("ledger", "export", folder, status=2).output
    blocker = tmp_path / "说明.txt"
    blocker.write_text("x", encoding="utf-8")
    out = imported("ledger", "export", blocker / "台账.xlsx", status=2).output
    assert f"无法写入 {blocker / '台账.xlsx'}：{blocker} 是文件，不是文件夹" in out
    out = imported("bulletin", "--period", "2022-05", "--as-of", "2022-05-31", "--out", blocker, status=2).output
    assert f"{blocker} 是文件，不是文件夹：--out 须给出文件夹" in out
    out = imported("ledger", "export", tmp_path / "别处" / "台账.txt", status=2).output
    assert "只能写出 .xlsx 或 .csv 文件：台账.txt" in out and not (tmp_path / "别处").exists()
    imported("ledger", "export", tmp_path / "新建" / "子目录" / "台账.xlsx")
    assert (tmp_path / "新建" / "子目录" / "台账.xlsx").is_file()


# -- the plan ------------------------------------------------------------------------------------------

KEY = "693a91f6-7b3e-4b6b-9f4e-8c2d1e0a5b7c"


@pytest.mark.parametrize(
    ("where", "value", "said"),
    [
        ("name", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}", "含有企业微信机器人的网址"),
        ("role", f"机器人 {KEY}", "含有疑似密钥的字符串"),
        ("key_env", KEY, "含有疑似密钥的字符串"),
        ("key_env", "ABCDEF0123456789ABCDEF01", "含有疑似密钥的字符串"),
        ("to", "mailto://ptb:secret@smtp.xxq.gov.cn", "含有带密码的网址"),
        ("role", "专班\x1b[31m联络员", "含有不可见的控制字符（U+001B）"),
    ],
)
def test_plan_with_a_secret_anywhere_is_refused(
    where: str, value: str, said: str, cli: Cli, home: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    contact = {"name": "联络员", "role": "", "channels": [{"type": "wecom", "key_env": "DUBAN_WECOM_CG"}]}
    if where == "to":
        contact["channels"] = [{"type": "email", "to": value}]
        key = "chain.townships[0].contacts[0].channels[0].to"
    elif where == "key_env":
        contact["channels"][0]["key_env"] = value
        key = "chain.townships[0].contacts[0].channels[0].key_env"
    else:
        contact[where] = value
        key = f"chain.townships[0].contacts[0].{where}"
    data["chain"]["townships"][0]["contacts"] = [contact]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = cli("init", "--plan", path, status=2).output
    assert f"{key}：{said}" in out
    assert value not in out  # the secret is named by its place, never repeated
    assert not (home / "duban.db").exists()


# -- a month of the machinery with the hostile row in it ---------------------------------------------


def test_a_month_with_a_hostile_row_runs_as_without_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every unit's reminders, escalations, bulletin and dispatch happen as they do without the row."""
    import sqlite3

    outcomes = []
    for name, extra in (("plain", []), ("hostile", [HOSTILE])):
        home = tmp_path / name
        monkeypatch.setenv("DUBAN_HOME", str(home))
        cli("init", "--plan", PLAN, "--as-of", "2022-04-01")
        cli("ledger", "import", write_csv(tmp_path / f"{name}.csv", _sample_rows() + extra), "--as-of", "2022-04-08")
        cli("replay", "--from", "2022-05-01", "--to", "2022-05-31")
        with sqlite3.connect(home / "duban.db") as db:
            messages = Counter(db.execute("select recipient, kind, status from outbox").fetchall())
            escalations = Counter(db.execute("select unit, level from escalation").fetchall())
            bulletins = db.execute("select kind, number, issue from bulletin").fetchall()
        outcomes.append((messages, escalations, bulletins, sorted(os.listdir(home / "outbox"))))
    assert outcomes[0] == outcomes[1]
    assert sum(outcomes[0][0].values()) > 0 and outcomes[0][2]


def test_console_shows_markup_and_escapes_literally(imported: Cli) -> None:
    out = imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "[/x][bold]", status=2).output
    assert "未知单位“[/x][bold]”：不在实施方案的组织体系中" in out
    imported("item", "transition", "PT2022-0001", "--to", "in_progress", "--by", "城关街道", "--as-of", "2022-05-09")
    note = "[red]退回[/red] [/x] [link=http://evil.example]点此[/link]"
    args = ("--by", "城关街道", "--note", note, "--evidence", EVIDENCE, "--as-of", "2022-05-10")
    imported("item", "transition", "PT2022-0001", "--to", "close_requested", *args)
    assert note in imported("item", "show", "PT2022-0001").output


def test_control_characters_stored_before_the_gate_are_written_escaped(
    imported: Cli, home: Path, tmp_path: Path
) -> None:
    """Data filed before duban refused control characters: workbooks show them escaped and read back alike."""
    import sqlite3

    with sqlite3.connect(home / "duban.db") as db:
        db.execute("update ledger_item set community = ? where code = 'PT2022-0001'", ("幸福\x01里\x1b社区",))
    imported("ledger", "export", tmp_path / "导出.xlsx")
    rows = {r[0]: r for r in load_workbook(tmp_path / "导出.xlsx").active.iter_rows(values_only=True)}
    assert rows["PT2022-0001"][2] == "幸福\\x01里\\x1b社区"
    imported("tick", "--as-of", "2022-05-01")
    form = tmp_path / "城关街道.xlsx"
    imported("report", "form", "--unit", "城关街道", "--period", "2022-05", form)
    codes = [r[0].value for r in load_workbook(form)["填报"].iter_rows(min_row=3) if r[0].value]
    fill_form(form, {code: {"整改进度（%）": 0, "工作状态": "未开工"} for code in codes})
    said = imported("report", "submit", form, "--unit", "城关街道", "--period", "2022-05", "--as-of", "2022-05-05")
    assert "城关街道2022-05报表已报送：第1版，2022-05-05" in said.output
    assert "幸福\\x01里\\x1b社区" in imported("item", "show", "PT2022-0001").output
    with sqlite3.connect(home / "duban.db") as db:
        db.execute("update ledger_item set description = ? where code = 'PT2022-0001'", ("用房\u202e被占\x9b",))
    raw = imported("item", "show", "PT2022-0001", "--json").output
    assert "\u202e" not in raw and "\x9b" not in raw and "\\u202e" in raw
    assert json.loads(raw)["description"] == "用房\u202e被占\x9b"


def test_drawing_charts_says_nothing_on_the_console(imported: Cli, home: Path) -> None:
    import subprocess
    import sys

    duban = Path(sys.executable).parent / "duban"
    env = {**os.environ, "DUBAN_HOME": str(home)}
    result = subprocess.run(
        [duban, "bulletin", "--period", "2022-05", "--as-of", "2022-05-31"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "findfont" not in result.stderr + result.stdout
    assert result.stderr.startswith("已印发关于2022年5月")


def test_serve_refuses_a_host_that_is_not_an_address(initialised: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    for host in ("../", "[/x]"):
        out = initialised("serve", "--host", host, "--port", "4399", status=2).output
        assert f"“{host}”不是本机可用的地址，请用 --host 给出本机地址（如 127.0.0.1）" in out
