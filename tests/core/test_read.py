"""Tests of stage 5: reading the best valid expression from symbol alternatives."""

from __future__ import annotations

import itertools
import math
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathocr.compute import solve
from mathocr.priors import SPECK_KEY, LineGeometry, geometry_priors
from mathocr.read import (
    Reading,
    _candidates,
    is_valid,
    posterior,
    read,
)
from mathocr.symbols import CLASSES, MAX_DEPTH
from tests.core.brute import accepted

H = 40  # line height of the synthetic boxes


def box(i: int, *, w: int = 24, h: int = H, dy: int = 0) -> tuple[int, int, int, int]:
    """A box in slot ``i`` of a line whose symbols are ``H`` tall, top at y=100."""
    top = 100 + (H - h) // 2 + dy
    return (30 * i, top, w, h)


def line(*alternatives):
    """Alternatives given as dicts (or a single label), with neutral digit-sized boxes."""
    alts = [
        [(a, 1.0)] if isinstance(a, str) else sorted(a.items(), key=lambda kv: -kv[1])
        for a in alternatives
    ]
    return alts, [box(i) for i in range(len(alts))]


def text(reading: Reading) -> str:
    return "".join(reading.labels)


# --------------------------------------------------------------------------- basics


def test_confident_valid_line_is_read_as_is():
    alts, boxes = line(*"12+7×3=")
    reading = read(alts, boxes)
    assert reading == Reading(tuple("12+7×3="), 0.0, True, tuple(range(7)))


def test_score_is_sum_of_log_probabilities_of_chosen_labels():
    alts, boxes = line({"3": 0.9, "8": 0.1}, {"+": 0.8, "×": 0.2}, {"4": 0.7, "9": 0.3})
    reading = read(alts, boxes)
    assert text(reading) == "3+4"
    assert reading.score == pytest.approx(math.log(0.9) + math.log(0.8) + math.log(0.7))


def test_empty_input_gives_empty_invalid_reading():
    assert read([], []) == Reading((), 0.0, False)


def test_mismatched_boxes_raise_value_error():
    alts, boxes = line(*"1+2")
    with pytest.raises(ValueError, match="boxes"):
        read(alts, boxes[:2])


def test_beam_width_below_one_raises_value_error():
    alts, boxes = line(*"1+2")
    with pytest.raises(ValueError, match="beam_width"):
        read(alts, boxes, beam_width=0)


def test_reading_is_frozen():
    reading = read(*line("1"))
    with pytest.raises(FrozenInstanceError):
        reading.valid = False  # type: ignore[misc]


# --------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("labels", "valid"),
    [
        ("12+7×3=", True),
        ("1.5-2.25", True),
        ("-3+4", True),
        ("2×-3", True),
        ("2÷-(1+2)", True),
        ("(-3)", True),
        ("2(3+4)", True),
        ("(1+2)(3+4)", True),
        ("3=", True),
        ("3=-3", True),
        ("1=2=3", True),  # a chain
        ("1=2=", False),  # a chain cannot end in "="
        ("2+-3", False),
        ("--3", False),
        (".5", False),
        ("5.", False),
        ("1.2.3", False),
        ("(2)3", False),
        ("()", False),
        ("(1", False),
        ("1)", False),
        ("=1", False),
        ("(1=1)", False),
        ("3+", False),
        ("×3", False),
        ("", False),
        ("[1+2]×3", True),
        ("[(1+2)×3]", True),
        ("2[3+4]", True),
        ("[(1+2])", False),  # each bracket closes its own kind
        ("(1+2]", False),
        ("1<2", True),
        ("1<2<3", True),
        ("2≥1=1", True),
        ("5≠2+2", True),
        ("3≤", False),  # only "=" may be left open for the answer
        ("1≠2=", False),
        ("(1<2)", False),  # relations stand outside brackets
        ("<1", False),
    ],
)
def test_is_valid_follows_the_documented_grammar(labels, valid):
    assert is_valid(list(labels)) is valid


def test_is_valid_agrees_with_compute_on_examples():
    for labels in ["12+7×3=", "2+-3", "(1+2)(3+4)", ".5", "1÷0", "3=4", "[1+2)", "2<3", "2<"]:
        malformed = solve(list(labels)).error in ("malformed", "empty")
        assert is_valid(list(labels)) is not malformed, labels


