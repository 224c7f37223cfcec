"""Geometric priors: what a symbol's box says about its class, given its line.

A classifier sees each symbol alone, normalised to a square; whether a mark is a
point or a zero, a minus or an ``=`` bar, often shows only against the line:
its size and where it sits. :class:`LineGeometry` measures the line once (from
the boxes of its symbols) and gives any candidate box its log-multipliers per
label (:meth:`LineGeometry.prior`), so that the reader (:mod:`mathocr.read`)
can score every candidate of a segmentation lattice (:mod:`mathocr.lattice`)
against the same line.

Geometric priors (multiplicative, mild next to a confident classifier) use
the line height ``H`` (upper median of box heights), the line's middle near
each box (median centre of the 7 boxes at least H/2 tall nearest to it along
the line, each carried along the line's tilt to the box: the median slope between
those boxes' centres, so that it follows a line that drifts or tilts), each box's
size (its longer side) and how far its centre lies below that middle:

* small (size <= 0.3 H; on CROHME 2016 train only points are): digits, ``/``,
  brackets /50, operators and relations /4, and ``.`` x3 if also 0.15 H low;
* low and not large (centre 0.3 H below the middle, size <= 0.8 H: the big,
  comma-like points some writers make): ``.`` x3, digits and tall symbols /5,
  ``-`` /5 (5 % of the training writers' minus signs sit this low, 35 % of their
  points);
* smallish (size <= 0.45 H; 2 of 4,044 digits of the training writers'
  one-line expressions, and 80 % of their points): digits and tall symbols /50,
  and ``.`` x2 if 0.15 H low;
* small or smallish and 0.25 H low (a point drawn as a short dash: 1 of the
  training writers' 13 smallish minus signs sits that low, 80 % of their 89
  smallish points): ``-`` at least /10;
* large (size > 0.6 H) and not low: ``.`` /8;
* flat (width >= 2 x height) and thin (height <= 0.3 H): wider than 0.3 H,
  ``-`` x2 and ``.`` /3; not wider (a point drawn as a short dash; 1.5 % of the
  training writers' minus signs, 78 % of their points), ``-`` /20; flat and
  thinner than 0.25 H: ``=`` /3;
* wider than tall but at least 0.32 H high (a two-stroke ``=``, ``+``, ``×``):
  ``-`` /3; tall (height > width, height > 0.5 H): ``-`` /20, ``=`` /10;
* wider than 1.2 H: digits /4 (3 % of the training writers' digits are this wide;
  two touching digits, one piece, nearly always are);
* at least 1.3 H tall: ``1`` /5 (2.7 % of the training writers' ``1`` are this tall,
  half their slashes and most of their brackets; an upright slash reads ``1``);
* a round point (neither side twice the other) no larger than 0.34 H centred from
  0.25 H above the middle to 0.25 H below it: the multiplication dot, with odds that
  fall from 3 at 0.02 H below the middle to even at 0.12 H and 0.24 at 0.25 H, x12
  when the blank beside it is an operator's, /4 to /6.7 when it is closer
  (:func:`_dot_log_ratio`); the reader reads no dot after a lone ``0``, after a
  relation or in a line without one (:mod:`mathocr.read`);
* at least 0.5 H in size: ``reject`` /10. Specks, dust and paper-line remnants
  are small; a digit-sized mark on a line of arithmetic is nearly always a
  symbol the writer meant, drawn oddly (a ``4`` like ``u``), so the classifier
  must be surer than 10:1 before it is dropped. A crossed-out symbol (a dense
  scribble, ``reject`` near 1) still is.

The thresholds come from the geometry of CROHME 2016 train writers' symbols.
On the held-out writers' 207 arithmetic expressions through the whole pipeline
(preliminary model 0.1.0, ``benchmarks/expressions.py`` images), the reader
(grammar and priors) reads 185 clean / 184 photo-look exactly, against 164 /
167 for the top-1 classes and 177 / 175 for the grammar without priors.

Every comparison is cross-multiplied against the line's height, and the tilt is a
ratio, so the priors do not change when the image is scaled or shifted.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .symbols import RELATIONS

__all__ = [
    "COMMA_KEY",
    "DOT_KEY",
    "MULTIPLICATION_DOT",
    "SPECK_KEY",
    "LineGeometry",
    "geometry_priors",
]

#: Odds of a small mark at mid height (at most :data:`DOT_FULL` below the middle) being
#: the multiplication dot (read ``×``) rather than a decimal point; half of it (in log)
#: goes on the dot and half against the point.
MULTIPLICATION_DOT: Final[float] = 3.0
#: The prior key of a small mark at mid height: read as the multiplication dot.
DOT_KEY: Final[str] = "·"
#: The prior key of a point shaped like a comma (low, taller than wide): where commas
#: group digits (``1,000``), read as ``","``, x3 (and its ``.`` /3).
COMMA_KEY: Final[str] = ","
#: The prior key of a mark no larger than a point beyond either end of the line, where
#: no decimal point stands: read as noise (dropped) at SPECK_ODDS of its probability as
#: a point (a speck of dust before the first digit: ``.8-9`` read ``8-9``, not ``08-9``).
SPECK_KEY: Final[str] = "speck"
SPECK_ODDS: Final[float] = 0.1

Box = tuple[int, int, int, int]

_TALL_CLASSES: Final = (*"0123456789", "/", "(", ")", "[", "]")
#: Box no larger than 0.45 H: digits and tall symbols /50 (2 of 4,044 digits of the
#: training writers' one-line expressions are this small, and 80 % of their points).
_SMALLISH: Final[dict[str, float]] = {c: -math.log(50.0) for c in _TALL_CLASSES}
#: Box no larger than 0.3 H: as :data:`_SMALLISH`, and operators /4.
_SMALL: Final[dict[str, float]] = {
    **_SMALLISH,
    **{c: -math.log(4.0) for c in ("+", "-", "×", "÷", *sorted(RELATIONS))},
}
#: Box low on the line and no larger than 0.8 H (a big, comma-like point): digits and
#: tall symbols /5.
_LOW: Final[dict[str, float]] = {c: -math.log(5.0) for c in _TALL_CLASSES}
#: Dropping a box at least 0.5 H in size as noise (``reject``) /10.
_LOG_LARGE_REJECT: Final[float] = -math.log(10.0)
_LOG_DOT: Final[float] = math.log(MULTIPLICATION_DOT)
#: A point read as the multiplication dot is at most this many percent of H across: a
#: bold pen's dot is a quarter to a third of a digit's height in the photo look (with
#: the earlier height window, 22 instead read 28 fewer of the 120 unary_dot sums of
#: seeds 1-2 right and 6 more of the 1,214 development and composed sums) ...
DOT_MAX_SIZE_PERCENT: Final[int] = 34
#: ... its centre at most this far above the middle (in H), with full odds down to
#: :data:`DOT_FULL` below it, even odds at :data:`DOT_EVEN` (the log-odds falling
#: linearly in between and on), none below :data:`DOT_LOWEST`. Measured on the CROHME
#: training writers' points between two operands that are not both digits (``a.b``,
#: ``2.(``, ``).(``: products; 87) against their points between digits (decimal
#: points; 133), centres against the median centre of the line's tall symbols: the
#: products' median is 0.02 H below the middle, a quarter are over 0.08 H below, a
#: tenth over 0.2 H; the decimal points' median is 0.34 H below. Their ratio, by
#: band: 5.4 at 0-0.04 H below, 2.6 at 0.04-0.08, 1.3-1.5 at 0.08-0.16, 1.0 at
#: 0.16-0.2, 0.5 at 0.2-0.3 and 0.1 lower. Those products are algebra (``a.b``);
#: between two digits a product is rarer, so the odds are even already at
#: :data:`DOT_EVEN`, and the blank beside the point decides the rest.
DOT_HIGHEST: Final[float] = 0.25
DOT_FULL: Final[float] = 0.02
DOT_EVEN: Final[float] = 0.12
DOT_LOWEST: Final[float] = 0.25
#: Blank beside a point (both sides, in H) spaced like an operator (at least
#: :data:`DOT_WIDE_SPACING`): the dot x12 (36 % of the CROHME training writers'
#: operators between digits, 3 % of their decimal points); spaced like a decimal point
#: (under :data:`DOT_NARROW_SPACING`: 43 % of operators, 72 % of points) /6.7, in
#: between /4. The development and composed sums' decimal points that sit inside the
#: height window are nearly all spaced under 0.8 H (66 of 69), the unary_dot sums'
#: dots mostly wider (95 of 134); milder factors below 0.8 H read 1-2 more of the 600
#: composed sums' decimal points as products (``75/54.8`` -> ``75/54*8``).
DOT_WIDE_SPACING: Final[float] = 0.8
DOT_NARROW_SPACING: Final[float] = 0.5
_LOG_DOT_WIDE: Final[float] = math.log(12.0)
_LOG_DOT_MIDDLE: Final[float] = -math.log(4.0)
_LOG_DOT_NARROW: Final[float] = -math.log(6.7)
_DIGITS: Final = tuple("0123456789")
#: Dropping a box at least 0.75 H wide and 0.5 H tall as noise: a further /10.
_LOG_WIDE_REJECT: Final[float] = -math.log(10.0)
#: A box wider than 1.2 H read as one digit /4 (33 of the 1,048 digits of the CROHME
#: training writers' arithmetic lines are this wide; two touching digits nearly always).
_LOG_WIDE_DIGIT: Final[float] = -math.log(4.0)
#: A box at least 1.3 H tall read as ``1`` /5: 2.7 % of the CROHME training writers'
#: ``1`` in their arithmetic lines are that tall, against half their slashes and most of
#: their brackets (an upright slash is the classifier's ``1``: it is never taught as ``/``).
_LOG_TALL_ONE: Final[float] = -math.log(5.0)


#: The line's middle near a symbol is the median centre of this many tall boxes
#: nearest to it (carried along the line's tilt), so that it follows a line that
#: drifts up or down across the page. Without the tilt, 7 boxes of a line tilted 3
#: degrees (the photo look's most) put the middle at a box's end up to 0.3 H off.
_MIDDLE_NEIGHBOURS: Final[int] = 7
#: Boxes the line's tilt is measured from (evenly spread along a longer line).
_SLOPE_BOXES: Final[int] = 60
#: The steepest tilt measured (about 8 degrees): beyond it, a photo is turned, not tilted.
MAX_SLOPE: Final[float] = 0.14


def _local_middle(tall: Sequence[tuple[int, int]], at: int, slope: float = 0.0) -> float:
    """Upper median of the vertical centres of the :data:`_MIDDLE_NEIGHBOURS` boxes
    of ``tall`` nearest ``at`` along the line, each carried to ``at`` along the
    line's ``slope`` (a tilted line's middle moves within its neighbours' span).

    ``tall`` holds ``(across, centre)`` pairs (doubled coordinates) sorted by
    ``across``; the nearest are found outward from ``at``, ties to the left.
    """
    right = bisect.bisect_left(tall, (at, -math.inf))
    left = right - 1
    centres: list[float] = []
    while len(centres) < _MIDDLE_NEIGHBOURS and (left >= 0 or right < len(tall)):
        if right >= len(tall) or (left >= 0 and at - tall[left][0] <= tall[right][0] - at):
            across, centre = tall[left]
            left -= 1
        else:
            across, centre = tall[right]
            right += 1
        centres.append(centre + slope * (at - across))
    centres.sort()
    return centres[len(centres) // 2]


def _slope(tall: Sequence[tuple[int, int]], line_h: int) -> float:
    """The line's tilt from the centres of its ``tall`` boxes: Siegel's repeated
    median (for each box the median slope to the boxes at least a line height
    away, then the median of those), which a step in the line (an answer written
    higher than its sum) does not tilt. At most :data:`_SLOPE_BOXES` boxes, evenly
    spread; at most :data:`MAX_SLOPE` either way; 0 for fewer than three boxes."""
    if len(tall) < 3:
        return 0.0
    pick = np.linspace(0, len(tall) - 1, min(len(tall), _SLOPE_BOXES)).round().astype(int)
    xy = np.asarray(tall, dtype=float)[np.unique(pick)]
    dx = xy[None, :, 0] - xy[:, None, 0]
    dy = xy[None, :, 1] - xy[:, None, 1]
    apart = np.abs(dx) >= 2 * line_h  # doubled coordinates
    rows = apart.any(axis=1)
    if not rows.any():
        return 0.0
    slopes = np.where(apart, dy / np.where(apart, dx, 1.0), np.nan)[rows]
    slope = float(np.median(np.nanmedian(slopes, axis=1)))
    return max(-MAX_SLOPE, min(MAX_SLOPE, slope))


@dataclass(frozen=True, slots=True)
class LineGeometry:
    """A line's height and middle, measured from the boxes of its symbols.

    ``height`` is the upper median of the box heights (flat symbols do not drag
    it down); ``tall`` holds the doubled ``(across, centre)`` of the boxes at
    least half that tall, sorted along the line, whose centres give the line's
    middle near any point (:func:`_local_middle`).

    Examples
    --------
    >>> line = LineGeometry.of([(0, 0, 20, 40), (30, 0, 20, 40), (60, 36, 4, 4)])
    >>> line.height
    40
    >>> round(math.exp(line.prior((60, 36, 4, 4))["."]), 2)   # a small, low mark
    3.0
    """

    height: int
    tall: tuple[tuple[int, int], ...]
    #: ``(x0, x1)`` of the same tall boxes, in the same order.
    spans: tuple[tuple[int, int], ...] = ()
    #: How far the line's middle moves down per pixel along it (:func:`_slope`).
    slope: float = 0.0

    @classmethod
    def of(cls, boxes: Sequence[Box]) -> LineGeometry:
        """Measure the line of ``boxes`` ``(x, y, w, h)`` (at least one)."""
        if not boxes:
            raise ValueError("a line needs at least one box")
        heights = sorted(max(h, 1) for _, _, _, h in boxes)
        line_h = heights[len(heights) // 2]
        tall = sorted(
            (2 * x + max(w, 1), 2 * y + max(h, 1), x, x + max(w, 1))
            for x, y, w, h in boxes
            if 2 * max(h, 1) >= line_h
        )
        centres = tuple(t[:2] for t in tall)
        spans = tuple(t[2:] for t in tall)
        return cls(line_h, centres, spans, _slope(centres, line_h))

    def spacing(self, box: Box) -> int | None:
        """The blank along the line between ``box`` and the tall boxes on either side
        of its centre (their sum, each at least 0), or ``None`` at an end of the line."""
        x, _, w, _ = box
        at = bisect.bisect_left(self.tall, (2 * x + max(w, 1), -math.inf))
        if at == 0 or at >= len(self.spans):
            return None
        return max(0, x - self.spans[at - 1][1]) + max(0, self.spans[at][0] - x - max(w, 1))

    def prior(self, box: Box) -> dict[str, float]:
        """Log-multipliers per label for a symbol in ``box`` on this line.

        Labels are class names, ``""`` for dropping the mark as noise, and
        :data:`DOT_KEY` for reading a point as the multiplication dot,
        :data:`COMMA_KEY` for reading it as a comma that groups digits and
        :data:`SPECK_KEY` for dropping it as a speck; a label
        absent from the dict has multiplier 1.
        """
        x, y, w, h = box
        w, h = max(w, 1), max(h, 1)
        line_h = self.height
        middle = _local_middle(self.tall, 2 * x + w, self.slope) if self.tall else 2 * y + h
        below = (2 * y + h) - middle
        prior = _size_prior(max(w, h), below, line_h)
        _add_shape_prior(prior, w, h, line_h)
        spacing = self.spacing(box)
        if spacing is None and 10 * max(w, h) <= 3 * line_h:
            prior[SPECK_KEY] = math.log(SPECK_ODDS)  # point-sized, beyond either end
        # a round mark only: one twice as long as high is a point drawn as a dash
        round_ = max(w, h) < 2 * min(w, h)
        dot = _dot_log_ratio(max(w, h), below, line_h, spacing) if round_ else None
        if dot is not None:  # the same mark as the point: the odds split what it has
            point = prior.get(".", 0.0)
            prior[DOT_KEY] = point + dot / 2
            prior["."] = point - dot / 2
        if 10 * below >= 3 * line_h and 10 * max(w, h) <= 8 * line_h and 10 * h >= 13 * w:
            prior[COMMA_KEY] = math.log(3.0)  # low, no larger than 0.8 H, 1.3 x as tall
        if 20 * max(w, h) <= 9 * line_h and 2 * below >= line_h:
            # smallish and 0.25 H below the middle, whatever its shape: a point drawn as
            # a short dash (1 of the training writers' 13 smallish minus signs sits this
            # low, 80 % of their 89 smallish points)
            prior["-"] = min(prior.get("-", 0.0), -math.log(10.0))
        return prior


def geometry_priors(boxes: Sequence[Box]) -> list[dict[str, float]]:
    """:meth:`LineGeometry.prior` of each box, the line measured from all of them."""
    if not boxes:
        return []
    line = LineGeometry.of(boxes)
    return [line.prior(b) for b in boxes]


def _size_prior(size: int, below: float, line_h: int) -> dict[str, float]:
    """Log-multipliers from a symbol's size and how far ``below`` the line's middle it
    sits (doubled, as the centres are), both against the line's height ``line_h``."""
    log3 = math.log(3.0)
    prior: dict[str, float] = {}
    # centres are doubled: centre - middle >= 0.3 H means 0.15 H below the middle
    low = 10 * below >= 3 * line_h
    very_low = 5 * below >= 3 * line_h  # 0.3 H below the middle
    if 10 * size <= 3 * line_h:  # small: only a point is this small
        prior.update(_SMALL)
        if low:
            prior["."] = log3
    elif very_low and 10 * size <= 8 * line_h:  # a large point (or comma) sits low
        prior.update(_LOW)
        prior["."] = log3
        prior["-"] = -math.log(5.0)  # 5 % of minus signs sit this low, 35 % of points
    elif 20 * size <= 9 * line_h:  # smallish: an operator, not a digit
        prior.update(_SMALLISH)
        if low:
            prior["."] = math.log(2.0)
    elif 10 * size > 6 * line_h and not low:
        prior["."] = -math.log(8.0)
    if 2 * size >= line_h:  # as large as a digit: rarely a speck of noise
        prior[""] = _LOG_LARGE_REJECT
    return prior


