"""The line model's input, its CTC scoring and decoding, and the combination of both readers."""

from __future__ import annotations

import itertools
import json
import math

import cv2
import numpy as np
import pytest

from mathocr.combine import combine, pooled_confidence
from mathocr.errors import ModelError
from mathocr.line_model import (
    LINE_HEIGHT,
    MAX_WIDTH,
    REF_PIXELS,
    STRIDE,
    LineModel,
    ctc_beam_search,
    ctc_log_likelihood,
    line_image,
)
from mathocr.read import (
    Edge,
    grammar_moves,
    grammar_start,
    is_valid,
    read_labels,
    read_lattice,
)
from tests.core.drawing import build_tiny_line_model


@pytest.fixture(scope="module")
def tiny_line_model(tmp_path_factory):
    return build_tiny_line_model(tmp_path_factory.mktemp("lines") / "lines.onnx")


def _strokes(scale: float) -> np.ndarray:
    """A "1", a "-" and a "7"-like mark, drawn at ``scale`` pixels per unit."""
    ink = np.zeros((int(80 * scale), int(140 * scale)), np.uint8)
    s = scale
    cv2.line(ink, (int(20 * s), int(20 * s)), (int(20 * s), int(60 * s)), 255, max(1, int(4 * s)))
    cv2.line(ink, (int(40 * s), int(40 * s)), (int(70 * s), int(40 * s)), 255, max(1, int(4 * s)))
    cv2.line(ink, (int(90 * s), int(20 * s)), (int(115 * s), int(20 * s)), 255, max(1, int(4 * s)))
    cv2.line(ink, (int(115 * s), int(20 * s)), (int(100 * s), int(60 * s)), 255, max(1, int(4 * s)))
    return ink > 0


# --------------------------------------------------------------------------- input


def test_line_image_scales_the_typical_symbol_to_ref_pixels_around_the_middle():
    image = line_image(_strokes(1.0))
    assert image is not None
    assert image.shape[0] == LINE_HEIGHT
    assert image.shape[1] % STRIDE == 0
    rows = np.flatnonzero(image.max(axis=1) > 0.5)
    # the strokes are 40 (+ pen) units tall: about REF_PIXELS rows, centred
    assert REF_PIXELS - 2 <= rows[-1] - rows[0] + 1 <= REF_PIXELS + 4
    assert abs((rows[0] + rows[-1]) / 2 - LINE_HEIGHT / 2) <= 2


@pytest.mark.parametrize("scale", [0.5, 2.0, 4.0])
def test_line_image_is_nearly_the_same_at_any_resolution(scale):
    base, other = line_image(_strokes(1.0)), line_image(_strokes(scale))
    assert base is not None
    assert other is not None
    width = min(base.shape[1], other.shape[1])
    assert abs(base.shape[1] - other.shape[1]) <= STRIDE
    # thin strokes at half size are a little thinner: compare where the ink is
    inked = (base[:, :width] > 0.5) & (other[:, :width] > 0.5)
    assert inked.sum() >= 0.6 * (base > 0.5).sum()


@pytest.mark.parametrize(
    ("case", "ink"),
    [
        ("no ink", np.zeros((50, 50), bool)),
        ("a line too long to read", np.tile(np.eye(20, 6, dtype=bool), (1, 400))),
    ],
)
def test_line_image_is_none_for(case, ink):
    assert line_image(ink) is None, case


def test_max_width_bounds_every_input():
    ink = np.zeros((40, 20 * 150), bool)
    for x in range(0, ink.shape[1], 20):
        ink[5:35, x : x + 4] = True  # 150 strokes 30 px tall: 75 px a symbol at 20
    image = line_image(ink)
    assert image is None or image.shape[1] <= MAX_WIDTH


# --------------------------------------------------------------------------- CTC


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    out, previous = [], 0
    for c in path:
        if c != previous and c != 0:
            out.append(c)
        previous = c
    return tuple(out)


def _brute(log_probs: np.ndarray) -> dict[tuple[int, ...], float]:
    probs = np.exp(log_probs)
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        p = float(np.prod([probs[t, c] for t, c in enumerate(path)]))
        key = _collapse(path)
        totals[key] = totals.get(key, 0.0) + p
    return totals