def test_nesting_deeper_than_max_depth_is_invalid():
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    assert not is_valid(list(deep))
    assert is_valid(list("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH))


# --------------------------------------------------------------------------- confusions


def test_one_that_must_open_a_group_is_read_as_open_parenthesis():
    alts, boxes = line("3", "×", {"1": 0.6, "(": 0.35}, "4", "+", "5", ")")
    assert text(read(alts, boxes)) == "3×(4+5)"


def test_one_that_must_close_a_group_is_read_as_close_parenthesis():
    alts, boxes = line("(", "2", "+", "3", {"1": 0.7, ")": 0.25}, "×", "4")
    assert text(read(alts, boxes)) == "(2+3)×4"


def test_leading_slash_is_read_as_one():
    alts, boxes = line({"/": 0.6, "1": 0.4}, "2", "+", "3")
    assert text(read(alts, boxes)) == "12+3"


def test_slash_right_before_equals_is_read_as_one():
    alts, boxes = line("8", {"/": 0.7, "1": 0.3}, "=")
    assert text(read(alts, boxes)) == "81="


def test_plus_before_unary_minus_is_read_as_times():
    alts, boxes = line("2", {"+": 0.6, "×": 0.4}, "-", "3")
    assert text(read(alts, boxes)) == "2×-3"


def test_trailing_minus_is_read_as_equals():
    alts, boxes = line("3", "+", "4", {"-": 0.7, "=": 0.3})
    assert text(read(alts, boxes)) == "3+4="


def test_second_equals_is_read_as_minus():
    alts, boxes = line("3", {"=": 0.6, "-": 0.4}, "4", {"=": 0.7, "-": 0.3})
    assert text(read(alts, boxes)) == "3-4="


def test_unclear_second_equals_is_read_as_minus():
    alts, boxes = line("1", "2", {"=": 0.6, "-": 0.4}, "5", "=", "7")
    assert text(read(alts, boxes)) == "12-5=7"


def test_clear_chain_of_equalities_is_kept():
    alts, boxes = line("1", "2", {"=": 0.99, "-": 0.01}, "5", "=", "7")
    reading = read(alts, boxes)
    assert text(reading) == "12=5=7"
    assert reading.score == pytest.approx(math.log(0.99))  # the penalty only ranks


def test_leading_point_is_read_as_minus():
    alts, boxes = line({".": 0.6, "-": 0.4}, "5", "+", "1")
    assert text(read(alts, boxes)) == "-5+1"


def test_point_after_operator_is_read_as_minus():
    alts, boxes = line("3", "×", {".": 0.6, "-": 0.4}, "2")
    assert text(read(alts, boxes)) == "3×-2"


def test_reject_speck_is_dropped():
    alts, boxes = line("1", {"reject": 0.9, ".": 0.1}, "+", "2")
    reading = read(alts, boxes)
    assert reading.labels == ("1", "", "+", "2")
    assert reading.valid


@pytest.mark.parametrize(
    ("speck_at", "expected"),
    [
        (0, "8-9=-1"),  # dust before the first digit: not "08-9", not "-8-9"
        (6, "8-9=-1"),  # after the answer: not "=-1."
    ],
)
def test_a_point_sized_speck_beyond_the_line_is_dropped(speck_at, expected):
    labels = ["8", "-", "9", "=", "-", "1"]
    speck = [(".", 0.9), ("0", 0.05), ("-", 0.05)]
    alts = [[(t, 1.0)] for t in labels]
    boxes = [box(i + 1) if t != "-" else box(i + 1, w=20, h=4) for i, t in enumerate(labels)]
    alts.insert(speck_at, speck)
    boxes.insert(speck_at, box(0 if speck_at == 0 else 7, w=5, h=5, dy=4))
    reading = read(alts, boxes)
    assert text(reading) == expected
    assert reading.valid


def test_a_point_between_digits_is_no_speck():
    alts = [[("1", 1.0)], [(".", 0.9), ("0", 0.05), ("-", 0.05)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=5, h=5, dy=14), box(2)]
    assert text(read(alts, boxes)) == "1.5"


def test_reject_is_not_chosen_when_the_symbol_is_needed():
    alts, boxes = line("2", "×", {"reject": 0.6, "(": 0.4}, "3", "+", "4", ")")
    assert text(read(alts, boxes)) == "2×(3+4)"


def test_digit_sized_mark_called_noise_is_kept_when_a_digit_is_likely_enough():
    # a '4' drawn like a 'u': the classifier prefers reject 0.6 to '4' 0.3
    alts, boxes = line("9", "=", {"reject": 0.6, "4": 0.3}, "8")
    assert text(read(alts, boxes)) == "9=48"


def test_crossed_out_digit_sized_scribble_is_still_dropped():
    alts, boxes = line("9", "=", {"reject": 0.99, "4": 0.005}, "8")
    assert text(read(alts, boxes)) == "9=8"


def test_small_speck_called_noise_is_dropped_even_if_a_digit_fits():
    alts, boxes = line("9", "=", {"reject": 0.6, "4": 0.3}, "8")
    boxes[2] = box(2, w=6, h=6)
    assert text(read(alts, boxes)) == "9=8"


def test_invalid_only_input_returns_top_classes_marked_invalid():
    alts, boxes = line({"+": 0.9, "×": 0.1}, {"reject": 0.8, "=": 0.2}, {"×": 0.7, "(": 0.3})
    reading = read(alts, boxes)
    assert reading.labels == ("+", "", "×")
    assert reading.valid is False
    # the dropped speck's reject probability counts too
    assert reading.score == pytest.approx(math.log(0.9) + math.log(0.8) + math.log(0.7))


def test_symbol_without_alternatives_is_dropped():
    alts, boxes = line("1", "+", "2")
    alts.insert(1, [])
    boxes.insert(1, box(9))
    assert read(alts, boxes).labels == ("1", "", "+", "2")


def test_unknown_and_degenerate_probabilities_are_tolerated():
    alts = [[("1", 0.0)], [("?", 0.9), ("+", float("nan")), ("-", -1.0), ("+", 0.5)], [("2", 2.0)]]
    boxes = [box(0), box(1), box(2, w=0, h=0)]
    reading = read(alts, boxes)
    assert reading.labels == ("1", "+", "2")
    assert reading.valid


# --------------------------------------------------------------------------- geometry


def test_small_low_mark_between_digits_is_a_decimal_point():
    alts = [[("1", 1.0)], [("-", 0.55), (".", 0.45)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=6, h=6, dy=16), box(2)]
    assert text(read(alts, boxes)) == "1.5"


def test_flat_wide_mark_at_mid_height_is_a_minus():
    alts = [[("1", 1.0)], [(".", 0.55), ("-", 0.45)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=22, h=4), box(2)]
    assert text(read(alts, boxes)) == "1-5"


def test_short_dash_between_digits_is_a_point_drawn_as_a_dash():
    # 0.25 of the line wide: too short for a minus sign (dev photo #118, '2.4')
    alts = [[("2", 1.0)], [("-", 0.8), (".", 0.13), ("=", 0.03)], [("4", 1.0)]]
    boxes = [box(0), box(1, w=10, h=4, dy=6), box(2)]
    assert text(read(alts, boxes)) == "2.4"


def test_dash_sitting_on_the_baseline_is_a_point_not_a_minus():
    # a point drawn as a dash a third of the line wide, low on the line ('81.7')
    alts = [[("8", 1.0)], [("1", 1.0)], [("-", 0.63), ("=", 0.19), (".", 0.09)], [("7", 1.0)]]
    boxes = [box(0), box(1), box(2, w=14, h=8, dy=14), box(3)]
    assert text(read(alts, boxes)) == "81.7"


@pytest.mark.parametrize(
    ("alternatives", "w", "h", "dy"),
    [
        # dev #118 '2.4' under a 27-class candidate: 0.35 x 0.18 H, 0.27 H below the middle
        ([("-", 0.50), ("=", 0.21), (".", 0.16)], 14, 7, 11),
        # the same with the photo look: 0.35 x 0.2 H, 0.32 H below the middle
        ([("-", 0.82), (".", 0.05), ("=", 0.05)], 14, 8, 13),
    ],
    ids=["clean", "photo"],
)
def test_short_dash_a_quarter_line_low_is_a_point_even_when_read_as_minus(alternatives, w, h, dy):
    alts = [[("2", 1.0)], alternatives, [("4", 1.0)]]
    boxes = [box(0), box(1, w=w, h=h, dy=dy), box(2)]
    assert text(read(alts, boxes)) == "2.4"


def test_short_dash_at_mid_height_stays_a_minus():
    alts = [[("2", 1.0)], [("-", 0.50), ("=", 0.21), (".", 0.16)], [("4", 1.0)]]
    boxes = [box(0), box(1, w=14, h=7), box(2)]
    assert text(read(alts, boxes)) == "2-4"


def test_tall_thin_stroke_is_not_a_minus():
    alts = [[("2", 1.0)], [("-", 0.55), ("1", 0.45)], [("3", 1.0)]]
    boxes = [box(0), box(1, w=6, h=H), box(2)]
    assert text(read(alts, boxes)) == "213"


def test_small_mark_is_not_a_digit():
    alts = [[("2", 1.0)], [("1", 0.6), (".", 0.4)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=8, h=8, dy=14), box(2)]
    assert text(read(alts, boxes)) == "2.5"


def test_point_drawn_as_a_small_ring_is_a_point_though_it_looks_like_a_zero():
    # 0.4 of the line high: 2 in 4,044 digits of the training writers are this small
    alts = [[("2", 1.0)], [("0", 0.93), (".", 0.03), ("reject", 0.01)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=16, h=16, dy=8), box(2)]  # 0.2 H below the middle
    assert text(read(alts, boxes)) == "2.5"


def test_large_low_comma_like_point_is_a_point():
    alts = [[("0", 1.0)], [("/", 0.5), ("1", 0.2), (".", 0.1)], [("0", 1.0)], [("1", 1.0)]]
    boxes = [box(0), box(1, w=14, h=24, dy=14), box(2), box(3)]
    assert text(read(alts, boxes)) == "0.01"


def test_comma_low_among_its_neighbours_is_a_point_on_a_line_that_drifts():
    # dev #153, '(176+(115*196))/67=339.04': the answer is written higher than the
    # left side, so the comma, 0.35 H below its neighbours' middle, lies above the
    # middle of the whole line
    alts = [[(d, 1.0)] for d in "123456781339"] + [[("1", 0.53), (".", 0.41)]]
    alts += [[("0", 1.0)], [("4", 1.0)]]
    tops = [60] * 9 + [30] * 6
    boxes = [(30 * i, tops[i], 24, H) for i in range(12)]
    boxes += [(30 * 12 + 4, 30 + 24, 9, 20), (30 * 13, 30, 24, H), (30 * 14, 30, 24, H)]
    assert text(read(alts, boxes)) == "123456781339.04"


def test_full_height_slash_stays_a_slash():
    alts = [[("0", 1.0)], [("/", 0.5), (".", 0.3)], [("2", 1.0)]]
    boxes = [box(0), box(1, w=16, h=H), box(2)]
    assert text(read(alts, boxes)) == "0/2"


def spaced(*alternatives, gap: int = 17):
    """As :func:`line`, each ``"."`` a small mark at mid height, every symbol ``gap``
    pixels from the next: spaced as operators are (0.85 H on both sides of a point)."""
    alts, _ = line(*alternatives)
    boxes, x = [], 0
    for alt in alts:
        point = any(label == "." for label, _ in alt)
        w = 6 if point else 24
        _, y, _, h = box(0, w=w, h=6 if point else H)
        boxes.append((x, y, w, h))
        x += w + gap
    return alts, boxes


def test_a_point_at_mid_height_between_operands_is_the_multiplication_dot():
    alts, boxes = spaced("1", {".": 0.55, "-": 0.45}, "5", "=")
    assert text(read(alts, boxes)) == "1×5="


def test_a_bare_number_with_a_point_at_mid_height_is_a_decimal_number():
    alts, boxes = spaced("1", ".", "5")  # no relation: 1.5, not a product to solve
    assert text(read(alts, boxes)) == "1.5"


def test_a_point_after_a_lone_zero_or_on_the_answer_side_is_a_decimal_point():
    alts, boxes = spaced("0", ".", "5", "×", "2", "=")
    assert text(read(alts, boxes)) == "0.5×2="
    alts, boxes = spaced("3", "=", "1", ".", "5")
    assert text(read(alts, boxes)) == "3=1.5"


def test_a_point_at_mid_height_spaced_as_a_decimal_point_is_one():
    alts, boxes = spaced("1", ".", "5", "=", gap=4)  # 0.2 H of blank beside it
    assert text(read(alts, boxes)) == "1.5="


def test_a_point_on_the_baseline_is_a_decimal_point():
    alts = [[("1", 1.0)], [(".", 0.55), ("-", 0.45)], [("5", 1.0)]]
    _, y, _, h = box(0)
    boxes = [box(0), (34, y + h - 6, 6, 6), box(2)]  # small, low
    assert text(read(alts, boxes)) == "1.5"


def test_a_point_at_mid_height_after_an_operator_stays_no_expression_of_dots():
    alts, boxes = spaced("(", "2", {".": 0.9}, "7", {".": 0.9}, "1", ")", "=")
    assert text(read(alts, boxes)) == "(2×7×1)="


def test_a_leading_plus_is_a_sign_when_clearly_written():
    alts, boxes = line(
        {"+": 0.9, "4": 0.1}, "1", "-", "1", "+", "1", "=", {"+": 0.9, "4": 0.1}, "1"
    )
    assert text(read(alts, boxes)) == "+1-1+1=+1"


def test_an_unclear_leading_plus_is_read_as_the_digit_it_may_be():
    alts, boxes = line({"+": 0.6, "4": 0.4}, "2", "×", "3")
    assert text(read(alts, boxes)) == "42×3"  # a sign costs UNARY_PLUS_PENALTY


def test_two_stroke_high_mark_is_not_a_minus():
    alts, boxes = line("3", "+", "4", {"-": 0.55, "=": 0.45}, "7")
    boxes[3] = box(3, w=24, h=16)  # 0.4 of the line height: an "=", too high for "-"
    assert text(read(alts, boxes)) == "3+4=7"


def test_thin_flat_stroke_is_not_an_equals():
    alts, boxes = line("3", "+", "4", {"=": 0.55, "-": 0.45}, "7")
    boxes[3] = box(3, w=24, h=5)
    assert text(read(alts, boxes)) == "3+4-7"


def test_line_height_is_not_fooled_by_many_flat_symbols():
    # '-1.5-2': half the boxes are flat or tiny; the line height is still a digit's
    alts = [[("-", 1.0)], [("1", 1.0)], [("-", 0.55), (".", 0.45)], [("5", 1.0)]]
    alts += [[("-", 1.0)], [("2", 1.0)]]
    boxes = [box(0, w=20, h=4), box(1), box(2, w=6, h=6, dy=16), box(3)]
    boxes += [box(4, w=20, h=4), box(5)]
    assert text(read(alts, boxes)) == "-1.5-2"


def test_geometry_does_not_override_a_confident_classifier():
    alts = [[("1", 1.0)], [("-", 0.97), (".", 0.03)], [("5", 1.0)]]
    boxes = [box(0), box(1, w=6, h=6, dy=16), box(2)]
    assert text(read(alts, boxes)) == "1-5"


# --------------------------------------------------------------------------- bounds


def test_work_is_bounded_for_long_inputs():
    alts, boxes = line(*("1+" * 500 + "1"))
    reading = read(alts, boxes, beam_width=4)
    assert reading.valid
    assert len(reading.labels) == 1001


def test_narrow_beam_still_returns_a_reading_of_full_length():
    alts, boxes = line(
        {"1": 0.5, "(": 0.3, "/": 0.2}, {"2": 0.6, "z": 0.4}, {"(": 0.5, "1": 0.5}, "3", ")"
    )
    reading = read(alts, boxes, beam_width=1)
    assert len(reading.labels) == 5


# --------------------------------------------------------------------------- properties

GRAMMAR_LABELS = [c for c in CLASSES if c != "reject"]


@st.composite
def symbol_lines(draw, *, max_symbols=12, max_alternatives=5):
    n = draw(st.integers(0, max_symbols))
    alts, boxes = [], []
    for i in range(n):
        labels = draw(
            st.lists(st.sampled_from(CLASSES), min_size=0, max_size=max_alternatives, unique=True)
        )
        probs = draw(st.lists(st.floats(0, 1), min_size=len(labels), max_size=len(labels)))
        alts.append(sorted(zip(labels, probs, strict=True), key=lambda lp: -lp[1]))
        w = draw(st.integers(0, 60))
        h = draw(st.integers(0, 60))
        boxes.append((30 * i, draw(st.integers(0, 40)), w, h))
    return alts, boxes


@given(symbol_lines(), st.integers(1, 32))
@settings(max_examples=400)
def test_read_never_raises_and_labels_every_symbol(line_, beam_width):
    alts, boxes = line_
    reading = read(alts, boxes, beam_width=beam_width)
    assert len(reading.labels) == len(alts)
    assert math.isfinite(reading.score)
    assert reading.score <= 0.0
    line = LineGeometry.of(boxes) if boxes else None
    for label, symbol_alts, box in zip(reading.labels, alts, boxes, strict=True):
        offered = {name for name, _ in symbol_alts}
        if label == "":  # noise, or a speck where no point can stand
            assert (
                not offered
                or "reject" in offered
                or ("." in offered and SPECK_KEY in line.prior(box))
            )
        elif label == "×" and "×" not in offered:
            assert "." in offered  # a point at mid height is the multiplication dot
        else:
            assert label in offered
    if reading.valid:
        assert is_valid(reading.labels)
        assert solve(reading.labels).error not in ("malformed", "empty")


@given(symbol_lines())
@settings(max_examples=300)
def test_score_is_the_log_probability_of_the_chosen_labels(line_):
    alts, boxes = line_
    reading = read(alts, boxes)
    expected = 0.0
    for label, symbol_alts in zip(reading.labels, alts, strict=True):
        probs = dict.fromkeys(CLASSES, 0.0)
        for name, p in symbol_alts:
            probs[name] += p
        if not symbol_alts:
            continue
        p = probs["reject"] if label == "" else probs[label]
        expected += math.log(min(max(p, 1e-9), 1.0))
    assert reading.score == pytest.approx(expected, abs=1e-9)


@given(symbol_lines(), st.integers(2, 5), st.integers(-500, 500), st.integers(-500, 500))
@settings(max_examples=200)
def test_reading_does_not_depend_on_image_scale_or_position(line_, scale, dx, dy):
    alts, boxes = line_
    boxes = [(x, y, max(w, 1), max(h, 1)) for x, y, w, h in boxes]
    moved = [(x * scale + dx, y * scale + dy, w * scale, h * scale) for x, y, w, h in boxes]
    assert read(alts, moved).labels == read(alts, boxes).labels


@given(st.lists(st.sampled_from([*"1234567890", ",", ".", "+", "=", "(", ")", ""]), max_size=14))
@settings(max_examples=1000)
def test_reader_grammar_with_grouping_commas_equals_compute_grammar(labels):
    assert is_valid(labels, thousands=True) is not _outside_grammar(labels)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1,000", True), ("12,345,678.5", True), ("999,999=999999", True), ("(1,000)", True),
        ("1,00", False), ("1000,000", False), (",5", False), ("1,000,", False),
        ("1.000,5", False), ("1,0000", False),
    ],
)  # fmt: skip
def test_a_grouping_comma_needs_groups_of_three(text, valid):
    assert is_valid(list(text), thousands=True) is valid
    assert not is_valid(list(text))  # without it, a comma is no label of the grammar


