"""Tests of the geometric priors: what a box says about its class, against its line."""

from __future__ import annotations

import math

import pytest

from mathocr.priors import LineGeometry, geometry_priors

H = 40
LINE = [(30 * i, 100, 24, H) for i in range(5)]  # five digit-sized boxes


@pytest.mark.parametrize(
    ("box", "label", "factor"),
    [
        ((200, 100, 52, H), "3", 1 / 4),  # 1.3 H wide: rarely one digit
        ((200, 100, 44, H), "3", 1.0),  # 1.1 H: a wide digit
        ((200, 100, 52, H), "", 1 / 100),  # a wide mark dropped as noise: /10, and /10
        ((200, 100, 24, H), "", 1 / 10),  # a digit-sized one: /10
        ((200, 136, 4, 4), ".", 3.0),  # small and low: a point
        ((200, 118, 4, 4), "·", 3**0.5),  # small, on the middle: the multiplication dot
        ((200, 118, 4, 4), "×", 1 / 4),  # ... which the reader reads from "." (a cross: /4)
    ],
)
def test_a_box_gets_its_factor_against_the_line(box, label, factor):
    prior = LineGeometry.of(LINE).prior(box)
    assert math.exp(prior.get(label, 0.0)) == pytest.approx(factor)


#: Five digits 100 pixels tall, their middle at y = 150.
TALL = [(60 * i, 100, 50, 100) for i in range(5)]
#: Two digits with room between them, in H = 40 pixels.
WIDE = [(0, 100, 24, H), (90, 100, 24, H)]
#: Two digits a decimal point's width apart.
NARROW = [(0, 100, 24, H), (36, 100, 24, H)]
#: Two digits 0.75 H apart.
NARROW_ISH = [(0, 100, 24, H), (54, 100, 24, H)]


@pytest.mark.parametrize(
    ("line", "box", "odds"),
    [
        (TALL, (400, 148, 4, 4), 3.0),  # on the middle, at an end of the line: full odds
        (TALL, (400, 130, 4, 4), 3.0),  # 0.18 H above it: full odds
        (TALL, (400, 157, 4, 4), 3 ** (0.03 / 0.1)),  # 0.09 H below: part way
        (TALL, (400, 160, 4, 4), 1.0),  # 0.12 H below: even
        (TALL, (400, 171, 4, 4), 3 ** (-0.11 / 0.1)),  # 0.23 H below: against
        (WIDE, (55, 118, 4, 4), 36.0),  # spaced like an operator (1.55 H): x12 on the odds
        (NARROW, (28, 118, 4, 4), 3 / 6.7),  # like a decimal point (0.2 H): /6.7
        (NARROW_ISH, (31, 118, 4, 4), 3 / 4),  # between the two (0.65 H): /4
    ],
)
def test_a_point_is_the_multiplication_dot_by_its_height_and_spacing(line, box, odds):
    prior = LineGeometry.of([*line, box]).prior(box)
    assert math.exp(prior["·"] - prior["."]) == pytest.approx(odds)


def test_the_dot_keeps_what_the_point_has_against_other_classes():
    """A point's odds against digits and operators are the dot's too: only the
    dot-against-point odds come from the height."""
    box = (400, 165, 4, 4)  # 0.17 H below the middle: small and low, x3 as a point
    prior = LineGeometry.of([*TALL, box]).prior(box)
    odds = 3 ** (-0.05 / 0.1)  # and less likely the dot than the point
    assert math.exp(prior["·"]) == pytest.approx(3.0 * odds**0.5)
    assert math.exp(prior["."]) == pytest.approx(3.0 / odds**0.5)


@pytest.mark.parametrize(
    "box",
    [
        (200, 131, 4, 4),  # 0.33 H below the middle: a decimal point
        (200, 105, 4, 4),  # 0.3 H above it
        (200, 112, 16, 16),  # 0.4 H across: too bold
        (200, 118, 10, 4),  # a short dash on the middle: a point drawn as a dash
    ],
)
def test_a_point_too_low_high_or_bold_is_no_multiplication_dot(box):
    assert "·" not in LineGeometry.of([*LINE, box]).prior(box)


def test_the_line_is_measured_once_for_any_candidate_box():
    line = LineGeometry.of(LINE)
    assert line.height == H
    assert geometry_priors([*LINE, (200, 136, 4, 4)])[-1] == LineGeometry.of(
        [*LINE, (200, 136, 4, 4)]
    ).prior((200, 136, 4, 4))


def test_priors_do_not_change_when_the_image_is_scaled_or_shifted():
    boxes = [*LINE, (200, 136, 4, 4), (230, 110, 52, 8)]
    moved = [(3 * x + 7, 3 * y + 11, 3 * w, 3 * h) for x, y, w, h in boxes]
    assert geometry_priors(moved) == geometry_priors(boxes)


def test_a_line_needs_a_box():
    with pytest.raises(ValueError, match="at least one box"):
        LineGeometry.of([])
    assert geometry_priors([]) == []


def _line_of_digits(drop: float) -> list[tuple[int, int, int, int]]:
    """Nine digits 40 pixels tall, 60 apart, each ``drop`` pixels lower than the last."""
    return [(60 * i, round(100 + drop * i), 24, H) for i in range(9)]


def test_the_line_tilt_is_measured_from_its_tall_boxes():
    assert LineGeometry.of(_line_of_digits(3)).slope == pytest.approx(0.05)
    assert LineGeometry.of(_line_of_digits(-3)).slope == pytest.approx(-0.05)
    assert LineGeometry.of(_line_of_digits(0)).slope == 0.0
    # a few low and high digits (a 7's tail, a raised 6) do not tilt the line
    bumpy = [(x, y + (8 if i in (2, 5) else 0), w, h) for i, (x, y, w, h) in
             enumerate(_line_of_digits(0))]  # fmt: skip
    assert LineGeometry.of(bumpy).slope == 0.0
    assert LineGeometry.of(_line_of_digits(40)).slope == pytest.approx(0.14)  # at most


def test_a_point_on_a_tilted_line_is_judged_against_the_middle_where_it_sits():
    # a dot between the last two digits, on the line's middle there
    for drop in (0, 3, -3):
        line = _line_of_digits(drop)
        middle = 120 + drop / 60 * (466 - 12)
        dot = (464, round(middle) - 2, 4, 4)
        prior = LineGeometry.of([*line, dot]).prior(dot)
        # as on a level line: full odds, and x12 for an operator's blank (0.8 H)
        assert math.exp(prior["·"] - prior["."]) == pytest.approx(36.0, rel=0.15), drop


def test_priors_of_a_tilted_line_do_not_change_when_scaled_or_shifted():
    boxes = [*_line_of_digits(3), (464, 150, 4, 4), (230, 125, 30, 8)]
    moved = [(3 * x + 7, 3 * y + 11, 3 * w, 3 * h) for x, y, w, h in boxes]
    for a, b in zip(geometry_priors(moved), geometry_priors(boxes), strict=True):
        assert a.keys() == b.keys()
        assert all(a[k] == pytest.approx(b[k]) for k in a)
