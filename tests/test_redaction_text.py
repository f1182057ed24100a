"""Finding text and suggesting what to withhold: patterns, checksums, positions.

Pure: no database.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from redaction import Suggestion, find_terms, is_id_number, luhn_valid, render_page, suggest
from tests import redaction_samples as samples

pytestmark = pytest.mark.skipif(not samples.has_cjk_font(), reason="fonts-wqy-zenhei missing")

VALID_IDS = ["11010519491231002X", "330106198506121237", "510107199001010018"]


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_id_numbers(number):
    assert is_id_number(number)
    assert is_id_number(number.lower())


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check character
        "330106198506121236",
        "510107199001010017",
        "440524188001010014",  # valid check character, but born in 1880
        "110105194902300022",  # 30 February: no such birth date
        "11010519491231002",  # 17 characters
    ],
)
def test_invalid_id_numbers(number):
    assert not is_id_number(number)


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert luhn_valid("6217000010001234569")
    assert not luhn_valid("4111111111111112")


def kinds(found: list[Suggestion]) -> list[tuple[int, str, str]]:
    return [(item.page, item.kind, item.text) for item in found]


def test_suggest_patterns_and_names(tmp_path):
    path = tmp_path / "letter.pdf"
    samples.text_pdf(
        path,
        [
            [
                "申请人李四，身份证号 11010519491231002X，联系电话 13800138000。",
                "错误证号 110105194912310021 不应提示；座机 010-12345678 也不是手机。",
                "银行卡 4111 1111 1111 1111，另一张 6217000010001234569。",
                "无效卡号 4111111111111112；十二位 138001380001 不是手机号。",
            ],
            ["第三人王五的手机 139-0013-9000，全角号码 １３７００１３７０００。", "张"],
        ],
    )
    found = suggest(str(path), names=["王五", "李四", " ", "李四"])
    assert kinds(found) == [
        (0, "name", "李四"),
        (0, "id_number", "11010519491231002X"),
        (0, "mobile", "13800138000"),
        (0, "bank_card", "4111111111111111"),
        (0, "bank_card", "6217000010001234569"),
        (1, "name", "王五"),
        (1, "mobile", "13900139000"),
        (1, "mobile", "13700137000"),
    ]
    assert all(len(item.rects) == 1 for item in found)


def test_term_search_ignores_line_breaks_width_and_case(tmp_path):
    path = tmp_path / "terms.pdf"
    samples.text_pdf(path, [["甲方：ＡＢＣ公司 与 赵", "六 签订合同"], ["abc公司"]])
    hits = find_terms(str(path), ["赵六", "ABC公司", "不存在"])
    assert [(hit.page, hit.text, len(hit.rects)) for hit in hits] == [
        (0, "ABC公司", 1),
        (0, "赵六", 2),  # one rectangle per line
        (1, "ABC公司", 1),
    ]


def dark_share(png: bytes, rect, dpi: int) -> float:
    """The share of dark pixels of the rendered page inside ``rect`` (points)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    scale = dpi / 72
    crop = image.crop(tuple(round(value * scale) for value in rect))
    pixels = list(crop.tobytes())
    return sum(1 for value in pixels if value < 128) / len(pixels)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_rects_are_where_the_reviewer_sees_the_text(tmp_path, rotate):
    path = tmp_path / "rotated.pdf"
    lines = ["第一行没有要找的内容", "联系电话 13800138000 请勿外传"]
    boxes = samples.text_pdf(path, [lines], rotate=rotate)
    [hit] = find_terms(str(path), ["13800138000"])
    [rect] = hit.rects
    png = render_page(str(path), 0, dpi=72)
    assert dark_share(png, rect, 72) > 0.15
    if rotate == 0:
        x0, y0, x1, y1 = rect
        assert boxes[0][1][1] - 2 <= y0 < y1 <= boxes[0][1][3] + 2
        assert 72 < x0 < x1 < boxes[0][1][2]


def test_scanned_page_without_text_layer_gives_nothing(tmp_path):
    path = tmp_path / "scan.pdf"
    samples.scanned_pdf(path, ["身份证号 11010519491231002X"], ocr_layer=False)
    assert suggest(str(path)) == []
    assert find_terms(str(path), ["身份证"]) == []


def test_scanned_page_with_ocr_layer_is_searched(tmp_path):
    path = tmp_path / "scan.pdf"
    boxes = samples.scanned_pdf(path, ["身份证号 11010519491231002X"])
    [found] = suggest(str(path))
    assert (found.kind, found.text) == ("id_number", "11010519491231002X")
    [(x0, y0, x1, y1)] = found.rects
    assert boxes[0][1] - 3 <= y0 < y1 <= boxes[0][3] + 3


def test_id_number_ending_in_x_is_not_also_a_card(tmp_path):
    """Its first 17 digits pass Luhn; the X after them makes them part of the ID, not a card."""
    assert luhn_valid("52040219520913152")
    path = tmp_path / "id.pdf"
    samples.text_pdf(path, [["身份证号：52040219520913152X  籍贯：贵州省安顺市"]])
    assert kinds(suggest(str(path))) == [(0, "id_number", "52040219520913152X")]
