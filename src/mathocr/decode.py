"""Stage 1: turn untrusted image bytes into an RGB array, or refuse them.

Only PNG, JPEG, WebP and GIF are accepted, recognised by their magic bytes (never
by a file name or a client-declared type). The pixel count is read from the
header and checked *before* any pixel is decoded, so a decompression bomb costs
nothing. Orientation from EXIF is applied, transparency is laid on white (a
canvas drawing is dark strokes on a transparent background) and light ink on a
dark background (a blackboard, a dark-mode canvas) is inverted, so every later
stage sees dark ink on light paper.

>>> from mathocr.decode import probe
>>> probe(b"not an image")
Traceback (most recent call last):
...
mathocr.errors.InvalidImage: Unsupported image format: expected PNG, JPEG, WebP or GIF.
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .cleanup import median
from .errors import InvalidImage

#: Default limit on ``width * height`` (a 40 MP photo passes, a bomb does not).
MAX_PIXELS = 40_000_000

#: Magic-byte prefixes of the accepted formats.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}

#: EXIF orientations that :func:`PIL.ImageOps.exif_transpose` turns the image for.
_TURNS = frozenset(range(2, 9))

#: Median background brightness below which an image is taken as light-on-dark.
DARK_BACKGROUND = 100


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What :func:`probe` learned from the header: format name and size in pixels."""

    format: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The format named by the magic bytes (``png``, ``jpeg``, ``webp``, ``gif``), or None.

    Examples
    --------
    >>> sniff(b"GIF89a...")
    'gif'
    >>> sniff(b"<svg xmlns=...") is None
    True
    """
    head = bytes(data[:16])
    for prefix, name in _SIGNATURES:
        if head.startswith(prefix):
            return name
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """``(width, height)`` read straight from the header bytes, or None if not found.

    Read without Pillow, so a bomb is refused even when the rest of the file is
    garbage or missing.

    Examples
    --------
    >>> header_size(b"GIF89a" + bytes([16, 0, 32, 0]), "gif")
    (16, 32)
    """
    try:
        if fmt == "png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if fmt == "gif":
            return struct.unpack("<HH", data[6:10])
        if fmt == "webp":
            kind = data[12:16]
            if kind == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if kind == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
            return None
        if fmt == "jpeg":
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    i += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", data[i + 2 : i + 4])[0]
                if marker in _JPEG_SOF:
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return w, h
                i += 2 + length
    except struct.error:
        return None
    return None


_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise InvalidImage(
            f"The image has {width * height:,} pixels; the limit is {max_pixels:,}.",
            code="too_many_pixels",
        )


def _open(data: bytes, *, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    """Open lazily (header only) and enforce format and pixel-count limits."""
    if not data:
        raise InvalidImage("The image is empty.", code="empty")
    fmt = sniff(data)
    if fmt is None:
        raise InvalidImage(
            "Unsupported image format: expected PNG, JPEG, WebP or GIF.",
            code="unsupported_format",
        )
    size = header_size(data, fmt)
    if size is not None:
        _check_pixels(*size, max_pixels)
    try:
        with warnings.catch_warnings():
            # Our own limit below is the one that counts; Pillow's warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    except Image.DecompressionBombError as exc:
        raise InvalidImage(str(exc), code="too_many_pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"The {fmt.upper()} image is corrupt: {exc}", code="corrupt") from exc
    except Exception as exc:  # any other parser failure on hostile bytes
        raise InvalidImage(f"The {fmt.upper()} image is corrupt: {exc}", code="corrupt") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImage("The image has no pixels.", code="empty")
    try:
        _check_pixels(width, height, max_pixels)
    except InvalidImage:
        image.close()
        raise
    return image, ImageInfo(fmt, width, height)


def _load(image: Image.Image, fmt: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except Exception as exc:  # truncated data, bad CRC, broken LZW, ...
        raise InvalidImage(f"The {fmt.upper()} image is corrupt: {exc}", code="corrupt") from exc


def probe(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Check that ``data`` is a complete PNG/JPEG/WebP/GIF within the pixel limit.

    The header is checked first (format, size); only then are the pixels
    decoded, to catch truncated or corrupt files (a JPEG at 1/8 scale: libjpeg
    still reads the whole stream, at a fraction of the cost).

    Raises
    ------
    InvalidImage
        ``code`` is ``empty``, ``unsupported_format``, ``too_many_pixels`` or ``corrupt``.
    """
    image, info = _open(data, max_pixels=max_pixels)
    with image:
        if info.format == "jpeg":
            with contextlib.suppress(Exception):
                image.draft(image.mode, (info.width // 8 + 1, info.height // 8 + 1))
        _load(image, info.format)
    return info


def _flatten(image: Image.Image) -> np.ndarray:
    """RGB uint8 array with any transparency laid on white (or black for light ink)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        # convert() of an RGB image is a copy: not needed, asarray copies anyway.
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    rgba = np.asarray(image.convert("RGBA"))
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32)
    visible = alpha[..., 0] > 0.5
    # Canvas drawings are strokes on a transparent sheet. Dark strokes go on
    # white; light strokes (a dark-mode canvas) go on black and are inverted later.
    backdrop = 255.0
    if visible.any() and not visible.all():
        luma = rgb[visible] @ np.array([0.299, 0.587, 0.114], np.float32)
        if float(np.median(luma)) > 160:
            backdrop = 0.0
    out = rgb * alpha + backdrop * (1.0 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def is_dark_background(rgb: np.ndarray) -> bool:
    """True when the image is light ink on a dark background (median brightness < 100)."""
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 10_000)))  # a sample will do
    sample = rgb[::step, ::step]
    if sample.ndim == 3 and sample.shape[2] == 3 and sample.dtype == np.uint8:
        # the median of the pixel means, from their integer channel sums (which
        # sort as the means do): no float reduction over an axis of 3
        sums = sample[..., 0].astype(np.uint16) + sample[..., 1] + sample[..., 2]
        return median(sums) / 3.0 < DARK_BACKGROUND
    gray = sample.mean(axis=2) if sample.ndim == 3 else sample
    return median(gray) < DARK_BACKGROUND


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded image and how it relates to the original.

    ``scale`` is decoded pixels per original pixel (1.0 unless a JPEG was
    decoded at reduced size, see :func:`decode`); ``width`` and ``height`` are
    the original's, after EXIF orientation.
    """

    image: np.ndarray
    scale: float
    width: int
    height: int


def decode(
    data: bytes,
    *,
    max_pixels: int = MAX_PIXELS,
    invert_dark: bool = True,
    reduce_to: int | None = None,
) -> Decoded:
    """Like :func:`decode_image`, optionally decoding a big JPEG at reduced size.

    With ``reduce_to``, a JPEG larger than that many pixels is decoded by
    libjpeg at 1/2, 1/4 or 1/8 scale, never below ``reduce_to`` pixels: a
    12 MP photo then costs a fraction of a full decode. The scale is returned
    so that positions can be mapped back to the original.
    """
    image, info = _open(data, max_pixels=max_pixels)
    with image:
        if reduce_to and info.format == "jpeg" and info.width * info.height > reduce_to:
            factor = float(np.sqrt(reduce_to / (info.width * info.height)))
            size = (int(info.width * factor) + 1, int(info.height * factor) + 1)
            with contextlib.suppress(Exception):  # draft is an optimisation only
                image.draft("RGB", size)
        _load(image, info.format)
        scale = image.size[0] / info.width
        try:
            # exif_transpose() copies an image it need not turn: only call it to turn.
            turn = image.getexif().get(ExifTags.Base.Orientation, 1) in _TURNS
            oriented = ImageOps.exif_transpose(image) if turn else image
        except Exception:  # a broken EXIF block must not reject a good image
            oriented = image
        try:
            rgb = _flatten(oriented)
        except Exception as exc:
            raise InvalidImage(f"The image cannot be converted: {exc}", code="corrupt") from exc
    if invert_dark and is_dark_background(rgb):
        rgb = 255 - rgb
    height = round(rgb.shape[0] / scale)
    width = round(rgb.shape[1] / scale)
    return Decoded(np.ascontiguousarray(rgb), scale, width, height)


def decode_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, invert_dark: bool = True
) -> np.ndarray:
    """Decode image bytes into an ``(H, W, 3)`` uint8 RGB array, dark ink on light paper.

    EXIF orientation is applied, alpha is composited (dark canvas strokes on
    white), only the first frame of an animated GIF is used, and with
    ``invert_dark`` a light-on-dark image is inverted.

    Raises
    ------
    InvalidImage
        See :func:`probe`.

    Examples
    --------
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("RGBA", (4, 3), (0, 0, 0, 0)).save(buf, "PNG")
    >>> decode_image(buf.getvalue()).shape, int(decode_image(buf.getvalue()).min())
    ((3, 4, 3), 255)
    """
    return decode(data, max_pixels=max_pixels, invert_dark=invert_dark).image