def _random_log_probs(seed: int, steps: int, columns: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.0, (steps, columns))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("seed", range(6))
def test_ctc_log_likelihood_equals_the_sum_over_every_path(seed):
    lp = _random_log_probs(seed, 5, 4)
    totals = _brute(lp)
    for labels, p in sorted(totals.items(), key=lambda kv: -kv[1])[:6]:
        assert math.exp(ctc_log_likelihood(lp, list(labels))) == pytest.approx(p, rel=1e-6)


def test_ctc_log_likelihood_of_more_labels_than_columns_allow_is_minus_infinity():
    lp = _random_log_probs(0, 3, 3)
    assert ctc_log_likelihood(lp, [1, 1, 1]) == -math.inf  # needs 5 columns


def _penalty(labels: list[str]) -> float:
    """The grammar's factor on a valid label sequence (a sign ``+``, a chained relation)."""
    state, factor = grammar_start(), 1.0
    for label in labels:
        ((state, log_factor),) = grammar_moves(state, label)  # one move: the state decides
        factor *= math.exp(log_factor)
    return factor


@pytest.mark.parametrize("seed", range(8))
def test_beam_search_finds_the_likeliest_valid_expression(seed):
    alphabet = ("1", "+", "=")
    lp = _random_log_probs(seed, 6, 4)
    totals = _brute(lp)
    valid = {
        k: v * _penalty([alphabet[c - 1] for c in k])
        for k, v in totals.items()
        if k and is_valid([alphabet[c - 1] for c in k])
    }
    want = max(valid, key=valid.__getitem__)
    found = ctc_beam_search(lp, alphabet, beam=64, prune=-math.inf)
    assert found, "some valid reading exists"
    labels, score = found[0]
    assert labels == tuple(alphabet[c - 1] for c in want)
    assert math.exp(score) == pytest.approx(valid[want], rel=1e-6)
    assert all(is_valid(list(s)) for s, _ in found)


def test_beam_search_refuses_an_empty_beam():
    with pytest.raises(ValueError, match="at least 1"):
        ctc_beam_search(_random_log_probs(0, 3, 3), "12", beam=0)


# --------------------------------------------------------------------------- lattice


def _brute_read_labels(edges, target):
    """Best ranking score among all paths reading ``target`` (brute force over label choices)."""
    from mathocr.read import _candidates, _priors

    cands = _candidates([e.alternatives for e in edges], _priors(edges, None))
    end = max(e.end for e in edges)
    best = -math.inf

    def walk(pos, read, rank):
        nonlocal best
        if pos == end:
            if [lab for lab in read if lab] == list(target) and is_valid(read):
                best = max(best, rank)
            return
        for k, e in enumerate(edges):
            if e.start == pos:
                for label, c_rank, _, _ in cands[k]:
                    walk(e.end, [*read, label], rank + c_rank + e.log_weight)

    walk(0, [], 0.0)
    return best


LATTICE = [
    Edge(0, 1, [("1", 0.6), ("7", 0.3), ("reject", 0.1)], (0, 0, 8, 20)),
    Edge(1, 2, [("+", 0.7), ("4", 0.2)], (12, 5, 10, 10)),
    Edge(0, 2, [("4", 0.5), ("1", 0.3)], (0, 0, 22, 20), -0.7),
    Edge(2, 3, [("2", 0.8), ("=", 0.1)], (26, 0, 10, 20)),
]


@pytest.mark.parametrize("target", [("1", "+", "2"), ("7", "+", "2"), ("4", "2"), ("2",)])
def test_read_labels_finds_the_best_path_reading_the_labels(target):
    read = read_labels(LATTICE, target)
    want = _brute_read_labels(LATTICE, target)
    if want == -math.inf:
        assert read is None
    else:
        assert read is not None
        reading, rank = read
        assert tuple(lab for lab in reading.labels if lab) == target
        assert rank == pytest.approx(want)


def test_read_labels_is_none_when_no_path_reads_the_labels():
    assert read_labels(LATTICE, ("9", "+", "2")) is None


def _line_log_probs(labels: str, alphabet: str, *, sure: float = 0.9) -> np.ndarray:
    """CTC output that spells ``labels`` (a label column, then a blank column, each)."""
    rows = []
    other = (1 - sure) / len(alphabet)
    for lab in labels:
        row = np.full(len(alphabet) + 1, other)
        row[alphabet.index(lab) + 1] = sure
        rows.append(row)
        blank = np.full(len(alphabet) + 1, other)
        blank[0] = sure
        rows.append(blank)
    return np.log(np.array(rows))