def _comma_line(shape: str) -> tuple[list, list]:
    """``1 ? 0 0 0`` with a point between: a comma (low, tall) or a round point."""
    w, h = (6, 12) if shape == "comma" else (6, 6)
    alts = [[("1", 1.0)], [(".", 0.9), ("1", 0.1)], [("0", 1.0)], [("0", 1.0)], [("0", 1.0)]]
    boxes = [box(0), (30 + 26, 100 + H - 4, w, h), box(3), box(4), box(5)]
    return alts, boxes


@pytest.mark.parametrize(
    ("shape", "thousands", "expected"),
    [
        ("comma", True, "1,000"),  # the English convention: one thousand
        ("comma", False, "1.000"),  # a comma is a decimal point
        ("round", True, "1.000"),  # a round point is a decimal point either way
    ],
)
def test_a_comma_groups_thousands_only_where_asked(shape, thousands, expected):
    alts, boxes = _comma_line(shape)
    reading = read(alts, boxes, thousands=thousands)
    assert "".join(reading.labels) == expected
    assert posterior(alts, boxes, reading.labels, thousands=thousands) > 0.5


@given(st.lists(st.sampled_from([*GRAMMAR_LABELS, "", "reject"]), max_size=14))
@settings(max_examples=1000)
def test_reader_grammar_equals_compute_grammar(labels):
    assert is_valid(labels) is not _outside_grammar(labels)


