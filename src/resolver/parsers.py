"""Request body parsers: DRF's own, hardened against hostile bodies.

* :class:`JSONParser` refuses JSON nested deeper than :data:`MAX_JSON_DEPTH`
  levels. Python's ``json`` recurses once per level, so about a thousand ``[``
  (under 2 KB) raised ``RecursionError``: a 500. Now it is a parse error, 400,
  with the code ``too_deeply_nested``.
* :class:`MultiPartParser` reads parts whose headers are not UTF-8. Django
  decodes each part header line as UTF-8 and silently drops a line that is not,
  so a file whose name was sent in Latin-1 or Shift-JIS lost its
  ``Content-Disposition`` and the upload was never seen ("No image was
  submitted"). The client's file name is never used for storage anyway.

Django's form parser (``QueryDict``) and multipart parser are iterative, not
recursive; their own limits (``DATA_UPLOAD_MAX_NUMBER_FIELDS``,
``DATA_UPLOAD_MAX_NUMBER_FILES``, the header size) already answer 400.
"""

from __future__ import annotations

import io

from django.utils.http import parse_header_parameters
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


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, reading parts whose headers are not valid UTF-8.

    Each part's header block is made valid UTF-8 before Django parses it (see
    :class:`Utf8PartHeaders`); the part bodies, the files, are passed on untouched.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        boundary = _boundary(media_type)
        if stream is not None and boundary is not None:
            stream = Utf8PartHeaders(stream, boundary)
        return super().parse(stream, media_type, parser_context)


def _boundary(media_type: str | None) -> bytes | None:
    if not media_type:
        return None
    _, params = parse_header_parameters(media_type)
    boundary = params.get("boundary", "")
    try:
        return boundary.encode("ascii") or None
    except UnicodeEncodeError:
        return None  # Django refuses it with its own parse error


#: Django looks for the end of a part's headers within this many bytes.
_MAX_HEADER_BLOCK = 1024


class Utf8PartHeaders:
    """A multipart body, read in pieces, with each part's header block made UTF-8.

    Django's multipart parser decodes every header line of a part as UTF-8 and
    drops a line that fails (``django.http.multipartparser.parse_boundary_stream``).
    Here each byte that is not part of valid UTF-8 in a header block (from a
    ``--boundary`` to the blank line after it) becomes ``?``: one byte for one, so
    the block keeps its size. A header block is at most 1 KiB for Django, so at
    most that much plus the boundary is held back at a time; everything else,
    the file data included, passes through unchanged.
    """

    def __init__(self, stream, boundary: bytes, *, chunk_size: int = 64 * 1024) -> None:
        self._stream = stream
        self._delimiter = b"--" + boundary
        self._chunk_size = chunk_size
        self._pending = b""  # read, not yet given out
        self._ready = bytearray()  # given out next
        self._in_headers = False
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size is None or size < 0 or len(self._ready) < size):
            self._step()
        if size is None or size < 0 or size >= len(self._ready):
            out, self._ready = bytes(self._ready), bytearray()
        else:
            out = bytes(self._ready[:size])
            del self._ready[:size]
        return out

    def _fill(self) -> bool:
        """Read more into the pending bytes; False at the end of the body."""
        piece = self._stream.read(self._chunk_size)
        if not piece:
            return False
        self._pending += piece
        return True

    def _step(self) -> None:
        pending = self._pending
        if self._in_headers:
            end = pending.find(b"\r\n\r\n", 0, _MAX_HEADER_BLOCK + 4)
            next_part = pending.find(self._delimiter, 0, _MAX_HEADER_BLOCK + 4)
            if end != -1 and (next_part == -1 or end < next_part):
                self._ready += _as_utf8(pending[:end])
                self._pending = pending[end:]
                self._in_headers = False
            elif next_part != -1 or len(pending) >= _MAX_HEADER_BLOCK + 4 or not self._fill():
                self._in_headers = False  # not a header block Django would read
            return
        found = pending.find(self._delimiter)
        if found != -1:
            cut = found + len(self._delimiter)
            self._ready += pending[:cut]
            self._pending = pending[cut:]
            self._in_headers = True
            return
        # Keep back what could be the start of a delimiter split between two reads.
        keep = len(self._delimiter) - 1
        if len(pending) > keep:
            self._ready += pending[: len(pending) - keep]
            self._pending = pending = pending[len(pending) - keep :]
        if not self._fill():
            self._ready += pending
            self._pending = b""
            self._eof = True


def _as_utf8(header_block: bytes) -> bytes:
    try:
        header_block.decode("utf-8")
    except UnicodeDecodeError:
        # Undecodable bytes become lone surrogates, which encode as "?", one for one.
        return header_block.decode("utf-8", "surrogateescape").encode("utf-8", "replace")
    return header_block
