"""Property tests: no input bytes crash or hang the decoder or the recognizer.

Whatever arrives, the only exception allowed out is :class:`InvalidImage`, and
every call finishes within hypothesis' deadline.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mathocr.decode import decode_image, probe
from mathocr.errors import InvalidImage
from mathocr.recognizer import Recognizer
from mathocr.result import Result
from tests.core.drawing import draw_text, encode

FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
SETTINGS = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_SEEDS = {fmt: encode(draw_text("12+7", height=60, scale=1.2, thickness=3), fmt) for fmt in FORMATS}


@st.composite
def damaged_images(draw):
    """A valid image of some format with bytes flipped, cut, or inserted."""
    data = bytearray(_SEEDS[draw(st.sampled_from(FORMATS))])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            data[pos : pos + 8] = bytes(len(data[pos : pos + 8]))
    return bytes(data)


any_bytes = st.one_of(
    st.binary(max_size=512),
    st.builds(
        lambda p, b: p + b,
        st.sampled_from(
            [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 "]
        ),
        st.binary(max_size=256),
    ),
    damaged_images(),
)


def _only_invalid_image(fn, data):
    try:
        return fn(data)
    except InvalidImage as exc:
        code = exc.code
    assert code in {"unsupported_format", "corrupt", "too_many_pixels", "too_large", "empty"}
    return None


@SETTINGS
@given(data=any_bytes)
def test_decoding_any_bytes_returns_an_image_or_raises_invalid_image(data):
    image = _only_invalid_image(decode_image, data)
    if image is not None:
        assert image.dtype == np.uint8
        assert image.ndim == 3
        assert image.shape[2] == 3
        info = probe(data)
        assert (info.height, info.width) == image.shape[:2] or info.format == "jpeg"


@pytest.fixture(scope="module")
def recognizer(tiny_model):
    return Recognizer(tiny_model)


@SETTINGS
@given(data=any_bytes)
def test_recognizing_any_bytes_returns_a_result_or_raises_invalid_image(recognizer, data):
    result = _only_invalid_image(recognizer, data)
    assert result is None or isinstance(result, Result)


@settings(
    max_examples=60,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    shape=st.tuples(st.integers(1, 300), st.integers(1, 300)),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["noise", "blocks", "flat"]),
)
def test_recognizing_any_pixels_returns_a_result(recognizer, shape, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "noise":
        image = rng.integers(0, 256, shape, dtype=np.uint8)
    elif kind == "flat":
        image = np.full(shape, int(rng.integers(0, 256)), np.uint8)
    else:
        image = np.where(rng.random((shape[0] // 8 + 1, shape[1] // 8 + 1)) < 0.3, 0, 255)
        image = np.kron(image, np.ones((8, 8)))[: shape[0], : shape[1]].astype(np.uint8)
    result = recognizer.recognize_array(image)
    assert isinstance(result, Result)
    assert 0.0 <= result.confidence <= 1.0
