"""Opening PDFs with both libraries, with their failures mapped to our errors.

PDFium (pypdfium2) renders and finds text; qpdf (pikepdf) reads and writes the structure.
Both open a file by path and read objects as they are needed, so a 50 MB PDF is never read
into memory whole. PDFium is not thread-safe (not even across documents), so every use of it
in this package holds ``PDFIUM_LOCK``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .errors import BrokenFile, EmptyFile, EncryptedFile

PDFIUM_LOCK = threading.RLock()


@contextlib.contextmanager
def open_pdfium(path: str, *, forms: bool = False) -> Iterator[pdfium.PdfDocument]:
    """The document opened by PDFium, closed on exit; the caller holds ``PDFIUM_LOCK``.

    ``forms``: set up the form environment, so that rendering draws form fields' values.
    """
    _refuse_empty(path)
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) in (
            pdfium_c.FPDF_ERR_PASSWORD,
            pdfium_c.FPDF_ERR_SECURITY,
        ):
            raise EncryptedFile() from exc
        raise BrokenFile() from exc
    try:
        if forms:
            document.init_forms()
        yield document
    finally:
        document.close()


@contextlib.contextmanager
def open_pikepdf(path: str) -> Iterator[pikepdf.Pdf]:
    """The document opened by qpdf, closed on exit."""
    _refuse_empty(path)
    try:
        document = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise EncryptedFile() from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise BrokenFile() from exc
    try:
        yield document
    finally:
        document.close()


def _refuse_empty(path: str) -> None:
    try:
        empty = os.path.getsize(path) == 0
    except OSError as exc:
        raise BrokenFile("文件无法读取") from exc
    if empty:
        raise EmptyFile()


def displayed_box(page: pdfium.PdfPage) -> tuple[float, float, float, float, int]:
    """(left, bottom, right, top, rotation) of what PDFium shows: the crop box and /Rotate."""
    left, bottom, right, top = page.get_cropbox()
    return left, bottom, right, top, page.get_rotation() % 360


def to_displayed(
    box: tuple[float, float, float, float, int], x: float, y: float
) -> tuple[float, float]:
    """A point in PDF user space → the displayed page, points, origin at the top-left."""
    left, bottom, right, top, rotation = box
    u, v = x - left, top - y  # unrotated, top-left origin
    width, height = right - left, top - bottom
    if rotation == 90:
        return height - v, u
    if rotation == 180:
        return width - u, height - v
    if rotation == 270:
        return v, width - u
    return u, v


def rect_to_displayed(
    box: tuple[float, float, float, float, int], rect: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """A (left, bottom, right, top) rectangle in user space → (x0, y0, x1, y1) displayed."""
    left, bottom, right, top = rect
    xa, ya = to_displayed(box, left, bottom)
    xb, yb = to_displayed(box, right, top)
    return (
        round(min(xa, xb), 2),
        round(min(ya, yb), 2),
        round(max(xa, xb), 2),
        round(max(ya, yb), 2),
    )
