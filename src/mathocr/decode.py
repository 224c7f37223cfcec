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
from typing import cast

import cv2
import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from .errors import InvalidImage
from .stats import median, thinned

#: Default limit on ``width * height`` (a 40 MP photo passes, a bomb does not).
MAX_PIXELS = 40_000_000
#: Images are decoded at no fewer than this many pixels (a big one at reduced size):
#: four times the clean-up's working size, so that a line of writing found in a
#: large frame can be cleaned up again at a finer resolution.
DECODE_PIXELS = 2_400_000

#: Magic-byte prefixes of the accepted formats.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}

#: How each EXIF orientation is undone (as :func:`PIL.ImageOps.exif_transpose` does).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: The turns that swap width and height.
_SWAPS = frozenset({_TURNS[5], _TURNS[6], _TURNS[7], _TURNS[8]})

#: Median background brightness below which an image may be light-on-dark ...
DARK_BACKGROUND = 100
#: ... unless this share of it is paper: PAPER_RISE grey levels above its median. A
#: shadow dims most of a sheet far below its lit part, but not to the table's
#: darkness. In 200 uncropped benchmark frames (seed 2), 24 are dark by the median;
#: the sheet is 0.25-0.50 of them. (Paper taken as within 0.8 of the 99th
#: percentile, as before, missed 3 sheets under heavy shadows: inverted, unreadable.)
PAPER_SHARE = 0.2
PAPER_RISE = 40


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


def _header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """``(width, height)`` read straight from the header bytes, or None if not found.

    Read without Pillow, so a bomb is refused even when the rest of the file is
    garbage or missing.

    Examples
    --------
    >>> _header_size(b"GIF89a" + bytes([16, 0, 32, 0]), "gif")
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
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of the JPEG's first start-of-frame segment, walking the markers.

    Raises ``struct.error`` where the data ends inside a segment's header.
    """
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
    size = _header_size(data, fmt)
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
    if fmt == "png":
        _verify_png(data)
    try:
        _check_pixels(width, height, max_pixels)
    except InvalidImage:
        image.close()
        raise
    return image, ImageInfo(fmt, width, height)


#: The end chunk of every PNG: no data, so always the same length, type and CRC.
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _verify_png(data: bytes) -> None:
    """Every chunk's CRC, and the whole end chunk (Pillow decodes a PNG cut short silently)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data), formats=["PNG"]).verify()
    except Exception as exc:  # truncated, bad CRC
        raise InvalidImage(f"The PNG image is corrupt: {exc}", code="corrupt") from exc
    if _PNG_END not in data[-4096:]:
        raise InvalidImage(
            "The PNG image is corrupt: it ends before its IEND chunk.", code="corrupt"
        )


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


#: Modes of 16 bits per sample (a 16-bit grey PNG); ``I`` is 32-bit integer grey.
_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})

#: Pixels converted at a time when a big image is shrunk band by band.
_BAND_PIXELS = 1 << 21


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _shift(image: Image.Image) -> int:
    """Bits to drop to bring grey samples to 8 bits (Pillow's own conversion clips them)."""
    if image.mode in _WIDE_MODES:
        return 8
    if image.mode == "I":  # 32-bit container: 16-bit data, or 8-bit data widened
        _, high = cast(tuple[int, int], image.getextrema())  # one band: (low, high)
        return 8 if high > 255 else 0
    return 0


def _backdrop(image: Image.Image) -> int:
    """What transparency is laid on: white under dark strokes, black under light ones.

    Canvas drawings are strokes on a transparent sheet. Dark strokes go on
    white; light strokes (a dark-mode canvas) go on black and are inverted later.
    Judged on a sample of at most about 250,000 pixels (nearest neighbour).
    """
    w, h = image.size
    step = max(1, int(np.sqrt(w * h / 250_000)))
    sample = image if step == 1 else image.resize((max(1, w // step), max(1, h // step)), 0)
    rgba = np.asarray(sample.convert("RGBA"))
    visible = rgba[..., 3] > 127
    if visible.any() and not visible.all():
        luma = rgba[visible][:, :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        if float(np.median(luma)) > 160:
            return 0
    return 255


def _flatten(image: Image.Image, *, backdrop: int = 255, shift: int = 0) -> np.ndarray:
    """RGB uint8 array of ``image``, any transparency laid on ``backdrop``."""
    if image.mode in _WIDE_MODES or image.mode == "I":
        grey = (np.asarray(image) >> shift).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if not _has_alpha(image):
        # convert() of an RGB image is a copy: not needed, asarray copies anyway.
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    rgba = np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))
    alpha = cv2.cvtColor(cv2.split(rgba)[3], cv2.COLOR_GRAY2RGB)
    rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)
    if backdrop == 0:  # rgb * a / 255, rounded
        return cv2.multiply(rgb, alpha, scale=1 / 255)
    # 255 - (255 - rgb) * a / 255: the same blend onto white, rounded
    return cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(rgb), alpha, scale=1 / 255))


