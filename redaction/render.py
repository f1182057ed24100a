"""Render one page of a PDF to a PNG, as the reviewer sees it."""

from __future__ import annotations

import io

import pypdfium2 as pdfium

from ._pdf import PDFIUM_LOCK, open_pdfium
from .errors import NoSuchPage

MAX_RENDER_DPI = 600
# PNG compression: level 3 is within a few per cent of the size of level 6, at half the time.
PNG_COMPRESS_LEVEL = 3


def render_page(pdf_path: str, index: int, *, dpi: int = 96) -> bytes:
    """PNG of page ``index`` (0-based) at ``dpi``, annotations and form fields drawn.

    The image shows the page as displayed (rotation and crop box applied), so a pixel (px, py)
    is the point (px * 72 / dpi, py * 72 / dpi) of a ``Rect``. The file is read from disk as
    needed, never whole. Raises ``NoSuchPage`` for an index outside the document, and the
    errors of opening a PDF (``EncryptedFile``, ``BrokenFile``).
    """
    if not 1 <= dpi <= MAX_RENDER_DPI:
        raise ValueError(f"dpi must be between 1 and {MAX_RENDER_DPI}")
    with PDFIUM_LOCK, open_pdfium(pdf_path, forms=True) as document:
        image = render_pil(document, index, dpi=dpi)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def render_pil(document: pdfium.PdfDocument, index: int, *, dpi: float, grayscale: bool = False):
    """Page ``index`` of an open document as an RGB (or L) PIL image; caller holds the lock."""
    count = len(document)
    if not 0 <= index < count:
        raise NoSuchPage(index, count)
    page = document[index]
    try:
        bitmap = page.render(
            scale=dpi / 72, may_draw_forms=True, grayscale=grayscale, rev_byteorder=True
        )
        image = bitmap.to_pil()
        return (
            image.convert("L" if grayscale else "RGB") if image.mode not in ("RGB", "L") else image
        )
    finally:
        page.close()