def _dot_log_ratio(size: int, below: float, line_h: int, spacing: int | None) -> float | None:
    """Log-odds of the multiplication dot against a decimal point for a point of
    ``size`` whose centre sits ``below`` (doubled) the line's middle, or ``None``
    where a point is no multiplication dot (too large, too high or too low).

    Full odds (:data:`MULTIPLICATION_DOT`) down to :data:`DOT_FULL` below the
    middle, even at :data:`DOT_EVEN`, against lower, none below :data:`DOT_LOWEST`;
    a point spaced like an operator is likelier the dot, one spaced like a decimal
    point far less likely (:data:`DOT_WIDE_SPACING`). Measured on the CROHME training
    writers' decimal points between digits as the reader sees them (drawn and
    boxed): 9 % sit less than 0.04 H below the middle, 12 % less than 0.1 H, the
    median 0.32 H; half are at most 0.18 H across, 90 % at most 0.34 H. The two
    overlap: the height alone cannot tell them apart, the grammar and spacing must.

    Examples
    --------
    >>> round(math.exp(_dot_log_ratio(10, 0, 100, None)), 2)  # on the middle
    3.0
    >>> round(math.exp(_dot_log_ratio(10, 24, 100, None)), 2)  # 0.12 H below (doubled)
    1.0
    >>> round(math.exp(_dot_log_ratio(10, 0, 100, 40)), 2)  # spaced as a decimal point
    0.45
    >>> _dot_log_ratio(10, 60, 100, None) is None  # 0.3 H below: a decimal point
    True
    """
    if 100 * size > DOT_MAX_SIZE_PERCENT * line_h:
        return None
    offset = below / (2 * line_h)
    if not -DOT_HIGHEST <= offset <= DOT_LOWEST:
        return None
    ramp = min((DOT_EVEN - offset) / (DOT_EVEN - DOT_FULL), 1.0)
    odds = _LOG_DOT * ramp
    if spacing is not None:
        if spacing >= DOT_WIDE_SPACING * line_h:
            odds += _LOG_DOT_WIDE
        elif spacing < DOT_NARROW_SPACING * line_h:
            odds += _LOG_DOT_NARROW
        else:
            odds += _LOG_DOT_MIDDLE
    return odds


