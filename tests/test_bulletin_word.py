"""The Word rendering of a bulletin: GB/T 9704-2012 page, fonts and parts, and text kept literal."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from docx import Document as open_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from duban.bulletin.document import Annex, BulletinError, Chart, Document, Heading, Paragraph, Table
from duban.bulletin.word import write_docx

HOSTILE = r"请注意<script>alert(1)</script>与{ DDEAUTO c:\windows\system32\cmd.exe }及{ MERGEFIELD x }原样保留。"
MARK = "XX区社区配套设施规划建设管理工作领导小组办公室文件"
PRINTED = "XX区社区配套设施规划建设管理工作领导小组办公室        2022年10月12日印发"


def _png(path: Path, width: int = 320, height: int = 160) -> Path:
    """A plain PNG written by hand: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((40, 90, 160)) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")
    )
    return path


def _document(chart: Path, **changes) -> Document:
    fields = dict(
        issuer_mark=MARK,
        doc_number="X区配套办〔2022〕3号",
        issue_label="第3期",
        title="关于2022年9月社区配套设施整治工作进展情况的通报",
        addressees="各镇人民政府、街道办事处，区直有关部门",
        blocks=(
            Paragraph("为加快推进社区配套设施整治工作，现将进展情况通报如下。"),
            Heading(1, "一、总体进展情况"),
            Paragraph(HOSTILE),
            Heading(2, "（一）镇办排名"),
            Table(
                title="表1  各镇办整治完成情况",
                header=("排名", "单位", "完成率"),
                rows=(("1", "甲镇", "95.0%"), ("2", "乙街道<b>", "{ PAGE }")),
            ),
            Heading(3, "1.进度报送"),
            Heading(4, "（1）逾期情况"),
            Chart(path=chart, caption="图1  各镇办整治完成率"),
            Paragraph("以上情况，请各单位认真对照整改。"),
        ),
        signature="XX区社区配套设施规划建设管理工作领导小组办公室",
        date_text="2022年10月12日",
        cc="区委办公室，区人大常委会办公室，区政府办公室。",
        printed_by=PRINTED,
        fonts={},
    )
    fields.update(changes)
    return Document(**fields)


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return _png(tmp_path / "chart.png")


@pytest.fixture
def written(tmp_path: Path, chart: Path) -> Path:
    return write_docx(_document(chart), tmp_path / "通报.docx")


def _content(docx) -> list[DocxParagraph | DocxTable]:
    return list(docx.iter_inner_content())


def _paragraph(docx, text: str) -> DocxParagraph:
    found = [p for p in docx.paragraphs if text in p.text]
    assert found, f"no paragraph with {text!r}"
    return found[0]


def _exactly(docx, text: str) -> DocxParagraph:
    (found,) = [p for p in docx.paragraphs if p.text == text]
    return found


def _after(docx, paragraph: DocxParagraph) -> DocxParagraph:
    elements = [p._p for p in docx.paragraphs]
    return docx.paragraphs[elements.index(paragraph._p) + 1]


def _position(docx, paragraph: DocxParagraph) -> int:
    return [p._p for p in docx.paragraphs].index(paragraph._p)


