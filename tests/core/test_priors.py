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
        ((200, 118, 4, 4), "·", 3.0),  # small, centred on the middle: the multiplication dot
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


@pytest.mark.parametrize(
    ("line", "box", "factor"),
    [
        (TALL, (400, 148, 4, 4), 3.0),  # on the middle, at an end of the line: full odds
        (TALL, (400, 130, 4, 4), 3.0),  # 0.2 H above it: full odds
        (TALL, (400, 150, 4, 4), 3**0.5),  # 0.02 H below: half way
        (TALL, (400, 152, 4, 4), 1.0),  # 0.04 H below: even
        (TALL, (400, 156, 4, 4), 1 / 3),  # 0.08 H below: against
        (WIDE, (55, 118, 4, 4), 6.0),  # spaced like an operator (1.55 H): x4 on the odds
        (NARROW, (28, 118, 4, 4), 6**0.5),  # spaced like a decimal point (0.2 H): /1.5
    ],
)
def test_a_point_is_the_multiplication_dot_by_its_height_and_spacing(line, box, factor):
    prior = LineGeometry.of([*line, box]).prior(box)
    assert math.exp(prior["·"]) == pytest.approx(factor)
    assert math.exp(prior["·"] - prior["."]) == pytest.approx(factor**2)


@pytest.mark.parametrize(
    "box",
    [
        (200, 124, 4, 4),  # 0.15 H below the middle: a decimal point
        (200, 105, 4, 4),  # 0.3 H above it
        (200, 116, 10, 10),  # 0.25 H across: too bold
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
