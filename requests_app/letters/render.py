"""Lay a drafted letter out as an official letter (A4), as PDF and as DOCX.

The input is the letter's ``content`` (see ``models.Letter``). The layout follows the usual
公文 shape (GB/T 9704, simplified): a red letterhead and rule, the title, the 文号, the
addressee, the body with a two-character indent, the legal basis and the remedies, the
signature and the date on the right, and the office's contact block at the foot.

PDF: reportlab with a TrueType CJK font EMBEDDED in the file (setting ``LETTER_FONT_PATH``,
else WenQuanYi Zen Hei or AR PL UMing where installed — the Dockerfile and .ci/run install
``fonts-wqy-zenhei``), so the letter looks the same in every viewer; on a machine with none,
reportlab's built-in CID font STSong-Light (Adobe-GB1, not embedded: the viewer supplies the
glyphs). Either way the text stays extractable (the tests read it back with pypdf).
DOCX: python-docx, with the East Asian font set to 宋体 (SimSun) and 黑体 for the title.
"""

from __future__ import annotations

import io
import logging
import os
from xml.sax.saxutils import escape

from django.conf import settings
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PDF_FONT = "STSong-Light"
EMBEDDED_FONT = "LetterCJK"
# TrueType (not CFF/OTF: reportlab embeds only TrueType outlines) CJK fonts, in order.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
RED = colors.HexColor("#C00000")
BODY_PT = 14  # 公文 uses 3号 (16pt); 14pt keeps a typical reply on one page
_registered = False
_font_name = PDF_FONT
logger = logging.getLogger(__name__)


def font_path() -> str | None:
    """The TrueType CJK font to embed, or None when the machine has none."""
    configured = getattr(settings, "LETTER_FONT_PATH", "")
    for path in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if path and os.path.exists(path):
            return path
    return None


def _font() -> str:
    global _registered, _font_name
    if not _registered:
        path = font_path()
        if path:
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, path, subfontIndex=0))
            _font_name = EMBEDDED_FONT
        else:
            logger.warning("no TrueType CJK font found; letters use the non-embedded STSong-Light")
            pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
            _font_name = PDF_FONT
        _registered = True
    return _font_name


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=BODY_PT,
        leading=BODY_PT * 1.75,
        wordWrap="CJK",
        alignment=TA_JUSTIFY,
        firstLineIndent=BODY_PT * 2,
    )
    return {
        "letterhead": ParagraphStyle(
            "letterhead",
            parent=base,
            fontSize=24,
            leading=32,
            textColor=RED,
            alignment=TA_CENTER,
            firstLineIndent=0,
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER, firstLineIndent=0
        ),
        "number": ParagraphStyle(
            "number", parent=base, alignment=TA_CENTER, firstLineIndent=0, spaceAfter=6
        ),
        "addressee": ParagraphStyle("addressee", parent=base, firstLineIndent=0, spaceBefore=6),
        "body": base,
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=10.5, leading=15, firstLineIndent=0, alignment=0
        ),
        "small": ParagraphStyle(
            "small",
            parent=base,
            fontSize=10.5,
            leading=16,
            firstLineIndent=0,
            textColor=colors.HexColor("#333333"),
        ),
    }


def _text(value: str) -> str:
    return escape(value or "").replace("\n", "<br/>")


# 避头尾 (GB/T 15834 and the usual Chinese typesetting rule): closing punctuation never
# starts a line, opening punctuation never ends one.
NOT_AT_LINE_START = frozenset("，。、；：？！）》」』】〕］｝〉”’…—·～%％‰°℃,.;:?!)]}")
NOT_AT_LINE_END = frozenset("（《「『【〔［｛〈“‘([{")
# How far back a line's end may move to keep a number or a Latin word whole.
MAX_WORD_PUSH = 8


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def break_lines(text: str, widths, measure) -> list[str]:
    """Break ``text`` into lines no wider than ``widths(i)`` (line ``i``'s width), measuring
    each character with ``measure``. Never a line that starts with closing punctuation or
    ends with opening punctuation: the characters before the break move down to the next line
    with it (推出); numbers and Latin words are kept whole where they fit on a line.

    Pure; reportlab's own CJK wrapping follows only the Japanese rules (it let "，" start a
    line), so the PDF gets its lines from here."""
    lines: list[str] = []
    start, length = 0, len(text)
    while start < length:
        available, used, end = widths(len(lines)), 0.0, start
        while end < length and used + measure(text[end]) <= available + 1e-6:
            used += measure(text[end])
            end += 1
        end = max(end, start + 1)  # a character wider than the line still moves on
        if end < length:
            end = _break_before(text, start, end)
        lines.append(text[start:end])
        start = end
    return lines


def _break_before(text: str, start: int, end: int) -> int:
    def punctuation_ok(cut: int) -> bool:
        return text[cut] not in NOT_AT_LINE_START and text[cut - 1] not in NOT_AT_LINE_END

    def word_ok(cut: int) -> bool:
        return not (_is_word_char(text[cut - 1]) and _is_word_char(text[cut]))

    for cut in range(end, max(start, end - MAX_WORD_PUSH), -1):
        if punctuation_ok(cut) and word_ok(cut):
            return cut
    for cut in range(end, start, -1):
        if punctuation_ok(cut):
            return cut
    return end  # a line of punctuation only: nothing better exists