def test_combination_takes_the_line_models_reading_when_it_is_sure():
    alphabet = "147+2="
    lattice = read_lattice(LATTICE)
    assert lattice.labels == ("1", "+", "2")
    both = combine(LATTICE, lattice, _line_log_probs("7+2", alphabet), alphabet)
    assert both.reading.labels == ("7", "+", "2")
    assert both.reading.path == (0, 1, 3)  # the boxes come from the lattice
    assert both.lattice == lattice


def test_combination_keeps_the_lattice_reading_when_the_line_model_agrees_or_is_unsure():
    alphabet = "147+2="
    lattice = read_lattice(LATTICE)
    agrees = combine(LATTICE, lattice, _line_log_probs("1+2", alphabet), alphabet)
    unsure = combine(LATTICE, lattice, _line_log_probs("7+2", alphabet, sure=0.2), alphabet)
    assert agrees.reading == lattice
    assert unsure.reading.labels == lattice.labels


def test_combination_leaves_out_what_the_lattice_cannot_read():
    alphabet = "19+2="
    lattice = read_lattice(LATTICE)
    both = combine(LATTICE, lattice, _line_log_probs("9+2", alphabet), alphabet)
    assert both.reading == lattice  # no path reads a 9: the lattice's own reading stays
    assert both.line
    assert both.line[0][0] == ("9", "+", "2")


@pytest.mark.parametrize(
    ("lattice", "line", "weights", "want"),
    [
        (0.8, 0.0, (1.0, 0.0, 0.0), 0.8),  # the lattice's share alone
        (0.5, math.log(0.5), (0.0, 1.0, 0.0), 1 / 3),  # sigmoid(log 0.5)
        (0.5, -50.0, (0.0, 1.0, 0.0), 1 / (1 + math.exp(20))),  # clipped at -20
        (0.9, -math.inf, (1.0, 1.0, 0.0), 0.0),  # the line model rules it out
        (0.0, 0.0, (1.0, 1.0, 0.0), 0.0),  # the lattice rules it out
    ],
)
def test_pooled_confidence(lattice, line, weights, want):
    assert pooled_confidence(lattice, line, weights=weights) == pytest.approx(want, abs=1e-9)


def test_pooled_confidence_grows_with_either_readers_evidence():
    from mathocr.combine import CONFIDENCE_WEIGHTS

    a, b, _ = CONFIDENCE_WEIGHTS
    assert a > 0
    assert b >= 0
    low = pooled_confidence(0.6, math.log(0.5))
    assert pooled_confidence(0.9, math.log(0.5)) > low
    assert pooled_confidence(0.6, math.log(0.9)) >= low


# --------------------------------------------------------------------------- model file


def test_line_model_reads_its_metadata(tiny_line_model):
    model = LineModel(tiny_line_model)
    assert model.version == "tiny-lines-test"
    assert model.alphabet[0] == "0"
    assert "reject" not in model.alphabet
    lp = model.log_probs(np.zeros((LINE_HEIGHT, 32), np.float32))
    assert lp.shape == (32 // STRIDE, len(model.alphabet) + 1)
    assert np.allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "0" * 64}, "sha256"),
        ({"input_height": 32}, "input contract"),
        ({"alphabet": ["0", "x"]}, "unknown labels"),
    ],
)
def test_line_model_refuses_metadata_that_does_not_match(tmp_path, change, message):
    path = build_tiny_line_model(tmp_path / "lines.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**meta, **change}))
    with pytest.raises(ModelError, match=message):
        LineModel(path)


def test_line_model_refuses_a_missing_file(tmp_path):
    with pytest.raises(ModelError, match="cannot read line model metadata"):
        LineModel(tmp_path / "nowhere.onnx")


def test_the_line_readers_stop_at_the_deadline():
    from mathocr.deadline import Deadline
    from mathocr.errors import RecognitionTimeout

    lp = _random_log_probs(0, 40, 4)
    with pytest.raises(RecognitionTimeout, match="line"):
        ctc_beam_search(lp, "1+=", deadline=Deadline(0.0))
    lattice = read_lattice(LATTICE)
    with pytest.raises(RecognitionTimeout, match="line"):
        combine(
            LATTICE, lattice, _line_log_probs("1+2", "147+2="), "147+2=", deadline=Deadline(0.0)
        )
