"""The release copy, tested as an adversary would read it.

After ``build_release`` nothing withheld may be found by any tool: text extraction (pdftotext,
PDFium, pypdf), the document's metadata and XMP, annotations, form fields, attachments, any
string or decoded stream of any object, and the pixels under a box. Pure: no database.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import pikepdf
import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from redaction import (
    BrokenFile,
    EmptyFile,
    EncryptedFile,
    InvalidPlan,
    PagePlan,
    Region,
    build_release,
    find_terms,
    inspect,
    render_page,
    sha256_of,
    suggest,
    to_pdf,
)
from tests import redaction_samples as samples

pytestmark = pytest.mark.skipif(not samples.has_cjk_font(), reason="fonts-wqy-zenhei missing")

FOOTER = "申请编号 GK-2026-000123 第 {page} 页 共 {pages} 页"
PRIVACY = "第十五条 个人隐私"
SECRETS = ["张秘密", "11010519491231002X", "13800138000", "李机密", "赵不在"]


def footer(page: int, pages: int) -> str:
    return FOOTER.format(page=page, pages=pages)


# --- the readers an adversary would use -------------------------------------------------


def pdftotext_pages(path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    return out.split("\f")[:-1]


def pdfium_pages(path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [document[index].get_textpage().get_text_range() for index in range(len(document))]
    finally:
        document.close()


def pypdf_pages(path) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages]


def every_byte_string(path) -> list[bytes]:
    """The raw file, every string, name and decoded stream of every object in it."""
    found = [path.read_bytes()]
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            found.extend(_strings_of(obj))
    return found


def _strings_of(obj, top: bool = True) -> list[bytes]:
    """Strings inside ``obj``; indirect objects inside are visited by the caller's loop."""
    if not top and getattr(obj, "is_indirect", False):
        return []
    if isinstance(obj, pikepdf.Stream):
        try:
            data = [obj.read_bytes()]
        except pikepdf.PdfError:
            data = [obj.read_raw_bytes()]
        return data + _strings_of(obj.stream_dict, top=False)
    if isinstance(obj, pikepdf.Dictionary):
        return [bytes(str(key), "utf-8") for key in obj] + [
            part for value in obj.values() for part in _strings_of(value, top=False)
        ]
    if isinstance(obj, pikepdf.Array):
        return [part for value in obj for part in _strings_of(value, top=False)]
    if isinstance(obj, pikepdf.String):
        return [bytes(obj)]
    return []


def encodings(secret: str) -> list[bytes]:
    return [secret.encode(codec) for codec in ("utf-8", "utf-16-be", "utf-16-le", "gb18030")]


def assert_nowhere(path, secrets) -> None:
    texts = {
        "pdftotext": pdftotext_pages(path),
        "pdfium": pdfium_pages(path),
        "pypdf": pypdf_pages(path),
    }
    blobs = every_byte_string(path)
    for secret in secrets:
        for reader, pages in texts.items():
            for number, text in enumerate(pages):
                assert secret not in text.replace(" ", ""), (reader, number, secret)
        for blob in blobs:
            for encoded in encodings(secret):
                assert encoded not in blob, (secret, blob[:80])


def assert_document_clean(path) -> None:
    with pikepdf.open(path) as pdf:
        assert "/Info" not in pdf.trailer
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}  # no XMP, names, outlines, forms…
        assert len(pdf.attachments) == 0
        for page in pdf.pages:
            assert "/Annots" not in page.obj
            assert set(page.obj.keys()) <= {
                "/Type",
                "/Parent",
                "/MediaBox",
                "/Contents",
                "/Resources",
                "/Rotate",
                "/Trans",
            }


def page_images(path, index: int) -> list[Image.Image]:
    with pikepdf.open(path) as pdf:
        return [
            pikepdf.PdfImage(image).as_pil_image()
            for image in _all_images(pdf.pages[index].obj.Resources)
        ]


def _all_images(resources) -> list:
    images = []
    for xobject in resources.get("/XObject", {}).values():
        if xobject.get("/Subtype") == "/Image":
            images.append(xobject)
        elif "/Resources" in xobject:
            images.extend(_all_images(xobject.Resources))
    return images


def region_pixels(image: Image.Image, rect, page_width: float, inset: int = 2) -> list[int]:
    """The grey values of ``image`` inside ``rect`` (points), ``inset`` pixels in from the edge
    (JPEG blocks straddling the edge carry a little of the released neighbourhood)."""
    scale = image.width / page_width
    x0, y0, x1, y1 = (round(value * scale) for value in rect)
    crop = image.convert("L").crop((x0 + inset, y0 + inset, x1 - inset, y1 - inset))
    return list(crop.tobytes())


