"""Image-drawing and model-building helpers for the recognition-core tests.

The tests draw their own small images (cv2 lines, circles, text) so each stage
can be checked alone. :func:`build_tiny_model` writes a 21-class ONNX model with
the ``onnx`` helper API (a dev dependency only), for checking the classifier's
plumbing independently of the shipped model.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mathocr.normalize import FILL_FRACTION, MAX_RELATIVE_SIZE
from mathocr.symbols import CLASSES, INPUT_CHANNELS, INPUT_SIZE

# --- drawing helpers --------------------------------------------------------------


def blank(height: int = 120, width: int = 400, value: int = 255) -> np.ndarray:
    """A grey uint8 page."""
    return np.full((height, width), value, np.uint8)


def draw_text(
    text: str,
    *,
    height: int = 120,
    scale: float = 2.5,
    thickness: int = 5,
    origin: tuple[int, int] = (20, 90),
    width: int | None = None,
) -> np.ndarray:
    """Dark Hershey-font text on white (good enough for structure, not handwriting)."""
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    page = blank(height, width or tw + 2 * origin[0])
    cv2.putText(page, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thickness, cv2.LINE_AA)
    return page


def encode(image: np.ndarray, fmt: str = "PNG", **params) -> bytes:
    """Encode an array (grey, RGB or RGBA) with Pillow."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, fmt, **params)
    return buf.getvalue()


# --- models -----------------------------------------------------------------------


def build_tiny_model(path: Path, *, classes: tuple[str, ...] = CLASSES, seed: int = 0) -> Path:
    """Write a linear ONNX model (flatten -> matmul -> add) and its symbols.json."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    size = INPUT_SIZE
    rng = np.random.default_rng(seed)
    n_in = INPUT_CHANNELS * INPUT_SIZE * INPUT_SIZE
    weight = rng.normal(0, 0.05, (n_in, len(classes))).astype(np.float32)
    bias = np.zeros(len(classes), np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "weight"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
        ],
        "tiny",
        [
            helper.make_tensor_value_info(
                "input", TensorProto.FLOAT, ["N", INPUT_CHANNELS, size, size]
            )
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(classes)])],
        [numpy_helper.from_array(weight, "weight"), numpy_helper.from_array(bias, "bias")],
    )
    meta = {
        "classes": list(classes),
        "input_size": INPUT_SIZE,
        "fill_fraction": FILL_FRACTION,
        "input_channels": INPUT_CHANNELS,
        "max_relative_size": MAX_RELATIVE_SIZE,
        "version": "tiny-test",
        "opset": 17,
    }
    return _write_model(graph, path, meta)


def _write_model(graph, path: Path, meta: dict) -> Path:
    """Write ``graph`` as a checked opset-17 model and ``meta`` (with its sha256) beside it."""
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    path.write_bytes(data)
    meta = {**meta, "sha256": hashlib.sha256(data).hexdigest()}
    path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return path


def build_tiny_line_model(path: Path, *, alphabet: tuple[str, ...] | None = None) -> Path:
    """Write a line model (column means -> one weight per label -> log-softmax) and its
    lines.json: it favours the blank over paper and label 1 (``alphabet[0]``) over ink."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from mathocr.line_model import LINE_HEIGHT, REF_PIXELS, STRIDE

    labels = alphabet or tuple(c for c in CLASSES if c != "reject")
    weight = np.zeros((1, len(labels) + 1), np.float32)
    weight[0, 1] = 40.0
    bias = np.zeros(len(labels) + 1, np.float32)
    bias[0] = 3.0
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool",
                ["input"],
                ["cols"],
                kernel_shape=[LINE_HEIGHT, STRIDE],
                strides=[LINE_HEIGHT, STRIDE],
            ),
            helper.make_node("Transpose", ["cols"], ["steps"], perm=[3, 0, 1, 2]),
            helper.make_node("Reshape", ["steps", "shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "weight"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
            helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=2),
        ],
        "tiny-lines",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, LINE_HEIGHT, "W"])],
        [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["T", 1, len(labels) + 1])],
        [
            numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape"),
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(bias, "bias"),
        ],
    )
    meta = {
        "alphabet": list(labels),
        "input_height": LINE_HEIGHT,
        "ref_pixels": REF_PIXELS,
        "stride": STRIDE,
        "version": "tiny-lines-test",
    }
    return _write_model(graph, path, meta)
