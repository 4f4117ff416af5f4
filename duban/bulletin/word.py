"""The bulletin as a Word document laid out per GB/T 9704-2012 (党政机关公文格式).

python-docx has no API for much of what the standard asks (East Asian font names, the character grid of
28 characters a line, paragraph borders for the red rule and the 版记 rules, frames, fields, character
scaling), so those parts are written as WordprocessingML elements, each inserted where the schema
puts it: Word refuses a file whose property elements are out of order.

Text from the document is only ever inserted as run text, so `<script>` or `{ MERGEFIELD x }` stay
literal; the single field in the file is the PAGE field of the page-number footer.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import unicodedata
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

from docx import Document as new_docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Length, Mm, Pt, RGBColor, Twips
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from duban.bulletin.document import (
    Block,
    BulletinError,
    Chart,
    Document,
    Heading,
    Paragraph,
    Table,
    annex_lines,
    column_widths,
)

__all__ = ["write_docx"]

# -- the page: A4, margins of GB/T 9704-2012 5.2.1, text block 156 x 225 mm -----------------------
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
TEXT_WIDTH_TWIPS = 8845  # 156 mm as Word stores it: 11906 - 1587 - 1474 twips
TEXT_WIDTH = Twips(TEXT_WIDTH_TWIPS)
FOOTER_DISTANCE = Mm(26)  # puts the page number's 一字线 about 7 mm below the text block

# -- sizes (Chinese 字号) ------------------------------------------------------------------------------
SIZE_2 = Pt(22)  # 2号: title
SIZE_3 = Pt(16)  # 3号: body
SIZE_4 = Pt(14)  # 4号: 版记, page numbers
SIZE_TABLE = Pt(12)  # 小四: table cells
NO_SPACE = Pt(0)
MARK_MAX, MARK_MIN = 32.0, 26.0  # issuing-office mark, points (scaled horizontally below the minimum)

# 22 lines in the 225 mm text block: 28.95 pt (579 twips) a line, 22 x 579 = 12738 <= 12756 twips.
LINE_PITCH = Twips(579)
# 28 characters of 3号 a line: the character grid pitch is 16 pt plus charSpace/4096 pt (ECMA-376 17.6.5),
# 16 - 848/4096 = 15.793 pt, 28 x 15.793 = 442.2 pt <= 442.25 pt of text width.
CHAR_SPACE = math.floor((TEXT_WIDTH.pt / 28 - SIZE_3.pt) * 4096)

RED = RGBColor(0xFF, 0x00, 0x00)
BLACK = "000000"

DEFAULT_FONTS = {
    "title": "方正小标宋简体",
    "body": "仿宋_GB2312",
    "heading1": "黑体",
    "heading2": "楷体_GB2312",
    "page_number": "宋体",  # GB/T 9704-2012 7.5: 4号半角宋体阿拉伯数字
}

# Child order of property elements (ECMA-376 Part 1), for elements python-docx has no API for.
_PPR_ORDER = (  # noqa: SIM905
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
    "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
).split()
_RPR_ORDER = (  # noqa: SIM905
    "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
    "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
).split()
_TBLPR_ORDER = (  # noqa: SIM905
    "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
    "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription "
    "tblPrChange"
).split()
_TRPR_ORDER = (  # noqa: SIM905
    "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing jc "
    "hidden ins del trPrChange"
).split()

# Characters XML 1.0 cannot carry; python-docx (lxml) would refuse the whole document for one of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PRINTED_DATE = re.compile(r"^(?P<issuer>.*?)[\s\u3000]*(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发)$")
_GAP = re.compile(r"\t|[ \u3000]{2,}|\u3000")


def write_docx(document: Document, path: Path) -> Path:
    """Render `document` as a .docx at `path` (replaced atomically) and return the path."""
    path = Path(path)
    docx = _Writer(document).build()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        docx.save(str(tmp))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


class _Writer:
    def __init__(self, document: Document) -> None:
        self.src = document
        self.fonts = {**DEFAULT_FONTS, **{k: v for k, v in document.fonts.items() if v}}
        self.doc: DocxDocument = new_docx()

    def build(self) -> DocxDocument:
        self._page_setup()
        self._styles()
        self._footers()
        self._properties()
        self._head()
        for block in self.src.blocks:
            self._block(block)
        self._annex_note()
        self._closing()
        self._colophon()
        return self.doc

    # -- document-wide settings -----------------------------------------------------------------

    def _page_setup(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
        section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
        section.gutter = Emu(0)
        section.footer_distance = FOOTER_DISTANCE
        grid = section._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            section._sectPr.append(grid)
        grid.attrib.clear()
        grid.set(qn("w:type"), "linesAndChars")
        grid.set(qn("w:linePitch"), str(LINE_PITCH.twips))
        grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    def _styles(self) -> None:
        body = self.fonts["body"]
        styles = self.doc.styles
        # The template's docDefaults name theme fonts (which win over plain names) and an English East Asian
        # language: name the body font and zh-CN instead.
        for rpr in styles.element.iterfind(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"):
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is not None:
                fonts.attrib.clear()
                _name_fonts(fonts, body)
            for tag in ("w:sz", "w:szCs"):
                el = rpr.find(qn(tag))
                if el is not None:
                    el.set(qn("w:val"), str(int(SIZE_3.pt * 2)))
            lang = rpr.find(qn("w:lang"))
            if lang is not None:
                lang.set(qn("w:eastAsia"), "zh-CN")
        for spacing in styles.element.iterfind(
            f"{qn('w:docDefaults')}/{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}"
        ):
            spacing.attrib.clear()
            spacing.set(qn("w:after"), "0")
            spacing.set(qn("w:line"), "240")
            spacing.set(qn("w:lineRule"), "auto")

        normal = styles["Normal"]
        normal.font.name = body
        _name_fonts(normal.element.rPr.rFonts, body)
        normal.font.size = SIZE_3
        _set(normal.element.rPr, "w:lang", _RPR_ORDER, val="en-US", eastAsia="zh-CN")
        fmt = normal.paragraph_format
        fmt.line_spacing = LINE_PITCH
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = False  # keep every page at 22 lines

        settings = self.doc.settings
        settings.odd_and_even_pages_header_footer = True
        lang = settings.element.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")

    def _footers(self) -> None:
        """Page numbers `— 1 —` (GB/T 9704-2012 7.5): odd pages right, even pages left, one character in."""
        section = self.doc.sections[0]
        for footer, align in (
            (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
            (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
            p.style = self.doc.styles["Normal"]
            fmt = p.paragraph_format
            fmt.alignment = align
            fmt.line_spacing = 1.0
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                fmt.right_indent = SIZE_4
            else:
                fmt.left_indent = SIZE_4
            _set(p._p.get_or_add_pPr(), "w:snapToGrid", _PPR_ORDER, val="0")
            font = self.fonts["page_number"]
            self._run(p, "— ", font=font, size=SIZE_4, grid=False)
            for kind in ("begin", None, "separate", "1", "end"):
                run = self._run(p, "", font=font, size=SIZE_4, grid=False)
                if kind is None:
                    instr = OxmlElement("w:instrText")
                    instr.set(qn("xml:space"), "preserve")
                    instr.text = " PAGE "
                    run._r.append(instr)
                elif kind == "1":
                    run.text = "1"
                else:
                    fld = OxmlElement("w:fldChar")
                    fld.set(qn("w:fldCharType"), kind)
                    run._r.append(fld)
            self._run(p, " —", font=font, size=SIZE_4, grid=False)

    def _properties(self) -> None:
        props = self.doc.core_properties
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        props.title = _clean(self.src.title)
        props.subject = _clean(self.src.doc_number)
        props.author = props.last_modified_by = _clean(self.src.signature)
        props.comments = props.keywords = props.category = ""
        props.created = props.modified = now
        props.revision = 1

    # -- parts of the document ---------------------------------------------------------------------

    def _head(self) -> None:
        """版头 (red mark, issue label and number, red rule), then title and 主送."""
        src = self.src
        mark = _clean(src.issuer_mark).strip()
        if mark:
            ems = _ems(mark)
            room = TEXT_WIDTH.pt * 0.96  # leave room for glyphs a little wider than their nominal em
            size = min(MARK_MAX, max(MARK_MIN, math.floor(room / ems * 2) / 2))
            scale = min(100, math.floor(room / (ems * size) * 100))
            p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line=None, grid=False)
            self._run(p, mark, font=self.fonts["title"], size=Pt(size), bold=True, color=RED, scale=scale, grid=False)
        # The number goes two lines below the mark (7.2.4); the issue label takes the first of them.
        label = _clean(src.issue_label).strip()
        self._blank()
        if label:
            self._line(label, align=WD_ALIGN_PARAGRAPH.CENTER)
        else:
            self._blank()
        if src.doc_number.strip():
            self._line(src.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
        # Red rule as wide as the text block, about 4 mm under the number (7.2.5).
        rule = self._paragraph(line=Pt(6), grid=False)
        _border(rule, "bottom", size_eighths=12, color=str(RED))
        # Title two lines below the rule (7.3.1), 主送 one line below the title (7.3.2).
        self._blank()
        self._blank()
        title = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        self._run(title, src.title, font=self.fonts["title"], size=SIZE_2, grid=False)
        self._blank()
        if src.addressees.strip():
            self._line(src.addressees + "：")

    def _block(self, block: Block) -> None:
        match block:
            case Heading(level=level, text=text):
                self._heading(level, text)
            case Paragraph(text=text):
                self._line(text, indent_chars=2)
            case Table():
                self._table(block)
            case Chart():
                self._chart(block)
            case _:
                raise TypeError(f"not a bulletin block: {block!r}")

    def _heading(self, level: int, text: str) -> None:
        if level == 1:
            font, bold = self.fonts["heading1"], False
        elif level == 2:
            font, bold = self.fonts["heading2"], False
        elif level in (3, 4):
            font, bold = self.fonts["body"], True
        else:
            raise BulletinError(f"标题层级只能是 1-4，收到 {level}")
        p = self._paragraph(indent_chars=2, keep_with_next=True)
        _set(p._p.get_or_add_pPr(), "w:outlineLvl", _PPR_ORDER, val=str(level - 1))  # navigation pane
        self._run(p, text, font=font, size=SIZE_3, bold=bold)

    def _table(self, block: Table) -> None:
        if block.title.strip():
            p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=True)
            self._run(p, block.title, font=self.fonts["body"], size=SIZE_3, bold=True)
        header = [str(c) for c in block.header]
        rows = [[str(c) for c in row] for row in block.rows]
        ncols = max([len(header), *(len(r) for r in rows)], default=0)
        if ncols == 0:
            return
        all_rows = ([header] if header else []) + rows
        all_rows = [r + [""] * (ncols - len(r)) for r in all_rows]
        # One row of each kind (the header, a body row) is laid out through python-docx; every other row is a
        # copy of its kind's row with its own text: the same XML, at a tenth of the cost for a long table.
        kinds = [bool(header) and r == 0 for r in range(len(all_rows))]
        first = {kind: kinds.index(kind) for kind in set(kinds)}
        table: DocxTable = self.doc.add_table(rows=len(first), cols=ncols)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        _set(tbl_pr, "w:tblW", _TBLPR_ORDER, w=str(TEXT_WIDTH_TWIPS), type="dxa")
        _set(tbl_pr, "w:tblInd", _TBLPR_ORDER, w="0", type="dxa")
        widths = _column_widths(all_rows, ncols)
        for col, width in zip(table.columns, widths, strict=True):
            col.width = Twips(width)
        laid_out = {}
        for row, is_header in zip(table.rows, sorted(first, key=first.get), strict=True):
            tr_pr = row._tr.get_or_add_trPr()
            _set(tr_pr, "w:cantSplit", _TRPR_ORDER)
            if is_header:
                _set(tr_pr, "w:tblHeader", _TRPR_ORDER)  # repeat the header row on each page
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Twips(width)
                cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
                p = cell.paragraphs[0]
                _format(p, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, grid=False, space=Pt(2))
                self._run(p, "", font=self.fonts["body"], size=SIZE_TABLE, bold=is_header, grid=False)
            laid_out[is_header] = row._tr
        for tr in laid_out.values():
            table._tbl.remove(tr)
        for is_header, values in zip(kinds, all_rows, strict=True):
            tr = deepcopy(laid_out[is_header])
            for run, value in zip(tr.iter(qn("w:r")), values, strict=True):
                run.text = _clean(value)
            table._tbl.append(tr)

    def _chart(self, block: Chart) -> None:
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line=None, grid=False, keep_with_next=True)
        run = self._run(p, "", font=self.fonts["body"], size=SIZE_3)
        picture = run.add_picture(str(block.path), width=TEXT_WIDTH)
        tallest = Mm(225) - 3 * LINE_PITCH  # the picture and its caption fit on one page
        if picture.height > tallest:
            picture.width = Emu(round(picture.width * tallest / picture.height))
            picture.height = tallest
        doc_pr = picture._inline.docPr
        doc_pr.set("descr", _clean(block.caption))  # alternative text
        if block.caption.strip():
            caption = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
            self._run(caption, block.caption, font=self.fonts["body"], size=SIZE_3)

    def _annex_note(self) -> None:
        """附件说明 (7.3.4): one line below the body, two characters in; a wrapped name lines up with the
        first character of the name above it, so the indents are whole grid cells."""
        lines = annex_lines(self.src.annexes)
        if not lines:
            return
        self._blank()
        for line in lines:
            p = self._line(line.text)
            _format(p, left=Emu(round(SIZE_3 * line.left)), first_line=Emu(-round(SIZE_3 * line.hanging)))
            ind = p._p.get_or_add_pPr().get_or_add_ind()
            ind.set(qn("w:leftChars"), str(round(line.left * 100)))
            ind.set(qn("w:hangingChars"), str(round(line.hanging * 100)))

    def _closing(self) -> None:
        """发文机关署名 and 成文日期, one line below the body, right-aligned four characters in."""
        src = self.src
        if not (src.signature.strip() or src.date_text.strip()):
            return
        self._blank()
        for text in (src.signature, src.date_text):
            if text.strip():
                self._line(text, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)

    def _colophon(self) -> None:
        """版记 (7.4): 抄送 and 印发 between black rules, framed at the foot of the last page, 4号仿宋."""
        src = self.src
        font = self.fonts["body"]
        lines: list[DocxParagraph] = []
        if src.cc.strip():
            label = "抄送："
            p = self._paragraph(line=LINE_PITCH, grid=False)
            hang = SIZE_4 * len(label)  # wrapped lines align with the first name after the colon
            _format(p, left=SIZE_4 + hang, first_line=-hang, right=SIZE_4)
            self._run(p, label + src.cc, font=font, size=SIZE_4, grid=False)
            lines.append(p)
        printed = _clean(src.printed_by).strip()
        if printed:
            p = self._paragraph(line=LINE_PITCH, grid=False)
            _format(p, left=SIZE_4, right=SIZE_4)
            issuer, date = _split_printed(printed)
            if date:
                p.paragraph_format.tab_stops.add_tab_stop(
                    Twips(TEXT_WIDTH_TWIPS - SIZE_4.twips), WD_TAB_ALIGNMENT.RIGHT
                )
                self._run(p, f"{issuer}\t{date}", font=font, size=SIZE_4, grid=False)
            else:
                self._run(p, issuer, font=font, size=SIZE_4, grid=False)
            lines.append(p)
        if not lines:
            return
        # First and last rules 0.35 mm (1 pt), the ones between 0.25 mm (0.75 pt).
        _border(lines[0], "top", size_eighths=8, color=BLACK)
        for p in lines[:-1]:
            _border(p, "bottom", size_eighths=6, color=BLACK)
        _border(lines[-1], "bottom", size_eighths=8, color=BLACK)
        for p in lines:
            frame = _set(p._p.get_or_add_pPr(), "w:framePr", _PPR_ORDER)
            for name, value in (
                ("w", str(TEXT_WIDTH_TWIPS)),
                ("wrap", "notBeside"),
                ("vAnchor", "margin"),
                ("hAnchor", "margin"),
                ("xAlign", "center"),
                ("yAlign", "bottom"),
            ):
                frame.set(qn(f"w:{name}"), value)

    # -- building blocks ---------------------------------------------------------------------------

    def _paragraph(self, **fmt) -> DocxParagraph:
        p = self.doc.add_paragraph()
        _format(p, **fmt)
        return p

    def _blank(self) -> DocxParagraph:
        p = self._paragraph()
        _paragraph_mark_font(p, self.fonts["body"], SIZE_3)
        return p

    def _line(self, text: str, *, align=None, indent_chars: int = 0, right_chars: int = 0) -> DocxParagraph:
        """A body-text paragraph: 3号 body font on the 28.95 pt line."""
        p = self._paragraph(align=align, indent_chars=indent_chars, right_chars=right_chars)
        self._run(p, text, font=self.fonts["body"], size=SIZE_3)
        return p

    def _run(
        self,
        p: DocxParagraph,
        text: str,
        *,
        font: str,
        size: Length,
        bold: bool = False,
        color: RGBColor | None = None,
        scale: int = 100,
        grid: bool = True,
    ) -> Run:
        run = p.add_run(_clean(text))
        run.font.name = font
        rpr = run._r.get_or_add_rPr()
        _name_fonts(rpr.get_or_add_rFonts(), font)
        run.font.size = size
        run.font.bold = True if bold else None
        if color is not None:
            run.font.color.rgb = color
        if scale < 100:
            _set(rpr, "w:w", _RPR_ORDER, val=str(max(scale, 1)))
        if not grid:
            _set(rpr, "w:snapToGrid", _RPR_ORDER, val="0")
        if p.runs and len(p.runs) == 1:
            _paragraph_mark_font(p, font, size)
        return run


def _format(
    p: DocxParagraph,
    *,
    align=None,
    indent_chars: int = 0,
    right_chars: int = 0,
    left: Length | None = None,
    first_line: Length | None = None,
    right: Length | None = None,
    line: Length | None = LINE_PITCH,
    grid: bool = True,
    keep_with_next: bool = False,
    space: Length = NO_SPACE,
) -> None:
    """Paragraph format. `line` None means single spacing (pictures, table cells, the mark)."""
    fmt = p.paragraph_format
    if align is not None:
        fmt.alignment = align
    fmt.space_before = fmt.space_after = space
    if line is None:
        fmt.line_spacing = 1.0
    else:
        fmt.line_spacing = line
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if keep_with_next:
        fmt.keep_with_next = True
    pPr = p._p.get_or_add_pPr()
    if not grid:
        _set(pPr, "w:snapToGrid", _PPR_ORDER, val="0")
    if indent_chars:
        fmt.first_line_indent = SIZE_3 * indent_chars
        pPr.get_or_add_ind().set(qn("w:firstLineChars"), str(indent_chars * 100))  # whole grid cells
    if right_chars:
        fmt.right_indent = SIZE_3 * right_chars
        pPr.get_or_add_ind().set(qn("w:rightChars"), str(right_chars * 100))
    if left is not None:
        fmt.left_indent = left
    if first_line is not None:
        fmt.first_line_indent = first_line
    if right is not None:
        fmt.right_indent = right


def _paragraph_mark_font(p: DocxParagraph, font: str, size: Length) -> None:
    """The paragraph mark's own font, so empty lines and line heights follow the text."""
    pPr = p._p.get_or_add_pPr()
    rpr = _set(pPr, "w:rPr", _PPR_ORDER)
    fonts = OxmlElement("w:rFonts")
    _name_fonts(fonts, font)
    rpr.append(fonts)
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(round(size.pt * 2)))
        rpr.append(el)


