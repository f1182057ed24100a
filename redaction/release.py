"""The release copy: withheld content removed from every layer, each box labelled, a footer.

How (see docs/adr/0004-redaction-by-rasterizing.md):

- A page with regions is rendered (PDFium, ``dpi``, annotations and form fields drawn), its
  regions painted opaque in the pixels, and the picture embedded as the page's only content
  (JPEG). The original text, images, vector drawings, annotations and fields of that page do
  not reach the release at all: there is nothing under the box to lift.
- A page withheld whole becomes a blank page of the same size with its label.
- A page released as it is stays vector: its content is wrapped as a Form XObject with only
  the resources its content uses, so what the page does not draw (a shared resource dictionary
  holding other pages' images, annotations, form fields, page-level metadata, thumbnails,
  private application data) is not copied. Annotations and form fields that show something are
  flattened into the page first, as the reviewer saw them.
- The document is new: no Info dictionary (author, title, producer, original file name), no
  XMP, no attachments, no JavaScript or open actions, no outlines, no structure tree.
- Labels and the footer are text in the embedded CJK font, drawn by reportlab on top.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import math
import os

import pikepdf
from PIL import Image, ImageDraw
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from . import fonts
from ._pdf import PDFIUM_LOCK, open_pdfium, open_pikepdf
from .errors import BrokenFile, InvalidPlan, NoSuchPage
from .render import render_pil
from .shapes import PagePlan, ReleaseInfo

# Partially released pages are pictures at this resolution: body text of 10.5 pt (五号) stays
# legible and the picture is small; see docs/benchmarks.md for time and size at 100–200 dpi.
DEFAULT_DPI = 150
JPEG_QUALITY = 75
BOX_RGB = (0, 0, 0)
LABEL_RGB = (1, 1, 1)
LABEL_MAX_PT = 12
LABEL_MIN_PT = 4
LABEL_LEGIBLE_PT = 6.5
LABEL_PAD_PT = 1.5
FOOTER_PT = 9
FOOTER_MIN_PT = 4
FOOTER_BASELINE_PT = 10  # above the bottom edge
WITHHELD_TITLE = "本页不予公开"


def build_release(
    pdf_path: str,
    plan: list[PagePlan],
    out_path: str,
    *,
    footer: str,
    dpi: int = DEFAULT_DPI,
    font_path: str | None = None,
    rasterize_all: bool = False,
) -> ReleaseInfo:
    """Write the release copy of ``pdf_path`` following ``plan``; return its SHA-256 and pages.

    ``plan``: one ``PagePlan`` per released page, in any order (the release keeps the source
    order); pages not in the plan are left out. ``footer``: a template with ``{page}`` and
    ``{pages}`` (counted in the release, from 1), e.g.
    "申请编号 GK-2026-000123 第 {page} 页 共 {pages} 页". ``dpi``: resolution of the pages with
    regions. ``font_path``: the TrueType CJK font (default ``fonts.FONT_PATH``).
    ``rasterize_all``: make every released page a picture, not only those with regions — then
    nothing of the source's fonts or drawing survives (see "limits" in docs/records.md).

    The same source, plan and footer give the same bytes (and hash). Raises ``InvalidPlan``
    (empty plan, a page twice, an index outside the document, an empty or inverted
    rectangle), ``EncryptedFile``, ``BrokenFile``. ``out_path`` is written whole or not at all.
    """
    pages = sorted(plan, key=lambda page: page.index)
    if not pages:
        raise InvalidPlan("发布版本至少需要包含一页")
    seen = set()
    for page in pages:
        if page.index in seen:
            raise InvalidPlan(f"第 {page.index + 1} 页在发布计划中出现了两次")
        seen.add(page.index)
    font = fonts.font_name(font_path)
    partial = f"{out_path}.partial"
    layout = f"{out_path}.layout"
    try:
        with PDFIUM_LOCK, open_pdfium(pdf_path, forms=True) as document:
            _release(document, pdf_path, pages, partial, layout, footer, dpi, font, rasterize_all)
        os.replace(partial, out_path)
    finally:
        for leftover in (partial, layout):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
    return ReleaseInfo(sha256=sha256_of(out_path), pages=len(pages))


def _release(document, pdf_path, pages, partial, layout, footer, dpi, font, rasterize_all):
    """build_release's work, with PDFium's document open (and its lock held)."""
    count = len(document)
    for page in pages:
        if not 0 <= page.index < count:
            raise InvalidPlan(str(NoSuchPage(page.index, count)))
    sizes = [document.get_page_size(page.index) for page in pages]
    for page, size in zip(pages, sizes, strict=True):
        _check_regions(page, size)
    _draw_layout(pages, sizes, layout, footer=footer, font=font)
    with open_pikepdf(pdf_path) as source, pikepdf.open(layout) as drawn:
        if len(source.pages) != count:
            raise BrokenFile("PDF 文件结构损坏：页数无法确定")
        if any(_is_vector(page, rasterize_all) for page in pages):
            _flatten_annotations(source)
        out = pikepdf.new()
        for number, page in enumerate(pages):
            out.pages.append(drawn.pages[number])
            target = out.pages[number]
            if _is_vector(page, rasterize_all):
                _place_vector(source, page.index, out, target, sizes[number])
            elif page.withhold_whole is None:
                picture = _picture(document, page, sizes[number], dpi)
                _place_picture(out, target, *_jpeg(picture))
        _save(out, partial)


def rebuild_vector(pdf_path: str, out_path: str) -> None:
    """The cleaned copy of a PDF (``to_pdf``): every page vector, nothing else kept."""
    partial = f"{out_path}.partial"
    try:
        with PDFIUM_LOCK, open_pdfium(pdf_path) as document:
            sizes = [document.get_page_size(index) for index in range(len(document))]
        if not sizes:
            raise BrokenFile("PDF 文件没有页面")
        with open_pikepdf(pdf_path) as source:
            if len(source.pages) != len(sizes):
                raise BrokenFile("PDF 文件结构损坏：页数无法确定")
            _flatten_annotations(source)
            out = pikepdf.new()
            for index, size in enumerate(sizes):
                target = out.add_blank_page(page_size=size)
                _place_vector(source, index, out, target, size)
            _save(out, partial)
        os.replace(partial, out_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    """The SHA-256 (hex) of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _check_regions(page: PagePlan, size: tuple[float, float]) -> None:
    width, height = size
    for region in page.regions:
        x0, y0, x1, y1 = region.rect
        if not (x1 > x0 and y1 > y0):
            raise InvalidPlan(f"第 {page.index + 1} 页的遮盖区域无效：{region.rect}")
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            raise InvalidPlan(f"第 {page.index + 1} 页的遮盖区域在页面之外：{region.rect}")