def _outside_grammar(labels) -> bool:
    """Whether ``compute`` refuses ``labels`` by the grammar: malformed, empty, or
    brackets nested deeper than both allow (``too_large``, as the reader forbids them)."""
    result = solve(labels)
    nested = result.error == "too_large" and "nest" in (result.message or "")
    return result.error in ("malformed", "empty") or nested


def _brute_force(alts, boxes) -> tuple[dict[tuple, float], float]:
    """Every valid reading's best path rank, and the sum over all valid paths.

    A path picks one candidate per symbol (``_candidates``: a relation is listed
    twice, as the first and as a penalized chain link; ``+`` as between operands
    and as a penalized sign; a raised point also as the multiplication dot) and
    is valid when each candidate's transition table takes it through to an
    accepting state.
    """
    best: dict[tuple, float] = {}
    total = 0.0
    for path in itertools.product(*_candidates(alts, geometry_priors(boxes))):
        if not accepted(path):
            continue
        labels = tuple(c[0] for c in path)
        rank = sum(c[1] for c in path)
        best[labels] = max(best.get(labels, -math.inf), rank)
        total += math.exp(rank)
    return best, total


@given(symbol_lines(max_symbols=5, max_alternatives=3))
@settings(max_examples=300)
def test_read_finds_the_best_valid_sequence_like_brute_force(line_):
    alts, boxes = line_
    best, _ = _brute_force(alts, boxes)
    reading = read(alts, boxes, beam_width=1000)
    assert reading.valid is bool(best)
    if best:
        assert best[reading.labels] == pytest.approx(max(best.values()))


