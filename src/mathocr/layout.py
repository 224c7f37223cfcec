"""Stage 3b: find the line of writing among the marks, and leave the rest out.

A phone photo holds more than the sum: specks on the paper, the table or a
keyboard beyond the sheet's edge, a shadow's dark band, a second line of
writing. :func:`select_line` keeps the marks of one line of symbols:

1. **The band.** Symbol-sized marks (not flat, not tiny) vote for a line: each
   proposes the band of its own height, and the band that the most marks of a
   similar height share wins (ties: the most ink). The band's middle follows the
   line's tilt (a least-squares fit of its members' centres along x).
2. **On the band.** A mark belongs to the line when its centre lies within
   :data:`BAND` line heights of the middle there (a decimal point sits low, a
   bracket reaches high: both are inside), and it is no taller than
   :data:`MAX_HEIGHT` line heights (a dark region, a texture, the table).
3. **Together.** Along the band, the marks split where they leave a gap wider
   than :data:`MAX_GAP` line heights; the group with the most symbol-sized marks
   is the line (the others are unrelated writing or noise further along).
4. **No stray specks.** A small mark (a point, a speck) farther than
   :data:`SPECK_REACH` line heights from every kept symbol-sized mark is dust.

Marks left out that form a band of their own (at least :data:`MIN_LINE` symbol-
sized marks) are another line of writing: it is counted (``Line.others``), not
read into this one.

Nothing is left out of an image whose marks already form one line: a cropped
line of writing reads as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .segment import Segment, Segmentation, reference_height

#: A mark is on the line when its centre is within this many line heights of the middle.
BAND = 0.8
#: No symbol is taller than this many line heights (a writer's brackets may reach 3).
MAX_HEIGHT = 3.5
#: A gap along the line wider than this many line heights ends the line.
MAX_GAP = 4.0
#: A small mark farther than this many line heights from every symbol is a speck.
SPECK_REACH = 1.5
#: Symbol-sized marks needed to call the left-out marks another line.
MIN_LINE = 3


@dataclass(frozen=True, slots=True)
class Line:
    """The marks of one line of writing, and how many other lines were seen.

    ``segmentation`` keeps the chosen marks, in their order; ``dropped`` is how
    many marks were left out; ``others`` how many further lines of writing they form.
    """

    segmentation: Segmentation
    dropped: int = 0
    others: int = 0


def _symbol_sized(boxes: np.ndarray, ref: float) -> np.ndarray:
    """Marks that could be a digit: at least 0.45 of the reference height tall, not flat."""
    w, h = boxes[:, 2], boxes[:, 3]
    return (h >= 0.45 * ref) & (h >= 0.5 * w)


def _band(boxes: np.ndarray, ink: np.ndarray, candidates: np.ndarray) -> np.ndarray | None:
    """Members of the best band among ``candidates`` (a bool mask), or None."""
    idx = np.flatnonzero(candidates)
    if idx.size == 0:
        return None
    h = boxes[idx, 3].astype(np.float64)
    cy = boxes[idx, 1] + h / 2
    # seed i accepts j: centre within half of i's height, height within 0.5x-2x of i's
    close = np.abs(cy[None, :] - cy[:, None]) <= 0.5 * h[:, None]
    similar = (h[None, :] >= 0.5 * h[:, None]) & (h[None, :] <= 2.0 * h[:, None])
    votes = close & similar
    count = votes.sum(axis=1)
    weight = votes @ ink[idx].astype(np.float64)
    best = int(np.lexsort((weight, count))[-1])
    members = np.zeros(len(boxes), bool)
    members[idx[votes[best]]] = True
    return members


def _middle_line(boxes: np.ndarray, members: np.ndarray) -> tuple[float, float, float]:
    """``(slope, intercept, height)``: the members' centre line ``y = slope x + b``."""
    m = boxes[members].astype(np.float64)
    cx, cy, h = m[:, 0] + m[:, 2] / 2, m[:, 1] + m[:, 3] / 2, m[:, 3]
    height = float(np.median(h))
    if len(m) >= 3 and np.ptp(cx) > 2 * height:
        slope, intercept = np.polyfit(cx, cy, 1)
        slope = float(np.clip(slope, -0.15, 0.15))  # a photo is not turned further
        intercept = float(np.median(cy - slope * cx))
    else:
        slope, intercept = 0.0, float(np.median(cy))
    return slope, intercept, height