def _flatten_annotations(source: pikepdf.Pdf) -> None:
    """Draw what annotations and form fields show into the page content (in memory only)."""
    if "/AcroForm" in source.Root:
        with contextlib.suppress(pikepdf.PdfError):
            source.generate_appearance_streams()
    if any("/Annots" in page.obj for page in source.pages):
        source.flatten_annotations("all")


def _place_vector(
    source: pikepdf.Pdf, index: int, out: pikepdf.Pdf, target: pikepdf.Page, size
) -> None:
    """Draw page ``index`` of ``source`` under the content of ``target`` (a new page)."""
    page = source.pages[index]
    # Keep only the resources the content draws: a resource dictionary shared by all pages
    # would otherwise carry every page's images and fonts into the release.
    page.remove_unreferenced_resources()
    # The form's bounding box is the page's trim box: make it the crop box PDFium displays.
    page.obj.TrimBox = pikepdf.Array(page.cropbox)
    form = out.copy_foreign(page.as_form_xobject(handle_transformations=True))
    # A fixed name (not a random prefix): the same input gives the same bytes.
    name = target.add_resource(form, pikepdf.Name.XObject, pikepdf.Name("/SourcePage"))
    width, height = size
    placement = target.calc_form_xobject_placement(
        form, name, pikepdf.Rectangle(0, 0, width, height), allow_shrink=True, allow_expand=True
    )
    target.contents_add(out.make_stream(b"q\n" + placement + b"\nQ\n"), prepend=True)