@given(symbol_lines(max_symbols=5, max_alternatives=3))
@settings(max_examples=200)
def test_posterior_is_each_valid_readings_share_like_brute_force(line_):
    alts, boxes = line_
    best, total = _brute_force(alts, boxes)
    answers: dict[tuple, float] = {}  # readings that drop other marks give the same answer
    for labels, rank in best.items():
        key = tuple(lab for lab in labels if lab)
        answers[key] = answers.get(key, 0.0) + math.exp(rank)
    for labels in best:
        share = answers[tuple(lab for lab in labels if lab)] / total
        assert posterior(alts, boxes, labels) == pytest.approx(share, rel=1e-6)
    tops = [[c[0] for c in cands] for cands in _candidates(alts, geometry_priors(boxes))]
    for labels in itertools.islice(itertools.product(*tops), 50):
        if labels not in best:
            assert posterior(alts, boxes, labels) == 0.0


def test_reading_the_grammar_makes_sure_gets_full_confidence():
    # "+" or "(" at even odds, but "3(4" is no expression
    alts, boxes = line("3", {"+": 0.5, "(": 0.5}, "4")
    assert posterior(alts, boxes, ("3", "+", "4")) == pytest.approx(1.0)
    # "1" or "7" at even odds, and both make an expression: an even share each
    alts, boxes = line("3", {"1": 0.5, "7": 0.5}, "4")
    assert posterior(alts, boxes, ("3", "1", "4")) == pytest.approx(0.5)


