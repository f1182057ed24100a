"""Keep personal data out of the logs.

The staff's search by phone or ID number (``?q=13800138000`` on the staff API and the admin's
case list) put those numbers into every line that logs a URL: gunicorn's access log (the
request line and the Referer) and the audit log's ``path=``. Here a URL's query string has
each run of three or more digits (and an ID number's final X) replaced by as many ``*``:
``/api/v1/staff/cases/?q=11010519491231002X&limit=20`` → ``…?q=******************&limit=20``.
Paths keep their digits (case ids are not personal data); only the query is masked.

Also: ``PermissionDenied`` is an answer (403), not a fault — one log line, no traceback.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import PermissionDenied

_DIGITS = re.compile(r"\d{3,}[Xx]?")


def mask_query(query: str) -> str:
    """``query`` (a URL's query string) with its runs of digits masked."""
    return _DIGITS.sub(lambda match: "*" * len(match.group()), query or "")


def mask_url(url: str) -> str:
    """``url`` (a path, a full URL or a request line ``GET /x?q=1 HTTP/1.1``) with the query
    string masked; the part before ``?`` is kept as it is."""
    if not url or "?" not in url:
        return url
    head, _, query = url.partition("?")
    return f"{head}?{mask_query(query)}"


class PermissionDeniedWithoutTraceback(logging.Filter):
    """On ``django.request``: a refused request (``PermissionDenied``, 403) is logged as its one
    line ("Forbidden (Permission denied): /admin/…"), without the traceback Django adds."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