def _east_asia(run) -> str | None:
    fonts = run._r.rPr.find(qn("w:rFonts")) if run._r.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def _xml(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(member).decode("utf-8")


def test_returns_the_path_and_writes_no_stray_files(tmp_path: Path, chart: Path) -> None:
    out = tmp_path / "通报.docx"
    assert write_docx(_document(chart), out) == out
    assert zipfile.is_zipfile(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png", "通报.docx"]
    # writing again replaces the file
    assert write_docx(_document(chart, title="第二版"), out) == out
    assert "第二版" in [p.text for p in open_docx(str(out)).paragraphs]


def test_page_is_a4_with_the_standard_margins(written: Path) -> None:
    section = open_docx(str(written)).sections[0]
    close = Mm(0.1)
    for actual, expected in (
        (section.page_width, Mm(210)),
        (section.page_height, Mm(297)),
        (section.top_margin, Mm(37)),
        (section.bottom_margin, Mm(35)),
        (section.left_margin, Mm(28)),
        (section.right_margin, Mm(26)),
    ):
        assert abs(actual - expected) < close
    text_width = Emu(section.page_width - section.left_margin - section.right_margin)
    text_height = Emu(section.page_height - section.top_margin - section.bottom_margin)
    assert abs(text_width - Mm(156)) < close and abs(text_height - Mm(225)) < close
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    # 28 characters of 16 pt a line on the character grid, 22 lines a page
    pitch = 16 + int(grid.get(qn("w:charSpace"))) / 4096
    assert int(text_width.pt / pitch) == 28
    assert int(text_height.pt / (int(grid.get(qn("w:linePitch"))) / 20)) == 22


def test_parts_come_in_order(written: Path) -> None:
    docx = open_docx(str(written))
    texts = []
    for item in _content(docx):
        if isinstance(item, DocxTable):
            texts.append(" | ".join(c.text for row in item.rows for c in row.cells))
        else:
            texts.append(item.text)
    expected = [
        MARK,
        "第3期",
        "X区配套办〔2022〕3号",
        "关于2022年9月社区配套设施整治工作进展情况的通报",
        "各镇人民政府、街道办事处，区直有关部门：",
        "为加快推进社区配套设施整治工作",
        "一、总体进展情况",
        "<script>alert(1)</script>",
        "（一）镇办排名",
        "表1  各镇办整治完成情况",
        "排名 | 单位 | 完成率 | 1 | 甲镇 | 95.0% | 2 | 乙街道<b> | { PAGE }",
        "1.进度报送",
        "（1）逾期情况",
        "图1  各镇办整治完成率",
        "以上情况，请各单位认真对照整改。",
        "XX区社区配套设施规划建设管理工作领导小组办公室",
        "2022年10月12日",
        "抄送：区委办公室，区人大常委会办公室，区政府办公室。",
        "2022年10月12日印发",
    ]
    at = 0
    for want in expected:
        while at < len(texts) and want not in texts[at]:
            at += 1
        assert at < len(texts), f"{want!r} missing or out of order"
        at += 1


def test_header_part(written: Path) -> None:
    docx = open_docx(str(written))
    mark = _paragraph(docx, MARK)
    assert mark.alignment == WD_ALIGN_PARAGRAPH.CENTER
    (run,) = mark.runs
    assert run.font.color.rgb in (RGBColor(0xC0, 0, 0), RGBColor(0xFF, 0, 0))
    assert run.font.bold
    assert _east_asia(run) == "方正小标宋简体"
    assert Pt(26) <= run.font.size <= Pt(32)
    # a long mark is condensed to fit the 156 mm text width
    scale = run._r.rPr.find(qn("w:w"))
    factor = 1 if scale is None else int(scale.get(qn("w:val"))) / 100
    assert len(MARK) * run.font.size.pt * factor <= Mm(156).pt

    number = _paragraph(docx, "X区配套办〔2022〕3号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert number.runs[0].font.size == Pt(16) and _east_asia(number.runs[0]) == "仿宋_GB2312"
    assert _paragraph(docx, "第3期").alignment == WD_ALIGN_PARAGRAPH.CENTER

    # the red rule: a red bottom border on a paragraph between the number and the title
    rule = _after(docx, number)
    assert rule.text == ""
    bottom = rule._p.pPr.find(f"{qn('w:pBdr')}/{qn('w:bottom')}")
    assert bottom.get(qn("w:color")).upper() in ("FF0000", "C00000")
    assert 12 <= int(bottom.get(qn("w:sz"))) <= 16  # eighths of a point: 1.5-2 pt
    assert rule.paragraph_format.left_indent in (None, 0) and rule.paragraph_format.right_indent in (None, 0)

    title = _paragraph(docx, "关于2022年9月")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22) and _east_asia(title.runs[0]) == "方正小标宋简体"
    assert _after(docx, title).text == ""

    addressees = _paragraph(docx, "各镇人民政府")
    assert addressees.text.endswith("：")
    assert addressees.paragraph_format.first_line_indent in (None, 0)


def test_body_and_headings(written: Path) -> None:
    docx = open_docx(str(written))
    body = _paragraph(docx, "为加快推进")
    fmt = body.paragraph_format
    assert body.runs[0].font.size == Pt(16)
    assert _east_asia(body.runs[0]) == "仿宋_GB2312"
    assert fmt.first_line_indent == Pt(32)
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY and Pt(28) <= fmt.line_spacing <= Pt(29)

    for text, font, bold in (
        ("一、总体进展情况", "黑体", False),
        ("（一）镇办排名", "楷体_GB2312", False),
        ("1.进度报送", "仿宋_GB2312", True),
        ("（1）逾期情况", "仿宋_GB2312", True),
    ):
        heading = _paragraph(docx, text)
        (run,) = heading.runs
        assert _east_asia(run) == font, text
        assert bool(run.font.bold) is bold, text
        assert run.font.size == Pt(16)
        assert heading.paragraph_format.first_line_indent == Pt(32)
        assert heading.paragraph_format.keep_with_next

    normal = docx.styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert normal.font.size == Pt(16)


def test_every_run_names_its_east_asian_font(written: Path) -> None:
    docx = open_docx(str(written))
    parts = (
        [docx.element.body] + [s.footer._element for s in docx.sections] + [docx.sections[0].even_page_footer._element]
    )
    runs = [r for part in parts for r in part.iter(qn("w:r"))]
    assert len(runs) > 30
    for r in runs:
        fonts = r.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert fonts is not None, r.xml
        for attr in ("eastAsia", "ascii", "hAnsi"):
            assert fonts.get(qn(f"w:{attr}")), r.xml


def test_fonts_can_be_renamed(tmp_path: Path, chart: Path) -> None:
    fonts = {"title": "华文中宋", "body": "仿宋", "heading1": "方正黑体_GBK", "heading2": "楷体"}
    docx = open_docx(str(write_docx(_document(chart, fonts=fonts), tmp_path / "x.docx")))
    assert _east_asia(_paragraph(docx, MARK).runs[0]) == "华文中宋"
    assert _east_asia(_paragraph(docx, "关于2022年9月").runs[0]) == "华文中宋"
    assert _east_asia(_paragraph(docx, "为加快推进").runs[0]) == "仿宋"
    assert _east_asia(_paragraph(docx, "一、总体进展情况").runs[0]) == "方正黑体_GBK"
    assert _east_asia(_paragraph(docx, "（一）镇办排名").runs[0]) == "楷体"
    assert docx.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"


def test_table(written: Path) -> None:
    docx = open_docx(str(written))
    title = _paragraph(docx, "表1  各镇办整治完成情况")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].font.bold
    (table,) = docx.tables
    assert table.style.name == "Table Grid"
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["排名", "单位", "完成率"],
        ["1", "甲镇", "95.0%"],
        ["2", "乙街道<b>", "{ PAGE }"],
    ]
    for r, row in enumerate(table.rows):
        for cell in row.cells:
            p = cell.paragraphs[0]
            assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
            (run,) = p.runs
            assert Pt(10.5) <= run.font.size <= Pt(12)
            assert _east_asia(run) == "仿宋_GB2312"
            assert bool(run.font.bold) is (r == 0)
    assert abs(sum(col.width for col in table.columns) - Mm(156)) < Mm(0.1)
    width = table._tbl.tblPr.find(qn("w:tblW"))
    assert (width.get(qn("w:type")), int(width.get(qn("w:w")))) == ("dxa", 8845)


