"""The errors of the redaction engine.

Every error is a ``RedactionError``; ``str(error)`` is a Chinese sentence fit to show the user
(``error.message``), so a caller can answer bad input with it directly.
"""

from __future__ import annotations


class RedactionError(Exception):
    """Base of every error this package raises on purpose."""

    message = "文件无法处理"

    def __init__(self, message: str | None = None):
        self.message = message or self.message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UnsupportedType(RedactionError):
    """The content is not one of the accepted types (decided by content, not by name)."""

    message = "不支持的文件类型：仅接受 PDF、JPEG、PNG、TIFF、DOCX、OFD 文件"


class EmptyFile(RedactionError):
    """The file has zero bytes."""

    message = "文件为空（0 字节）"


class BrokenFile(RedactionError):
    """The file claims a type but cannot be read as one (truncated, corrupt)."""

    message = "文件已损坏，无法读取"


class EncryptedFile(RedactionError):
    """The PDF needs a password to open."""

    message = "文件已加密，无法审查：请上传未加密的版本"


class TooManyPages(RedactionError):
    """The document has more pages (or TIFF frames) than the limit allows."""

    def __init__(self, pages: int, max_pages: int):
        self.pages = pages
        self.max_pages = max_pages
        super().__init__(f"文件共 {pages} 页，超过上限 {max_pages} 页")


class ConversionUnavailable(RedactionError):
    """The record cannot be turned into a reviewable PDF on this machine."""

    message = "无法将该文件转换为 PDF"


class NoSuchPage(RedactionError, IndexError):
    """A page index outside the document (indexes are 0-based)."""

    def __init__(self, index: int, pages: int):
        self.index = index
        self.pages = pages
        super().__init__(f"第 {index + 1} 页不存在（共 {pages} 页）")


class InvalidPlan(RedactionError, ValueError):
    """A release plan that cannot be carried out (a page twice, a region off the page…)."""
