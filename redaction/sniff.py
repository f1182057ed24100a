"""Decide a file's type by its content (magic bytes), never by its name."""

from __future__ import annotations

import zipfile
from typing import BinaryIO

from .errors import EmptyFile, UnsupportedType

# A PDF's header may follow up to 1,024 bytes of junk (ISO 32000-1, annex H.3 item 3.4.1).
_PDF_WINDOW = 1024
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls, and password-protected Office files


def sniff_file(f: BinaryIO) -> str:
    """The kind of ``f``: "pdf", "jpeg", "png", "tiff", "docx" or "ofd".

    Reads the first kilobyte (and, for a ZIP, its central directory: a DOCX has
    ``word/document.xml``, an OFD has ``OFD.xml``). Raises ``EmptyFile`` for zero bytes and
    ``UnsupportedType`` for anything else. Leaves ``f`` at position 0.
    """
    f.seek(0)
    try:
        head = f.read(_PDF_WINDOW)
        if not head:
            raise EmptyFile()
        if b"%PDF-" in head:
            return "pdf"
        if head.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return "tiff"
        if head.startswith(_OLE):
            raise UnsupportedType(
                "不支持旧版 Office 文件（.doc/.xls）或加密的 Office 文件：请另存为 DOCX 或 PDF"
            )
        if head.startswith(b"PK\x03\x04"):
            return _sniff_zip(f)
        raise UnsupportedType()
    finally:
        f.seek(0)


def _sniff_zip(f: BinaryIO) -> str:
    f.seek(0)
    try:
        with zipfile.ZipFile(f) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedType("压缩文件已损坏，或不是 DOCX/OFD 文件") from exc
    if "word/document.xml" in names:
        return "docx"
    if "OFD.xml" in names:
        return "ofd"
    raise UnsupportedType()