def test_columns_leave_dates_and_short_values_unbroken(tmp_path: Path, chart: Path) -> None:
    header = ("时间节点", "完成时限", "责任单位", "状态", "说明")
    rows = (
        (
            "全面排查摸底，建立问题台账并报区领导小组办公室备案",
            "2022-04-08",
            "教体局、民政局、商务局、卫健局",
            "已完成",
            "已完成",
        ),
        ("制定规划及供地联合审查机制", "2022-06-30", "自然资分局", "已逾期", "以牵头部门报告为准"),
    )
    docx = open_docx(str(write_docx(_document(chart, blocks=(Table("表7", header, rows),)), tmp_path / "x.docx")))
    (table,) = docx.tables
    widths = [col.width.pt for col in table.columns]
    assert abs(sum(widths) - Mm(156).pt) < 0.5
    cell_margins = 2 * 5.4
    assert widths[1] >= 5 * 12 + cell_margins  # "2022-06-30" on one line
    assert widths[3] >= 3 * 12 + cell_margins  # "已完成" on one line
    assert widths[0] > widths[3] and widths[2] > widths[3]  # long text takes the rest


def test_ragged_and_empty_tables(tmp_path: Path, chart: Path) -> None:
    blocks = (Table("不齐", ("a", "b"), (("1",), ("1", "2", "3"))), Table("", (), ()))
    docx = open_docx(str(write_docx(_document(chart, blocks=blocks), tmp_path / "x.docx")))
    (table,) = docx.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [["a", "b", ""], ["1", "", ""], ["1", "2", "3"]]


