"""The line model's training lines, and its smoke training and export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mathocr.line_model import LINE_HEIGHT, STRIDE
from mathocr.read import is_valid

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def lines_module(shared_data):
    from training import lines

    return lines


@pytest.fixture(scope="module")
def sources(lines_module):
    return lines_module.LineSources(extra_sources=False)


def test_line_tokens_are_valid_expressions_of_the_alphabet(lines_module):
    rng = np.random.default_rng(0)
    for _ in range(300):
        labels = lines_module.labels_of(lines_module.line_tokens(rng))
        assert is_valid(list(labels)), labels
        assert set(labels) <= set(lines_module.ALPHABET)


def test_training_lines_never_use_the_development_writers(lines_module, sources):
    from training import crohme

    dev = crohme.dev_writers()
    validation = lines_module.LineSources(validation=True, extra_sources=False)
    train_writers = {e.writer for e in sources.expressions}
    val_writers = {e.writer for e in validation.expressions}
    assert train_writers
    assert val_writers
    assert not train_writers & dev
    assert not val_writers & dev
    assert not train_writers & val_writers
    assert set(sources.pools) <= train_writers


def test_samples_are_model_inputs_with_their_labels(lines_module, sources):
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(60):
        sample = sources.sample(rng)
        if sample is None:
            continue
        kinds.add(sample.kind)
        assert sample.image.shape[0] == LINE_HEIGHT
        assert sample.image.shape[1] % STRIDE == 0
        assert sample.image.dtype == np.float32
        assert sample.image.min() >= 0.0
        assert sample.image.max() <= 1.0
        assert sample.labels
        assert is_valid(list(sample.labels)), sample.labels
    assert kinds >= {"crohme", "composed"}


def test_a_dot_is_labelled_as_a_multiplication(lines_module):
    assert lines_module.labels_of(["3", lines_module.DOT, "4", "="]) == ("3", "×", "4", "=")


@pytest.mark.slow
def test_smoke_training_is_deterministic_and_exports_a_loadable_model(shared_data, torch, tmp_path):
    pytest.importorskip("onnxruntime")
    from mathocr.line_model import LineModel
    from training import train_lines
    from training.export import sha256

    assert train_lines.main(["--smoke", "--seed", "2", "--out", str(tmp_path / "a")]) == 0
    assert train_lines.main(["--smoke", "--seed", "2", "--out", str(tmp_path / "b")]) == 0
    a, b = tmp_path / "a" / "lines.onnx", tmp_path / "b" / "lines.onnx"
    assert sha256(a) == sha256(b)
    meta = json.loads(a.with_suffix(".json").read_text("utf-8"))
    assert meta["sha256"] == sha256(a)
    assert meta["onnx_max_abs_diff"] <= 1e-3
    model = LineModel(a)
    assert model.alphabet == tuple(train_lines.ALPHABET)
    lp = model.log_probs(np.zeros((LINE_HEIGHT, 64), np.float32))
    assert lp.shape == (16, len(model.alphabet) + 1)
    # the checkpoint exports again as it is
    assert train_lines.main(["--smoke", "--export-only", "--out", str(tmp_path / "a")]) == 0
    assert sha256(a) == sha256(b)