# --- the documents ------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path):
    """Four pages: secrets to box on page 0, a public page, a page withheld whole, a page left
    out; the same secret in every hidden layer (Info, XMP, annotations, a form field, an
    attachment, JavaScript, an outline, page labels, private page data)."""
    path = tmp_path / "source.pdf"
    samples.text_pdf(
        path,
        [
            [
                "关于张秘密同志的情况说明",
                "身份证号 11010519491231002X",
                "联系电话 13800138000",
                "本段为可以公开的正文。",
            ],
            ["第二页全部公开。"],
            ["第三页：李机密 的内部事务"],
            ["第四页：赵不在 不属于本申请"],
        ],
    )
    samples.add_hidden_layers(path, "张秘密")
    return path


def redact_suggestions(path, names=()) -> list[PagePlan]:
    regions: dict[int, list[Region]] = {}
    for found in suggest(str(path), names):
        for rect in found.rects:
            regions.setdefault(found.page, []).append(Region(rect, PRIVACY))
    return regions


def test_release_removes_every_layer(tmp_path, source):
    regions = redact_suggestions(source, names=["张秘密"])
    assert len(regions[0]) == 3  # the name, the ID number, the mobile
    plan = [
        PagePlan(0, regions=regions[0]),
        PagePlan(1),
        PagePlan(2, withhold_whole="第十四条 内部事务"),
        # page 3 (赵不在) is not in the plan: left out
    ]
    out = tmp_path / "release.pdf"
    info = build_release(str(source), plan, str(out), footer=FOOTER)

    assert info.pages == 3
    assert info.sha256 == sha256_of(str(out))
    assert_nowhere(out, SECRETS)
    assert_document_clean(out)
    text = pdftotext_pages(out)
    assert len(text) == 3
    for number, page_text in enumerate(text, start=1):
        assert footer(number, 3) in page_text
    assert PRIVACY in text[0]
    assert "本段为可以公开的正文。" not in text[0]  # a redacted page is a picture…
    assert "第二页全部公开。" in text[1]  # …a public page keeps its text
    assert "本页不予公开" in text[2] and "第十四条 内部事务" in text[2]


def test_boxes_are_opaque_in_the_picture_itself(tmp_path, source):
    regions = redact_suggestions(source, names=["张秘密"])
    out = tmp_path / "release.pdf"
    build_release(str(source), [PagePlan(0, regions=regions[0])], str(out), footer=FOOTER)
    [picture] = page_images(out, 0)  # the page is one picture, nothing else
    width = inspect(str(out), "pdf", max_pages=5).pages[0].width
    for region in regions[0]:
        pixels = region_pixels(picture, region.rect, width)
        assert pixels and max(pixels) < 40, region
    # And as any viewer shows it: the box with its label, nothing of the text.
    shown = Image.open(io.BytesIO(render_page(str(out), 0, dpi=150)))
    for region in regions[0]:
        pixels = region_pixels(shown, region.rect, width, inset=0)
        dark = sum(1 for value in pixels if value < 40)
        assert dark / len(pixels) > 0.6  # the rest is the white label


def test_same_decisions_same_bytes(tmp_path, source):
    plan = [PagePlan(0, regions=[Region((70, 60, 300, 80), PRIVACY)]), PagePlan(1)]
    first = build_release(str(source), plan, str(tmp_path / "a.pdf"), footer=FOOTER)
    second = build_release(str(source), plan, str(tmp_path / "b.pdf"), footer=FOOTER)
    assert first == second


def test_reviewable_copy_then_release(tmp_path, source):
    """The path the records side takes: to_pdf, search the copy, release from the copy."""
    review = tmp_path / "review.pdf"
    to_pdf(str(source), "pdf", str(review))
    hits = find_terms(str(review), ["张秘密", "李机密"])
    plan = [
        PagePlan(hit.page, regions=[Region(rect, PRIVACY) for rect in hit.rects]) for hit in hits
    ]
    out = tmp_path / "release.pdf"
    build_release(str(review), plan, str(out), footer=FOOTER)
    assert_nowhere(out, ["张秘密", "李机密", "赵不在"])
    assert_document_clean(out)