def test_chart(written: Path) -> None:
    docx = open_docx(str(written))
    (picture,) = docx.inline_shapes
    assert abs(picture.width - Mm(156)) < Mm(0.1)
    assert abs(picture.height - picture.width // 2) < Mm(0.1)  # 320 x 160 px keeps its proportions
    holder = next(p for p in docx.paragraphs if p._p.xpath(".//w:drawing"))
    assert holder.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert holder.paragraph_format.first_line_indent in (None, 0)
    assert holder.paragraph_format.line_spacing_rule != WD_LINE_SPACING.EXACTLY  # an exact line would clip it
    caption = _after(docx, holder)
    assert caption.text == "图1  各镇办整治完成率" and caption.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_a_tall_chart_fits_the_page(tmp_path: Path) -> None:
    tall = _png(tmp_path / "tall.png", width=40, height=400)
    docx = open_docx(str(write_docx(_document(tall), tmp_path / "x.docx")))
    (picture,) = docx.inline_shapes
    assert picture.height < Mm(225) and picture.width < Mm(156)
    assert abs(picture.height / picture.width - 10) < 0.01


def test_closing_and_colophon(written: Path) -> None:
    docx = open_docx(str(written))
    signature = _exactly(docx, "XX区社区配套设施规划建设管理工作领导小组办公室")
    assert signature.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert signature.paragraph_format.right_indent == Pt(64)
    date = _after(docx, signature)
    assert date.text == "2022年10月12日" and date.alignment == WD_ALIGN_PARAGRAPH.RIGHT

    cc = _paragraph(docx, "抄送：")
    printed = _paragraph(docx, "印发")
    assert _position(docx, date) < _position(docx, cc) < _position(docx, printed)
    assert cc.text == "抄送：区委办公室，区人大常委会办公室，区政府办公室。"
    # issuer one character in on the left, date one character in on the right
    assert printed.text == "XX区社区配套设施规划建设管理工作领导小组办公室\t2022年10月12日印发"
    (tab,) = printed.paragraph_format.tab_stops
    assert abs(tab.position - (Mm(156) - Pt(14))) < Mm(0.1)
    for p in (cc, printed):
        assert all(r.font.size == Pt(14) and _east_asia(r) == "仿宋_GB2312" for r in p.runs)
        # framed at the foot of the last page's text block
        frame = p._p.pPr.find(qn("w:framePr"))
        assert frame.get(qn("w:yAlign")) == "bottom" and frame.get(qn("w:vAnchor")) == "margin"

    def rule(p: DocxParagraph, side: str) -> tuple[str, str] | None:
        edge = p._p.pPr.find(f"{qn('w:pBdr')}/{qn(f'w:{side}')}")
        return None if edge is None else (edge.get(qn("w:val")), edge.get(qn("w:color")))

    assert rule(cc, "top") == ("single", "000000")
    assert rule(cc, "bottom") == ("single", "000000")
    assert rule(printed, "bottom") == ("single", "000000")


def _annexes(*names: str) -> tuple[Annex, ...]:
    several = len(names) > 1
    return tuple(
        Annex(f"附件{n}" if several else "附件", name, ("问题编号",), (("X-1",),)) for n, name in enumerate(names, 1)
    )


def test_annex_note_per_gbt_9704_7_3_4(tmp_path: Path, chart: Path) -> None:
    """Below the body one blank line, two characters in: "附件：" and the names, numbered when several, no
    punctuation after them; a wrapped name lines up with the first character of the name above."""
    long_name = "城镇居住区幼儿园、社区用房专项整治未销号问题清单"
    document = _document(chart, annexes=_annexes("逾期未完成整改问题清单", long_name))
    docx = open_docx(str(write_docx(document, tmp_path / "x.docx")))
    first = _exactly(docx, "附件：1.逾期未完成整改问题清单")
    second = _after(docx, first)
    assert second.text == "2." + long_name
    before = docx.paragraphs[_position(docx, first) - 1]
    assert before.text == "" and docx.paragraphs[_position(docx, first) - 2].text == "以上情况，请各单位认真对照整改。"
    assert _after(docx, second).text == "" and _after(docx, _after(docx, second)).text == document.signature
    # first line two characters in ("附件：1." hangs 4 characters before the name); "2." under "1."
    for p, hanging in ((first, 4), (second, 1)):
        fmt = p.paragraph_format
        assert (fmt.left_indent, fmt.first_line_indent) == (Pt(16 * 6), -Pt(16 * hanging))
        ind = p._p.pPr.find(qn("w:ind"))
        assert (ind.get(qn("w:leftChars")), ind.get(qn("w:hangingChars"))) == ("600", str(hanging * 100))
        assert p.runs[0].font.size == Pt(16) and _east_asia(p.runs[0]) == "仿宋_GB2312"
        assert fmt.alignment in (None, WD_ALIGN_PARAGRAPH.LEFT)

    one = open_docx(str(write_docx(_document(chart, annexes=_annexes("逾期未完成整改问题清单")), tmp_path / "y.docx")))
    only = _exactly(one, "附件：逾期未完成整改问题清单")
    assert (only.paragraph_format.left_indent, only.paragraph_format.first_line_indent) == (Pt(16 * 5), -Pt(16 * 3))
    none = open_docx(str(write_docx(_document(chart), tmp_path / "z.docx")))
    assert not [p for p in none.paragraphs if p.text.startswith("附件")]


def test_colophon_without_cc(tmp_path: Path, chart: Path) -> None:
    docx = open_docx(str(write_docx(_document(chart, cc=""), tmp_path / "x.docx")))
    assert not [p for p in docx.paragraphs if "抄送" in p.text]
    printed = _paragraph(docx, "印发")
    for side in ("top", "bottom"):
        assert printed._p.pPr.find(f"{qn('w:pBdr')}/{qn(f'w:{side}')}") is not None


def test_page_numbers_in_the_footer(written: Path) -> None:
    docx = open_docx(str(written))
    assert docx.settings.odd_and_even_pages_header_footer
    section = docx.sections[0]
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        (p,) = footer.paragraphs
        assert p.alignment == align
        assert p.text == "— 1 —"
        assert [t.text for t in p._p.iter(qn("w:instrText"))] == [" PAGE "]
        assert all(r.font.size == Pt(14) for r in p.runs)


def test_text_stays_literal_and_the_only_field_is_the_page_number(written: Path) -> None:
    docx = open_docx(str(written))
    assert HOSTILE in [p.text for p in docx.paragraphs]
    body = _xml(written, "word/document.xml")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    for marker in ("fldSimple", "instrText", "fldChar", "w:hyperlink"):
        assert marker not in body
    with zipfile.ZipFile(written) as z:
        others = [n for n in z.namelist() if n.startswith("word/") and n.endswith(".xml") and n != "word/document.xml"]
    instructions = []
    for name in others:
        xml = _xml(written, name)
        assert "fldSimple" not in xml, name
        found = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", xml)
        assert not found or name.startswith("word/footer"), name
        instructions += found
    assert instructions and {i.strip() for i in instructions} == {"PAGE"}


def test_characters_xml_cannot_hold_are_dropped(tmp_path: Path, chart: Path) -> None:
    blocks = (Paragraph("甲\x00乙\x0b丙\x1f丁"),)
    docx = open_docx(str(write_docx(_document(chart, blocks=blocks), tmp_path / "x.docx")))
    assert "甲乙丙丁" in [p.text for p in docx.paragraphs]


def test_unknown_heading_level_is_refused(tmp_path: Path, chart: Path) -> None:
    with pytest.raises(BulletinError):
        write_docx(_document(chart, blocks=(Heading(5, "（一）a."),)), tmp_path / "x.docx")
    assert not list(tmp_path.glob("*.docx")) and not list(tmp_path.glob(".*.tmp"))


PPR = (  # noqa: SIM905
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
    "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
).split()
RPR = (  # noqa: SIM905
    "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
    "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
).split()


def test_property_elements_are_in_schema_order(written: Path) -> None:
    """Word declares a file corrupt when pPr/rPr children are out of the order ECMA-376 gives."""
    docx = open_docx(str(written))
    parts = [docx.element.body, docx.styles.element, docx.sections[0].footer._element]
    for part in parts:
        for tag, order in (("w:pPr", PPR), ("w:rPr", RPR)):
            for el in part.iter(qn(tag)):
                if el.getparent().tag == qn("w:rPrDefault"):
                    continue
                names = [c.tag.rsplit("}", 1)[1] for c in el]
                assert names == sorted(names, key=order.index), names