def _lines(value: str, style: ParagraphStyle, width: float) -> str:
    """``value`` as Paragraph markup with the line breaks of ``break_lines``."""

    def measure(char: str) -> float:
        return pdfmetrics.stringWidth(char, style.fontName, style.fontSize)

    out = []
    for number, segment in enumerate((value or "").split("\n")):
        indent = style.firstLineIndent if number == 0 else 0
        lines = break_lines(
            segment, lambda i, indent=indent: width - (indent if i == 0 else 0), measure
        )
        out.append("<br/>".join(escape(line) for line in lines))
    return "<br/>".join(out)


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(_font(), 10.5)
    canvas.drawCentredString(A4[0] / 2, 14 * mm, f"— {doc.page} —")
    canvas.restoreState()


WITHHELD_TABLE_TITLE = "区分处理说明"
WITHHELD_TABLE_HEADER = ("文件", "页码", "不予公开依据", "理由")


def _withheld_table_pdf(rows: list[dict], styles) -> list:
    """The 区分处理 说明 (Art 37): what was withheld, where, on which basis, and why."""
    cell = styles["cell"]
    data = [[Paragraph(_text(h), cell) for h in WITHHELD_TABLE_HEADER]]
    data += [
        [Paragraph(_text(row[key]), cell) for key in ("record", "pages", "basis", "reason")]
        for row in rows
    ]
    table = Table(data, colWidths=[45 * mm, 25 * mm, 45 * mm, 41 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return [
        Paragraph(_text(f"{WITHHELD_TABLE_TITLE}："), styles["body"]),
        table,
        Spacer(1, 4 * mm),
    ]


def render_pdf(content: dict) -> bytes:
    """The letter as an A4 PDF (bytes)."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=content.get("title", ""),
        author=content.get("signature", ""),
        subject=content.get("number", ""),
    )
    story = [
        Paragraph(_text(content["letterhead"]), styles["letterhead"]),
        Spacer(1, 2 * mm),
        HRFlowable(width="100%", thickness=2, color=RED, spaceBefore=2, spaceAfter=8 * mm),
        Paragraph(_text(content["title"]), styles["title"]),
        Paragraph(_text(content["number"]), styles["number"]),
        Paragraph(_text(content["addressee"]) + "：", styles["addressee"]),
    ]
    # The text's width: the frame's, less its padding (6 pt each side, platypus' default).
    width = doc.width - 12
    story += [
        Paragraph(_lines(text, styles["body"], width), styles["body"])
        for text in content["paragraphs"]
    ]
    if content.get("withheld_table"):
        story += _withheld_table_pdf(content["withheld_table"], styles)
    body = []
    if content.get("legal_basis"):
        body.append(f"法律依据：{content['legal_basis']}。")
    if content.get("remedies"):
        body.append(content["remedies"])
    body.append(f"申请编号：{content['tracking_number']}")
    story += [Paragraph(_lines(text, styles["body"], width), styles["body"]) for text in body]
    story += [
        Spacer(1, 12 * mm),
        Paragraph(_text(content["signature"]), styles["right"]),
        Paragraph(_text(content["date"]), styles["right"]),
        Spacer(1, 10 * mm),
    ]
    if content.get("contact_block"):
        story.append(HRFlowable(width="100%", thickness=0.5, color=colors.grey, spaceAfter=2 * mm))
        story.append(
            Paragraph(_lines(content["contact_block"], styles["small"], width), styles["small"])
        )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _run(
    paragraph, text: str, *, size: float = BODY_PT, font: str = "宋体", bold=False, color=None
):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.name = font
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color is not None:
        run.font.color.rgb = color
    return run


def _paragraph(document, text: str, *, align=None, indent=True, size=BODY_PT, **run_kwargs):
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.line_spacing = 1.5
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    _run(paragraph, text, size=size, **run_kwargs)
    return paragraph


def render_docx(content: dict) -> bytes:
    """The letter as a Word document (bytes), A4, for the office to adjust and print."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.top_margin, section.bottom_margin = Mm(25), Mm(25)
    document.core_properties.title = content.get("title", "")
    document.core_properties.subject = content.get("number", "")
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(
        document,
        content["letterhead"],
        align=center,
        indent=False,
        size=24,
        font="宋体",
        color=RGBColor(0xC0, 0x00, 0x00),
    )
    _paragraph(document, "━" * 22, align=center, indent=False, size=12, color=RGBColor(0xC0, 0, 0))
    _paragraph(document, content["title"], align=center, indent=False, size=20, font="黑体")
    _paragraph(document, content["number"], align=center, indent=False)
    _paragraph(document, content["addressee"] + "：", indent=False)
    for text in content["paragraphs"]:
        _paragraph(document, text)
    if content.get("withheld_table"):
        _paragraph(document, f"{WITHHELD_TABLE_TITLE}：")
        table = document.add_table(rows=1, cols=len(WITHHELD_TABLE_HEADER))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, WITHHELD_TABLE_HEADER, strict=True):
            cell.text = text
        for row in content["withheld_table"]:
            cells = table.add_row().cells
            for cell, key in zip(cells, ("record", "pages", "basis", "reason"), strict=True):
                cell.text = row[key]
    if content.get("legal_basis"):
        _paragraph(document, f"法律依据：{content['legal_basis']}。")
    if content.get("remedies"):
        _paragraph(document, content["remedies"])
    _paragraph(document, f"申请编号：{content['tracking_number']}")
    _paragraph(document, "", indent=False)
    _paragraph(document, content["signature"], align=right, indent=False)
    _paragraph(document, content["date"], align=right, indent=False)
    if content.get("contact_block"):
        _paragraph(document, "", indent=False)
        _paragraph(document, content["contact_block"], indent=False, size=10.5)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
