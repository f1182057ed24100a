"""Finding text on the pages: a term search and the patterns the engine suggests withholding.

Both read PDFium's text layer, so a scanned page (a picture with no text layer) gives nothing:
its regions are drawn by hand. A scan with an OCR layer is searched through that layer (and
the positions are as good as the OCR's). Rectangles are in points, top-left origin of the
displayed page, one per line the match covers, widened by ``RECT_PAD_PT`` on each side so the
box covers the glyphs' anti-aliased edges.

Matching ignores white space and line breaks (a name broken over two lines is found), full- and
half-width forms (NFKC: "１３８…" is "138…") and Latin case.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium

from ._pdf import PDFIUM_LOCK, displayed_box, open_pdfium, rect_to_displayed
from .shapes import Hit, Rect, Suggestion

RECT_PAD_PT = 1.0
# GB 11643: 17 digits, then a check character (ISO 7064 MOD 11-2).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
# Mainland mobile numbers: 1, then 3–9, 11 digits; written whole, 3-4-4 with spaces or hyphens.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9Xx])")
# Bank cards: 16–19 digits, whole or in groups of four (the last group may be shorter).
# Not followed by X: the first 17 digits of an ID number ending in X are not a card.
_CARD = re.compile(r"(?<!\d)(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?![0-9Xx])")


@dataclass
class _PageText:
    """One page's text layer: the raw characters, their searchable form and a position map."""

    index: int
    textpage: pdfium.PdfTextPage
    box: tuple
    raw: str  # one character per PDFium character index, NFKC'd where that stays one char
    dense: str  # ``raw`` without white space, case-folded: what terms are matched in
    dense_to_raw: list[int]

    def rects(self, start: int, end: int) -> list[Rect]:
        """The rectangles of raw characters [start, end)."""
        width, height = _displayed_size(self.box)
        rects = []
        for number in range(self.textpage.count_rects(start, end - start)):
            x0, y0, x1, y1 = rect_to_displayed(self.box, self.textpage.get_rect(number))
            rects.append(
                (
                    round(max(x0 - RECT_PAD_PT, 0.0), 2),
                    round(max(y0 - RECT_PAD_PT, 0.0), 2),
                    round(min(x1 + RECT_PAD_PT, width), 2),
                    round(min(y1 + RECT_PAD_PT, height), 2),
                )
            )
        return rects

    def find_dense(self, needle: str) -> Iterator[tuple[int, int]]:
        """Raw [start, end) of each non-overlapping occurrence of ``needle`` (dense form)."""
        at = self.dense.find(needle)
        while at >= 0:
            yield self.dense_to_raw[at], self.dense_to_raw[at + len(needle) - 1] + 1
            at = self.dense.find(needle, at + len(needle))


def find_terms(pdf_path: str, terms: Iterable[str]) -> list[Hit]:
    """Every occurrence of each term, page by page: ``Hit(page, term, rects)``.

    White space in the document and in the term is ignored, and so are width and Latin case.
    Empty terms are skipped; a term given twice is searched once. Pages without a text layer
    (scans) give no hits. Raises ``EncryptedFile`` / ``BrokenFile``.
    """
    wanted = _needles(terms)
    hits = []
    for page in _pages(pdf_path):
        for term, needle in wanted:
            for start, end in page.find_dense(needle):
                hits.append((page.index, start, Hit(page.index, term, page.rects(start, end))))
    return [hit for _, _, hit in sorted(hits, key=lambda item: item[:2])]


def suggest(pdf_path: str, names: Iterable[str] = ()) -> list[Suggestion]:
    """What the engine proposes to withhold, page by page, in reading order.

    - "id_number": an 18-character mainland ID number (GB 11643) whose check character is
      right (ISO 7064 MOD 11-2) and whose birth date exists (1900–2100); a wrong check is not
      suggested;
    - "mobile": 11 digits starting 13–19 (whole, or 3-4-4 with spaces or hyphens);
    - "bank_card": 16–19 digits (whole, or in groups of four) passing the Luhn check, and not
      an ID number;
    - "name": each of ``names`` (third parties the handler lists), matched as ``find_terms``.

    Digits are matched only as whole numbers (not inside a longer run of digits). The handler
    accepts or rejects each suggestion. Raises ``EncryptedFile`` / ``BrokenFile``.
    """
    wanted = _needles(names)
    suggestions = []
    for page in _pages(pdf_path):
        found = []
        for match in _ID.finditer(page.raw):
            if is_id_number(match.group()):
                found.append((match.start(), match.end(), "id_number", match.group().upper()))
        for match in _MOBILE.finditer(page.raw):
            found.append((match.start(), match.end(), "mobile", _digits(match.group())))
        for match in _CARD.finditer(page.raw):
            digits = _digits(match.group())
            if 16 <= len(digits) <= 19 and luhn_valid(digits) and not is_id_number(digits):
                found.append((match.start(), match.end(), "bank_card", digits))
        for name, needle in wanted:
            for start, end in page.find_dense(needle):
                found.append((start, end, "name", name))
        # The rectangles now, while the page is open; in reading order.
        for start, end, kind, text in sorted(found, key=lambda item: (item[0], item[2])):
            suggestions.append(Suggestion(page.index, kind, text, page.rects(start, end)))
    return suggestions


def is_id_number(text: str) -> bool:
    """A mainland resident ID number: 17 digits, a valid birth date, the right check char."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not 1900 <= year <= 2100 or not _date_exists(year, month, day):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by bank card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _date_exists(year: int, month: int, day: int) -> bool:
    import datetime

    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _fold(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def _needles(terms: Iterable[str]) -> list[tuple[str, str]]:
    """(term as given, its dense form), empty and repeated terms dropped."""
    needles, seen = [], set()
    for term in terms:
        needle = "".join(_fold(char) for char in term if not char.isspace()).casefold()
        if needle and needle not in seen:
            seen.add(needle)
            needles.append((term.strip(), needle))
    return needles


def _displayed_size(box) -> tuple[float, float]:
    left, bottom, right, top, rotation = box
    width, height = right - left, top - bottom
    return (height, width) if rotation in (90, 270) else (width, height)


def _pages(pdf_path: str) -> Iterator[_PageText]:
    """Each page's text, one page loaded at a time, under the PDFium lock."""
    with PDFIUM_LOCK, open_pdfium(pdf_path) as document:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                yield _page_text(index, page, textpage)
            finally:
                textpage.close()
                page.close()


def _page_text(index: int, page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> _PageText:
    count = textpage.count_chars()
    raw = textpage.get_text_range(0, count) if count else ""
    if len(raw) != count:  # PDFium gave a different count (e.g. surrogate pairs): one by one
        raw = "".join(_char_at(textpage, number) for number in range(count))
    raw = "".join(_fold(char) for char in raw)
    dense_chars, dense_to_raw = [], []
    for number, char in enumerate(raw):
        if not char.isspace():
            folded = char.casefold()
            dense_chars.append(folded if len(folded) == 1 else char)
            dense_to_raw.append(number)
    return _PageText(index, textpage, displayed_box(page), raw, "".join(dense_chars), dense_to_raw)


def _char_at(textpage: pdfium.PdfTextPage, number: int) -> str:
    import pypdfium2.raw as pdfium_c

    code = pdfium_c.FPDFText_GetUnicode(textpage, number)
    return chr(code) if 0 < code < 0x110000 else " "
