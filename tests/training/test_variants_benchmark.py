"""The benchmark variants of issue 14: uncropped frames, grid papers, unary signs and the dot."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from types import SimpleNamespace

import numpy as np
import pytest

from mathocr.compute import solve
from mathocr.read import is_valid
from training import compose

data = pytest.mark.data


@pytest.fixture(scope="module")
def variants(shared_data):
    from benchmarks import variants

    return variants


@pytest.fixture(scope="module")
def composed_pairs(variants):
    return variants.variant_expressions("uncropped", 12, seed=3)


@pytest.fixture(scope="module")
def unary_pairs(variants):
    return variants.variant_expressions("unary_dot", 120, seed=3)


@pytest.fixture(scope="module")
def frames(variants, composed_pairs):
    """Three uncropped frames: (bytes, boxes, labels, params)."""
    return [variants.draw(e, "uncropped", i, seed=5) for i, (_, e) in enumerate(composed_pairs[:3])]


@data
def test_expressions_and_images_are_reproducible_from_the_seed(
    variants, composed_pairs, unary_pairs, frames
):
    grids = variants.variant_expressions("grids", 12, seed=3)
    assert [e.ascii for _, e in grids] == [e.ascii for _, e in composed_pairs]  # the same sums
    again = variants.variant_expressions("unary_dot", 120, seed=3)
    assert [e.ascii for _, e in again] == [e.ascii for _, e in unary_pairs]
    other = variants.variant_expressions("unary_dot", 120, seed=4)
    assert [e.ascii for _, e in other] != [e.ascii for _, e in unary_pairs]
    expr = unary_pairs[0][1]
    for variant in ("grids", "unary_dot"):
        first = variants.draw(expr, variant, 7, seed=5)
        assert variants.draw(expr, variant, 7, seed=5) == first
        assert variants.draw(expr, variant, 8, seed=5)[0] != first[0]
    assert variants.draw(composed_pairs[0][1], "uncropped", 0, seed=5) == frames[0]


@data
def test_composed_truths_are_valid_and_solvable(composed_pairs):
    for _, expr in composed_pairs:
        labels = [s.label for s in expr.symbols]
        assert is_valid(labels), expr.ascii
        assert solve(labels).status == "solved", expr.ascii


@data
def test_unary_dot_truths_are_the_expected_ascii_and_solve(variants, unary_pairs):
    names = {name for name, _ in unary_pairs}
    assert names == set(variants.UNARY_DOT_TEMPLATES)
    for name, expr in unary_pairs:
        labels = [s.label for s in expr.symbols]
        assert variants.expected_ascii(labels) == expr.ascii
        canonical = variants.canonical_labels(labels)
        assert is_valid(canonical), (expr.ascii, canonical)
        solution = solve(canonical)
        assert solution.status == "solved", (expr.ascii, solution.error)
        assert solution.result is not None
        assert variants.expected_result(labels) == solution.result
        if name.endswith("r"):
            assert solution.verdict is True, expr.ascii
        else:
            assert labels[-1] == "="
        signed = [
            k for k, t in enumerate(labels) if t in "+-" and (k == 0 or labels[k - 1] in "(=")
        ]
        assert signed or variants.DOT in labels, expr.ascii
        if "·" in name:
            assert "*" in expr.ascii
            assert "×" not in labels
        if name.startswith("±"):
            assert labels[0] in "+-"


@data
def test_relations_are_each_comparison_and_bracket_in_writers_own_glyphs(variants):
    from training import crohme

    pairs = variants.variant_expressions("relations", 120, seed=3)
    assert [e.ascii for _, e in variants.variant_expressions("relations", 120, seed=3)] == [
        e.ascii for _, e in pairs
    ]
    assert {name for name, _ in pairs} == set(variants.RELATION_TEMPLATES)
    dev = crohme.dev_writers()
    seen: set[str] = set()
    for name, expr in pairs:
        labels = [s.label for s in expr.symbols]
        seen.update(labels)
        assert expr.writer in dev
        assert is_valid(labels), expr.ascii
        solution = solve(labels)
        assert solution.status == "solved", expr.ascii
        assert variants.expected_result(labels) == solution.result
        if "rel" in name:
            assert solution.verdict in (True, False), expr.ascii
            assert variants._relation_of(expr.ascii) in labels
        else:
            assert "[" in labels, expr.ascii
            assert labels[-1] == "=", expr.ascii
    assert seen >= {*variants.RELATIONS, "[", "]"}
    ascii_of = {e.ascii for _, e in pairs}
    assert any("<=" in a for a in ascii_of)
    assert any("!=" in a for a in ascii_of)


@data
def test_answers_are_right_or_wrong_as_their_shape_says(variants):
    from mathocr.compute import equation_holds
    from training import crohme

    pairs = variants.variant_expressions("answers", 80, seed=3)
    assert [e.ascii for _, e in variants.variant_expressions("answers", 80, seed=3)] == [
        e.ascii for _, e in pairs
    ]
    assert {name for name, _ in pairs} == set(variants.ANSWER_TEMPLATES)
    dev = crohme.dev_writers()
    for name, expr in pairs:
        labels = [s.label for s in expr.symbols]
        assert expr.writer in dev
        assert is_valid(labels), expr.ascii
        assert equation_holds(labels) is (not name.endswith("'")), expr.ascii


def test_a_wrong_answer_is_near_the_right_one_and_never_it():
    from benchmarks.variants import wrong_answer

    rng = np.random.default_rng(0)
    for answer in ["12", "7", "0", "-3", "2.5", "100", "-0.25"]:
        for _ in range(40):
            wrong = wrong_answer(answer, rng)
            assert wrong != answer
            assert is_valid([*"1=", *wrong]), wrong
            digits = wrong.lstrip("-")
            assert not (len(digits) > 1 and digits[0] == "0" and digits[1] != "."), wrong


def test_a_relation_is_named_from_the_recognizers_ascii():
    from benchmarks.variants import _relation_of

    assert [_relation_of(t) for t in ("4<=9", "4<9", "2>=1", "1!=2", "3>2", "[1+2]=")] == [
        "≤", "<", "≥", "≠", ">", None,
    ]  # fmt: skip


def test_signs_and_dots_are_read_as_compute_reads_them_today():
    from benchmarks.variants import canonical_labels, expected_ascii, expected_result

    assert canonical_labels(list("+1-1+1=+1")) == list("1-1+1=1")
    assert canonical_labels(list("+2(+2)")) == list("2(2)")
    assert expected_result(list("+2(-2)=")) == "-4"
    assert expected_result(["(", "2", "·", "7", "·", "1", ")", "="]) == "14"
    assert expected_ascii(["3", "·", "4", "=", "1", "2"]) == "3*4=12"
    assert expected_result(list("5-8=-3")) == "-3"


@data
def test_the_dot_is_a_writers_point_at_the_middle_of_the_line_spaced_as_an_operator(
    variants, unary_pairs
):
    from training import crohme

    points: dict[str, set[bytes]] = {}
    for expr in crohme.load_expressions():
        if expr.writer in crohme.dev_writers():
            for s in expr.symbols:
                if s.label == ".":
                    points.setdefault(expr.writer, set()).add(_shape(s.strokes))
    dots = 0
    for _, expr in unary_pairs:
        for k, sym in enumerate(expr.symbols):
            if sym.label != variants.DOT:
                continue
            dots += 1
            assert _shape(sym.strokes) in points[expr.writer]
            _, y0, _, y1 = sym.bounds()
            assert abs((y0 + y1) / 2) <= variants.DOT_JITTER + 1e-6  # heights from the middle
            dense = compose.dense(sym.strokes)
            for neighbour in (expr.symbols[k - 1], expr.symbols[k + 1]):
                far = compose.nearest(dense, compose.dense(neighbour.strokes))
                assert far >= compose.CLEARANCE - 1e-6
            assert expr.symbols[k - 1].label.isdigit() or expr.symbols[k - 1].label == ")"
    assert dots >= 20


@data
def test_uncropped_frames_are_phone_photos_with_the_writing_inside(variants, frames):
    import cv2

    for data_, boxes, labels, params in frames:
        assert data_[:3] == b"\xff\xd8\xff"  # JPEG
        assert len(data_) < variants.IMAGE_MAX_BYTES
        image = cv2.imdecode(np.frombuffer(data_, np.uint8), cv2.IMREAD_COLOR)
        height, width = image.shape[:2]
        assert [width, height] == params["frame"]
        assert 2e6 <= width * height <= 12e6
        ratio = max(width, height) / min(width, height)
        assert min(abs(ratio - a) for a in variants.ASPECTS) < 0.01
        assert 80 <= params["jpeg"] <= 92 or len(data_) > 0.9 * variants.IMAGE_MAX_BYTES
        x0 = min(x for x, _, _, _ in boxes)
        y0 = min(y for _, y, _, _ in boxes)
        x1 = max(x + w for x, _, w, _ in boxes)
        y1 = max(y + h for _, y, _, h in boxes)
        assert 0 <= x0 < x1 <= width
        assert 0 <= y0 < y1 <= height
        assert len(boxes) == len(labels)
        share = (x1 - x0) / width
        lo, hi = variants.WRITING_WIDTH
        assert lo - 0.01 <= share <= hi + 0.02 or params["symbol_height"] == pytest.approx(
            variants.MIN_SYMBOL_HEIGHT
        )
        # ink in the writing's box, and dark things far from it: table, strips, keyboard...
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        inside = gray[y0:y1, x0:x1]
        paper = float(np.median(inside))
        assert inside.min() < 0.6 * paper
        margin = y1 - y0
        dark = gray < 0.6 * paper
        dark[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin] = False
        assert dark.sum() > 0.001 * width * height
        assert params["table"]["kind"] in ("wood", "dark")
        assert params["strips"]


@data
def test_grids_take_each_paper_in_turn(variants, composed_pairs):
    kinds = []
    for i in range(len(variants.GRID_KINDS)):
        _, _, _, params = variants.draw(composed_pairs[i][1], "grids", i, seed=5)
        kinds.append(params["kind"])
        _, paper, ink = variants.GRID_KINDS[i]
        assert params["paper"] == (paper or params["paper"])
        assert params["paper"] in ("grid-blue", "grid-grey", "dotted", "ruled-margin")
        if ink:
            assert params["ink"] == ink
        assert "grid" in params
    assert kinds == [k for k, _, _ in variants.GRID_KINDS]


@data
def test_a_short_run_of_every_variant_completes_and_saves_its_images(variants, tmp_path):
    out = io.StringIO()
    with redirect_stdout(out):
        assert variants.main(["--n", "3", "--seed", "2", "--json", "--save", str(tmp_path)]) == 0
    payload = json.loads(out.getvalue())
    assert set(payload["summary"]) == set(variants.VARIANTS)
    for s in payload["summary"].values():
        assert s["expressions"] == 3
        assert 0.0 <= s["expression_exact"] <= s["result_exact"] <= 1.0
        assert 0.0 <= s["confidence"]["ece"] <= 1.0
        assert s["median_seconds"] > 0
        assert set(s["failures"]) == {"segmentation", "classification", "reading", "timeout"}
    for variant in variants.VARIANTS:
        assert sorted(p.name for p in tmp_path.glob(f"{variant}-*.jpg")) == [
            f"{variant}-{i:03d}.jpg" for i in range(3)
        ]
        assert len((tmp_path / f"{variant}.txt").read_text().splitlines()) == 3


def test_a_dot_is_rightly_classified_as_a_point_but_rightly_read_only_as_a_product():
    from benchmarks import variants
    from benchmarks.expressions import Case

    dot = ["3", variants.DOT, "4", "="]
    res = SimpleNamespace(expression="3.4=", error=None)

    def blame(truth: list[str], top1: list[str], read: list[str]) -> Case:
        case = Case("unary_dot", 0, "", "3*4=", "12")
        variants._blame(case, truth, [((t, 0.9),) for t in top1], read, res)
        return case

    assert blame(dot, ["3", ".", "4", "="], ["3", ".", "4", "="]).stage == "reading"
    assert blame(dot, ["3", "-", "4", "="], ["3", "-", "4", "="]).stage == "classification"
    fixed = blame(dot, ["3", "-", "4", "="], ["3", "×", "4", "="])  # the reader fixed it
    assert fixed.stage == "reading"
    assert "labels right" in fixed.reason
    cross = ["3", "×", "4", "="]  # no dot: the development benchmark's own blame
    assert blame(cross, ["3", ".", "4", "="], ["3", ".", "4", "="]).stage == "classification"


def _shape(strokes) -> bytes:
    """A symbol's strokes up to translation and uniform scale, rounded (an identity key)."""
    pts = np.concatenate(strokes).astype(np.float64)
    pts = pts - pts.min(axis=0)
    span = float(pts.max()) or 1.0
    return np.round(pts / span, 3).astype(np.float32).tobytes()
