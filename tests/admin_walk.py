"""Walking the admin as a user would, and reading each page's visible text for what a
caseworker must never see in Chinese mode: a raw code (``deadline_escalation``, ``letter_id``)
or an untranslated English word. Used by tests/test_admin_walk.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

# Elements whose content is not read on the page.
INVISIBLE = {"script", "style", "template", "noscript", "svg"}
# Attributes a reader sees: hints on hover, placeholders, labels of icon buttons. (Not
# ``alt``: Django's own icons carry fixed English alternative texts — "True", "Search" —
# that no setting translates; they are not on the screen.)
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label"}
BUTTON_TYPES = {"submit", "button", "reset"}

# A snake_case identifier: a choice's value, an event kind, a notification kind, a data key.
RAW_CODE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
# A Latin word of two letters or more; words that are part of data (e-mail addresses, web
# addresses, file names, usernames, tracking numbers…) are taken out of the text first.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
DATA_PATTERNS = [
    re.compile(r"\b[0-9a-f]{12,}(?:\.\.\.|…)?"),  # SHA-256 fingerprints, whole or cut short
    re.compile(r"[\w.+*-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses, masked or not
    re.compile(r"https?://\S+"),  # web addresses
    re.compile(r"\b[\w-]+\.(?:pdf|docx|xlsx|csv|json|html)\b", re.I),  # file names
    # Identifiers mixing digits and capitals: tracking numbers (GK2026…), 统一社会信用代码
    # and ID numbers, masked or not.
    re.compile(r"(?<![A-Za-z0-9])(?=[0-9A-Z*]*[0-9])[0-9A-Z*]{8,}(?![A-Za-z0-9])"),
    # Masked values (a password hash's salt, a masked number): their visible start is data.
    re.compile(r"[0-9A-Za-z]*\*{3,}[0-9A-Za-z]*"),
    # Placeholders a user types into a letter template ({tracking_number}, {year}).
    re.compile(r"\{[a-z][a-z0-9_]*\}"),
]
# Latin that is right in a Chinese page: names of file formats, the keys a help text tells
# to hold (Django's own Chinese: "按住 Control 键或 Mac 上的 Command 键"), and the switch that
# offers English to whoever wants it (written in English on purpose).
ALLOWED_WORDS = frozenset(
    {
        # File formats, and the names a caseworker knows them by.
        *("PDF", "DOCX", "XLSX", "CSV", "JSON", "HTML", "SVG", "PNG", "JPEG", "TIFF", "OFD"),
        *("pdf", "docx", "xlsx", "csv", "json"),
        # Established names: office software, China Post's EMS and its item numbers' "CN",
        # office-automation systems (OA), the SHA-256 fingerprint.
        *("LibreOffice", "EMS", "CN", "OA", "SHA"),
        # Keyboard keys and a directory protocol in Django's own help texts; the header's
        # language switch names English in English, as language choices do.
        *("Control", "Command", "Mac", "LDAP", "English"),
    }
)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in INVISIBLE:
            self._hidden += 1
            return
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if self._hidden:
            return
        for name in VISIBLE_ATTRIBUTES:
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in BUTTON_TYPES and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        if tag not in INVISIBLE:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in INVISIBLE and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def read_page(html: str) -> tuple[list[str], list[str]]:
    """The page's visible text (in pieces) and the targets of its links."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.parts, parser.links


@dataclass
class Finding:
    url: str
    kind: str  # "raw code" or "English"
    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.url}: {self.kind} “{self.word}” in “{self.context[:120]}”"


@dataclass
class Reader:
    """Reads a page's text; ``data`` are the values of the demo's own data that may contain
    Latin letters (usernames, agency codes, numbers of documents) and are not UI text."""

    data: set[str] = field(default_factory=set)

    def findings(self, url: str, texts: list[str]) -> list[Finding]:
        found = []
        for text in texts:
            cleaned = text
            for pattern in DATA_PATTERNS:
                cleaned = pattern.sub(" ", cleaned)
            for value in sorted(self.data, key=len, reverse=True):
                cleaned = cleaned.replace(value, " ")
            for match in RAW_CODE.finditer(cleaned):
                found.append(Finding(url, "raw code", match.group(0), text))
            without_codes = RAW_CODE.sub(" ", cleaned)
            for match in LATIN_WORD.finditer(without_codes):
                if match.group(0) not in ALLOWED_WORDS:
                    found.append(Finding(url, "English", match.group(0), text))
        return found


def admin_links(base_url: str, links: list[str]) -> list[str]:
    """The links of a page that stay in the admin, without fragments, as absolute paths."""
    out = []
    for link in links:
        link, _fragment = urldefrag(link)
        if not link or link.startswith(("javascript:", "mailto:")):
            continue
        parts = urlsplit(link)
        if parts.scheme or parts.netloc:
            continue
        if link.startswith("?"):
            link = urlsplit(base_url).path + link
        elif not link.startswith("/"):
            continue
        if link.startswith("/admin/"):
            out.append(link)
    return out


ID = re.compile(r"/\d+(?=/)")
# A report's cells (``…/cell/<row>/<column>/``) are one kind of page.
CELL = re.compile(r"/cell/[^/]+/[^/]+/$")


def page_shapes(url: str) -> set[str]:
    """What kind of page ``url`` is: pages that differ only by an object's id are the same,
    and a page with parameters (a filter, a sort, facets) counts as one kind per parameter
    name — ``/admin/x/<id>/change/``, ``/admin/x/?state`` — so that a walk reads each
    parameter once, not every combination of them."""
    parts = urlsplit(url)
    path = CELL.sub("/cell/<row>/<column>/", ID.sub("/<id>", parts.path))
    names = {pair.split("=")[0] for pair in parts.query.split("&") if pair}
    return {f"{path}?{name}" for name in names} or {path}