def test_posterior_of_a_reading_that_does_not_fit_is_zero():
    alts, boxes = line("3", {"+": 0.5, "(": 0.5}, "4")
    assert posterior(alts, boxes, ("3", "(", "4")) == 0.0  # no expression
    assert posterior(alts, boxes, ("3", "-", "4")) == 0.0  # not an alternative
    assert posterior(alts, boxes, ("3", "+")) == 0.0  # wrong length
    assert posterior([], [], ()) == 0.0


# --------------------------------------------------------------------------- real data


@pytest.mark.data
def test_every_held_out_crohme_arithmetic_truth_is_a_valid_reading(crohme_dev_expressions):
    latex_to_label = {r"\times": "×", r"\div": "÷"}
    for expr in crohme_dev_expressions:
        truth = [latex_to_label.get(t, t) for t in expr.tokens]
        assert is_valid(truth), expr.latex
        assert solve(truth).status == "solved", expr.latex


# --------------------------------------------------------------------------- not an expression


def test_noise_odds_leave_a_clear_reading_nearly_sure():
    alts, boxes = line(*"12+7×3=")
    assert posterior(alts, boxes, tuple("12+7×3="), noise_odds=0.1) == pytest.approx(1.0)


def test_a_mark_whose_only_valid_reading_is_unlikely_is_not_sure():
    # a scribble: noise to the classifier, and any digit it could be is unlikely
    alts = [[("reject", 0.95), ("7", 0.02), ("(", 0.02), ("-", 0.01)]]
    boxes = [box(0)]
    reading = read(alts, boxes)
    assert reading.labels == ("7",)
    assert reading.valid
    assert posterior(alts, boxes, reading.labels) > 0.5  # among valid readings it wins
    assert posterior(alts, boxes, reading.labels, noise_odds=0.1) < 0.5


