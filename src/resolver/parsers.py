"""Request body parsers: DRF's own, hardened against hostile bodies.

* :class:`JSONParser` refuses JSON nested deeper than :data:`MAX_JSON_DEPTH`
  levels. Python's ``json`` recurses once per level, so about a thousand ``[``
  (under 2 KB) raised ``RecursionError``: a 500. Now it is a parse error, 400,
  with the code ``too_deeply_nested``.

Django's form parser (``QueryDict``) and multipart parser are iterative, not
recursive; their own limits (``DATA_UPLOAD_MAX_NUMBER_FIELDS``,
``DATA_UPLOAD_MAX_NUMBER_FILES``, the header size) already answer 400.
"""

from __future__ import annotations

import io

from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: Deepest accepted nesting of JSON arrays and objects. The API needs one level
#: (``{"image": "..."}``); 32 leaves room for any sane client.
MAX_JSON_DEPTH = 32


class JSONTooDeeplyNested(ParseError):
    """The JSON body nests arrays or objects deeper than the parser accepts."""

    default_code = "too_deeply_nested"


#: Bytes scanned at a time by :func:`json_nesting_exceeds`.
_SCAN_BLOCK = 1 << 20


def json_nesting_exceeds(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` opens more than ``limit`` arrays/objects at once.

    Brackets inside strings do not count. Bodies with at most ``limit`` opening
    brackets in all (every real request) are answered by two ``count`` calls;
    others are scanned with NumPy, block by block (about 10 ms per MB, whatever
    the text: a pure-Python or regular-expression scan took seconds on some
    hostile bodies). The scan reads bytes, so it is exact for UTF-8 and ASCII-based
    charsets; for UTF-16/32 the parser's ``RecursionError`` guard stays.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    import numpy as np

    if b"\\" in data:
        # Drop escaped backslashes, then escaped quotes: every quote left delimits a string.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = np.frombuffer(data, np.uint8)
    depth = 0  # at the start of the block
    in_string = 0
    for start in range(0, len(text), _SCAN_BLOCK):
        block = text[start : start + _SCAN_BLOCK]
        quotes = np.cumsum(block == 0x22, dtype=np.int32)  # '"'
        steps = (
            (block == 0x5B).view(np.int8)  # '['
            + (block == 0x7B).view(np.int8)  # '{'
            - (block == 0x5D).view(np.int8)  # ']'
            - (block == 0x7D).view(np.int8)  # '}'
        )
        steps[((quotes + in_string) & 1).astype(bool)] = 0  # inside a string
        levels = np.cumsum(steps, dtype=np.int32)
        if depth + int(levels.max()) > limit:
            return True
        depth += int(levels[-1])
        in_string = (in_string + int(quotes[-1])) & 1
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that refuses nesting deeper than :attr:`max_depth` (400)."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        if json_nesting_exceeds(raw, self.max_depth):
            raise self._too_deep()
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # a UTF-16/32 body the byte scan cannot read, or a deep stack
            raise self._too_deep() from None

    def _too_deep(self) -> JSONTooDeeplyNested:
        return JSONTooDeeplyNested(
            f"JSON parse error - arrays and objects nest deeper than {self.max_depth} levels."
        )