def test_scanned_pdf_with_ocr_layer(tmp_path):
    """A scan: the picture shows the secret, an invisible OCR layer spells it."""
    path = tmp_path / "scan.pdf"
    samples.scanned_pdf(path, ["申请人 张秘密", "身份证号 11010519491231002X", "其余内容公开"])
    regions = redact_suggestions(path, names=["张秘密"])
    out = tmp_path / "release.pdf"
    build_release(str(path), [PagePlan(0, regions=regions[0])], str(out), footer=FOOTER)
    assert_nowhere(out, ["张秘密", "11010519491231002X"])
    [picture] = page_images(out, 0)  # the scan itself is not in the release, only our render
    width = inspect(str(out), "pdf", max_pages=5).pages[0].width
    for region in regions[0]:
        assert max(region_pixels(picture, region.rect, width)) < 40


def test_scanned_pdf_without_text_layer_boxed_by_hand(tmp_path):
    path = tmp_path / "scan.pdf"
    boxes = samples.scanned_pdf(path, ["申请人 张秘密", "其余内容公开"], ocr_layer=False)
    assert suggest(str(path), ["张秘密"]) == []
    x0, y0, x1, y1 = boxes[0]
    region = Region((x0 - 2, y0 - 2, x1 + 2, y1 + 2), PRIVACY)
    out = tmp_path / "release.pdf"
    build_release(str(path), [PagePlan(0, regions=[region])], str(out), footer=FOOTER)
    [picture] = page_images(out, 0)
    assert max(region_pixels(picture, region.rect, 595.28)) < 40


def test_shared_resources_do_not_carry_other_pages(tmp_path):
    """One resource dictionary for all pages (some generators do this): a public page must not
    bring the withheld page's image or text along, though it never draws them."""
    path = tmp_path / "shared.pdf"
    samples.text_pdf(path, [["公开的第一页"], ["第二页：张秘密"]])
    secret_picture = io.BytesIO()
    Image.new("RGB", (50, 20), (255, 0, 0)).save(secret_picture, "PNG")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        image = pikepdf.Stream(pdf, b"\xff\x00\x00" * 1000)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = 50, 20, 8
        image.ColorSpace = pikepdf.Name.DeviceRGB
        form = pikepdf.Stream(pdf, b"BT /F1 12 Tf 10 10 Td (secret-form) Tj ET")
        form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 99, 99]
        first, second = pdf.pages[0].obj, pdf.pages[1].obj
        shared = pdf.make_indirect(
            pikepdf.Dictionary(
                Font=pikepdf.Dictionary(
                    {**dict(first.Resources.Font.items()), **dict(second.Resources.Font.items())}
                ),
                XObject=pikepdf.Dictionary(Secret=image, SecretForm=form),
            )
        )
        second.Contents = pdf.make_stream(
            second.Contents.read_bytes() + b"\nq 50 0 0 20 100 100 cm /Secret Do Q /SecretForm Do"
        )
        first.Resources = shared
        second.Resources = shared
        pdf.save(path)
    out = tmp_path / "release.pdf"
    build_release(str(path), [PagePlan(0)], str(out), footer=FOOTER)
    assert page_images(out, 0) == []
    assert_nowhere(out, ["张秘密", "secret-form"])
    with pikepdf.open(out) as pdf:
        assert not any(
            isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
            for obj in pdf.objects
        )


def test_rasterize_all_keeps_nothing_of_the_source_fonts(tmp_path, source):
    out = tmp_path / "release.pdf"
    build_release(
        str(source), [PagePlan(0), PagePlan(1)], str(out), footer=FOOTER, rasterize_all=True
    )
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:  # one picture each, no source page drawn as a form
            xobjects = list(page.obj.Resources.get("/XObject", {}).values())
            assert [str(xobject.Subtype) for xobject in xobjects] == ["/Image"]
    assert "第二页全部公开。" not in pdftotext_pages(out)[1]


def test_rotated_and_cropped_pages_keep_their_look(tmp_path):
    path = tmp_path / "rotated.pdf"
    samples.text_pdf(path, [["横向页面 张秘密 其余公开"], ["公开页"]], rotate=90)
    [hit] = find_terms(str(path), ["张秘密"])
    out = tmp_path / "release.pdf"
    plan = [PagePlan(0, regions=[Region(rect, PRIVACY) for rect in hit.rects]), PagePlan(1)]
    build_release(str(path), plan, str(out), footer=FOOTER)
    assert (
        inspect(str(out), "pdf", max_pages=5).pages == inspect(str(path), "pdf", max_pages=5).pages
    )
    assert_nowhere(out, ["张秘密"])
    with pikepdf.open(out) as pdf:
        assert all(int(page.obj.get("/Rotate", 0)) == 0 for page in pdf.pages)
    text = pdftotext_pages(out)
    assert "公开页" in text[1] and footer(2, 2) in text[1]


