"""The values the engine takes and returns: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

# (x0, y0, x1, y1) in points, origin at the TOP-LEFT of the displayed page (rotation and crop
# box applied): what a reviewer sees on the rendered image, divided by dpi/72.
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageSize:
    """A page as displayed, in points (1/72 inch)."""

    width: float
    height: float


@dataclass(frozen=True)
class DocumentInfo:
    """What ``inspect`` found: the kind and the pages (``[]`` for DOCX/OFD until converted)."""

    kind: str
    pages: list[PageSize]


@dataclass(frozen=True)
class Hit:
    """A text found on a page (0-based), with the rectangles it covers (one per line)."""

    page: int
    text: str
    rects: list[Rect]


@dataclass(frozen=True)
class Suggestion:
    """A pattern the engine proposes to withhold; the handler accepts or rejects it.

    ``kind``: "id_number" (18-digit mainland ID with a valid ISO 7064 check digit), "mobile"
    (1[3-9]x, 11 digits), "bank_card" (16–19 digits passing Luhn), "name" (a given name).
    """

    page: int
    kind: str
    text: str
    rects: list[Rect]


@dataclass(frozen=True)
class Region:
    """A box to remove from a page, and the label printed on it (e.g. "第十五条 个人隐私")."""

    rect: Rect
    label: str


@dataclass(frozen=True)
class PagePlan:
    """The decision for one page of the release (index 0-based).

    ``withhold_whole``: the label of a page withheld entirely — the page stays in the release,
    blank but for its label. ``regions``: boxes removed from a page otherwise released. A page
    with neither is released as it is. Pages not in the plan are left out of the release.
    """

    index: int
    withhold_whole: str | None = None
    regions: list[Region] = field(default_factory=list)


@dataclass(frozen=True)
class ReleaseInfo:
    """The release copy written: the SHA-256 of its bytes (hex) and its page count."""

    sha256: str
    pages: int
