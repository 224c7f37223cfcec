"""Stage 4: the ONNX classifier wrapper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mathocr.classify import Classifier, softmax, top_k
from mathocr.errors import ModelError
from mathocr.normalize import FILL_FRACTION
from mathocr.symbols import CLASSES, INPUT_CHANNELS
from tests.core.drawing import build_tiny_model


def test_predict_returns_probabilities_for_every_symbol(tiny_model):
    clf = Classifier(tiny_model)
    rng = np.random.default_rng(0)
    batch = rng.random((5, INPUT_CHANNELS, 32, 32), dtype=np.float32)
    probs = clf.predict(batch)
    assert probs.shape == (5, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert clf.version == "tiny-test"


def test_predict_is_one_batched_call_matching_single_calls(tiny_model):
    clf = Classifier(tiny_model)
    rng = np.random.default_rng(1)
    batch = rng.random((4, INPUT_CHANNELS, 32, 32), dtype=np.float32)
    together = clf.predict(batch)
    alone = np.vstack([clf.predict(batch[i : i + 1]) for i in range(4)])
    assert np.allclose(together, alone, atol=1e-6)


def test_empty_batch_gives_empty_probabilities(tiny_model):
    probs = Classifier(tiny_model).predict(np.zeros((0, INPUT_CHANNELS, 32, 32), np.float32))
    assert probs.shape == (0, len(CLASSES))


def test_wrong_input_shape_is_a_value_error(tiny_model):
    with pytest.raises(ValueError, match="expected"):
        Classifier(tiny_model).predict(np.zeros((2, 32, 32), np.float32))


@pytest.mark.parametrize(
    "classes",
    [
        [*CLASSES[:-1], "reject", "?"],  # a class the code does not know
        [*CLASSES, "1"],  # a class twice
        list(CLASSES[:-1]),  # no reject
        "0123456789",  # not a list
        None,
    ],
    ids=["unknown", "duplicate", "no-reject", "string", "missing"],
)
def test_model_with_classes_the_code_does_not_know_is_refused(tmp_path, classes):
    path = build_tiny_model(tmp_path / "m.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["classes"] = classes
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="classes"):
        Classifier(path)


#: The classes of model 1.3.0 (before brackets and comparisons were taught).
CLASSES_1_3 = (*"0123456789", "+", "-", "×", "÷", "/", "=", "(", ")", ".", "reject")


def test_a_model_of_fewer_classes_is_mapped_onto_the_code_s_classes(tmp_path):
    path = build_tiny_model(tmp_path / "m.onnx", classes=tuple(reversed(CLASSES_1_3)))
    clf = Classifier(path)
    batch = np.random.default_rng(2).random((3, INPUT_CHANNELS, 32, 32), dtype=np.float32)
    probs = clf.predict(batch)
    assert probs.shape == (3, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    own = softmax(clf.logits(batch).astype(np.float64))
    for j, name in enumerate(clf.classes):
        assert np.allclose(probs[:, CLASSES.index(name)], own[:, j], atol=1e-6)
    untaught = [CLASSES.index(c) for c in CLASSES if c not in CLASSES_1_3]
    assert not probs[:, untaught].any()
    assert not clf.calibrate(probs)[:, untaught].any()


_MISSING = object()


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        # the frame-filling threshold: a model trained with another one sees other inputs
        *[("fill_fraction", v, "fill_fraction") for v in (FILL_FRACTION + 0.25, 2 * FILL_FRACTION)],
        ("fill_fraction", str(FILL_FRACTION), "fill_fraction"),
        # models before 1.3.0 saw the ink plane only (no "input_channels" in their json)
        *[("input_channels", v, "input planes") for v in (_MISSING, 1, 3, "2")],
        # the size plane's clip
        *[("max_relative_size", v, "clipped") for v in (_MISSING, 2.0, "3.0", True)],
    ],
)
def test_model_trained_with_another_input_contract_is_refused(tmp_path, key, value, match):
    path = build_tiny_model(tmp_path / "m.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    if value is _MISSING:
        del meta[key]
    else:
        meta[key] = value
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=match):
        Classifier(path)


def _with_temperature(folder: Path, temperature) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = build_tiny_model(folder / "m.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["temperature"] = temperature
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def test_reported_probabilities_are_rescaled_by_the_model_temperature(tmp_path):
    clf = Classifier(_with_temperature(tmp_path, 0.5))
    probs = np.array([[0.6, 0.3, 0.1] + [0.0] * (len(CLASSES) - 3)], np.float32)
    calibrated = clf.calibrate(probs)
    # softmax(log p / 0.5) = p**2 / sum(p**2)
    expected = probs.astype(np.float64) ** 2 / (probs.astype(np.float64) ** 2).sum()
    np.testing.assert_allclose(calibrated, expected, atol=1e-6)
    assert list(np.argsort(-calibrated[0])[:3]) == [0, 1, 2]  # same order, sharper
    # decisions keep the raw probabilities
    batch = np.zeros((2, INPUT_CHANNELS, 32, 32), np.float32)
    raw = Classifier(_with_temperature(tmp_path / "raw", 1.0)).predict(batch)
    np.testing.assert_array_equal(clf.predict(batch), raw)


def test_without_a_temperature_probabilities_are_reported_as_they_are(tiny_model):
    probs = np.full((2, len(CLASSES)), 1 / len(CLASSES), np.float32)
    assert Classifier(tiny_model).calibrate(probs) is probs


@pytest.mark.parametrize("temperature", [0, -1.0, float("inf"), "0.7", True, None])
def test_model_with_a_meaningless_temperature_is_refused(tmp_path, temperature):
    with pytest.raises(ModelError, match="temperature"):
        Classifier(_with_temperature(tmp_path, temperature))


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
    assert set(clf.classes) <= set(CLASSES)
    assert "reject" in clf.classes
    probs = clf.predict(np.zeros((2, INPUT_CHANNELS, 32, 32), np.float32))
    assert probs.shape == (2, len(CLASSES))


def _row(label: str, p: float) -> np.ndarray:
    r = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1), np.float32)
    r[CLASSES.index(label)] = p
    return r


class _CountingClassifier:
    """Reads every symbol as ``8`` with probability ``p``; records its batch sizes."""

    def __init__(self, p: float) -> None:
        self.p, self.calls = p, []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(len(batch))
        return np.stack([_row("8", self.p)] * len(batch))

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        return probs


def test_every_candidate_of_the_lattice_is_classified_in_one_call(tiny_model):
    import cv2

    from mathocr.recognizer import Recognizer

    page = np.full((120, 300), 255, np.uint8)
    cv2.circle(page, (60, 60), 25, 0, 4)  # two rings that touch: a wide segment ...
    cv2.circle(page, (108, 60), 25, 0, 4)
    cv2.line(page, (200, 35), (200, 85), 0, 4)  # ... and a narrow one
    rec = Recognizer(tiny_model)
    for p in (0.6, 0.9):
        rec.classifier = counting = _CountingClassifier(p)
        rec.analyze_array(page)
        assert len(counting.calls) == 1
        assert counting.calls[0] > 2  # the two pieces, and the halves of the wide one
    rec = Recognizer(tiny_model, lattice=False)
    rec.classifier = counting = _CountingClassifier(0.6)
    assert len(rec.analyze_array(page).segmentation.segments) == 2
    assert counting.calls == [2]


def test_classifier_input_is_the_same_for_any_mask_type_or_view():
    from mathocr.normalize import ink_box, normalize_symbol

    rng = np.random.default_rng(2)
    page = rng.random((70, 90)) < 0.02
    page[20:50, 30:34] = True
    view = page[5:65, 10:80]  # not contiguous
    expected = normalize_symbol(np.ascontiguousarray(view), ref_height=40.0)
    for mask in (view, view.astype(np.uint8) * 255, view.astype(np.float32) * 0.5):
        assert np.array_equal(normalize_symbol(mask, ref_height=40.0), expected)
    rows, cols = np.flatnonzero(view.any(axis=1)), np.flatnonzero(view.any(axis=0))
    box = (cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
    assert ink_box(view) == tuple(int(v) for v in box)
    assert float(expected.min()) == 0.0
    assert float(expected.max()) <= 1.0


def test_top_k_of_a_batch_is_each_rows_own_with_ties_in_class_order():
    rng = np.random.default_rng(3)
    probs = np.round(rng.random((6, len(CLASSES))), 1).astype(np.float32)
    together = top_k(probs, 5)
    assert together == [top_k(probs[i : i + 1], 5)[0] for i in range(6)]
    for row, alts in zip(probs, together, strict=True):
        order = sorted(range(len(CLASSES)), key=lambda i: (-row[i], i))[:5]
        assert alts == [(CLASSES[i], float(row[i])) for i in order]