def _pixels(image: Image.Image, *, reduce_to: int | None) -> np.ndarray:
    """The image as RGB uint8, shrunk by a whole factor to no fewer than ``reduce_to`` pixels.

    A big image is converted and box-averaged a band of rows at a time
    (:data:`_BAND_PIXELS` each), so the memory it needs is its decoded size
    once, not that of its RGB, alpha or float copies.
    """
    w, h = image.size
    backdrop = _backdrop(image) if _has_alpha(image) else 255
    shift = _shift(image)
    factor = int(np.sqrt(w * h / reduce_to)) if reduce_to else 1
    if factor < 2:
        return _flatten(image, backdrop=backdrop, shift=shift)
    ow, oh = w // factor, h // factor
    out = np.empty((oh, ow, 3), np.uint8)
    step = factor * max(1, _BAND_PIXELS // (w * factor))
    for top in range(0, oh * factor, step):
        bottom = min(top + step, oh * factor)
        band = _flatten(image.crop((0, top, ow * factor, bottom)), backdrop=backdrop, shift=shift)
        size = (ow, (bottom - top) // factor)
        out[top // factor : bottom // factor] = cv2.resize(band, size, interpolation=cv2.INTER_AREA)
    return out


def is_dark_background(rgb: np.ndarray) -> bool:
    """True when the image is light ink on a dark background.

    That is, its median brightness is under :data:`DARK_BACKGROUND` and it holds no
    paper: less than :data:`PAPER_SHARE` of it is :data:`PAPER_RISE` above the
    median. Light strokes on a blackboard or a dark-mode canvas are a few percent
    of the image; a photo of paper with a dark table, a keyboard or a shadow over
    most of the frame still shows the sheet. A blackboard photographed with a light
    wall around it is taken as paper.
    """
    sample = thinned(rgb)  # a sample will do
    if sample.ndim == 3 and sample.shape[2] == 3 and sample.dtype == np.uint8:
        # the pixel means x 3, as integer channel sums (they sort as the means do):
        # no float reduction over an axis of 3
        gray, unit = sample[..., 0].astype(np.uint16) + sample[..., 1] + sample[..., 2], 3
    else:
        gray, unit = (sample.mean(axis=2) if sample.ndim == 3 else sample), 1
    middle = median(gray)
    if middle >= unit * DARK_BACKGROUND:
        return False
    flat = gray.ravel().astype(np.float32)
    paper = middle + unit * PAPER_RISE
    return bool(np.count_nonzero(flat >= paper) < PAPER_SHARE * flat.size)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded image and how it relates to the original.

    ``scale`` is decoded pixels per original pixel (1.0 unless a big image
    was decoded at reduced size, see :func:`decode`); ``width`` and ``height``
    are the original's, after EXIF orientation; ``format`` is what
    :func:`sniff` found (``png``, ``jpeg``, ``webp``, ``gif``).
    """

    image: np.ndarray
    scale: float
    width: int
    height: int
    format: str = "png"


def decode(
    data: bytes,
    *,
    max_pixels: int = MAX_PIXELS,
    invert_dark: bool = True,
    reduce_to: int | None = None,
) -> Decoded:
    """Like :func:`decode_image`, optionally decoding a big image at reduced size.

    With ``reduce_to``, a JPEG larger than that many pixels is decoded by
    libjpeg at 1/2, 1/4 or 1/8 scale, never below ``reduce_to`` pixels: a
    12 MP photo then costs a fraction of a full decode. Other formats are
    decoded whole and at once shrunk by a whole factor (box filter), never
    below ``reduce_to`` pixels, before any copy is made: the memory a request
    needs is the decoded image once, not its float copies. The scale is
    returned so that positions can be mapped back to the original.

    The image is validated as completely as :func:`probe` does: this is the
    one decode a request needs.
    """
    image, info = _open(data, max_pixels=max_pixels)
    with image:
        if reduce_to and info.format == "jpeg" and info.width * info.height > reduce_to:
            factor = float(np.sqrt(reduce_to / (info.width * info.height)))
            size = (int(info.width * factor) + 1, int(info.height * factor) + 1)
            with contextlib.suppress(Exception):  # draft is an optimisation only
                image.draft("RGB", size)
        _load(image, info.format)
        try:
            turn = _TURNS.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        except Exception:  # a broken EXIF block must not reject a good image
            turn = None
        try:
            rgb = _pixels(image, reduce_to=None if info.format == "jpeg" else reduce_to)
            scale = rgb.shape[1] / info.width
            if turn is not None:
                rgb = np.asarray(Image.fromarray(rgb).transpose(turn))
        except Exception as exc:
            raise InvalidImage(f"The image cannot be converted: {exc}", code="corrupt") from exc
    if invert_dark and is_dark_background(rgb):
        rgb = 255 - rgb
    width, height = (info.height, info.width) if turn in _SWAPS else (info.width, info.height)
    return Decoded(np.ascontiguousarray(rgb), scale, width, height, info.format)


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
