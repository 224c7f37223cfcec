"""Tests of the segmentation lattice: its candidates, and reading a path through it."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathocr.lattice import (
    CUT_WEIGHT,
    MAX_MERGE,
    MERGE_WEIGHT,
    Lattice,
    build_lattice,
)
from mathocr.priors import LineGeometry
from mathocr.read import (
    Edge,
    _candidates,
    lattice_posterior,
    lattice_shares,
    read,
    read_lattice,
)
from mathocr.segment import Segment, Segmentation
from mathocr.symbols import CLASSES
from tests.core.brute import accepted

REF = 40


def bar(x: int, w: int = 6, h: int = REF, y: int = 0) -> Segment:
    """A filled upright stroke ``w`` x ``h`` at ``x``."""
    return Segment((x, y, w, h), np.ones((h, w), bool))


def touching_pair(x: int) -> Segment:
    """Two 20-wide blobs joined by a thin bridge: one piece, 1.3 REF wide."""
    mask = np.zeros((REF, 52), bool)
    mask[:, :20] = True
    mask[:, 32:] = True
    mask[18:21, 20:32] = True
    return Segment((x, 0, 52, REF), mask)


def line(*segments: Segment) -> Segmentation:
    return Segmentation(tuple(segments), float(REF))


def paths(lattice: Lattice) -> list[tuple[int, ...]]:
    """Every sequence of candidates from position 0 to the end."""
    out: list[tuple[int, ...]] = []

    def walk(at: int, so_far: tuple[int, ...]) -> None:
        if at == lattice.end:
            out.append(so_far)
            return
        for k, c in enumerate(lattice.candidates):
            if c.start == at:
                walk(c.end, (*so_far, k))

    walk(0, ())
    return out


def test_separate_strokes_are_offered_as_they_are_and_merged():
    lat = build_lattice(line(bar(0), bar(4), bar(60)))
    kinds = [(c.kind, c.pieces) for c in lat.candidates]
    assert ("piece", (0,)) in kinds
    assert ("piece", (2,)) in kinds
    assert ("merge", (0, 1)) in kinds  # overlapping along the line: perhaps one symbol
    assert not any(c.kind == "merge" and 2 in c.pieces for c in lat.candidates)  # too far
    assert sorted(paths(lat)) == sorted([(0, 1, 2), (3, 2)])


def test_a_merge_holds_the_ink_of_its_pieces_only():
    lat = build_lattice(line(bar(0), bar(4)))
    merged = next(c for c in lat.candidates if c.kind == "merge")
    assert merged.box == (0, 0, 10, REF)
    assert merged.segment.mask.sum() == 10 * REF
    assert merged.log_weight == pytest.approx(math.log(MERGE_WEIGHT))


def test_a_point_beside_a_digit_is_never_merged_into_it():
    point = Segment((8, 34, 5, 5), np.ones((5, 5), bool))
    lat = build_lattice(line(bar(0), point))
    assert [c.kind for c in lat.candidates] == ["piece", "piece"]


def test_merges_stop_at_a_symbol_size_and_at_max_merge_pieces():
    lat = build_lattice(line(*(bar(3 * i, w=4) for i in range(6))))
    merged = [c.pieces for c in lat.candidates if c.kind == "merge"]
    assert merged
    assert max(len(p) for p in merged) == MAX_MERGE
    wide = build_lattice(line(bar(0, w=30), bar(32, w=30)))
    assert not any(c.kind == "merge" for c in wide.candidates)  # 62 px > 1.2 x 40


def test_a_wide_piece_is_offered_cut_through_a_position_of_its_own():
    lat = build_lattice(line(touching_pair(0), bar(70)))
    cuts = [c for c in lat.candidates if c.kind == "cut"]
    assert cuts
    assert len(cuts) % 2 == 0
    assert all(c.pieces == (0,) for c in cuts)
    assert all(c.start < c.end for c in lat.candidates)
    left, right = cuts[0], cuts[1]
    assert left.end == right.start
    assert left.log_weight == pytest.approx(math.log(CUT_WEIGHT))
    assert left.box[0] + left.box[2] <= right.box[0] + 1
    # every path covers every piece exactly once
    for path in paths(lat):
        covered = [p for k in path for p in lat.candidates[k].pieces]
        assert sorted(set(covered)) == [0, 1]


def test_a_flat_half_is_not_offered():
    # a "1" with a long flag: the cut through the flag leaves a flat "-"
    mask = np.zeros((REF, 40), bool)
    mask[:, 28:34] = True
    mask[2:6, :28] = True
    lat = build_lattice(line(Segment((0, 0, 40, REF), mask)))
    assert not any(c.kind == "cut" for c in lat.candidates)


def test_a_point_touching_a_digits_foot_is_offered_cut_off():
    # an upright stroke 4 wide, and a bold round point (9 x 9) against its foot ("1.")
    ink = np.zeros((REF, 13), np.uint8)
    ink[:, :4] = 1
    cv2.circle(ink, (8, 33), 4, 1, -1)
    lat = build_lattice(line(Segment((0, 0, 13, REF), ink.astype(bool))))
    cuts = [c for c in lat.candidates if c.kind == "cut"]
    assert [c.box for c in cuts] == [(0, 0, 4, REF), (4, 29, 9, 9)]
    assert cuts[0].log_weight == pytest.approx(math.log(CUT_WEIGHT))
    assert (cuts[0].start, cuts[0].end, cuts[1].end) == (0, 1, lat.end)


def test_past_the_candidate_bound_only_the_pieces_are_offered():
    seg = line(*(bar(8 * i) for i in range(50)))
    lat = build_lattice(seg, max_candidates=60)
    assert [c.kind for c in lat.candidates] == ["piece"] * 50
    assert lat.end == 50


def test_without_cuts_and_merges_the_lattice_is_the_line():
    lat = build_lattice(line(touching_pair(0), bar(60), bar(64)), cuts=False, merges=False)
    assert [(c.start, c.end) for c in lat.candidates] == [(0, 1), (1, 2), (2, 3)]


# --------------------------------------------------------------------------- reading


def digit_box(i: int, w: int = 24) -> tuple[int, int, int, int]:
    return (30 * i, 100, w, REF)


def test_the_cut_wins_when_its_halves_read_much_better_than_the_whole():
    whole = Edge(0, 2, [("8", 0.3), ("reject", 0.7)], (0, 100, 52, REF))
    left = Edge(0, 1, [("2", 0.95)], (0, 100, 24, REF), math.log(CUT_WEIGHT))
    right = Edge(1, 2, [("2", 0.95)], (28, 100, 24, REF))
    reading = read_lattice([whole, left, right])
    assert reading.labels == ("2", "2")
    assert reading.path == (1, 2)


def test_the_whole_wins_when_the_cut_reads_no_expression():
    whole = Edge(0, 2, [("4", 0.5)], (0, 100, 40, REF))
    left = Edge(0, 1, [("(", 0.95)], (0, 100, 18, REF), math.log(CUT_WEIGHT))
    right = Edge(1, 2, [("+", 0.95)], (20, 100, 20, REF))
    equals = Edge(2, 3, [("=", 0.95)], (50, 110, 24, 20))
    reading = read_lattice([whole, left, right, equals])
    assert reading.labels == ("4", "=")
    assert reading.valid


def test_reading_a_chain_is_reading_its_symbols():
    alts = [[("1", 0.6), ("7", 0.4)], [("+", 0.9)], [("2", 0.8), ("(", 0.2)]]
    boxes = [digit_box(i) for i in range(3)]
    chain = [Edge(i, i + 1, a, b) for i, (a, b) in enumerate(zip(alts, boxes, strict=True))]
    assert read_lattice(chain) == read(alts, boxes)


def test_with_no_valid_path_the_top_classes_of_the_likeliest_path_are_kept():
    whole = Edge(0, 1, [("+", 0.9)], (0, 100, 40, REF))
    reading = read_lattice([whole])
    assert reading == read_lattice([whole])
    assert not reading.valid
    assert reading.labels == ("+",)
    assert reading.path == (0,)


def test_an_edge_that_runs_backwards_is_refused():
    with pytest.raises(ValueError, match="forwards"):
        read_lattice([Edge(1, 1, [("1", 1.0)], digit_box(0))])


@st.composite
def lattices(draw):
    """Small random lattices: a chain of 1-4 pieces, some merged, some cut in two."""
    n = draw(st.integers(1, 4))
    labels = st.sampled_from([*CLASSES[:12], "=", "(", ")", "reject"])

    def alternatives():
        names = draw(st.lists(labels, min_size=1, max_size=2, unique=True))
        probs = draw(st.lists(st.floats(0.01, 1), min_size=len(names), max_size=len(names)))
        return list(zip(names, probs, strict=True))

    edges = []
    bounds = list(range(n + 1))
    for i in range(n):
        edges.append(Edge(bounds[i], bounds[i + 1], alternatives(), digit_box(i)))
        if draw(st.booleans()) and i + 1 < n:
            edges.append(Edge(i, i + 2, alternatives(), digit_box(i, 54), math.log(0.5)))
    # renumber so that a cut's middle sits between its piece's bounds
    cut_of = [i for i in range(n) if draw(st.booleans())]
    shift = {}
    at = 0
    for i in range(n + 1):
        shift[i] = at
        at += 1 + (i in cut_of)
    edges = [Edge(shift[e.start], shift[e.end], e.alternatives, e.box, e.log_weight) for e in edges]
    for i in cut_of:
        mid = shift[i] + 1
        box = digit_box(i, 10)
        edges.append(Edge(shift[i], mid, alternatives(), box, math.log(0.5)))
        edges.append(Edge(mid, shift[i + 1], alternatives(), box))
    return edges


def _brute_force(edges) -> tuple[dict[tuple, float], float]:
    """Every valid (path, labels)'s rank, and the sum over all valid readings of all paths."""
    end = max(e.end for e in edges)
    line_ = LineGeometry.of([e.box for e in edges])
    cands = _candidates([e.alternatives for e in edges], [line_.prior(e.box) for e in edges])
    routes: list[tuple[int, ...]] = []

    def walk(at, so_far):
        if at == end:
            routes.append(so_far)
        for k, e in enumerate(edges):
            if e.start == at:
                walk(e.end, (*so_far, k))

    walk(0, ())
    best: dict[tuple, float] = {}
    total = 0.0
    for route in routes:
        for pick in itertools.product(*(cands[k] for k in route)):
            if not accepted(pick):
                continue
            key = (route, tuple(c[0] for c in pick))
            rank = sum(c[1] for c in pick) + sum(edges[k].log_weight for k in route)
            best[key] = max(best.get(key, -math.inf), rank)
            total += math.exp(rank)
    return best, total


