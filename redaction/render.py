"""Render one page of a PDF to a PNG, as the reviewer sees it."""

from __future__ import annotations

import ctypes
import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

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
        image = render_pil(document, index, dpi=dpi).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def render_pil(
    document: pdfium.PdfDocument, index: int, *, dpi: float, grey_when_possible: bool = False
):
    """Page ``index`` of an open document as a PIL image; caller holds the lock.

    RGBX; or, with ``grey_when_possible`` and a page with no colour (``is_grey``), L: PDFium
    renders grey in a third of the time.
    """
    count = len(document)
    if not 0 <= index < count:
        raise NoSuchPage(index, count)
    page = document[index]
    try:
        grayscale = grey_when_possible and is_grey(page)
        # Four bytes a pixel (RGBX) is PDFium's own layout: no conversion when rendering, and
        # Pillow wraps the buffer without copying it; JPEG takes RGBX as it is.
        bitmap = page.render(
            scale=dpi / 72,
            may_draw_forms=True,
            grayscale=grayscale,
            rev_byteorder=True,
            force_bitmap_format=pdfium_c.FPDFBitmap_Gray if grayscale else pdfium_c.FPDFBitmap_BGRx,
        )
        return bitmap.to_pil()
    finally:
        page.close()


_GREY_SPACES = (pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_CALGRAY)


def is_grey(page: pdfium.PdfPage) -> bool:
    """True when everything the page draws is black, white or grey: text and paths in grey
    colours, images in a grey colour space, no shading and no annotation or form field.

    Anything the check cannot read (a pattern, an unknown colour space) counts as colour, so
    a page is rendered in grey only when that loses nothing.
    """
    if pdfium_c.FPDFPage_GetAnnotCount(page) > 0:
        return False
    red, green, blue, alpha = (ctypes.c_uint() for _ in range(4))
    colours = (red, green, blue, alpha)
    for obj in page.get_objects(max_depth=15):
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            continue  # its objects come next
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            if obj.get_metadata().colorspace not in _GREY_SPACES:
                return False
            continue
        if kind not in (pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_PATH):
            return False
        for getter in (pdfium_c.FPDFPageObj_GetFillColor, pdfium_c.FPDFPageObj_GetStrokeColor):
            if not getter(obj, *map(ctypes.byref, colours)):
                return False
            if not red.value == green.value == blue.value:
                return False
    return True