def _save(out: pikepdf.Pdf, path: str) -> None:
    # deterministic_id: the same input gives the same bytes, so the hash identifies a release.
    out.save(path, deterministic_id=True, compress_streams=True)


def _is_vector(page: PagePlan, rasterize_all: bool) -> bool:
    return page.withhold_whole is None and not page.regions and not rasterize_all


def _draw_layout(pages, sizes, path, *, footer, font) -> None:
    """What lies over each release page, drawn by reportlab: the boxes and their labels, the
    blank page's label, the footer. The page's content goes under it later."""
    # Uncompressed here: qpdf compresses every stream once when it writes the release.
    canvas = Canvas(path, invariant=1, pageCompression=0)
    total = len(pages)
    for number, (page, (width, height)) in enumerate(zip(pages, sizes, strict=True), start=1):
        canvas.setPageSize((width, height))
        if page.withhold_whole is not None:
            _draw_withheld(canvas, width, height, page.withhold_whole, font)
        else:
            for region in page.regions:
                _draw_box(canvas, _clip(region.rect, width, height), height, region.label, font)
        _draw_footer(canvas, width, _footer_text(footer, number, total), font)
        canvas.showPage()
    canvas.save()


def _footer_text(template: str, page: int, pages: int) -> str:
    # Plain replacement, not str.format: a template may contain other braces.
    return template.replace("{pages}", str(pages)).replace("{page}", str(page))


def _picture(document, page: PagePlan, size, dpi) -> Image.Image:
    """Page ``page.index`` rendered, with every pixel of its regions painted over."""
    width, height = size
    image = render_pil(document, page.index, dpi=dpi, grey_when_possible=True)
    scale_x, scale_y = image.width / width, image.height / height
    paint = ImageDraw.Draw(image)
    for region in page.regions:
        x0, y0, x1, y1 = _clip(region.rect, width, height)
        # Every pixel the rectangle touches, even partly (PIL's corners are inclusive).
        left, top = math.floor(x0 * scale_x), math.floor(y0 * scale_y)
        right = max(left, math.ceil(x1 * scale_x) - 1)
        bottom = max(top, math.ceil(y1 * scale_y) - 1)
        paint.rectangle(
            (left, top, right, bottom), fill=0 if image.mode == "L" else (*BOX_RGB, 255)
        )
    return image


def _jpeg(image: Image.Image) -> tuple[bytes, int, int, bool]:
    encoded = io.BytesIO()
    image.save(encoded, "JPEG", quality=JPEG_QUALITY)
    return encoded.getvalue(), image.width, image.height, image.mode != "L"


def _place_picture(
    out: pikepdf.Pdf,
    target: pikepdf.Page,
    jpeg: bytes,
    pixel_width: int,
    pixel_height: int,
    colour: bool,
) -> None:
    """The picture as the page's only content, under the layout (boxes, labels, footer)."""
    picture = pikepdf.Stream(out, jpeg)
    picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    picture.Width, picture.Height, picture.BitsPerComponent = pixel_width, pixel_height, 8
    picture.ColorSpace = pikepdf.Name.DeviceRGB if colour else pikepdf.Name.DeviceGray
    picture.Filter = pikepdf.Name.DCTDecode
    name = target.add_resource(picture, pikepdf.Name.XObject, pikepdf.Name("/Picture"))
    width, height = float(target.mediabox[2]), float(target.mediabox[3])
    drawing = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm {name} Do Q\n".encode()
    target.contents_add(out.make_stream(drawing), prepend=True)


def _clip(rect, width, height):
    x0, y0, x1, y1 = rect
    return max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)


