"""Test PDFs and images for the redaction engine, built on the fly (no binary fixtures).

Each builder writes a file and returns where its secrets are, so a test can redact them and
then look for them everywhere in the release.
"""

from __future__ import annotations

import io
import os

import pikepdf
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from redaction import fonts

FONT_SIZE = 12


def font() -> str:
    return fonts.font_name()


def has_cjk_font() -> bool:
    return os.path.exists(fonts.FONT_PATH)


def text_pdf(path, pages: list[list[str]], *, page_size=A4, rotate: int = 0) -> list[list[tuple]]:
    """A PDF with one line of text per entry, from the top; returns each line's displayed
    rectangle (x0, y0, x1, y1), top-left origin, for an unrotated page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    canvas = Canvas(str(path), pagesize=page_size, invariant=1)
    width, height = page_size
    boxes = []
    for lines in pages:
        page_boxes = []
        canvas.setFont(font(), FONT_SIZE)
        for number, line in enumerate(lines):
            baseline = height - 72 - number * 24
            canvas.drawString(72, baseline, line)
            line_width = stringWidth(line, font(), FONT_SIZE)
            page_boxes.append(
                (72.0, height - baseline - FONT_SIZE, 72 + line_width, height - baseline + 3)
            )
        canvas.showPage()
        boxes.append(page_boxes)
    canvas.save()
    if rotate:
        with pikepdf.open(str(path), allow_overwriting_input=True) as pdf:
            for page in pdf.pages:
                page.obj.Rotate = rotate
            pdf.save(str(path))
    return boxes


def scanned_pdf(path, lines: list[str], *, dpi: int = 150, ocr_layer: bool = True) -> list[tuple]:
    """A "scan": the page is one picture of the text; with ``ocr_layer``, an invisible text
    layer (render mode 3) over it, as OCR software makes. Returns the lines' rectangles."""
    width, height = A4
    scale = dpi / 72
    picture = Image.new("RGB", (round(width * scale), round(height * scale)), "white")
    draw = ImageDraw.Draw(picture)
    face = ImageFont.truetype(fonts.FONT_PATH, round(FONT_SIZE * scale), index=0)
    boxes = []
    for number, line in enumerate(lines):
        top = 72 + number * 24
        draw.text((72 * scale, top * scale), line, fill="black", font=face)
        boxes.append((72.0, float(top), 72 + face.getlength(line) / scale, top + FONT_SIZE + 4.0))
    encoded = io.BytesIO()
    picture.save(encoded, "PNG")
    encoded.seek(0)
    from reportlab.lib.utils import ImageReader

    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    canvas.drawImage(ImageReader(encoded), 0, 0, width=width, height=height)
    if ocr_layer:
        text = canvas.beginText()
        text.setTextRenderMode(3)  # invisible
        text.setFont(font(), FONT_SIZE)
        for number, line in enumerate(lines):
            text.setTextOrigin(72, height - 72 - number * 24 - FONT_SIZE + 2)
            text.textOut(line)
        canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    return boxes


def add_hidden_layers(path, secret: str) -> None:
    """Put ``secret`` everywhere a PDF can hide a string: Info, XMP, an annotation's
    contents, a form field's value, an attachment, JavaScript, an outline, a page label,
    page-level metadata and private data."""
    with pikepdf.open(str(path), allow_overwriting_input=True) as pdf:
        pdf.docinfo["/Author"] = secret
        pdf.docinfo["/Title"] = f"关于{secret}的材料"
        pdf.docinfo["/Subject"] = secret
        pdf.docinfo["/Keywords"] = secret
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [secret]
            meta["dc:title"] = f"original-{secret}.docx"
            meta["pdf:Keywords"] = secret
        page = pdf.pages[0]
        note = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Text,
                Rect=[300, 700, 320, 720],
                Contents=pikepdf.String(f"批注：{secret}"),
                T=pikepdf.String(secret),
            )
        )
        free_text = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.FreeText,
                Rect=[300, 600, 500, 630],
                Contents=pikepdf.String(secret),
                DA=pikepdf.String("/Helv 10 Tf 0 g"),
            )
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("applicant"),
                V=pikepdf.String(secret),
                Rect=[300, 500, 500, 520],
                DA=pikepdf.String("/Helv 10 Tf 0 g"),
                P=page.obj,
            )
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([note, free_text, field]))
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(Fields=[field], NeedAppearances=False)
        )
        pdf.attachments["secret.txt"] = pikepdf.AttachedFileSpec(
            pdf, secret.encode("utf-8"), description=secret, filename=f"{secret}.txt"
        )
        js = pdf.make_stream(f"app.alert('{secret}');".encode())
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=js)
        with pdf.open_outline() as outline:
            outline.root.append(pikepdf.OutlineItem(secret, 0))
        pdf.Root.PageLabels = pikepdf.Dictionary(
            Nums=[0, pikepdf.Dictionary(P=pikepdf.String(secret))]
        )
        page.obj.PieceInfo = pikepdf.Dictionary(
            App=pikepdf.Dictionary(Private=pikepdf.String(secret))
        )
        pdf.save(str(path))


def encrypted_pdf(path) -> None:
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(str(path), encryption=pikepdf.Encryption(user="user", owner="owner"))


def image_file(path, fmt: str, *, size=(400, 300), dpi=None, frames: int = 1, mode="RGB"):
    colour = {"RGB": (200, 30, 40), "RGBA": (200, 30, 40, 128), "L": 90}[mode]
    images = [Image.new(mode, size, colour) for _ in range(frames)]
    options = {"dpi": dpi} if dpi else {}
    if frames > 1:
        options.update(save_all=True, append_images=images[1:])
    images[0].save(str(path), fmt, **options)
