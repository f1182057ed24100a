"""The redaction engine's intake: type by content, refusals, page sizes, reviewable PDFs, render.

Pure: no database. Files are built by tests/redaction_samples.py.
"""

from __future__ import annotations

import io
import math
import shutil
import zipfile

import pikepdf
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4, landscape

import redaction
from redaction import (
    BrokenFile,
    ConversionUnavailable,
    EmptyFile,
    EncryptedFile,
    NoSuchPage,
    PageSize,
    TooManyPages,
    UnsupportedType,
    inspect,
    render_page,
    sniff_file,
    to_pdf,
)
from tests import redaction_samples as samples

pytestmark = pytest.mark.skipif(not samples.has_cjk_font(), reason="fonts-wqy-zenhei missing")


def sniff_path(path) -> str:
    with open(path, "rb") as f:
        kind = sniff_file(f)
        assert f.tell() == 0
        return kind


def test_sniff_decides_by_content_not_by_name(tmp_path):
    pdf = tmp_path / "photo.jpg"  # a PDF named as a JPEG
    samples.text_pdf(pdf, [["正文"]])
    png = tmp_path / "scan.pdf"  # a PNG named as a PDF
    samples.image_file(png, "PNG")
    jpeg = tmp_path / "a.png"
    samples.image_file(jpeg, "JPEG")
    tiff = tmp_path / "a.docx"
    samples.image_file(tiff, "TIFF")
    assert [sniff_path(p) for p in (pdf, png, jpeg, tiff)] == ["pdf", "png", "jpeg", "tiff"]


def test_sniff_pdf_header_after_junk():
    assert sniff_file(io.BytesIO(b"\n" * 100 + b"%PDF-1.4\n...")) == "pdf"


def zip_bytes(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_sniff_zip_by_member_names():
    docx = zip_bytes({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"})
    ofd = zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<d/>"})
    xlsx = zip_bytes({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"})
    assert sniff_file(docx) == "docx"
    assert sniff_file(ofd) == "ofd"
    with pytest.raises(UnsupportedType) as refused:
        sniff_file(xlsx)
    assert str(refused.value) == "不支持的文件类型：仅接受 PDF、JPEG、PNG、TIFF、DOCX、OFD 文件"
    assert xlsx.tell() == 0


def test_sniff_refuses_empty_and_unknown():
    with pytest.raises(EmptyFile) as empty:
        sniff_file(io.BytesIO(b""))
    assert str(empty.value) == "文件为空（0 字节）"
    with pytest.raises(UnsupportedType):
        sniff_file(io.BytesIO(b"<html><body>not a record</body></html>"))
    with pytest.raises(UnsupportedType):
        sniff_file(io.BytesIO(b"PK\x03\x04 truncated zip"))
    with pytest.raises(UnsupportedType) as ole:
        sniff_file(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600))
    assert "DOCX" in str(ole.value)


def test_inspect_pdf_page_sizes_as_displayed(tmp_path):
    path = tmp_path / "mixed.pdf"
    samples.text_pdf(path, [["一"], ["二"]])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[1].obj.Rotate = 90
        pdf.pages[0].obj.CropBox = [0, 0, 300, 400]
        pdf.save(path)
    info = inspect(str(path), "pdf", max_pages=10)
    width, height = A4
    assert info.kind == "pdf"
    assert info.pages == [PageSize(300, 400), PageSize(round(height, 2), round(width, 2))]


def test_inspect_refuses_too_many_pages(tmp_path):
    path = tmp_path / "long.pdf"
    samples.text_pdf(path, [["页"]] * 4)
    assert len(inspect(str(path), "pdf", max_pages=4).pages) == 4
    with pytest.raises(TooManyPages) as refused:
        inspect(str(path), "pdf", max_pages=3)
    assert str(refused.value) == "文件共 4 页，超过上限 3 页"
    assert (refused.value.pages, refused.value.max_pages) == (4, 3)


def test_encrypted_pdf_refused_everywhere(tmp_path):
    path = tmp_path / "locked.pdf"
    samples.encrypted_pdf(path)
    assert sniff_path(path) == "pdf"
    for call in (
        lambda: inspect(str(path), "pdf", max_pages=10),
        lambda: to_pdf(str(path), "pdf", str(tmp_path / "out.pdf")),
        lambda: render_page(str(path), 0),
    ):
        with pytest.raises(EncryptedFile) as refused:
            call()
        assert str(refused.value) == "文件已加密，无法审查：请上传未加密的版本"
    assert not (tmp_path / "out.pdf").exists()


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    """Permission flags (禁止复制…) without a password to open: readable, and the copy is not
    encrypted."""
    path = tmp_path / "restricted.pdf"
    samples.text_pdf(path, [["公开内容"]])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user="", owner="owner"))
    assert len(inspect(str(path), "pdf", max_pages=10).pages) == 1
    to_pdf(str(path), "pdf", str(tmp_path / "copy.pdf"))
    with pikepdf.open(tmp_path / "copy.pdf") as copy:
        assert not copy.is_encrypted


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n garbage with no objects at all", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"],
)
def test_broken_pdf_refused(tmp_path, content):
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    assert sniff_path(path) == "pdf"
    with pytest.raises(BrokenFile) as refused:
        inspect(str(path), "pdf", max_pages=10)
    assert str(refused.value) == "文件已损坏，无法读取"
    with pytest.raises(BrokenFile):
        to_pdf(str(path), "pdf", str(tmp_path / "out.pdf"))
    assert not (tmp_path / "out.pdf").exists()