def _draw_box(canvas, rect, page_height, label: str, font: str) -> None:
    """An opaque box with its label fitted inside (shrunk, wrapped, at worst clipped)."""
    x0, y0, x1, y1 = rect
    box_width, box_height = x1 - x0, y1 - y0
    bottom = page_height - y1
    canvas.saveState()
    canvas.setFillColorRGB(*BOX_RGB)
    canvas.rect(x0, bottom, box_width, box_height, stroke=0, fill=1)
    label = label.strip()
    if label:
        size, lines = _fit(
            label, font, round(box_width - 2 * LABEL_PAD_PT, 1), round(box_height - LABEL_PAD_PT, 1)
        )
        path = canvas.beginPath()
        path.rect(x0, bottom, box_width, box_height)
        canvas.clipPath(path, stroke=0, fill=0)
        canvas.setFillColorRGB(*LABEL_RGB)
        canvas.setFont(font, size)
        leading = size * 1.15
        top = bottom + box_height / 2 + leading * len(lines) / 2
        for number, line in enumerate(lines):
            baseline = top - leading * (number + 1) + size * 0.22
            canvas.drawCentredString(x0 + box_width / 2, baseline, line)
    canvas.restoreState()


@functools.lru_cache(maxsize=4096)  # the same label in boxes of the same size, page after page
def _fit(label: str, font: str, width: float, height: float) -> tuple[float, list[str]]:
    """The largest size (LABEL_MAX_PT down) at which the label fits the box. Under
    LABEL_LEGIBLE_PT the label is shortened to its first word (the article, "第十五条"); in a
    box too small even for that, one line at LABEL_MIN_PT, clipped by the box."""
    short = label.split()[0] if len(label.split()) > 1 else None
    for text, smallest in ((label, LABEL_LEGIBLE_PT), (short, LABEL_MIN_PT), (label, LABEL_MIN_PT)):
        if text is None:
            continue
        size = min(LABEL_MAX_PT, height / 1.15)
        while size >= smallest:
            lines = _wrap(text, font, size, width)
            if len(lines) * size * 1.15 <= height:
                return size, lines
            size -= 0.5
    return LABEL_MIN_PT, [short or label]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``, between any two characters (labels
    are short and mostly CJK); a character wider than the box gets a line of its own."""
    lines, line = [], ""
    for char in text:
        if line and stringWidth(line + char, font, size) > width:
            lines.append(line.rstrip())
            line = char.lstrip()
        else:
            line += char
    if line:
        lines.append(line)
    return lines or [text]


def _draw_withheld(canvas, width, height, label: str, font: str) -> None:
    margin = min(width, height) * 0.08
    canvas.saveState()
    canvas.setStrokeColorRGB(0.45, 0.45, 0.45)
    canvas.setLineWidth(1)
    canvas.rect(margin, margin, width - 2 * margin, height - 2 * margin, stroke=1, fill=0)
    canvas.setFillColorRGB(0, 0, 0)
    size = min(18.0, (width - 2 * margin) / max(len(WITHHELD_TITLE), 1) * 0.9)
    canvas.setFont(font, size)
    canvas.drawCentredString(width / 2, height / 2 + size * 0.6, WITHHELD_TITLE)
    label = label.strip()
    if label:
        label_size, lines = _fit(label, font, width - 2 * margin - 8, height / 3)
        label_size = min(label_size, size * 0.8)
        lines = _wrap(label, font, label_size, width - 2 * margin - 8)
        canvas.setFont(font, label_size)
        for number, line in enumerate(lines):
            canvas.drawCentredString(width / 2, height / 2 - label_size * 1.2 * (number + 1), line)
    canvas.restoreState()


def _draw_footer(canvas, width: float, text: str, font: str) -> None:
    """The footer, centred near the bottom, on a white strip so it reads over any content."""
    size = float(FOOTER_PT)
    while size > FOOTER_MIN_PT and stringWidth(text, font, size) > width - 8:
        size -= 0.5
    text_width = stringWidth(text, font, size)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(
        (width - text_width) / 2 - 3,
        FOOTER_BASELINE_PT - size * 0.35,
        text_width + 6,
        size * 1.4,
        stroke=0,
        fill=1,
    )
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(font, size)
    canvas.drawCentredString(width / 2, FOOTER_BASELINE_PT, text)
    canvas.restoreState()
