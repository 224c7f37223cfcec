"""Stage 3: cut an ink mask into symbols, left to right.

Connected components are the starting point. Some symbols are drawn in parts
that do not touch (``=``, ``÷``, a ``5`` whose flag floats, a ``4`` in two
strokes, a ``+`` whose strokes barely miss); they are joined by geometry:

* parts stacked one above the other in the same column (``=``, ``÷``, the flag of
  a ``5``, the bar of a ``≤`` even where it runs along the chevron's arm) - but a
  small dot low beside a symbol is a decimal point and stays alone (not one right
  under the middle of a short symbol: the lower dot of a ``÷`` whose upper dot has
  already joined the bar), and so does a bigger mark (a decimal point drawn as a
  comma) under the corner of a small digit: two parts neither flat nor a dot stack
  only when centred one on the other;
* parts whose boxes overlap and whose ink nearly touches (``+``, ``4``);
* a flat stroke at the very top or bottom of a symbol, starting or ending over
  it, whose ink nearly touches it (the base of a ``1`` drawn as its own stroke);
* a flat stroke just clear of the top of a symbol, starting over it and
  running off to the right (the flag of a ``5`` drawn up and away), when the
  two together are no wider than 1.3 reference heights.

A decimal point written close to a digit can reach it through the faint halo
of a blurred photo; given the photo's ``core`` ink (the dark pen lines without
their halo, see :class:`mathocr.cleanup.Binarized`), a small round piece of core
low beside a digit-sized one is cut off with the faint ink nearest it
(:func:`_detach_point`), and then stays alone as any decimal point does.

Symbols that touch make one wide component; :func:`split_candidates` offers
ways to cut it in two for the classifier to judge. A cut is the top-to-bottom
path through the middle of the component that crosses the least ink, bending
(at a small cost per column) round the foot of a leaning ``1`` or the tail of a
``3`` where a straight vertical cut would give one symbol a piece of the other.

Every symbol keeps its own ink mask (pixels of a neighbour inside its box are
not part of it), its box, and the line's reference height - the median height
of the symbols that are not flat - which :func:`mathocr.normalize.normalize_batch`
needs to keep a ``.`` small and a ``-`` thin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .deadline import Deadline
from .errors import TooManyMarks
from .normalize import ink_box


@dataclass(frozen=True, slots=True)
class Segment:
    """One symbol candidate: its box ``(x, y, w, h)`` and its own ink mask (bool, box-sized)."""

    box: tuple[int, int, int, int]
    mask: np.ndarray

    @property
    def height(self) -> int:
        return self.box[3]

    @property
    def width(self) -> int:
        return self.box[2]


@dataclass(frozen=True, slots=True)
class Segmentation:
    """The symbols of a line, left to right, and its reference symbol height."""

    segments: tuple[Segment, ...]
    ref_height: float

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [s.box for s in self.segments]


@dataclass(slots=True)
class _Part:
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int  # exclusive
    ids: list[int]
    area: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    def absorb(self, other: _Part) -> None:
        self.x0, self.y0 = min(self.x0, other.x0), min(self.y0, other.y0)
        self.x1, self.y1 = max(self.x1, other.x1), max(self.y1, other.y1)
        self.ids += other.ids
        self.area += other.area


def reference_height(heights: list[int] | np.ndarray) -> float:
    """Median height of the symbols at least 30 % as tall as the tallest (flat ones excluded).

    Examples
    --------
    >>> reference_height([40, 44, 6, 42, 3])
    42.0
    """
    h = np.asarray(heights, np.float64)
    if h.size == 0:
        return 0.0
    tall = h[h >= 0.3 * h.max()]
    return float(np.median(tall))


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _ink_gap(labels: np.ndarray, a: _Part, b: _Part) -> float:
    """Smallest distance in pixels between the ink of two parts (their union box only)."""
    x0, y0 = min(a.x0, b.x0), min(a.y0, b.y0)
    x1, y1 = max(a.x1, b.x1), max(a.y1, b.y1)
    window = labels[y0:y1, x0:x1]
    in_a = np.isin(window, a.ids)
    in_b = np.isin(window, b.ids)
    if not in_a.any() or not in_b.any():
        return float("inf")
    dist = cv2.distanceTransform((~in_a).astype(np.uint8), cv2.DIST_L2, 3)
    return float(dist[in_b].min())


def _is_dot(p: _Part, ref: float) -> bool:
    return max(p.w, p.h) <= 0.3 * ref


def _is_flat(p: _Part, ref: float) -> bool:
    return p.h <= 0.35 * ref and p.w >= 1.5 * p.h


#: A part whose ink, spread along its longer side, is thinner than this many pen widths
#: (and shorter than 0.6 reference heights) is a hairline, not a stroke of this pen.
HAIRLINE = 0.45


def _is_hairline(p: _Part, ref: float, pen: float) -> bool:
    """Pieces of a paper ruling fainter than the pen, left where the ruling is darkest
    (grid crossings) or cut into dashes by the threshold: thin and short."""
    side = max(p.w, p.h)
    return p.area < HAIRLINE * pen * side and side < 0.6 * ref


def _box_distance(a: _Part, b: _Part) -> int:
    dx = max(0, max(a.x0, b.x0) - min(a.x1, b.x1))
    dy = max(0, max(a.y0, b.y0) - min(a.y1, b.y1))
    return max(dx, dy)


def _a_decimal_point(a: _Part, b: _Part, ref: float, pen: float) -> bool:
    """Whether one of the two is a decimal point beside the other, which stays alone: a
    dot sitting low beside (or under the corner of) a non-flat symbol - but not one right
    under the middle of a short symbol: the lower dot of a ÷ whose upper dot already
    joined the bar."""
    for dot, other in ((a, b), (b, a)):
        centre = (dot.x0 + dot.x1) / 2
        under_middle = (
            other.h < 0.75 * ref
            and dot.y0 >= other.y1 - pen
            and other.x0 + 0.25 * other.w <= centre <= other.x1 - 0.25 * other.w
        )
        if (
            _is_dot(dot, ref)
            and other.h >= 0.5 * ref
            and (dot.y0 + dot.y1) / 2 > other.y0 + 0.6 * other.h
            and not under_middle
        ):
            return True
    return False


def _a_floating_flag(a: _Part, b: _Part, ref: float, touch: float) -> bool:
    """Whether one of the two is the flag of a 5 that floats up and to the right of the
    other: a flat stroke starting over a symbol and just clear of its top."""
    union_h = max(a.y1, b.y1) - min(a.y0, b.y0)
    union_w = max(a.x1, b.x1) - min(a.x0, b.x0)
    for flag, body in ((a, b), (b, a)):
        if (
            _is_flat(flag, ref)
            and not _is_flat(body, ref)
            and union_h >= 0.5 * ref
            and body.x0 <= flag.x0 <= body.x1
            and 0 <= body.y0 - flag.y1 <= touch
            and union_w <= 1.3 * ref
        ):
            return True
    return False


def _a_detached_foot(a: _Part, b: _Part, labels: np.ndarray, ref: float, touch: float) -> bool:
    """Whether one of the two, near the other, is a base or top stroke that nearly touches
    the end of the other's stroke (the foot of a 1 drawn apart): flat, starting or ending
    over the symbol, at its very top or bottom."""
    union_w = max(a.x1, b.x1) - min(a.x0, b.x0)
    for flat, body in ((a, b), (b, a)):
        cy = (flat.y0 + flat.y1) / 2
        if (
            _is_flat(flat, ref)
            and not _is_flat(body, ref)
            and body.h >= 0.5 * ref
            and (cy >= body.y0 + 0.85 * body.h or cy <= body.y0 + 0.15 * body.h)
            and (body.x0 <= flat.x0 <= body.x1 or body.x0 <= flat.x1 <= body.x1)
            and union_w <= 1.3 * ref
            and _ink_gap(labels, a, b) <= touch
        ):
            return True
    return False


#: A part whose ink is no more than this many pen widths times its box's diagonal is a
#: single straight stroke (a bar), not a chevron or a curve.
BAR_INK = 1.3


def _a_bar_under_or_over(a: _Part, b: _Part, labels: np.ndarray, pen: float) -> bool:
    """Whether one of the two is a bar (one straight stroke, no steeper than 45°) that
    spans most of the other's width and lies wholly below or above its ink in every
    column they share: the bar of a ``≤`` or ``≥`` drawn along the chevron's arm, whose
    box overlaps the chevron's (a comma under a digit's corner is steeper, and shorter)."""
    x0, x1 = max(a.x0, b.x0), min(a.x1, b.x1)
    if x1 - x0 < 0.6 * max(a.w, b.w):
        return False
    if not any(p.w >= p.h and p.area <= BAR_INK * pen * math.hypot(p.w, p.h) for p in (a, b)):
        return False
    upper, lower = (a, b) if a.y0 + a.y1 <= b.y0 + b.y1 else (b, a)
    y0, y1 = min(a.y0, b.y0), max(a.y1, b.y1)
    window = labels[y0:y1, x0:x1]
    in_up, in_low = np.isin(window, upper.ids), np.isin(window, lower.ids)
    both = in_up.any(axis=0) & in_low.any(axis=0)
    if not both.any():
        return False
    rows = np.arange(y1 - y0)[:, None]
    up_bottom = np.where(in_up, rows, -1).max(axis=0)[both]
    low_top = np.where(in_low, rows, y1 - y0).min(axis=0)[both]
    return bool((low_top - up_bottom > 1).all())


def _should_join(a: _Part, b: _Part, labels: np.ndarray, ref: float, pen: float) -> bool:
    x_ov = _overlap(a.x0, a.x1, b.x0, b.x1)
    narrow, wide = (a, b) if a.w <= b.w else (b, a)
    union_h = max(a.y1, b.y1) - min(a.y0, b.y0)
    if union_h > 2.2 * ref:
        return False
    touch = max(2.0, 1.5 * pen)  # ink this close nearly touches
    near = _box_distance(a, b) <= touch
    if _a_decimal_point(a, b, ref, pen):
        return False
    # A fragment (a pen lift in a stroke) that nearly touches a symbol.
    for frag, other in ((a, b), (b, a)):
        if (
            near
            and _is_dot(frag, ref)
            and other.h >= 0.5 * ref
            and (frag.y0 + frag.y1) / 2 < other.y0 + 0.4 * other.h
        ):
            return _ink_gap(labels, a, b) <= touch
    if x_ov == 0:
        return False
    if _a_floating_flag(a, b, ref, touch) or (near and _a_detached_foot(a, b, labels, ref, touch)):
        return True
    x_frac = x_ov / max(narrow.w, 1)
    # Strokes that nearly touch within one column belong together: a + or a 4
    # drawn in two strokes (neighbours only overlap at their edges).
    if near and x_frac >= 0.5 and _ink_gap(labels, a, b) <= touch:
        return True
    y_ov = _overlap(a.y0, a.y1, b.y0, b.y1)
    # A small stroke mostly inside another's box (the bar of a crossed 7).
    small, big = (a, b) if a.w * a.h <= b.w * b.h else (b, a)
    inside = _overlap(small.x0, small.x1, big.x0, big.x1) * _overlap(
        small.y0, small.y1, big.y0, big.y1
    )
    if inside >= 0.7 * small.w * small.h and small.w * small.h <= 0.25 * big.w * big.h:
        return True
    # boxes overlapping in height are apart, unless a bar lies clear under the other's ink
    barred = y_ov > 0.2 * min(a.h, b.h) and _a_bar_under_or_over(a, b, labels, pen)
    if y_ov > 0.2 * min(a.h, b.h) and not barred:
        return False
    # Stacked parts in one column: =, ÷, the flag of a 5. When neither part is
    # flat nor a dot (a big lower dot under a ÷'s bar and upper dot), only one
    # centred under the other: a mark under the corner of a small digit is a
    # decimal point drawn as a comma.
    vgap = max(a.y0, b.y0) - min(a.y1, b.y1)
    if vgap > 0.9 * ref:
        return False
    need = 0.4 if _is_flat(a, ref) and _is_flat(b, ref) else 0.6
    centre = (narrow.x0 + narrow.x1) / 2
    plain = not barred and not any(_is_flat(p, ref) or _is_dot(p, ref) for p in (a, b))
    slack = -0.25 if plain else 0.15  # of the wide part's width, each side
    return x_frac >= need and wide.x0 - slack * wide.w <= centre <= wide.x1 + slack * wide.w


#: More pieces than this (after specks are dropped) is not a line of arithmetic.
MAX_PARTS = 1000
#: At most this many pairs of pieces are weighed for joining (a line needs a few per piece).
MAX_JOIN_CHECKS = 20_000


def _parts(
    stats: np.ndarray, shape: tuple[int, int], *, pen: float, min_dot: float, max_parts: int
) -> list[_Part]:
    """The components worth keeping (no specks, no sheet edges), as parts.

    Raises :class:`~mathocr.errors.TooManyMarks` when more than ``max_parts`` remain.
    """
    height, width = shape
    x, y, w, h, area = (stats[1:, k].astype(np.int64) for k in range(5))
    min_area = max(2.0, min_dot * min_dot * pen * pen)
    min_side = max(1.0, min_dot * pen)
    keep = (area >= min_area) & (np.maximum(w, h) >= min_side)
    # The edge of the sheet (a table or shadow beyond it): a component
    # running along a border of the image for half its length.
    along_side = ((x == 0) | (x + w == width)) & (h >= 0.5 * height)
    along_top = ((y == 0) | (y + h == height)) & (w >= 0.5 * width)
    straight_edge = ((h >= 0.9 * height) & (w <= 0.1 * h)) | ((w >= 0.9 * width) & (h <= 0.1 * w))
    keep &= ~(along_side | along_top | straight_edge)
    kept = np.flatnonzero(keep)
    if kept.size > max_parts:
        raise TooManyMarks(
            f"The image holds {kept.size:,} separate marks, far more than a line of "
            f"arithmetic (at most {max_parts:,}): photograph one line of handwriting."
        )
    rows = np.stack([x, y, x + w, y + h, area], axis=1)[kept].tolist()
    return [
        _Part(x0, y0, x1, y1, [i + 1], a)
        for i, (x0, y0, x1, y1, a) in zip(kept.tolist(), rows, strict=True)
    ]


def _join(
    parts: list[_Part],
    labels: np.ndarray,
    *,
    ref: float,
    pen: float,
    max_checks: int = MAX_JOIN_CHECKS,
    deadline: Deadline | None = None,
) -> list[_Part]:
    """Join the parts of each symbol (see :func:`_should_join`) until no pair joins.

    Parts are scanned left to right by their left edge, each against the parts
    that start before it ends. When ``i`` absorbs a neighbour it has grown, so
    the earlier parts that reach it are asked again (the first that joins
    absorbs it in turn), and then ``i``'s own neighbours: the same joins, in the
    same order, as scanning from the start after every join, without the
    quadratic rescans. Raises :class:`~mathocr.errors.TooManyMarks` after
    ``max_checks`` pairs (a texture, not writing).
    """
    deadline = deadline or Deadline.never()
    parts = sorted(parts, key=lambda p: p.x0)
    checks = 0

    def joins(a: _Part, b: _Part) -> bool:
        nonlocal checks
        checks += 1
        if checks > max_checks:
            raise TooManyMarks(
                f"The marks in the image overlap too much to be a line of arithmetic "
                f"(more than {max_checks:,} pairs to weigh)."
            )
        if checks % 256 == 0:
            deadline.check("segment")
        return _should_join(a, b, labels, ref, pen)

    i = 0
    while i < len(parts):
        j = i + 1
        while j < len(parts) and parts[j].x0 < parts[i].x1:
            if joins(parts[i], parts[j]):
                parts[i].absorb(parts.pop(j))
                break
            j += 1
        else:
            i += 1
            continue
        # parts[i] grew: only the earlier parts that reach it can join anew.
        while True:
            grown = parts[i]
            back = next(
                (a for a in range(i) if grown.x0 < parts[a].x1 and joins(parts[a], grown)),
                None,
            )
            if back is None:
                break
            parts[back].absorb(parts.pop(i))
            i = back
    return parts


def segment(
    ink: np.ndarray,
    *,
    stroke_width: float | None = None,
    min_dot: float = 0.6,
    core: np.ndarray | None = None,
    max_parts: int = MAX_PARTS,
    max_checks: int = MAX_JOIN_CHECKS,
    deadline: Deadline | None = None,
) -> Segmentation:
    """Split an ink mask into symbols, left to right.

    Parameters
    ----------
    ink : (H, W) uint8 or bool array
        Non-zero is ink (see :func:`mathocr.cleanup.binarize`).
    stroke_width : float, optional
        Pen width in pixels; estimated from the mask when not given. Components
        smaller than a dot of ``min_dot`` pen widths across are specks and dropped,
        and so are short hairlines, thinner than :data:`HAIRLINE` pen widths on
        average (remnants of a faint paper ruling; only when the pen is 3 pixels or wider),
        and so are the edges of the sheet in a loosely cropped photo: components
        running along half of an image border, or thin and straight across
        90 % of the image.
    core : (H, W) uint8 or bool array, optional
        The darkest ink (non-zero), a subset of ``ink``: a decimal point joined to
        a digit only by fainter ink is cut off (see :func:`_detach_point`).
    max_parts, max_checks : int, optional
        Bounds on the work: more pieces than ``max_parts`` (after specks), or more
        than ``max_checks`` pairs weighed for joining, is not a line of arithmetic.
    deadline : Deadline, optional
        Checked while joining (see :mod:`mathocr.deadline`).

    Raises
    ------
    TooManyMarks
        The image holds far more marks than a line could (noise, a texture).

    Examples
    --------
    >>> ink = np.zeros((40, 80), np.uint8)
    >>> ink[10:12, 5:25] = 1; ink[20:22, 5:25] = 1   # an "=" in two bars
    >>> ink[5:35, 40:43] = 1                           # a "1"
    >>> ink[32:35, 50:53] = 1                          # a "." low beside it
    >>> [s.box for s in segment(ink).segments]
    [(5, 10, 20, 12), (40, 5, 3, 30), (50, 32, 3, 3)]
    """
    deadline = deadline or Deadline.never()
    mask = (np.asarray(ink) != 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    if n <= 1:
        return Segmentation((), 0.0)
    if stroke_width is None:
        from .cleanup import stroke_width as estimate

        stroke_width = estimate(mask)
    pen = max(1.0, float(stroke_width))
    parts = _parts(stats, mask.shape, pen=pen, min_dot=min_dot, max_parts=max_parts)
    if not parts:
        return Segmentation((), 0.0)
    deadline.check("segment")
    # Before joining, parts of one symbol understate its height: a single "7"
    # in two strokes must not look like two small symbols.
    line_h = max(p.y1 for p in parts) - min(p.y0 for p in parts)
    ref = max(reference_height([p.h for p in parts]), 0.6 * line_h)
    if pen >= 3:  # a thinner pen leaves no room between a stroke and a hairline
        parts = [p for p in parts if not _is_hairline(p, ref, pen)]
        if not parts:
            return Segmentation((), 0.0)
    if core is not None:
        core = np.asarray(core)
        for part in list(parts):
            dot = _detach_point(part, labels, core, ref=ref, pen=pen, new_id=n)
            if dot is not None:
                parts.append(dot)
                n += 1
        deadline.check("segment")
    parts = _join(parts, labels, ref=ref, pen=pen, max_checks=max_checks, deadline=deadline)
    parts.sort(key=lambda p: (p.x0 + p.x1) / 2)
    ref = reference_height([p.h for p in parts if not _is_flat(p, ref)] or [p.h for p in parts])
    segments = []
    for p in parts:
        window = labels[p.y0 : p.y1, p.x0 : p.x1]
        own = window == p.ids[0] if len(p.ids) == 1 else np.isin(window, p.ids)
        segments.append(Segment((p.x0, p.y0, p.w, p.h), own))
    return Segmentation(tuple(segments), ref)


def _detach_point(
    part: _Part, labels: np.ndarray, core: np.ndarray, *, ref: float, pen: float, new_id: int
) -> _Part | None:
    """Cut a decimal point off a digit it reaches only through faint ink; the point or ``None``.

    The part's core (its ink that is also in ``core``) must fall into a body at
    least half the reference height tall and, apart from it, a piece shaped like
    a point: round (its sides within 0.6 of each other), filled (half its box),
    at least a pen width and at most 0.3 reference heights across, centred low
    (below 0.6 of the body's height) and off the middle half of the body's width.
    The part's ink nearer that piece than the rest of the core is relabelled
    ``new_id`` in ``labels`` (in place), and ``part`` shrinks to the rest.
    """
    if len(part.ids) != 1 or part.h < 0.5 * ref:
        return None
    window = labels[part.y0 : part.y1, part.x0 : part.x1]
    own = window == part.ids[0]
    strong = (own & (core[part.y0 : part.y1, part.x0 : part.x1] != 0)).astype(np.uint8)
    if cv2.connectedComponents(strong, connectivity=8)[0] < 3:  # 4x faster than with stats
        return None
    n, pieces, stats, _ = cv2.connectedComponentsWithStats(strong, connectivity=8)
    body = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    bx, by, bw, bh = (int(v) for v in stats[body, :4])
    if bh < 0.5 * ref:
        return None
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        side = max(w, h)
        point_like = (
            k != body
            and pen <= side <= 0.3 * ref
            and min(w, h) >= 0.6 * side
            and 2 * area >= w * h
            and y + h / 2 > by + 0.6 * bh
            and not bx + 0.25 * bw <= x + w / 2 <= bx + 0.75 * bw
        )
        if not point_like:
            continue
        to_point = cv2.distanceTransform((pieces != k).astype(np.uint8), cv2.DIST_L2, 3)
        rest = (pieces == 0) | (pieces == k)
        to_rest = cv2.distanceTransform(rest.astype(np.uint8), cv2.DIST_L2, 3)
        region = own & (to_point < to_rest)
        window[region] = new_id
        dx, dy, dw, dh = ink_box(region)
        rx, ry, rw, rh = ink_box(own & ~region)
        x0, y0 = part.x0, part.y0
        dot = _Part(x0 + dx, y0 + dy, x0 + dx + dw, y0 + dy + dh, [new_id], int(region.sum()))
        part.x0, part.y0, part.x1, part.y1 = x0 + rx, y0 + ry, x0 + rx + rw, y0 + ry + rh
        part.area -= dot.area
        return dot
    return None


def _tight(mask: np.ndarray, x: int, y: int) -> Segment | None:
    """The ink of a bool ``mask`` placed at ``(x, y)``, cropped to its box; ``None`` if blank."""
    bx, by, w, h = ink_box(mask)
    if w == 0:
        return None
    return Segment((x + bx, y + by, w, h), mask[by : by + h, bx : bx + w])


#: A cut path moves through the rows in this many bands (for speed).
_BANDS = 16

#: What a sideways step of a cut path costs, in pixels of ink crossed.
CUT_SLOPE_COST = 0.25


def _cut_paths(
    mask: np.ndarray, lo: int, hi: int, *, slope_cost: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-ink top-to-bottom paths through columns ``lo:hi`` of ``mask``.

    Rows are taken in bands of about 1/16 of the height (for speed); a path
    moves down one band at a time and up to two columns left or right
    (``slope_cost`` per column). Returns the cost of the best path
    ending at each column, that path's column in each band (``(bands, columns)``,
    in ``mask``'s columns) and the band height.
    """
    h = mask.shape[0]
    band = max(1, h // _BANDS)
    nb = -(-h // band)
    ink = np.zeros((nb * band, hi - lo), np.float32)
    ink[:h] = mask[:, lo:hi]
    ink = ink.reshape(nb, band, hi - lo).sum(axis=1)
    n = hi - lo
    cost = ink[0].copy()
    back = np.zeros((nb, n), np.int64)
    penalty = (np.abs(np.arange(-2, 3)) * slope_cost).astype(np.float32)[:, None]
    shifted = np.full(n + 4, np.float32(1e9))
    step = shifted.strides[0]
    window = np.lib.stride_tricks.as_strided(shifted, (5, n), (step, step), writeable=False)
    for b in range(1, nb):
        shifted[2:-2] = cost
        options = window + penalty
        back[b] = options.argmin(axis=0)
        cost = options.min(axis=0)
        cost += ink[b]
    # every end's path at once, band by band from the bottom
    cols = np.empty((nb, n), np.int64)
    cols[-1] = np.arange(n)
    steps = back - 2
    for b in range(nb - 1, 0, -1):
        cols[b - 1] = cols[b] + steps[b][cols[b]]
    return cost, cols + lo, band


def split_candidates(
    seg: Segment,
    *,
    ref_height: float,
    min_width: float = 0.75,
    max_cuts: int = 2,
) -> list[tuple[Segment, Segment]]:
    """Ways to cut a possibly touching pair of symbols in two, best guess first.

    Only a segment at least ``min_width`` x ``ref_height`` wide and half the
    reference height tall is considered (two digits that touch make a wide
    blob; a ``-`` or ``=`` is flat); a segment 1.2 reference heights tall
    (touching brackets, narrower than digits) needs only 0.65 of that width.
    A cut is a path from the top row to the bottom one, within the middle of
    the segment, that crosses the least ink:
    straight down where the symbols touch side by side, bending round the foot
    of a slanted ``1`` or the tail of a ``3`` where one leans into the other
    (each sideways step costs a little, so a path bends only to save ink).
    Ink left of the path goes to the left half. Whether to take a cut is for
    the classifier to say (see :class:`mathocr.recognizer.Recognizer`).

    Examples
    --------
    >>> mask = np.zeros((40, 60), bool)
    >>> mask[5:35, 5:25] = True; mask[5:35, 31:55] = True   # two blobs ...
    >>> mask[20:22, 25:31] = True                             # ... that touch
    >>> left, right = split_candidates(Segment((0, 0, 60, 40), mask), ref_height=40)[0]
    >>> left.box, right.box
    ((5, 5, 25, 30), (30, 5, 25, 30))
    """
    x, y, w, h = seg.box
    # Brackets are taller and narrower than digits: a tall pair needs less width.
    wide = min_width * (0.65 if h >= 1.2 * ref_height else 1.0)
    if ref_height <= 0 or w < wide * ref_height or h < 0.5 * ref_height:
        return []
    lo, hi = int(0.25 * w), int(np.ceil(0.75 * w))
    if hi - lo < 1:
        return []
    cost, paths, band = _cut_paths(seg.mask, lo, hi, slope_cost=CUT_SLOPE_COST)
    # Prefer the middle among equally cheap ends (a tie in a blank gap).
    order = np.lexsort((np.abs(np.arange(lo, hi) - w / 2), np.round(cost, 3)))
    cols = np.arange(w)
    out: list[tuple[Segment, Segment]] = []
    centres: list[float] = []
    centres_all = paths.mean(axis=0)
    for end in order.tolist():
        bands = paths[:, end]
        centre = float(centres_all[end])
        if any(abs(centre - c) <= 0.15 * w for c in centres):
            continue
        centres.append(centre)
        cut = np.repeat(bands, band)[:h]
        left_side = cols[None, :] < cut[:, None]
        left = _tight(seg.mask & left_side, x, y)
        right = _tight(seg.mask & ~left_side, x, y)
        if left is not None and right is not None:
            out.append((left, right))
        if len(centres) == max_cuts:
            break
    return out


#: A point cut off the end of a piece (a decimal point touching its digit) is at most
#: this many reference heights across, ...
ATTACHED_POINT: float = 0.35
#: ... and this many pen widths thick each way (a stroke's end is one pen thick).
ATTACHED_POINT_PENS: float = 1.4
#: A dash cut off the end of a piece (a minus touching its digit) is at most this many
#: reference heights high, ...
ATTACHED_DASH_HEIGHT: float = 0.25
#: ... this many wide (low, high), ...
ATTACHED_DASH_WIDTH: tuple[float, float] = (0.3, 1.2)
#: ... and its middle within this band of the rest's height (top, bottom): the flag of
#: a ``1``, the bar of a ``7`` or a ``5`` and the base of a ``2`` lie outside it.
ATTACHED_DASH_BAND: tuple[float, float] = (0.2, 0.8)
#: The rest beside a dash is at least this many reference heights wide: a dash beside
#: a thin upright stroke is the arm of a ``+``, not a minus touching a ``1``.
ATTACHED_DASH_REST: float = 0.3


def attachment_cuts(seg: Segment, *, ref_height: float) -> list[tuple[Segment, Segment]]:
    """Ways to cut a point or a dash off the right end of a digit it touches.

    :func:`split_candidates` cuts through the middle of a piece into two halves
    of a symbol's height; a decimal point or a minus sign touching its digit
    (``6.`` or ``9-`` as one blob in a blurred photo) hangs off the piece's end.
    The right end is cut straight down at the innermost column beyond which all
    the ink is shaped like one of them: a point (at most :data:`ATTACHED_POINT`
    reference heights across, :data:`ATTACHED_POINT_PENS` pen widths thick both
    ways, centred below the rest's middle, and narrowing to half its height or
    less where it touches: a stroke's end does not), or a dash (at most
    :data:`ATTACHED_DASH_HEIGHT` high, :data:`ATTACHED_DASH_WIDTH` wide, its
    middle within :data:`ATTACHED_DASH_BAND` of the rest's height, the rest at
    least :data:`ATTACHED_DASH_REST` wide), the rest being at least half a
    reference height tall. At most one point and one dash; whether to take a cut
    is for the classifier and the grammar to say. The left end is not cut: the
    curled tail of a ``3`` or a ``5`` ends there like a point, and the long flag
    of a ``1`` like a dash (offered at both ends and before a point had to narrow,
    5 of the 10 pieces of ``benchmarks/core_speed.py``'s photo were cut, one wrongly).

    Examples
    --------
    >>> ink = np.zeros((40, 13), np.uint8)
    >>> ink[:, :4] = 1                              # an upright stroke, 40 tall ...
    >>> _ = cv2.circle(ink, (8, 33), 4, 1, -1)      # ... with a point against its foot
    >>> piece = Segment((0, 0, 13, 40), ink.astype(bool))
    >>> [(a.box, b.box) for a, b in attachment_cuts(piece, ref_height=40)]
    [((0, 0, 4, 40), (4, 29, 9, 9))]
    """
    x, y, w, h = seg.box
    if ref_height <= 0 or h < 0.5 * ref_height or w < 2:
        return []
    out: list[tuple[Segment, Segment]] = []
    for c in _attachments(seg.mask, ref=ref_height):
        left = _tight(seg.mask[:, :c], x, y)
        right = _tight(seg.mask[:, c:], x + c, y)
        if left is not None and right is not None:
            out.append((left, right))
    return out


def _attachments(mask: np.ndarray, *, ref: float) -> list[int]:
    """Columns ``c`` of a tight bool ``mask`` where ``mask[:, c:]`` is a point or a dash
    hanging off the rest (see :func:`attachment_cuts`), the innermost of each kind."""
    from .cleanup import stroke_width

    pen: float | None = None  # measured only for a part shaped like a point
    h, w = mask.shape
    inked = mask.any(axis=0)
    top = np.where(inked, mask.argmax(axis=0), h)
    bottom = np.where(inked, h - 1 - mask[::-1].argmax(axis=0), -1)
    # the part's rows (columns c and right of it) and the rest's (left of c)
    part_top = np.minimum.accumulate(top[::-1])[::-1]
    part_bottom = np.maximum.accumulate(bottom[::-1])[::-1]
    rest_top = np.minimum.accumulate(top)
    rest_bottom = np.maximum.accumulate(bottom)
    counts = mask.sum(axis=0)
    widest = np.maximum.accumulate(counts[::-1])[::-1]  # the part's tallest column
    found: dict[str, int] = {}
    for c in range(w - 1, 0, -1):
        ph = int(part_bottom[c] - part_top[c] + 1)
        if ph > max(ATTACHED_POINT, ATTACHED_DASH_HEIGHT) * ref:
            break  # the part reaches into the rest's ink: no end further in is small
        rt, rb = int(rest_top[c - 1]), int(rest_bottom[c - 1])
        rh = rb - rt + 1
        if rh < 0.5 * ref:
            break  # the rest only shrinks further in
        pw = w - c
        middle = (part_top[c] + part_bottom[c]) / 2
        point = (
            2 * counts[c] <= widest[c]  # it narrows to where it touches: a blob
            and pw <= ATTACHED_POINT * ref
            and ph <= ATTACHED_POINT * ref
            and middle > rt + 0.5 * rh
        )
        if point:
            if pen is None:  # the box edge is no ink
                pen = stroke_width(np.pad(mask, 1).astype(np.uint8))
            point = min(pw, ph) >= ATTACHED_POINT_PENS * pen
        dash = (
            c >= ATTACHED_DASH_REST * ref
            and ph <= ATTACHED_DASH_HEIGHT * ref
            and ATTACHED_DASH_WIDTH[0] * ref <= pw <= ATTACHED_DASH_WIDTH[1] * ref
            and pw >= 2 * ph
            and rt + ATTACHED_DASH_BAND[0] * rh <= middle <= rt + ATTACHED_DASH_BAND[1] * rh
        )
        if point:
            found["point"] = c
        if dash:
            found["dash"] = c
    return sorted(set(found.values()))


#: A point tucked under a digit's corner survives an opening by a disc this many pens
#: across (the digit's strokes, one pen thick, do not).
TUCKED_POINT_PENS: float = 1.5


def tucked_point_cuts(seg: Segment, *, ref_height: float) -> list[tuple[Segment, Segment]]:
    """A point that touches its digit under the digit's right corner, cut off along its ink.

    The piece is opened by a disc :data:`TUCKED_POINT_PENS` pens across: what is
    left of the strokes are blobs (a point, thick corners), each the ink it covers
    (the thin bridge to the digit stays with the digit). The lowest blob in the
    right half of the piece is offered as a point when it is at most
    :data:`ATTACHED_POINT` reference heights across, its centre lies in the
    piece's lower 40 % and the rest is still half a reference height tall.
    """
    from .cleanup import stroke_width

    x, y, w, h = seg.box
    if ref_height <= 0 or h < 0.5 * ref_height or w < 4:
        return []
    mask = seg.mask.astype(np.uint8)
    pen = stroke_width(np.pad(mask, 1))
    d = max(3, round(TUCKED_POINT_PENS * pen)) | 1  # odd: a disc centred on its pixel
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
    # paper round the piece: OpenCV's erosion would take the box's edge for ink
    opened = cv2.morphologyEx(np.pad(mask, d), cv2.MORPH_OPEN, disc)[d:-d, d:-d]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    best: tuple[int, np.ndarray] | None = None
    for k in range(1, n):
        bx, by, bw, bh, _ = (int(v) for v in stats[k])
        if by + bh / 2 < 0.6 * h or bx + bw / 2 < 0.5 * w:
            continue
        if max(bw, bh) > ATTACHED_POINT * ref_height:
            continue
        if best is None or by + bh > best[0]:
            best = (by + bh, (labels == k) & seg.mask)  # the opening's blob: the point's ink
    if best is None:
        return []
    point = best[1]
    rest = _tight(seg.mask & ~point, x, y)
    cut = _tight(point, x, y)
    if rest is None or cut is None or rest.height < 0.5 * ref_height:
        return []
    return [(rest, cut)]
