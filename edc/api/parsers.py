"""Request parsers for the API: DRF's JSON parser with a nesting limit.

Python's json module recurses once per level: a body of 100,000 opening brackets raised
RecursionError inside the parser, a 500 even on the unauthenticated token endpoint. No payload of
this API is nested more than a few levels, so anything deeper than MAX_JSON_DEPTH is refused as a
parse error (400) before the JSON decoder sees it. The body size limit stays Django's
(DATA_UPLOAD_MAX_MEMORY_SIZE, answered 413 by edc.api.errors).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32

# A JSON string literal (escapes included); brackets inside strings do not nest.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPENING = frozenset(b"[{")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text nests arrays/objects deeper than `limit` (malformed text included)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the usual case, decided without scanning
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    depth = 0
    for char in brackets:
        depth = depth + 1 if char in _OPENING else depth - 1
        if depth > limit:
            return True
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_JSON_DEPTH with a 400."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        if json_depth_exceeds(raw):
            raise ParseError(
                gettext("JSON parse error - nested deeper than %(limit)d levels.") % {"limit": MAX_JSON_DEPTH}
            )
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # a safety net: the depth check above should have caught it
            raise ParseError(gettext("JSON parse error - nested too deeply.")) from exc
