"""Real recognition through the API: held-out CROHME handwriting, the shipped model."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image as PILImage

from resolver.models import Image
from tests.support.images import data_url, encode

pytestmark = [pytest.mark.django_db, pytest.mark.data]


@pytest.fixture(scope="module")
def handwriting() -> tuple[bytes, str, tuple[int, int]]:
    """A held-out writer's arithmetic expression, drawn as a PNG; its truth and size."""
    crohme = pytest.importorskip("training.crohme", reason="training.crohme is not importable")
    archive = crohme.data_dir() / crohme.ARCHIVE_NAME
    if not archive.is_file():
        pytest.skip(f"CROHME archive not found at {archive} (../shared/data is absent)")
    candidates = [
        e
        for e in crohme.load_expressions()
        if e.is_arithmetic and crohme.is_dev(e) and any(op in e.ascii for op in "+-*/")
    ]
    if not candidates:
        pytest.skip("no held-out arithmetic expression in the archive")
    expr = min(candidates, key=lambda e: (abs(len(e.ascii) - 8), e.path))  # a mid-sized one
    ink, _ = crohme.render(expr.symbols, symbol_height=48, pen_width=3)
    rgb = np.repeat(ink[:, :, None], 3, axis=2)
    return encode(rgb, "png"), expr.ascii, (ink.shape[1], ink.shape[0])


def test_handwriting_is_read_like_the_core_reads_it(
    api_client, real_recognizer, handwriting, media_files
):
    data, truth, (width, height) = handwriting
    response = api_client.post("/api/images/create/", {"image": data_url(data)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    direct = json.loads(json.dumps(real_recognizer(data).to_dict()))  # tuples -> lists
    for key in ("status", "expression", "latex", "result", "verdict", "symbols"):
        assert body[key] == direct[key], key
    assert body["model_version"] == real_recognizer.model_version
    assert body["status"] in {"solved", "recognized", "unreadable"}
    assert (body["width"], body["height"]) == (width, height)
    for symbol in body["symbols"]:
        x, y, w, h = symbol["box"]
        assert min(x, y) >= 0
        assert x + w <= width
        assert y + h <= height
        assert 0.0 <= symbol["confidence"] <= 1.0
    assert body["symbols"], f"no symbol found in handwritten {truth!r}"
    assert Image.objects.get(pk=body["pk"]).expression == body["expression"]
    assert len(media_files()) == 1


def test_transparent_canvas_png_reads_like_ink_on_white(api_client, real_recognizer, handwriting):
    data, _, _ = handwriting
    gray = np.asarray(PILImage.open(io.BytesIO(data)).convert("L"))
    rgba = np.zeros((*gray.shape, 4), np.uint8)  # black strokes, alpha = ink, like a canvas
    rgba[..., 3] = 255 - gray
    canvas = encode(rgba, "png")
    on_white = api_client.post("/api/images/create/", {"image": data_url(data)}, format="json")
    on_canvas = api_client.post("/api/images/create/", {"image": data_url(canvas)}, format="json")
    assert on_canvas.status_code == 201, on_canvas.content
    assert on_canvas.json()["status"] != "unreadable"
    assert on_canvas.json()["expression"] == on_white.json()["expression"]
