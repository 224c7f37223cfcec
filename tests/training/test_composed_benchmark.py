"""The product-shaped benchmark's expressions: held-out writers' own symbols, laid out sanely."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mathocr.compute import solve
from mathocr.read import is_valid
from training import compose


@pytest.fixture(scope="module")
def composed(shared_data):
    from benchmarks import composed

    return composed


@pytest.fixture(scope="module")
def pairs(composed):
    return composed.composed_expressions(40, seed=3)


def test_composed_expressions_are_reproducible_from_the_seed(composed, pairs):
    again = composed.composed_expressions(40, seed=3)
    assert [e.ascii for _, e in again] == [e.ascii for _, e in pairs]
    other = composed.composed_expressions(40, seed=4)
    assert [e.ascii for _, e in other] != [e.ascii for _, e in pairs]


def test_every_expression_is_valid_solvable_and_labelled_symbol_by_symbol(pairs):
    for name, expr in pairs:
        labels = [s.label for s in expr.symbols]
        assert is_valid(labels), expr.ascii
        solution = solve(labels)
        assert solution.status == "solved", (expr.ascii, solution.error)
        if name.endswith("= r"):
            assert solution.verdict is True, expr.ascii  # a true equation, written exactly
        else:
            assert labels[-1] == "="
            assert solution.result is not None


def test_symbols_are_only_the_held_out_writers_own(pairs):
    from training import crohme

    dev = crohme.dev_writers()
    assert {e.writer for _, e in pairs} <= dev
    own: dict[str, set[bytes]] = {}
    for expr in crohme.load_expressions():
        if expr.writer in dev:
            for s in expr.symbols:
                own.setdefault(expr.writer, set()).add(_shape(s.strokes))
    for _, expr in pairs:
        for s in expr.symbols:
            assert _shape(s.strokes) in own[expr.writer]


def test_neighbours_keep_clear_paper_between_their_inks(composed, pairs):
    for _, expr in pairs:
        for a, b in itertools.pairwise(expr.symbols):
            pa, pb = compose.dense(a.strokes), compose.dense(b.strokes)
            # composed strokes are in units of the writer's typical symbol height
            assert compose.nearest(pb, pa) >= compose.CLEARANCE - 1e-6
            assert pb[:, 0].min() >= pa[:, 0].min()  # left to right


def test_clearance_is_measured_along_the_pen_line_not_only_at_its_samples(composed):
    # two samples a whole height apart: the line between them passes the point (0.5, 0.1)
    stroke = np.array([[0.0, 0.0], [1.0, 0.0]])
    dense = compose.dense([stroke])
    assert np.allclose(dense[[0, -1]], stroke)
    assert np.hypot(*np.diff(dense, axis=0).T).max() <= 0.02 + 1e-12
    assert compose.nearest(dense, np.array([[0.5, 0.1]])) == pytest.approx(0.1)


def _shape(strokes) -> bytes:
    """A symbol's strokes up to translation and uniform scale, rounded (an identity key)."""
    pts = np.concatenate(strokes).astype(np.float64)
    pts = pts - pts.min(axis=0)
    span = float(pts.max()) or 1.0
    return np.round(pts / span, 3).astype(np.float32).tobytes()


def test_a_writer_is_picked_among_those_who_drew_every_needed_class():
    stroke = (np.zeros((2, 2)),)
    pools = {"a": {"1": [stroke], "+": [stroke]}, "b": {"1": [stroke]}, "c": {"+": []}}
    picks = {compose.pick_writer(pools, "1+", np.random.default_rng(k)) for k in range(20)}
    assert picks == {"a"}
    assert {compose.pick_writer(pools, "1", np.random.default_rng(k)) for k in range(20)} == {
        "a", "b",
    }  # fmt: skip
    rng = np.random.default_rng(0)
    assert compose.pick_writer(pools, "+=", rng) is None  # "c" drew no "+": an empty list
    assert rng.integers(100) == np.random.default_rng(0).integers(100)  # and nothing drawn
