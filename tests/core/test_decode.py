"""Stage 1: decoding untrusted bytes."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mathocr.decode import ImageInfo, decode, decode_image, is_dark_background, probe, sniff
from mathocr.errors import InvalidImage
from tests.core.drawing import blank, encode


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp"), ("GIF", "gif")]
)
def test_probe_accepts_the_four_formats_and_reports_size(fmt, name):
    data = encode(np.full((30, 50, 3), 200, np.uint8), fmt)
    assert probe(data) == ImageInfo(name, 50, 30)
    assert decode_image(data).shape == (30, 50, 3)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b"%PDF-1.4\n%...",
        b"just some text",
        b"BM" + bytes(60),  # BMP is a real image format, but not one we accept
        encode(np.zeros((4, 4), np.uint8), "TIFF"),
    ],
)
def test_other_formats_are_unsupported(data):
    with pytest.raises(InvalidImage) as err:
        probe(data)
    assert err.value.code == "unsupported_format"


def test_empty_bytes_are_empty():
    with pytest.raises(InvalidImage) as err:
        decode_image(b"")
    assert err.value.code == "empty"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_truncated_image_is_corrupt(fmt):
    rng = np.random.default_rng(1)
    data = encode(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), fmt)
    with pytest.raises(InvalidImage) as err:
        decode_image(data[: len(data) // 2])
    assert err.value.code == "corrupt"


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    # A PNG that claims 100k x 100k pixels and holds none: refused as too big,
    # not as corrupt, so nothing was decoded.
    with pytest.raises(InvalidImage) as err:
        probe(_png_header_only(100_000, 100_000))
    assert err.value.code == "too_many_pixels"


def test_pixel_limit_is_configurable():
    data = encode(blank(100, 100), "PNG")
    assert probe(data, max_pixels=10_000).width == 100
    with pytest.raises(InvalidImage) as err:
        decode_image(data, max_pixels=9_999)
    assert err.value.code == "too_many_pixels"


def test_transparent_canvas_with_dark_strokes_lands_on_white():
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[10:30, 20:25] = (0, 0, 0, 255)  # an opaque black stroke on a clear sheet
    out = decode_image(encode(rgba, "PNG"))
    assert out[0, 0].tolist() == [255, 255, 255]
    assert out[20, 22].tolist() == [0, 0, 0]


def test_transparent_canvas_with_white_strokes_becomes_dark_on_light():
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[10:30, 20:25] = (255, 255, 255, 255)
    out = decode_image(encode(rgba, "PNG"))
    assert out[0, 0].mean() > 200
    assert out[20, 22].mean() < 50


def test_light_ink_on_dark_background_is_inverted():
    page = blank(40, 60, 30)
    page[10:30, 20:25] = 240
    out = decode_image(encode(page, "PNG"))
    assert out[0, 0].mean() > 200
    assert out[20, 22].mean() < 50
    assert is_dark_background(page)
    assert not is_dark_background(255 - page)


@pytest.mark.parametrize(
    ("paper_share", "dark"),
    [
        (0.0, True),  # a blackboard, a dark-mode canvas: light strokes only
        (0.1, True),  # light strokes and a little light beside them
        (0.3, False),  # a dark table or keyboard over most of a photo of paper
        (0.45, False),
    ],
)
def test_a_dark_frame_is_light_on_dark_only_when_it_holds_no_paper(paper_share, dark):
    rng = np.random.default_rng(3)
    frame = np.clip(rng.normal(40, 8, (200, 300, 3)), 0, 255).astype(np.uint8)  # the table
    frame[:, : round(paper_share * 300)] = 215  # the sheet of paper
    frame[100:104, 5:60] = 30  # dark writing on it
    frame[50:54, 200:260] = 240  # a light streak on the table
    assert is_dark_background(frame) is dark


def test_a_dark_frame_holding_a_shadowed_sheet_is_not_light_on_dark():
    frame = np.full((200, 300, 3), 35, np.uint8)  # a dark table and keyboard
    # the sheet over 40 % of the frame, under a shadow that dims most of it to 120
    sheet = np.full((200, 120, 3), 120.0)
    sheet[:, 100:] = np.linspace(120, 200, 20)[None, :, None]  # the lit edge
    frame[:, 180:] = sheet.astype(np.uint8)
    frame[100:104, 190:240] = 30  # dark writing on it
    assert np.median(frame) < 100  # dark by the median, its lightest part 7 % of it
    assert not is_dark_background(frame)


def test_exif_orientation_is_applied():
    wide = np.full((20, 60, 3), 255, np.uint8)
    wide[:, :10] = 0  # dark band on the left
    image = Image.fromarray(wide)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=95)
    out = decode_image(buf.getvalue())
    assert out.shape[:2] == (60, 20)
    assert out[:10].mean() < 60  # the band is now on top
    assert out[-10:].mean() > 200


def test_grey_and_palette_images_decode_to_rgb():
    grey = encode(blank(10, 12, 128), "PNG")
    pal = encode(np.full((10, 12, 3), 90, np.uint8), "GIF")
    assert decode_image(grey).shape == (10, 12, 3)
    assert decode_image(pal).shape == (10, 12, 3)


def test_sniff_does_not_trust_riff_without_webp():
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


def test_big_jpeg_can_be_decoded_at_reduced_size():
    data = encode(np.full((2000, 3000, 3), 200, np.uint8), "JPEG")
    out = decode(data, reduce_to=400_000)
    assert (out.width, out.height) == (3000, 2000)
    assert out.scale < 1
    assert out.image.shape[0] * out.image.shape[1] >= 400_000
    assert out.image.shape[:2] == (round(2000 * out.scale), round(3000 * out.scale))
    assert decode(data).scale == 1.0


def test_a_frame_without_paper_is_dark_by_the_median_of_the_channel_mean_of_a_sample():
    rng = np.random.default_rng(5)
    for shape in ((40, 60, 3), (300, 500, 3), (301, 499, 3), (80, 90)):
        for level in (60, 99, 100, 101, 140):
            image = np.clip(rng.normal(level, 30, shape), 0, 255).astype(np.uint8)
            step = max(1, int(np.sqrt(shape[0] * shape[1] / 10_000)))
            sample = image[::step, ::step]
            gray = sample.mean(axis=2) if sample.ndim == 3 else sample
            assert is_dark_background(image) == (float(np.median(gray)) < 100), (shape, level)
    half = np.zeros((2, 2, 3), np.uint8)
    half[0] = (99, 100, 100)  # channel mean 99.67: just dark ...
    half[1] = (100, 100, 101)  # ... 100.33: just light; their median is 100
    assert not is_dark_background(half)
    assert is_dark_background(half[:1])


def test_an_rgb_image_decodes_to_its_own_pixels():
    rng = np.random.default_rng(6)
    pixels = rng.integers(100, 256, (30, 40, 3), dtype=np.uint8)
    assert np.array_equal(decode_image(encode(pixels, "PNG")), pixels)


@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_every_exif_orientation_decodes_as_pillow_turns_it(orientation):
    from PIL import ImageOps

    rng = np.random.default_rng(orientation or 0)
    pixels = rng.integers(120, 256, (12, 20, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    if orientation is not None:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, "PNG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    assert np.array_equal(decode_image(buf.getvalue()), expected)