def test_refusals(tmp_path, source):
    out = tmp_path / "release.pdf"
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnothing")
    locked = tmp_path / "locked.pdf"
    samples.encrypted_pdf(locked)
    for path, error in ((empty, EmptyFile), (broken, BrokenFile), (locked, EncryptedFile)):
        with pytest.raises(error):
            build_release(str(path), [PagePlan(0)], str(out), footer=FOOTER)
    for plan, message in (
        ([], "发布版本至少需要包含一页"),
        ([PagePlan(1), PagePlan(1)], "第 2 页在发布计划中出现了两次"),
        ([PagePlan(9)], "第 10 页不存在（共 4 页）"),
        ([PagePlan(0, regions=[Region((50, 50, 40, 60), PRIVACY)])], "第 1 页的遮盖区域无效"),
        (
            [PagePlan(0, regions=[Region((900, 50, 990, 60), PRIVACY)])],
            "第 1 页的遮盖区域在页面之外",
        ),
    ):
        with pytest.raises(InvalidPlan) as refused:
            build_release(str(source), plan, str(out), footer=FOOTER)
        assert str(refused.value).startswith(message)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.pdf",
        "empty.pdf",
        "locked.pdf",
        "source.pdf",
    ]


def test_labels_fit_small_boxes(tmp_path, source):
    """A box one line high and a few characters wide still carries its label, clipped to it."""
    out = tmp_path / "release.pdf"
    plan = [
        PagePlan(
            0,
            regions=[
                Region((72, 300, 400, 330), "第十五条 个人隐私"),
                Region((72, 400, 110, 412), "第十五条 个人隐私"),
                Region((72, 450, 80, 454), "第十五条 个人隐私"),
            ],
        )
    ]
    build_release(str(source), plan, str(out), footer=FOOTER)
    shown = Image.open(io.BytesIO(render_page(str(out), 0, dpi=144))).convert("L")
    for x0, y0, x1, y1 in ((72, 300, 400, 330), (72, 400, 110, 412), (72, 450, 80, 454)):
        crop = shown.crop((x0 * 2 + 1, y0 * 2 + 1, x1 * 2 - 1, y1 * 2 - 1))
        values = crop.tobytes()
        assert min(values) < 40  # the box
        if x1 - x0 > 30:
            assert max(values) > 200  # the label
    # the label never spills out of its box
    margin = shown.crop((72 * 2, 413 * 2 + 2, 110 * 2, 430 * 2)).tobytes()
    assert min(margin) > 200


def test_colour_is_kept_and_grey_pages_are_grey(tmp_path):
    """A red seal stays red; a page of black text becomes a grey picture (a third the size)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "seal.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    for colour in ((0.8, 0, 0), (0, 0, 0)):
        canvas.setFont(samples.font(), 12)
        canvas.setFillColorRGB(*colour)
        canvas.drawString(72, 700, "安顺市人民政府办公室（印章） 张秘密")
        canvas.circle(300, 500, 60, stroke=1, fill=1)
        canvas.showPage()
    canvas.save()
    plan = [
        PagePlan(hit.page, regions=[Region(rect, PRIVACY) for rect in hit.rects])
        for hit in find_terms(str(path), ["张秘密"])
    ]
    out = tmp_path / "release.pdf"
    build_release(str(path), plan, str(out), footer=FOOTER)
    [red], [black] = page_images(out, 0), page_images(out, 1)
    assert (red.mode, black.mode) == ("RGB", "L")
    r, g, b = red.getpixel((round(300 * red.width / 595.28), round(342 * red.width / 595.28)))
    assert r > 150 and g < 80 and b < 80
    assert_nowhere(out, ["张秘密"])


def test_label_too_long_for_its_box_is_shortened_to_the_article(tmp_path, source):
    out = tmp_path / "release.pdf"
    plan = [PagePlan(0, regions=[Region((72, 400, 112, 414), PRIVACY)])]  # three characters
    build_release(str(source), plan, str(out), footer=FOOTER)
    [text] = pdftotext_pages(out)
    assert "第十五条" in text
    assert "个人隐私" not in text
