"""What a record is (``inspect``) and its reviewable PDF (``to_pdf``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings

import img2pdf
from PIL import Image, ImageOps, UnidentifiedImageError

from ._pdf import PDFIUM_LOCK, open_pdfium
from .errors import BrokenFile, ConversionUnavailable, TooManyPages, UnsupportedType
from .shapes import DocumentInfo, PageSize

IMAGE_KINDS = ("jpeg", "png", "tiff")
KINDS = ("pdf", *IMAGE_KINDS, "docx", "ofd")
# img2pdf's page size for an image without a resolution: 96 dpi, as a screen shows it.
DEFAULT_IMAGE_DPI = 96
# How long LibreOffice may take to convert one DOCX.
SOFFICE_TIMEOUT_S = 180


def inspect(path: str, kind: str, *, max_pages: int) -> DocumentInfo:
    """The pages of the file at ``path`` (of the ``kind`` that ``sniff_file`` gave).

    Pages are sized in points as displayed (rotation and crop box applied). An image is one
    page (a TIFF one per frame), sized as ``to_pdf`` lays it out. DOCX and OFD have
    ``pages == []``: they are stored, and reviewable once converted. Raises ``EncryptedFile``
    (a PDF that needs a password), ``BrokenFile``, ``TooManyPages`` (more than ``max_pages``).
    """
    if kind == "pdf":
        return DocumentInfo(kind, _pdf_pages(path, max_pages))
    if kind in IMAGE_KINDS:
        return DocumentInfo(kind, _image_pages(path, max_pages))
    if kind in ("docx", "ofd"):
        return DocumentInfo(kind, [])
    raise UnsupportedType()


def _pdf_pages(path: str, max_pages: int) -> list[PageSize]:
    with PDFIUM_LOCK, open_pdfium(path) as document:
        count = len(document)
        if count > max_pages:
            raise TooManyPages(count, max_pages)
        if count == 0:
            raise BrokenFile("PDF 文件没有页面")
        # get_page_size reads the page dictionary without parsing its content; it applies
        # /Rotate and the crop box as a viewer does.
        return [PageSize(*(round(v, 2) for v in document.get_page_size(i))) for i in range(count)]


def _open_image(path: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BrokenFile("图像尺寸过大，无法处理") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BrokenFile() from exc


def _image_pages(path: str, max_pages: int) -> list[PageSize]:
    image = _open_image(path)
    with image:
        frames = getattr(image, "n_frames", 1)
        if frames > max_pages:
            raise TooManyPages(frames, max_pages)
        pages = []
        try:
            for frame in range(frames):
                image.seek(frame)
                pages.append(_image_page_size(image))
            if frames == 1:
                image.load()  # a truncated single image fails here, not later
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise BrokenFile() from exc
        return pages


def _image_page_size(image: Image.Image) -> PageSize:
    """The page img2pdf makes of this frame: pixels at the image's dpi (96 without one)."""
    dpi_x, dpi_y = image.info.get("dpi", (0, 0)) or (0, 0)
    dpi_x, dpi_y = round(float(dpi_x)), round(float(dpi_y))
    if dpi_x <= 0 or dpi_y <= 0:
        dpi_x = dpi_y = DEFAULT_IMAGE_DPI
    width, height = image.size
    if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientation: turned a quarter
        width, height, dpi_x, dpi_y = height, width, dpi_y, dpi_x
    return PageSize(round(width * 72 / dpi_x, 2), round(height * 72 / dpi_y, 2))


def to_pdf(path: str, kind: str, out_path: str) -> None:
    """Write the reviewable PDF of a record to ``out_path``.

    - pdf: a cleaned copy — annotations and form fields with an appearance are flattened into
      the page (what the reviewer sees is what is reviewed), every other annotation, the
      attachments, JavaScript, outlines, metadata and XMP are dropped; pages are normalised to
      their displayed size with no /Rotate, so rectangles mean the same everywhere.
    - jpeg/png/tiff: img2pdf (a JPEG is embedded as it is, without re-encoding); an image with
      an alpha channel is first flattened onto white.
    - docx: LibreOffice (``soffice --headless --convert-to pdf``) when installed, then cleaned
      as a PDF; else ``ConversionUnavailable``.
    - ofd: ``ConversionUnavailable`` (no free converter is available).
    """
    if kind == "pdf":
        from .release import rebuild_vector

        rebuild_vector(path, out_path)
    elif kind in IMAGE_KINDS:
        _image_to_pdf(path, out_path)
    elif kind == "docx":
        _docx_to_pdf(path, out_path)
    elif kind == "ofd":
        raise ConversionUnavailable(
            "OFD 文件暂无可用的转换工具，无法审查：请向来源单位索取 PDF 版本，或另行转换后上传"
        )
    else:
        raise UnsupportedType()


def _image_to_pdf(path: str, out_path: str) -> None:
    _open_image(path).close()  # the same refusals as inspect (bombs, unreadable files)
    try:
        data = img2pdf.convert(path, rotation=img2pdf.Rotation.ifvalid)
    except (img2pdf.AlphaChannelError, img2pdf.ImageOpenError, ValueError, TypeError):
        data = img2pdf.convert(_flattened_frames(path), rotation=img2pdf.Rotation.ifvalid)
    except Exception as exc:  # img2pdf raises bare Exception for some malformed images
        raise BrokenFile() from exc
    with open(out_path, "wb") as out:
        out.write(data)


def _flattened_frames(path: str) -> list[bytes]:
    """Each frame as an RGB PNG on white (img2pdf refuses alpha channels and odd modes)."""
    import io

    frames = []
    with _open_image(path) as image:
        try:
            for frame in range(getattr(image, "n_frames", 1)):
                image.seek(frame)
                rgba = ImageOps.exif_transpose(image.convert("RGBA"))
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                buffer = io.BytesIO()
                dpi = image.info.get("dpi")
                flat.save(buffer, "PNG", **({"dpi": dpi} if dpi else {}))
                frames.append(buffer.getvalue())
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise BrokenFile() from exc
    return frames


def _docx_to_pdf(path: str, out_path: str) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise ConversionUnavailable(
            "未安装 LibreOffice（soffice），无法将 DOCX 转换为 PDF：请上传 PDF 版本"
        )
    with tempfile.TemporaryDirectory(prefix="redaction-docx-") as workdir:
        source = os.path.join(workdir, "record.docx")
        shutil.copyfile(path, source)
        try:
            subprocess.run(  # noqa: S603 - a fixed program, our own file names
                [
                    soffice,
                    f"-env:UserInstallation=file://{workdir}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    workdir,
                    source,
                ],
                check=True,
                capture_output=True,
                timeout=SOFFICE_TIMEOUT_S,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise ConversionUnavailable("DOCX 转换为 PDF 失败：文件可能已损坏") from exc
        converted = os.path.join(workdir, "record.pdf")
        if not os.path.exists(converted):
            raise ConversionUnavailable("DOCX 转换为 PDF 失败：文件可能已损坏")
        from .release import rebuild_vector

        rebuild_vector(converted, out_path)
