"""Stage 4: the ONNX classifier wrapper."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mathocr.classify import Classifier, softmax, top_k
from mathocr.errors import ModelError
from mathocr.symbols import CLASSES
from tests.core.drawing import build_tiny_model


def test_predict_returns_probabilities_for_every_symbol(tiny_model):
    clf = Classifier(tiny_model)
    rng = np.random.default_rng(0)
    batch = rng.random((5, 1, 32, 32), dtype=np.float32)
    probs = clf.predict(batch)
    assert probs.shape == (5, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert clf.version == "tiny-test"


def test_predict_is_one_batched_call_matching_single_calls(tiny_model):
    clf = Classifier(tiny_model)
    rng = np.random.default_rng(1)
    batch = rng.random((4, 1, 32, 32), dtype=np.float32)
    together = clf.predict(batch)
    alone = np.vstack([clf.predict(batch[i : i + 1]) for i in range(4)])
    assert np.allclose(together, alone, atol=1e-6)


def test_empty_batch_gives_empty_probabilities(tiny_model):
    assert Classifier(tiny_model).predict(np.zeros((0, 1, 32, 32), np.float32)).shape == (0, 21)


def test_wrong_input_shape_is_a_value_error(tiny_model):
    with pytest.raises(ValueError, match="expected"):
        Classifier(tiny_model).predict(np.zeros((2, 32, 32), np.float32))


def test_model_with_other_classes_is_refused(tmp_path):
    path = build_tiny_model(tmp_path / "m.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["classes"] = list(reversed(meta["classes"]))
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="classes"):
        Classifier(path)


def test_model_not_matching_its_checksum_is_refused(tmp_path):
    path = build_tiny_model(tmp_path / "m.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["sha256"] = "0" * 64
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="sha256"):
        Classifier(path)


def test_missing_model_or_metadata_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        Classifier(tmp_path / "absent.onnx")
    path = build_tiny_model(tmp_path / "m.onnx")
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="metadata"):
        Classifier(path)


def test_corrupt_model_is_a_model_error(tmp_path):
    path = build_tiny_model(tmp_path / "m.onnx")
    path.write_bytes(b"not a model")
    meta = json.loads(path.with_suffix(".json").read_text())
    del meta["sha256"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="cannot be loaded"):
        Classifier(path)


def test_top_k_orders_classes_by_probability():
    logits = np.zeros((1, len(CLASSES)), np.float32)
    logits[0, CLASSES.index("7")] = 3.0
    logits[0, CLASSES.index("1")] = 2.0
    alts = top_k(softmax(logits), 3)[0]
    assert [a[0] for a in alts[:2]] == ["7", "1"]
    assert alts[0][1] > alts[1][1] > alts[2][1]


def test_shipped_model_matches_the_code(shipped_model):
    clf = Classifier(shipped_model)
    assert clf.metadata["classes"] == list(CLASSES)
    probs = clf.predict(np.zeros((2, 1, 32, 32), np.float32))
    assert probs.shape == (2, len(CLASSES))