def test_broken_image_refused(tmp_path):
    path = tmp_path / "cut.png"
    samples.image_file(path, "PNG", size=(600, 600))
    path.write_bytes(path.read_bytes()[:200])
    assert sniff_path(path) == "png"
    with pytest.raises(BrokenFile):
        inspect(str(path), "png", max_pages=10)


@pytest.mark.parametrize(
    ("fmt", "kind", "options", "expected"),
    [
        ("JPEG", "jpeg", {"dpi": (200, 200)}, [PageSize(144, 108)]),
        ("PNG", "png", {}, [PageSize(300, 225)]),  # no resolution: 96 dpi
        ("PNG", "png", {"mode": "RGBA", "dpi": (72, 72)}, [PageSize(400, 300)]),
        ("TIFF", "tiff", {"frames": 3, "dpi": (100, 100)}, [PageSize(288, 216)] * 3),
    ],
)
def test_images_one_page_each_and_their_pdf_agrees(tmp_path, fmt, kind, options, expected):
    path = tmp_path / f"image.{fmt.lower()}"
    samples.image_file(path, fmt, **options)
    assert sniff_path(path) == kind
    assert inspect(str(path), kind, max_pages=10).pages == expected
    out = tmp_path / "image.pdf"
    to_pdf(str(path), kind, str(out))
    assert inspect(str(out), "pdf", max_pages=10).pages == expected


def test_tiff_frames_count_against_the_limit(tmp_path):
    path = tmp_path / "fax.tiff"
    samples.image_file(path, "TIFF", frames=3)
    with pytest.raises(TooManyPages):
        inspect(str(path), "tiff", max_pages=2)


def test_docx_and_ofd_are_stored_not_reviewable(tmp_path, monkeypatch):
    docx = tmp_path / "letter.docx"
    docx.write_bytes(zip_bytes({"word/document.xml": b"<w/>"}).getvalue())
    ofd = tmp_path / "invoice.ofd"
    ofd.write_bytes(zip_bytes({"OFD.xml": b"<ofd/>"}).getvalue())
    assert inspect(str(docx), "docx", max_pages=10).pages == []
    assert inspect(str(ofd), "ofd", max_pages=10).pages == []
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConversionUnavailable) as no_soffice:
        to_pdf(str(docx), "docx", str(tmp_path / "out.pdf"))
    assert "LibreOffice" in str(no_soffice.value)
    with pytest.raises(ConversionUnavailable) as no_ofd:
        to_pdf(str(ofd), "ofd", str(tmp_path / "out.pdf"))
    assert "OFD" in str(no_ofd.value)


def test_docx_goes_through_soffice_when_installed(tmp_path, monkeypatch):
    """The converter is called as LibreOffice is; its PDF is then cleaned like any PDF."""
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    made = tmp_path / "made.pdf"
    samples.text_pdf(made, [["转换后的正文"]])
    fake.write_text(
        "#!/bin/sh\n"
        'for a; do last="$a"; case "$a" in --outdir) next=1;; *) [ -n "$next" ] && out="$a"; next=;; esac; done\n'
        f'cp "{made}" "$out/$(basename "$last" .docx).pdf"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    docx = tmp_path / "letter.docx"
    docx.write_bytes(zip_bytes({"word/document.xml": b"<w/>"}).getvalue())
    out = tmp_path / "out.pdf"
    to_pdf(str(docx), "docx", str(out))
    assert inspect(str(out), "pdf", max_pages=10).pages == [PageSize(*(round(v, 2) for v in A4))]


def test_render_page_png_as_displayed(tmp_path):
    path = tmp_path / "wide.pdf"
    samples.text_pdf(path, [["第一页"], ["第二页"]], page_size=landscape(A4))
    png = render_page(str(path), 1, dpi=72)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (math.ceil(A4[1]), math.ceil(A4[0]))  # PDFium rounds up
    assert image.convert("L").getextrema()[0] < 100  # the text is drawn
    with pytest.raises(NoSuchPage) as missing:
        render_page(str(path), 2)
    assert str(missing.value) == "第 3 页不存在（共 2 页）"


def test_to_pdf_cleans_a_pdf(tmp_path):
    """The reviewable copy keeps what is seen and drops what is not."""
    path = tmp_path / "source.pdf"
    samples.text_pdf(path, [["公开的正文"], ["第二页"]])
    samples.add_hidden_layers(path, "王秘密")
    out = tmp_path / "review.pdf"
    to_pdf(str(path), "pdf", str(out))
    with pikepdf.open(out) as copy:
        assert "/Info" not in copy.trailer
        assert set(copy.Root.keys()) == {"/Type", "/Pages"}
        assert all("/Annots" not in page.obj for page in copy.pages)
        assert len(copy.pages) == 2
    assert (
        redaction.inspect(str(out), "pdf", max_pages=5).pages
        == [PageSize(*(round(v, 2) for v in A4))] * 2
    )
