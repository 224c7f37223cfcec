"""The shipped classifier: file integrity, interface, and agreement with torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from mathocr.symbols import CLASSES, INPUT_CHANNELS, INPUT_SIZE

MODELS = Path(__file__).resolve().parents[2] / "src" / "mathocr" / "models"
ONNX = MODELS / "symbols.onnx"


@pytest.fixture(scope="module")
def meta() -> dict:
    if not ONNX.exists():
        pytest.fail(f"{ONNX} is missing")
    return json.loads((MODELS / "symbols.json").read_text("utf-8"))


def test_sha256_of_shipped_model_matches_json_and_card(meta):
    digest = hashlib.sha256(ONNX.read_bytes()).hexdigest()
    assert meta["sha256"] == digest
    assert digest in (MODELS / "MODEL_CARD.md").read_text("utf-8")


def test_shipped_model_json_describes_our_classes(meta):
    # a model may know fewer classes than the code (mathocr.classify maps them)
    assert set(meta["classes"]) <= set(CLASSES)
    assert "reject" in meta["classes"]
    assert meta["input_size"] == INPUT_SIZE
    assert meta["input_channels"] == INPUT_CHANNELS
    assert isinstance(meta["opset"], int)
    assert meta["version"]
    assert ONNX.stat().st_size < 2 * 1024 * 1024


def test_shipped_model_has_pinned_opset_and_named_dynamic_io(meta):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(ONNX))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [meta["opset"]]
    (inp,) = model.graph.input
    (out,) = model.graph.output
    assert inp.name == "input"
    assert out.name == "logits"
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims[1:] == [INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE]
    assert isinstance(dims[0], str)


def test_shipped_model_runs_any_batch_size(meta):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    for n in (1, 7, 16):
        x = np.zeros((n, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32)
        (logits,) = session.run(["logits"], {"input": x})
        assert logits.shape == (n, len(meta["classes"]))
        assert np.isfinite(logits).all()


def test_torch_rebuild_of_onnx_weights_agrees_with_onnxruntime(torch, meta):
    """Load the ONNX initialisers into :class:`SymbolNet` (BN folded) and compare outputs."""
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from training.model import SymbolNet

    graph = onnx.load(str(ONNX)).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    (gemm,) = [n for n in graph.node if n.op_type == "Gemm"]
    net = SymbolNet(n_classes=len(meta["classes"])).eval()
    layers = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    assert len(layers) == len(convs)
    for layer, node in zip(layers, convs, strict=True):
        layer.weight.data = torch.from_numpy(weights[node.input[1]].copy())
        layer.bias = torch.nn.Parameter(torch.from_numpy(weights[node.input[2]].copy()))
    for m in net:
        if isinstance(m, torch.nn.BatchNorm2d):  # folded into the convolutions
            m.running_mean.zero_()
            m.running_var.fill_(1.0 - m.eps)
            m.weight.data.fill_(1.0)
            m.bias.data.zero_()
    linear = net[-1]
    linear.weight.data = torch.from_numpy(weights[gemm.input[1]].copy())
    linear.bias.data = torch.from_numpy(weights[gemm.input[2]].copy())

    shape = (32, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
    x = (np.random.default_rng(0).random(shape) > 0.7).astype(np.float32)
    session = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    (expected,) = session.run(["logits"], {"input": x})
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    assert np.abs(got - expected).max() < 1e-3