def _name_fonts(fonts, name: str) -> None:
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)


def _set(parent, tag: str, order: list[str], **attrs: str):
    """Replace `parent`'s child `tag` with a new one carrying `attrs`, in schema order; return it."""
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    el = OxmlElement(tag)
    for name, value in attrs.items():
        el.set(qn(f"w:{name}"), value)
    rank = order.index(tag.split(":", 1)[1])
    for i, child in enumerate(parent):
        local = child.tag.rsplit("}", 1)[-1]
        if local in order and order.index(local) > rank:
            parent.insert(i, el)
            break
    else:
        parent.append(el)
    return el


def _border(p: DocxParagraph, side: str, *, size_eighths: int, color: str) -> None:
    pPr = p._p.get_or_add_pPr()
    borders = pPr.find(qn("w:pBdr"))
    if borders is None:
        borders = _set(pPr, "w:pBdr", _PPR_ORDER)
    for old in borders.findall(qn(f"w:{side}")):
        borders.remove(old)
    edge = OxmlElement(f"w:{side}")
    for name, value in (("val", "single"), ("sz", str(size_eighths)), ("space", "1"), ("color", color)):
        edge.set(qn(f"w:{name}"), value)
    # pBdr children: top, left, bottom, right, between, bar
    if side == "top":
        borders.insert(0, edge)
    else:
        borders.append(edge)


def _column_widths(rows: list[list[str]], ncols: int) -> list[int]:
    """Twips per column, summing to the text width (the Table Grid style's cell margins, and a little slack)."""
    shares = column_widths(rows, ncols, total=TEXT_WIDTH_TWIPS, em=SIZE_TABLE.twips, padding=2 * 108 + 40)
    widths = [int(w) for w in shares]
    widths[-1] += TEXT_WIDTH_TWIPS - sum(widths)
    return widths


def _split_printed(text: str) -> tuple[str, str]:
    """'XX办公室        2022年10月12日印发' -> ('XX办公室', '2022年10月12日印发'); no date -> (text, '')."""
    m = _PRINTED_DATE.match(text)
    if m and m["issuer"].strip():
        return m["issuer"].strip(), m["date"]
    gaps = list(_GAP.finditer(text))
    if gaps:
        last = gaps[-1]
        return text[: last.start()].strip(), text[last.end() :].strip()
    return text, ""


def _ems(text: str) -> float:
    """Width in ems: full-width (and ambiguous, which Chinese fonts draw full-width) 1, others 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


def _clean(text: str) -> str:
    """Text as Word can hold it: line ends as line breaks, characters XML 1.0 cannot carry removed."""
    return _NOT_XML.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
