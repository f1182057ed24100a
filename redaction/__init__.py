"""The redaction engine: pure PDF work for 区分处理 (no Django import).

Paths/bytes and decisions in, bytes out. The case-management side (``requests_app``) stores the
records and the decisions and calls this package. The interface (agreed with the records side;
add, don't change)::

    from redaction import (
        RedactionError,      # base; str(e) is a Chinese message fit for the user
                             #   (e.g. "文件已加密，无法审查")
        UnsupportedType, EmptyFile, BrokenFile, EncryptedFile, TooManyPages, ConversionUnavailable,
        sniff_file,          # (f: BinaryIO) -> str: "pdf" | "jpeg" | "png" | "tiff" | "docx" | "ofd"
                             #   decided by content (magic bytes; zip → docx/ofd by member names),
                             #   never by name; raises EmptyFile / UnsupportedType;
                             #   leaves f at position 0
        inspect,             # (path: str, kind: str, *, max_pages: int) -> DocumentInfo
                             #   DocumentInfo(kind: str, pages: list[PageSize]);
                             #   PageSize(width: float, height: float) in points as displayed
                             #   (rotation applied); images: 1 page (TIFF: one per frame);
                             #   docx/ofd: pages == [] (stored, not reviewable until converted)
                             #   raises EncryptedFile, BrokenFile, TooManyPages
        to_pdf,              # (path: str, kind: str, out_path: str) -> None: the reviewable PDF
                             #   pdf → a cleaned copy; images → img2pdf; docx → LibreOffice
                             #   (`soffice`) when installed, else ConversionUnavailable;
                             #   ofd → ConversionUnavailable
        render_page,         # (pdf_path: str, index: int, *, dpi: int = 96) -> bytes (PNG);
                             #   streams from disk
        find_terms,          # (pdf_path: str, terms: Iterable[str]) -> list[Hit]
                             #   Hit(page: int, text: str, rects: list[Rect])
        suggest,             # (pdf_path: str, names: Iterable[str] = ()) -> list[Suggestion]
                             #   Suggestion(page: int, kind: str, text: str, rects: list[Rect]);
                             #   kind in "id_number" (18-digit mainland ID with a valid
                             #   checksum), "mobile", "bank_card" (Luhn), "name" (the
                             #   third-party names given)
        Region,              # Region(rect: Rect, label: str)  label e.g. "第十五条 个人隐私"
        PagePlan,            # PagePlan(index: int, withhold_whole: str | None = None,
                             #          regions: list[Region] = [])
                             #   withhold_whole = the label of a page withheld entirely (the
                             #   page stays, blanked, with its label); pages not in the plan
                             #   are left out of the release
        build_release,       # (pdf_path: str, plan: list[PagePlan], out_path: str, *,
                             #  footer: str) -> ReleaseInfo
                             #   footer: a template with {page} and {pages}, e.g.
                             #   "申请编号 GK-2026-000123 第 {page} 页 共 {pages} 页"
                             #   ReleaseInfo(sha256: str, pages: int)
    )
    Rect = tuple[float, float, float, float]  # (x0, y0, x1, y1) in points, origin at the
                                              # TOP-LEFT of the displayed page (what a reviewer
                                              # sees on the rendered image)

The release copy removes withheld content from every layer (text, images, annotations, form
fields, attachments, metadata, XMP), draws each region as an opaque box with its label, and
prints the footer on every page. Page indexes are 0-based in the API; the footer counts from 1.

Additions beyond the agreed interface:

- ``NoSuchPage`` (a ``RedactionError`` and an ``IndexError``): ``render_page`` with an index
  outside the document. ``InvalidPlan`` (also a ``ValueError``): ``build_release`` with an
  empty plan, a page twice, an index outside the document or an empty rectangle.
- ``build_release(..., dpi=150, font_path=None, rasterize_all=False)``: the resolution of
  pages with regions; the CJK font (module setting ``redaction.fonts.FONT_PATH``, default
  WenQuanYi Zen Hei); every page a picture, not only those with regions.
- ``Rect``, ``PageSize``, ``DocumentInfo``, ``Hit``, ``Suggestion``, ``ReleaseInfo``,
  ``KINDS`` (the accepted kinds), ``sha256_of(path)`` (a file's hash, read in chunks),
  ``is_id_number(text)`` and ``luhn_valid(digits)`` (the checks ``suggest`` applies).

Scanned pages (a picture with no text layer) give no text hits and no suggestions: their
regions are drawn by hand. A scan with an OCR text layer is searched through that layer.
PDFium is not thread-safe: every call here holds one process-wide lock.
"""

from .documents import KINDS, inspect, to_pdf
from .errors import (
    BrokenFile,
    ConversionUnavailable,
    EmptyFile,
    EncryptedFile,
    InvalidPlan,
    NoSuchPage,
    RedactionError,
    TooManyPages,
    UnsupportedType,
)
from .release import build_release, sha256_of
from .render import render_page
from .shapes import DocumentInfo, Hit, PagePlan, PageSize, Rect, Region, ReleaseInfo, Suggestion
from .sniff import sniff_file
from .text import find_terms, is_id_number, luhn_valid, suggest

__all__ = [
    "KINDS",
    "BrokenFile",
    "ConversionUnavailable",
    "DocumentInfo",
    "EmptyFile",
    "EncryptedFile",
    "Hit",
    "InvalidPlan",
    "NoSuchPage",
    "PagePlan",
    "PageSize",
    "Rect",
    "RedactionError",
    "Region",
    "ReleaseInfo",
    "Suggestion",
    "TooManyPages",
    "UnsupportedType",
    "build_release",
    "find_terms",
    "is_id_number",
    "luhn_valid",
    "inspect",
    "render_page",
    "sha256_of",
    "sniff_file",
    "suggest",
    "to_pdf",
]
