"""The CJK font printed on release copies (labels, footers).

``FONT_PATH`` is the module setting (a caller such as a Django app may set it from its own
settings); ``build_release(..., font_path=...)`` overrides it for one call. The font is embedded
(subset) in the release, so every viewer shows the same glyphs. reportlab embeds only TrueType
outlines: a .ttf or a .ttc of TrueType fonts (WenQuanYi Zen Hei, Debian ``fonts-wqy-zenhei``).
"""

from __future__ import annotations

import logging
import os
import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
# reportlab's built-in Adobe-GB1 font: not embedded (the viewer supplies the glyphs); used
# only when the TrueType font is missing, with a warning.
FALLBACK_FONT = "STSong-Light"

_registered: dict[str, str] = {}
_lock = threading.Lock()
logger = logging.getLogger(__name__)


def font_name(path: str | None = None) -> str:
    """The reportlab name of the font at ``path`` (default ``FONT_PATH``), registered once."""
    path = path or FONT_PATH
    with _lock:
        if path in _registered:
            return _registered[path]
        if os.path.exists(path):
            name = f"RedactionCJK{len(_registered)}"
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        else:
            logger.warning("CJK font %s not found; release labels use %s", path, FALLBACK_FONT)
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
            name = FALLBACK_FONT
        _registered[path] = name
        return name
