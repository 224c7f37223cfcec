"""Input fields: ``Base64ImageField`` (an image sent as a data URL, bare base64, or a file
upload), and a correction's ``ExpressionField`` and ``SymbolChangesField``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from rest_framework import serializers

from mathocr import InvalidImage
from mathocr.compute import solve_text
from mathocr.decode import DECODE_PIXELS, Decoded, decode
from mathocr.symbols import CLASS_INDEX, CLASSES

#: Media types a data URL may declare (the bytes are sniffed anyway).
ACCEPTED_MEDIA_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/webp", "image/gif"}
)
_BASE64_MARKER = ";base64,"
_WHITESPACE = re.compile(r"\s+")
#: What ``\s`` matches in ASCII (spaces, tabs, line breaks of wrapped base64, and the
#: four separators \x1c-\x1f that str's ``\s`` counts as whitespace too).
_ASCII_WHITESPACE = bytes([*b" \t\n\r\x0b\x0c", 0x1C, 0x1D, 0x1E, 0x1F])
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """The validated image: its bytes and their one decode (:func:`mathocr.decode.decode`).

    The pixels are kept at the recogniser's working resolution, so validating
    an image is also the decoding its recognition needs.
    """

    data: bytes
    decoded: Decoded

    @property
    def format(self) -> str:
        return self.decoded.format

    @property
    def width(self) -> int:
        return self.decoded.width

    @property
    def height(self) -> int:
        return self.decoded.height


class Base64ImageField(serializers.Field):
    """An image as a base64 string or an uploaded file; validated, never trusted.

    Accepted input
        * a data URL, ``data:image/png;base64,iVBORw0...``;
        * bare base64 (standard or URL-safe alphabet, padding optional);
        * an uploaded file (``multipart/form-data``).

    Line breaks and spaces inside the base64 are ignored. A form-encoded body
    whose ``+`` signs were not percent-encoded arrives with spaces instead; such
    a payload (spaces and no ``+``) is repaired.

    The bytes must be a PNG, JPEG, WebP or GIF (sniffed from the content, not
    taken from the declared type), decode completely, and stay within
    ``IMAGE_MAX_BYTES`` bytes and ``IMAGE_MAX_PIXELS`` pixels. The internal value
    is a :class:`DecodedImage`; the output is the stored file's absolute URL.
    """

    default_error_messages = {
        "required": "No image was submitted.",
        "blank": "The submitted image is empty.",
        "invalid": "Send the image as a base64 string, a data URL or a file upload.",
        "invalid_base64": "The image is not valid base64.",
        "not_base64_data_url": "The data URL is not base64-encoded (expected ';base64,').",
        "multiple_headers": "The image has more than one data URL header.",
        "unsupported_type": (
            "Unsupported image type {media_type}. Send a PNG, JPEG, WebP or GIF image."
        ),
        # Same code as unsupported_type; iPhones take HEIC photos by default.
        "unsupported_heif": (
            "Unsupported image type {media_type} (HEIC/HEIF, an iPhone's default photo format): "
            "set your camera to 'Most Compatible' (Settings > Camera > Formats) or send a JPEG."
        ),
        "corrupt": "The image could not be decoded: the file is corrupt or truncated.",
        "too_many_pixels": "The image has too many pixels: at most {max_pixels} are accepted.",
        "too_large": "The image is too large: at most {max_bytes} bytes are accepted.",
    }

    def __init__(
        self, *, max_bytes: int | None = None, max_pixels: int | None = None, **kwargs
    ) -> None:
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        super().__init__(**kwargs)

    # -- limits (read at validation time so settings overrides apply) ---------------
    def get_max_bytes(self) -> int:
        return self.max_bytes if self.max_bytes is not None else settings.IMAGE_MAX_BYTES

    def get_max_pixels(self) -> int:
        return self.max_pixels if self.max_pixels is not None else settings.IMAGE_MAX_PIXELS

    # -- parsing ----------------------------------------------------------------------
    def to_internal_value(self, data) -> DecodedImage:
        if isinstance(data, UploadedFile):
            raw = self._read_upload(data)
        elif isinstance(data, str):
            raw = self._decode_text(data)
        else:
            self.fail("invalid")
        return self._decode(raw)

    def _read_upload(self, upload: UploadedFile) -> bytes:
        if upload.size is not None and upload.size > self.get_max_bytes():
            self.fail("too_large", max_bytes=self.get_max_bytes())
        upload.seek(0)
        raw = upload.read(self.get_max_bytes() + 1)
        if len(raw) > self.get_max_bytes():
            self.fail("too_large", max_bytes=self.get_max_bytes())
        if not raw:
            self.fail("blank")
        return raw

    def _decode_text(self, text: str) -> bytes:
        text = text.strip()
        if not text:
            self.fail("blank")
        payload = text
        if text[:5].lower() == "data:":
            header, comma, payload = text.partition(",")
            if not comma:
                self.fail("invalid_base64")
            media_type, _, params = header[5:].partition(";")
            media_type = media_type.strip().lower()
            if _BASE64_MARKER in payload or payload[:5].lower() == "data:":
                self.fail("multiple_headers")
            if media_type and media_type not in ACCEPTED_MEDIA_TYPES:
                self._fail_unsupported(media_type)
            if "base64" not in [p.strip().lower() for p in params.split(";")]:
                self.fail("not_base64_data_url")
        elif _BASE64_MARKER in text:
            # Something like "image/png;base64,..." or junk before the marker.
            self.fail("invalid_base64")
        if " " in payload and "+" not in payload:
            # A form-encoded body with unescaped '+' signs: they arrive as spaces.
            payload = payload.replace(" ", "+")
        payload = _without_whitespace(payload)
        if not payload:
            self.fail("blank")
        # Refuse before decoding anything bigger than the limit (3 bytes per 4 chars).
        if len(payload) * 3 // 4 - 2 > self.get_max_bytes():
            self.fail("too_large", max_bytes=self.get_max_bytes())
        return self._b64decode(payload)

    def _b64decode(self, payload: str) -> bytes:
        payload = payload.rstrip("=")
        if len(payload) % 4 == 1:
            self.fail("invalid_base64")
        if "-" in payload or "_" in payload:  # URL-safe alphabet
            payload = payload.translate(_URLSAFE_TO_STANDARD)
        try:
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid_base64")
        if not raw:
            self.fail("blank")
        if len(raw) > self.get_max_bytes():
            self.fail("too_large", max_bytes=self.get_max_bytes())
        return raw

    def _decode(self, raw: bytes) -> DecodedImage:
        try:
            decoded = decode(raw, max_pixels=self.get_max_pixels(), reduce_to=DECODE_PIXELS)
        except InvalidImage as exc:
            code = getattr(exc, "code", "corrupt")
            if code == "too_many_pixels":
                self.fail("too_many_pixels", max_pixels=self.get_max_pixels())
            if code == "unsupported_format":
                self._fail_unsupported(_sniff(raw))
            if code == "empty":
                self.fail("blank")
            self.fail("corrupt")
        return DecodedImage(raw, decoded)

    def _fail_unsupported(self, media_type: str):
        """Refuse an unsupported type (code ``unsupported_type``), naming HEIC with advice."""
        if media_type in HEIF_MEDIA_TYPES:
            message = self.error_messages["unsupported_heif"].format(media_type=media_type)
            raise serializers.ValidationError(message, code="unsupported_type")
        self.fail("unsupported_type", media_type=media_type)

    # -- output -----------------------------------------------------------------------
    def to_representation(self, value) -> str | None:
        if not value:
            return None
        url = value.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


def _without_whitespace(text: str) -> str:
    """``text`` without whitespace; ASCII (any valid base64) in C, 20x faster than the regex."""
    if text.isascii():
        return text.encode("ascii").translate(None, _ASCII_WHITESPACE).decode("ascii")
    return _WHITESPACE.sub("", text)


#: Media types of HEIF files (iPhone photos): refused with advice.
HEIF_MEDIA_TYPES = frozenset(
    {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
)
#: ISO base media ``ftyp`` brands (bytes 8-12, after the box size and ``ftyp``).
_FTYP_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
}


def _sniff(raw: bytes) -> str:
    """A readable guess at what unsupported bytes are, for the error message."""
    if raw[4:8] == b"ftyp" and raw[8:12] in _FTYP_BRANDS:
        return _FTYP_BRANDS[raw[8:12]]
    head = raw[:256].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    if head.startswith(b"%pdf"):
        return "application/pdf"
    if head.startswith(b"bm"):
        return "image/bmp"
    if head[:4] in (b"ii*\x00", b"mm\x00*"):
        return "image/tiff"
    return "(unknown)"


class ExpressionField(serializers.Field):
    """An expression typed as text (a correction), read by :func:`mathocr.compute.solve_text`.

    Accepts the canonical ASCII of an answer's ``expression`` (``12+7*3=``, ``2*3>=5``,
    ``1!=2``) and the symbols themselves (``× ÷ ≤ ≥ ≠``, ``x`` for ``×``); whitespace is
    ignored. It must be a valid expression of the grammar: computable, or dividing by
    zero (what is written may do that). The internal value is the canonical ASCII.
    """

    default_error_messages = {
        "required": "No expression was submitted.",
        "null": "The expression may not be null.",
        "invalid": "Send the expression as a string, e.g. '12+7*3='.",
        "blank": "The expression is empty.",
        # the core's own message: where the text leaves the grammar
        "malformed": "{message}",
        "too_large": "{message}",
    }

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        result = solve_text(data)
        if result.error == "empty":
            self.fail("blank")
        if result.error in ("malformed", "too_large"):
            self.fail(result.error, message=result.message)
        return result.expression

    def to_representation(self, value) -> str:
        return str(value)


class SymbolChangesField(serializers.Field):
    """Which symbols of the machine reading became what: ``[{"index": 2, "symbol": "7"}]``.

    ``index`` counts from 0 into the answer's ``symbols`` (``context["symbol_count"]`` of
    them); ``symbol`` is a class of :data:`mathocr.symbols.CLASSES` (``reject``: no symbol
    at all). Each index at most once. In a form-encoded body the list comes as JSON text.
    The internal value is the list sorted by index, each item ``{"index", "symbol"}``.
    """

    default_error_messages = {
        "null": "The symbols may not be null; leave them out, or send [].",
        "not_a_list": 'Send the symbols as a list: [{{"index": 0, "symbol": "7"}}, ...].',
        "invalid_json": "The symbols are not valid JSON.",
        "invalid": (
            'Symbol change {position} is not an object {{"index": <integer>, "symbol": <string>}}.'
        ),
        "index_out_of_range": (
            "Symbol change {position}: the reading has no symbol {index} "
            "(it has {count}, counted from 0)."
        ),
        "unknown_symbol": (
            "Symbol change {position}: {symbol} is not a symbol class; use one of {classes}."
        ),
        "duplicate_index": "Symbol change {position}: symbol {index} is changed twice.",
    }

    def to_internal_value(self, data) -> list[dict[str, object]]:
        if isinstance(data, str) and isinstance(
            getattr(self.root, "initial_data", None), QueryDict
        ):
            try:  # a form-encoded body: the list as JSON text
                data = json.loads(data)
            except ValueError:
                self.fail("invalid_json")
        if not isinstance(data, list):
            self.fail("not_a_list")
        count = int(self.context.get("symbol_count", 0))
        seen: set[int] = set()
        changes: list[tuple[int, str]] = []
        for position, item in enumerate(data):
            index = item.get("index") if isinstance(item, dict) else None
            symbol = item.get("symbol") if isinstance(item, dict) else None
            if (
                type(index) is not int
                or not isinstance(symbol, str)
                or set(item) - {"index", "symbol"}
            ):
                self.fail("invalid", position=position)
            if not 0 <= index < count:
                self.fail("index_out_of_range", position=position, index=index, count=count)
            if symbol not in CLASS_INDEX:
                self.fail(
                    "unknown_symbol",
                    position=position,
                    symbol=json.dumps(symbol[:20], ensure_ascii=False),
                    classes=" ".join(CLASSES),
                )
            if index in seen:
                self.fail("duplicate_index", position=position, index=index)
            seen.add(index)
            changes.append((index, symbol))
        return [{"index": index, "symbol": symbol} for index, symbol in sorted(changes)]

    def to_representation(self, value):
        return value