def _add_shape_prior(prior: dict[str, float], w: int, h: int, line_h: int) -> None:
    """Adds to ``prior`` what a ``w`` x ``h`` box says: flat (a minus, not an ``=``
    when very thin), or upright (neither)."""
    log3 = math.log(3.0)
    if w >= 2 * h:
        if 10 * h <= 3 * line_h:
            if 10 * w > 3 * line_h:
                prior["-"] = math.log(2.0)
                prior["."] = prior.get(".", 0.0) - log3
            else:  # 1.5 % of minus signs are this short, 78 % of points this narrow
                prior["-"] = -math.log(20.0)
        if 4 * h < line_h:
            prior["="] = -log3
    if h > w and 2 * h > line_h:
        prior["-"] = -math.log(20.0)
        prior["="] = -math.log(10.0)
    elif w > h and 25 * h >= 8 * line_h:
        prior["-"] = -log3
    if 4 * w >= 3 * line_h and 2 * h >= line_h:
        # as wide as two touching digits: the classifier's "no symbol" says "not one"
        prior[""] = prior.get("", 0.0) + _LOG_WIDE_REJECT
    if 10 * h >= 13 * line_h:  # as tall as a slash or a bracket
        prior["1"] = prior.get("1", 0.0) + _LOG_TALL_ONE
    if 5 * w > 6 * line_h:  # wider than 1.2 H: 3 % of the training writers' digits
        for digit in _DIGITS:
            prior[digit] = prior.get(digit, 0.0) + _LOG_WIDE_DIGIT