@given(lattices())
@settings(max_examples=200, deadline=None)
def test_read_lattice_finds_the_best_path_and_labels_like_brute_force(edges):
    best, _ = _brute_force(edges)
    reading = read_lattice(edges, beam_width=1000)
    assert reading.valid is bool(best)
    if best:
        assert best[(reading.path, reading.labels)] == pytest.approx(max(best.values()))


@given(lattices())
@settings(max_examples=150, deadline=None)
def test_lattice_posterior_is_each_answers_share_like_brute_force(edges):
    """A reading's share counts every path and reading with the same non-empty labels."""
    best, total = _brute_force(edges)
    answers: dict[tuple, float] = {}
    for (_, labels), rank in best.items():
        key = tuple(lab for lab in labels if lab)
        answers[key] = answers.get(key, 0.0) + math.exp(rank)
    shown: dict[tuple, float] = {}
    for (path, labels), _ in itertools.islice(best.items(), 30):
        share = lattice_posterior(edges, path, labels)
        key = tuple(lab for lab in labels if lab)
        assert share == pytest.approx(answers[key] / total, rel=1e-6)
        shown[key] = share
    if answers and len(shown) == len(answers):
        assert sum(shown.values()) == pytest.approx(1.0, rel=1e-6)


@given(lattices())
@settings(max_examples=100, deadline=None)
def test_lattice_shares_are_the_posteriors_of_each_reading_from_one_pass(edges):
    best, _ = _brute_force(edges)
    readings = list(itertools.islice(best, 6))
    shares, expression = lattice_shares(edges, readings, noise_odds=0.1)
    for (path, labels), share in zip(readings, shares, strict=True):
        assert share == pytest.approx(lattice_posterior(edges, path, labels, noise_odds=0.1))
        assert share <= expression + 1e-9
    assert 0.0 <= expression <= 1.0
    assert lattice_shares(edges, readings)[1] == (1.0 if best else 0.0)
