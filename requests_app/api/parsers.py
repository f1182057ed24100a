"""The API reads JSON only, and any body it cannot read, or could not store, is a 400, never
a 500."""

from __future__ import annotations

import io

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from requests_app.validation import SUSPECT_JSON_ESCAPE, unstorable_text


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, also refusing

    - nesting deep enough to exhaust Python's recursion limit (``[[[[…]]]]`` in a 1 MB body),
      which DRF would let through as a 500;
    - text the database cannot store (``\\u0000``, a lone surrogate), anywhere in the body —
      a key or a value of a free-form object as much as a named field — which PostgreSQL
      would refuse on the write: a 400 ``invalid`` saying why."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply") from exc
        suspect = SUSPECT_JSON_ESCAPE.search(raw.decode("utf-8", errors="replace"))
        if suspect and (why := unstorable_text(data)):
            raise ValidationError({"non_field_errors": [why]}, code="invalid")
        return data