def _groups(order: np.ndarray, boxes: np.ndarray, gap: float) -> list[np.ndarray]:
    """Split marks (indices sorted by left edge) where a gap along x exceeds ``gap``."""
    groups, current, right = [], [int(order[0])], boxes[order[0], 0] + boxes[order[0], 2]
    for i in order[1:]:
        x0, x1 = boxes[i, 0], boxes[i, 0] + boxes[i, 2]
        if x0 - right > gap:
            groups.append(np.array(current))
            current = []
        current.append(int(i))
        right = max(right, x1)
    groups.append(np.array(current))
    return groups


def select_line(seg: Segmentation) -> Line:
    """Keep the marks of the main line of writing in ``seg`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from mathocr.segment import Segment, Segmentation
    >>> def mark(x, y, w=10, h=20):
    ...     return Segment((x, y, w, h), np.ones((h, w), bool))
    >>> line = [mark(20 * i, 100) for i in range(5)]            # a line of five digits
    >>> dust = [mark(300, 10, 3, 3), mark(40, 400, 12, 20)]     # a speck, a mark far below
    >>> out = select_line(Segmentation((*line, *dust), 20.0))
    >>> [s.box[0] for s in out.segmentation.segments], out.dropped
    ([0, 20, 40, 60, 80], 2)
    """
    segments = seg.segments
    if len(segments) <= 1:
        return Line(seg)
    boxes = np.array([s.box for s in segments], np.int64)
    ink = np.array([int(s.mask.sum()) for s in segments], np.int64)
    sized = _symbol_sized(boxes, seg.ref_height)
    members = _band(boxes, ink, sized)
    if members is None:
        return Line(seg)
    slope, intercept, height = _middle_line(boxes, members)
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    on_band = (np.abs(cy - (slope * cx + intercept)) <= BAND * height) & (
        boxes[:, 3] <= MAX_HEIGHT * height
    )
    if not on_band.any():
        return Line(seg)
    order = np.flatnonzero(on_band)
    order = order[np.argsort(boxes[order, 0], kind="stable")]
    groups = _groups(order, boxes, MAX_GAP * height)
    best = max(groups, key=lambda g: (int(sized[g].sum()), int(ink[g].sum())))
    keep = np.zeros(len(segments), bool)
    keep[best] = True
    # specks far from every kept symbol-sized mark are dust
    anchors = boxes[keep & sized]
    if len(anchors):
        small = keep & ~sized & (np.maximum(boxes[:, 2], boxes[:, 3]) < 0.45 * height)
        for i in np.flatnonzero(small):
            x, y, w, h = boxes[i]
            dx = np.maximum(
                0, np.maximum(anchors[:, 0] - (x + w), x - (anchors[:, 0] + anchors[:, 2]))
            )
            dy = np.maximum(
                0, np.maximum(anchors[:, 1] - (y + h), y - (anchors[:, 1] + anchors[:, 3]))
            )
            if float(np.min(np.maximum(dx, dy))) > SPECK_REACH * height:
                keep[i] = False
    if keep.all():
        return Line(seg)
    others = 0
    rest = ~keep & sized & (boxes[:, 3] <= MAX_HEIGHT * height)
    while rest.sum() >= MIN_LINE:
        band = _band(boxes, ink, rest)
        if band is None or band.sum() < MIN_LINE:
            break
        others += 1
        rest &= ~band
    kept: list[Segment] = [s for s, k in zip(segments, keep, strict=True) if k]
    flat = [s.height <= 0.35 * seg.ref_height and s.width >= 1.5 * s.height for s in kept]
    ref = reference_height(
        [s.height for s, f in zip(kept, flat, strict=True) if not f] or [s.height for s in kept]
    )
    return Line(Segmentation(tuple(kept), ref), dropped=int((~keep).sum()), others=others)