def test_noise_odds_only_lower_the_confidence():
    alts, boxes = line({"3": 0.6, "8": 0.4}, {"+": 0.5, "t": 0.5}, {"4": 0.7, "reject": 0.3})
    labels = read(alts, boxes).labels
    plain = posterior(alts, boxes, labels)
    assert posterior(alts, boxes, labels, noise_odds=0.1) <= plain
    assert posterior(alts, boxes, labels, noise_odds=1.0) <= posterior(
        alts, boxes, labels, noise_odds=0.1
    )


def test_a_digit_after_a_leading_zero_is_read_only_when_clearly_written():
    # a "9" with a long tail cut into "0" and "1": people rarely write "07"
    alts, boxes = line({"0": 0.6, "6": 0.4}, "7")
    assert text(read(alts, boxes)) == "67"  # 0.6 x LEADING_ZERO_PENALTY < 0.4
    alts, boxes = line({"0": 0.9, "6": 0.02}, "7")
    assert text(read(alts, boxes)) == "07"  # valid, at a cost


@pytest.mark.parametrize("labels", ["0", "0.5", "10", "100", "2-0.25", "(0)", "07", "0+07"])
def test_numbers_with_and_without_a_leading_zero_stay_valid(labels):
    assert is_valid(list(labels))


def test_a_leading_zero_costs_nothing_before_a_point_or_an_operator():
    zero, five = {"0": 0.6, "6": 0.4}, {"5": 1.0}
    assert text(read(*line(zero, ".", five))) == "0.5"
    assert text(read(*line(zero, "+", five))) == "0+5"


def test_an_upright_stroke_as_tall_as_a_slash_is_read_as_one_only_when_clear():
    # an upright slash is the classifier's "1": at 1.4 line heights it is likelier "/"
    alts, boxes = line("9", "2", {"1": 0.75, "/": 0.2}, "7", "0")
    boxes[2] = box(2, w=6, h=56)
    assert text(read(alts, boxes)) == "92/70"
    boxes[2] = box(2, w=6, h=H)  # a 1 of the digits' height stays a 1
    assert text(read(alts, boxes)) == "92170"
    alts[2] = [("1", 0.97), ("/", 0.03)]
    boxes[2] = box(2, w=6, h=56)
    assert text(read(alts, boxes)) == "92170"  # a tall 1, clearly written


def test_a_cross_that_may_be_a_point_in_a_bare_line_keeps_its_confidence():
    """The point's reading (the multiplication dot) needs a relation; the same ``×``
    as the classifier's own class does not, and the posterior finds it."""
    alts, boxes = spaced("2", {".": 0.5, "×": 0.5}, "3")
    reading = read(alts, boxes)
    assert text(reading) == "2×3"
    assert posterior(alts, boxes, reading.labels) > 0.5  # the likelier of 2×3 and 2.3
