"""Stage 3b: find the line of writing among the marks, and leave the rest out.

A phone photo holds more than the sum: specks on the paper, the table or a
keyboard beyond the sheet's edge, a shadow's dark band, a second line of
writing. :func:`select_line` keeps the marks of one line of symbols:

1. **The band.** Symbol-sized marks (not flat, not tiny) vote for a line: each
   proposes the band of its own height, and the band whose marks of a similar
   height hold the most ink wins (ties: the most marks). The band's middle follows the
   line's tilt (a least-squares fit of its members' centres along x).
2. **On the band.** A mark belongs to the line when its centre lies within
   :data:`BAND` line heights of the middle there (a decimal point sits low, a
   bracket reaches high: both are inside), and it is no taller than
   :data:`MAX_HEIGHT` line heights (a dark region, a texture, the table).
3. **Together.** Along the band, the marks split where they leave a gap wider
   than :data:`MAX_GAP` line heights; the group with the most symbol-sized marks
   is the line (the others are unrelated writing or noise further along).
4. **No stray specks.** A small mark (a point, a speck) farther than
   :data:`SPECK_REACH` line heights from every kept symbol-sized mark is dust, a
   tiny one (:data:`TINY`) farther than :data:`TINY_REACH`; two parallel bars (an
   ``=`` left well apart from the sum, ``8/72    =``) are no speck (:func:`_two_bars`).

Marks left out that form a band of their own (at least :data:`MIN_LINE` symbol-
sized marks) are another line of writing: it is counted (``Line.others``), not
read into this one.

Nothing is left out of an image whose marks already form one line: a cropped
line of writing reads as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .segment import MAX_PARTS, Segment, Segmentation, reference_height
from .stats import thinned

#: A mark is on the line when its centre is within this many line heights of the middle.
BAND = 0.8
#: No symbol is taller than this many line heights (a writer's brackets may reach 3).
MAX_HEIGHT = 3.5
#: A gap along the line wider than this many line heights ends the line.
MAX_GAP = 4.0
#: A small mark farther than this many line heights from every symbol is a speck.
SPECK_REACH = 1.5
#: A mark smaller than TINY line heights (too small for an operator: 1 % of the CROHME
#: training writers' minus signs, 1 % of their other operators) is a speck unless it
#: lies within TINY_REACH of a symbol, as a point does (97 % of their decimal points
#: leave less than 0.8 line heights on both sides together).
TINY = 0.12
TINY_REACH = 0.6
#: Symbol-sized marks needed to call the left-out marks another line.
MIN_LINE = 3


#: Each bar of an ``=`` is at least this many times as wide as it is high, ...
BAR_FLATNESS = 2.0
#: ... and at least this many line heights wide (a speck's flecks are smaller).
BAR_WIDTH = 0.2


def _two_bars(mask: np.ndarray, height: float) -> bool:
    """Whether a mark's ink ``mask`` is two flat bars one above the other (an ``=``).

    Some row between its top and bottom fifths holds under a quarter of the fullest
    row's ink (the bars may touch at an end), and the ink above it and the ink
    below it are each at least :data:`BAR_FLATNESS` times as wide as high and
    :data:`BAR_WIDTH` line heights wide, the narrower at least half as wide as the
    other, sharing at least half its columns: specks, dust and hairs are not shaped so.

    Examples
    --------
    >>> bars = np.zeros((12, 30), bool); bars[1:4, 2:28] = bars[8:11, 4:29] = True
    >>> _two_bars(bars, 40.0), _two_bars(bars[:6], 40.0), _two_bars(bars, 200.0)
    (True, False, False)
    >>> bars[4:8, 27] = True                          # the bars touch at their right end
    >>> _two_bars(bars, 40.0), _two_bars(bars.T, 40.0)
    (True, False)
    """
    h = mask.shape[0]
    rows = mask.sum(axis=1)
    if h < 3 or not rows.any():
        return False
    lo, hi = max(1, h // 5), min(h - 1, h - h // 5)
    if lo >= hi:
        return False
    split = lo + int(np.argmin(rows[lo:hi]))
    if 4 * rows[split] >= rows.max():
        return False
    spans = []
    for part in (mask[:split], mask[split + 1 :]):
        cols, used = np.flatnonzero(part.any(axis=0)), np.flatnonzero(part.any(axis=1))
        if not cols.size:
            return False
        width, tall = int(cols[-1] - cols[0] + 1), int(used[-1] - used[0] + 1)
        if width < BAR_FLATNESS * tall or width < BAR_WIDTH * height:
            return False
        spans.append((int(cols[0]), width))
    (ax, aw), (bx, bw) = spans
    shared = min(ax + aw, bx + bw) - max(ax, bx)
    return 2 * min(aw, bw) >= max(aw, bw) and 2 * shared >= min(aw, bw)


@dataclass(frozen=True, slots=True)
class Line:
    """The marks of one line of writing, and how many other lines were seen.

    ``segmentation`` keeps the chosen marks, in their order; ``dropped`` is how
    many marks were left out; ``others`` how many further lines of writing they form.
    """

    segmentation: Segmentation
    dropped: int = 0
    others: int = 0


def _symbol_sized(boxes: np.ndarray, ref: float, ink: np.ndarray | None = None) -> np.ndarray:
    """Marks that could be a digit: at least 0.45 of the reference height tall, not flat,
    and (given their ``ink``) not a filled block.

    A key of a keyboard, a blot or a shadow fills its box (85 % or more) and is
    about as wide as tall; a pen stroke, even a marker's, leaves room in its box,
    and a bold ``1`` is narrow.
    """
    w, h = boxes[:, 2], boxes[:, 3]
    sized = (h >= 0.45 * ref) & (h >= 0.5 * w)
    if ink is not None and len(ink):
        filled = (ink >= 0.85 * w * h) & (np.minimum(w, h) >= 4) & (w >= 0.35 * h)
        sized &= ~filled
    return sized


def _band(
    boxes: np.ndarray, ink: np.ndarray, candidates: np.ndarray, *, least: int = 1
) -> np.ndarray | None:
    """Members of the best band of at least ``least`` marks among ``candidates`` (a bool
    mask), or None."""
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
    if count.max() < least:
        return None
    weight = np.where(count >= least, votes @ ink[idx].astype(np.float64), -1.0)
    # the most ink wins (handwriting over the small letters of printed text), then the
    # most marks
    best = int(np.lexsort((count, weight))[-1])
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


def _line_groups(boxes: np.ndarray, members: np.ndarray) -> tuple[list[np.ndarray], float] | None:
    """The marks on the band of ``members``, split along it at wide gaps; and its height.

    A mark is on the band when its centre lies within :data:`BAND` line heights of
    the band's middle line and it is no taller than :data:`MAX_HEIGHT` of them;
    groups split where a gap along x exceeds :data:`MAX_GAP`. ``None`` when no
    mark is on the band.
    """
    slope, intercept, height = _middle_line(boxes, members)
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    on_band = (np.abs(cy - (slope * cx + intercept)) <= BAND * height) & (
        boxes[:, 3] <= MAX_HEIGHT * height
    )
    order = np.flatnonzero(on_band)
    if order.size == 0:
        return None
    order = order[np.argsort(boxes[order, 0], kind="stable")]
    return _groups(order, boxes, MAX_GAP * height), height


#: A mark whose surroundings (its box grown by this many of its sizes, less the mark)
#: are, for a third of their pixels, about as dark as the mark itself lies in a dark
#: region.
RING = 0.3
#: A mark whose surroundings' light (90th percentile) is under this share of the
#: image's paper (its 90th percentile) lies in a dark region, whatever its contrast
#: there: a shadow dims paper to half at most, a keyboard or a dark table to a fifth.
DARK_SURROUND = 0.35
_HALO = np.ones((5, 5), np.uint8)
#: Most marks whose surroundings are looked at (a keyboard has about 80 keys, a line
#: of arithmetic fewer symbols; more is a texture, bounded elsewhere).
MAX_EMBEDDED_CHECKS = 200
#: Most values an order statistic of the surroundings is taken from (a sample).
_QUANTILE_SAMPLE = 512
#: Most pixels a plane is fitted to (a sample of the surroundings).
_FIT_PIXELS = 2000


def _embedded(
    boxes: np.ndarray, masks: Callable[[int], np.ndarray], gray: np.ndarray, which: np.ndarray
) -> np.ndarray:
    """Which of the marks ``which`` lie in a dark region (see :data:`RING`): the edges of a
    keyboard's keys, of a dark table or a phone case, that flattening the light left
    behind as strokes.

    A pen stroke has paper round it and in its loops; the edge of a key has the key
    beside it, or inside it. The darkest third (33rd percentile) of what is not the
    mark (in its box and in a ring round it, leaving out a halo of 2 pixels round
    its ink, a blurred edge; neighbours' strokes may be there) is compared with the
    mark's own ink (the median under ``masks(i)``, its box-sized ink) and the paper
    (the 90th percentile): within a third of the way from the ink to the paper, the
    mark is embedded. Unless the surroundings are a smooth gradient of light (a
    plane fitted to them leaves little spread): then the same test is made against
    that plane, since a shadow darkens paper and ink alike. A mark whose enclosed
    inside is as dark as its ink (:func:`_dark_inside`: the outline of a smudge or a
    key) is embedded too, and so is a mark with no paper round it at all
    (:data:`DARK_SURROUND`: the gaps between dark keys on a darker keyboard).
    """
    height, width = gray.shape[:2]
    out = np.zeros(len(boxes), bool)
    if int(np.count_nonzero(which)) > MAX_EMBEDDED_CHECKS:  # a texture, not a line: no time
        return out
    page = float(_quantile(thinned(gray).ravel(), 0.9)[0])  # the sheet's brightness
    for i in np.flatnonzero(which).tolist():
        x, y, w, h = (int(v) for v in boxes[i])
        grow = max(2, round(RING * max(w, h)))
        x0, y0 = max(0, x - grow), max(0, y - grow)
        x1, y1 = min(width, x + w + grow), min(height, y + h + grow)
        window = gray[y0:y1, x0:x1]
        mask = masks(i)
        box = gray[y : y + h, x : x + w]
        lo, hi = int(window.min()), int(window.max())
        inked = int(np.count_nonzero(mask))
        if inked == 0:
            continue
        if float(_quantile(window.ravel(), 0.9)[0]) < DARK_SURROUND * page:
            out[i] = True  # nothing round it is paper: the gap between a keyboard's keys
            continue
        if hi - lo <= 8 or inked == mask.size:
            continue
        # cheap bounds first: most marks have paper round them and in their loops
        ink_sum = int(box[mask].sum(dtype=np.int64))
        inner = (int(box.sum(dtype=np.int64)) - ink_sum) / (mask.size - inked)
        outer = (int(window.sum(dtype=np.int64)) - ink_sum) / (window.size - inked)
        dark_inner = inner < lo + 0.6 * (hi - lo)
        if not dark_inner and outer > hi - 0.22 * (hi - lo):
            continue
        own_ink = np.zeros(window.shape, np.uint8)
        own_ink[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = mask
        around = cv2.dilate(own_ink, _HALO) == 0
        ink_px = own_ink != 0
        if int(around.sum()) < 8:
            continue
        if dark_inner and _dark_inside(box, mask, window[around]):
            out[i] = True  # the outline of a dark blot (a smudge, a key) round its dark inside
            continue
        if not _darker_round(window[ink_px], window[around]):
            continue
        # unless the light's gradient explains the dark surroundings
        residual = window - _plane(window, around)
        spread = np.subtract(*np.percentile(residual[around], (75, 25)))
        paper = float(_quantile(window[around], 0.9)[0])
        contrast = paper - float(_quantile(window[ink_px], 0.5)[0])
        out[i] = spread >= 0.35 * contrast or _darker_round(residual[ink_px], residual[around])
    return out


def _dark_inside(box: np.ndarray, mask: np.ndarray, around: np.ndarray) -> bool:
    """Whether the mark's enclosed inside (the part of its box it closes off, at least a
    fifth of the box) is about as dark as its ink: the outline that flattening the light
    leaves of a dark blot. A pen's ``0`` or ``8`` has paper inside."""
    holes = cv2.connectedComponentsWithStats((~mask).view(np.uint8), connectivity=4)
    labels, stats = holes[1], holes[2]
    h, w = mask.shape
    inside = [
        k
        for k in range(1, holes[0])
        if stats[k, 0] > 0 and stats[k, 1] > 0
        and stats[k, 0] + stats[k, 2] < w and stats[k, 1] + stats[k, 3] < h
    ]  # fmt: skip
    if not inside:
        return False
    enclosed = np.zeros(holes[0], bool)
    enclosed[inside] = True
    enclosed = enclosed[labels]
    if 5 * int(enclosed.sum()) < h * w:
        return False
    own = float(_quantile(box[mask], 0.5)[0])
    inner = float(_quantile(box[enclosed], 0.5)[0])
    paper = float(_quantile(around, 0.9)[0])
    return paper - own > 8 and inner - own < (paper - own) / 3


def _plane(window: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The least-squares plane through ``window``'s values at ``where`` (a sample of at
    most :data:`_FIT_PIXELS`), over the whole window."""
    ry, rx = np.nonzero(where)
    step = max(1, ry.size // _FIT_PIXELS)
    design = np.stack([np.ones(ry.size), rx, ry], axis=1)[::step]
    a, b, c = np.linalg.lstsq(design, window[ry, rx][::step], rcond=None)[0]
    rows, cols = np.indices(window.shape)
    plane: np.ndarray = a + b * cols + c * rows
    return plane


def _darker_round(ink: np.ndarray, around: np.ndarray) -> bool:
    """Whether a third of ``around`` is within a third of the way from ``ink``'s median
    to the paper (``around``'s 90th percentile), and the ink is clearly darker at all."""
    own = float(_quantile(ink, 0.5)[0])
    dark, paper = (float(v) for v in _quantile(around, 1 / 3, 0.9))
    return bool(paper - own > 8 and dark - own < (paper - own) / 3)


def _quantile(values: np.ndarray, *q: float) -> np.ndarray:
    """Order statistics of a 1-D array at fractions ``q`` (the lower one at each rank):
    a partition, not a sort, of at most :data:`_QUANTILE_SAMPLE` values (evenly taken)."""
    if values.size > _QUANTILE_SAMPLE:
        values = values[:: values.size // _QUANTILE_SAMPLE]
    ranks = np.minimum((np.asarray(q) * (values.size - 1)).astype(np.int64), values.size - 1)
    out: np.ndarray = np.partition(values, ranks)[ranks]
    return out


def select_line(seg: Segmentation, *, gray: np.ndarray | None = None) -> Line:
    """Keep the marks of the main line of writing in ``seg`` (see the module docstring).

    Given the ``gray`` image the marks were found in, marks that lie in a dark
    region (:func:`_embedded`) or frame the whole image (:func:`_is_frame`) are no
    symbols and neither vote nor stay, and marks touching the image's border do not
    vote (when others can).

    Examples
    --------
    >>> import numpy as np
    >>> from mathocr.segment import Segment, Segmentation
    >>> def mark(x, y, w=10, h=20):                              # a stroke, like a "1"
    ...     ink = np.zeros((h, w), bool); ink[:, :3] = True
    ...     return Segment((x, y, w, h), ink)
    >>> line = [mark(20 * i, 100) for i in range(5)]            # a line of five digits
    >>> dust = [mark(300, 10, 3, 3), mark(40, 400, 12, 20)]     # a speck, a mark far below
    >>> out = select_line(Segmentation((*line, *dust), 20.0))
    >>> [s.box[0] for s in out.segmentation.segments], out.dropped
    ([0, 20, 40, 60, 80], 2)
    """
    gone = 0  # marks in a dark region or framing the image
    if gray is not None:
        seg, dark = _without_embedded(seg, gray)
        seg, framed = _without_frames(seg, gray.shape[:2])
        gone = dark + framed
    segments = seg.segments
    if len(segments) <= 1:
        return Line(seg, dropped=gone)
    boxes = np.array([s.box for s in segments], np.int64)
    ink = np.array([int(s.mask.sum()) for s in segments], np.int64)
    sized = _symbol_sized(boxes, seg.ref_height, ink)
    voters = sized
    if gray is not None:  # a mark cut by the frame's edge (a keyboard, the table) does not vote
        height, width = gray.shape[:2]
        x, y, w, h = boxes.T
        inside = (x > 0) & (y > 0) & (x + w < width) & (y + h < height)
        voters = sized & inside
    members = _band(boxes, ink, voters if voters.any() else sized)
    if members is None:
        return Line(seg, dropped=gone)
    found = _line_groups(boxes, members)
    if found is None:
        return Line(seg, dropped=gone)
    groups, height = found
    best = max(groups, key=lambda g: (int(sized[g].sum()), int(ink[g].sum())))
    keep = np.zeros(len(segments), bool)
    keep[best] = True
    # specks far from every kept symbol-sized mark are dust
    anchors = boxes[keep & sized]
    if len(anchors):
        size = np.maximum(boxes[:, 2], boxes[:, 3])
        small = keep & ~sized & (size < 0.45 * height)
        for i in np.flatnonzero(small):
            x, y, w, h = boxes[i]
            dx = np.maximum(
                0, np.maximum(anchors[:, 0] - (x + w), x - (anchors[:, 0] + anchors[:, 2]))
            )
            dy = np.maximum(
                0, np.maximum(anchors[:, 1] - (y + h), y - (anchors[:, 1] + anchors[:, 3]))
            )
            reach = TINY_REACH if size[i] < TINY * height else SPECK_REACH
            far = float(np.min(np.maximum(dx, dy))) > reach * height
            if far and not _two_bars(segments[i].mask, height):
                keep[i] = False
    if keep.all():
        return Line(seg, dropped=gone)
    others = 0
    rest = ~keep & sized & (boxes[:, 3] <= MAX_HEIGHT * height)
    while rest.sum() >= MIN_LINE:
        band = _band(boxes, ink, rest)
        if band is None or band.sum() < MIN_LINE:
            break
        others += 1
        rest &= ~band
    kept = _kept(seg, keep)
    return Line(kept, dropped=int((~keep).sum()) + gone, others=others)


def _kept(seg: Segmentation, keep: np.ndarray) -> Segmentation:
    """The marks of ``seg`` where ``keep``, with their own reference height."""
    kept = [s for s, k in zip(seg.segments, keep, strict=True) if k]
    if not kept:
        return Segmentation((), 0.0)
    flat = [s.height <= 0.35 * seg.ref_height and s.width >= 1.5 * s.height for s in kept]
    ref = reference_height(
        [s.height for s, f in zip(kept, flat, strict=True) if not f] or [s.height for s in kept]
    )
    return Segmentation(tuple(kept), ref)


#: A mark spanning this share of the image's width and height, with ink in all four
#: corners of its box, frames the picture (a dark border, a photo's edges).
FRAME_SPAN = 0.9
#: The side of a box's corner looked at, as a share of the box's shorter side.
FRAME_CORNER = 0.05


def _is_frame(segment: Segment, shape: tuple[int, int]) -> bool:
    """Whether ``segment`` frames an image of ``shape``: nearly as large as the image
    and inked in all four corners of its box (a ``0`` drawn to fill a canvas touches
    its box's sides only)."""
    _, _, w, h = segment.box
    if w < FRAME_SPAN * shape[1] or h < FRAME_SPAN * shape[0]:
        return False
    k = max(1, round(FRAME_CORNER * min(w, h)))
    m = segment.mask
    return all(c.any() for c in (m[:k, :k], m[:k, -k:], m[-k:, :k], m[-k:, -k:]))


def _without_frames(seg: Segmentation, shape: tuple[int, int]) -> tuple[Segmentation, int]:
    """``seg`` without the marks that frame the image (:func:`_is_frame`), and how many."""
    framed = np.array([_is_frame(s, shape) for s in seg.segments], bool)
    if not framed.any():
        return seg, 0
    return _kept(seg, ~framed), int(framed.sum())


def _without_embedded(seg: Segmentation, gray: np.ndarray) -> tuple[Segmentation, int]:
    """``seg`` without its symbol-sized marks that lie in a dark region (:func:`_embedded`),
    and how many were left out."""
    if not seg.segments:
        return seg, 0
    boxes = np.array([s.box for s in seg.segments], np.int64)
    ink = np.array([int(s.mask.sum()) for s in seg.segments], np.int64)
    sized = _symbol_sized(boxes, seg.ref_height, ink)
    embedded = _embedded(boxes, lambda i: seg.segments[i].mask, gray, sized)
    if not embedded.any():
        return seg, 0
    return _kept(seg, ~embedded), int(embedded.sum())


#: Working pixels a symbol must be tall for :func:`find_line_regions` to count it, and
#: the least median height of a line it zooms in on.
MIN_FOUND = 5
MIN_LINE_HEIGHT = 7
#: A line whose region (with its margin) covers at least this share of the image, or
#: of its height, is read in place: the image is already cropped to it.
CROP_SHARE = 0.5
#: Most regions :func:`find_line_regions` offers (each may be read: a bound on the work).
LINE_CANDIDATES = 6


def find_line_regions(
    ink: np.ndarray, *, gray: np.ndarray | None = None, limit: int = LINE_CANDIDATES
) -> list[tuple[int, int, int, int]]:
    """Where a line of writing may lie in a large frame: up to ``limit`` regions
    ``(x0, y0, x1, y1)``, the likeliest first; ``[]`` when there is none.

    Run on the ink mask of the whole frame before segmentation: its connected
    pieces vote for a band as in :func:`select_line` (pieces touching the
    border, nearly as tall as the frame or half as wide are no symbols), the band's group of
    marks along it is the line, and its box grows by a line height up and down
    and 1.5 to the sides. The marks of that group then stand down and the others
    vote again, for the next region: printed text, a keyboard's legends or a
    second line can hold more ink than the writing, and only reading each tells
    them apart (the caller does). A band's group denser than :data:`TEXTURE_DENSITY`
    (wood grain) is no line, and its marks stand down; bands of two strokes with an
    operator (``82 - 4 =`` written touching) are offered after those of three strokes,
    and lines stacked in a paragraph (print) after lone ones. ``[]`` when there is no
    band, or when the first region already covers :data:`CROP_SHARE` of the image or
    of its height (a cropped photo, a canvas, a long line). The caller cleans up each
    region again at a finer resolution.

    Examples
    --------
    >>> ink = np.zeros((400, 1200), np.uint8)
    >>> for i in range(4):
    ...     ink[200:230, 600 + 25 * i : 604 + 25 * i] = 1    # four strokes in a row
    >>> ink[20:24, 50:54] = 1; ink[350:390, 1100:1110] = 1    # a speck, a mark far off
    >>> find_line_regions(ink)
    [(555, 170, 724, 260)]
    """
    mask = (np.asarray(ink) != 0).astype(np.uint8)
    height, width = mask.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 2 or n > 50 * MAX_PARTS:
        return []
    x, y, w, h, area = (stats[1:, k].astype(np.int64) for k in range(5))
    min_area = 4.0  # the frame's pen estimate may be a keyboard's: only the tiniest go
    inside = (x > 0) & (y > 0) & (x + w < width) & (y + h < height)
    keep = inside & (area >= min_area) & (10 * h <= 9 * height) & (2 * w <= width)
    boxes = np.stack([x, y, w, h], axis=1)[keep]
    if len(boxes) < 2:
        return []
    ink_area = area[keep]
    # anything not filled nor flat, and at least 5 working pixels tall (specks are less)
    strokes = _symbol_sized(boxes, 0.0, ink_area) & (boxes[:, 3] >= MIN_FOUND)
    if gray is not None and strokes.any():  # the edges of keys and tables are no strokes

        def own(i: int) -> np.ndarray:
            bx, by, bw, bh = (int(v) for v in boxes[i])
            ink_there: np.ndarray = mask[by : by + bh, bx : bx + bw] != 0
            return ink_there

        strokes &= ~_embedded(boxes, own, gray, strokes)
    # no symbol size of the frame's own: the band vote compares marks with marks
    if not strokes.any() or strokes.sum() > MAX_PARTS:
        return []
    return _voted_regions(boxes, ink_area, strokes, mask.shape, limit)


#: A line's group with more marks than this per line height along it is a texture (wood
#: grain, fabric, a grille), not writing, which leaves about one mark per line height
#: (two for a row of ``1``s): its marks stand down without making a region.
TEXTURE_DENSITY = 8.0
TEXTURE_MARKS = 20
#: Most bands :func:`_voted_regions` votes for (each vote is a product of all marks).
MAX_BANDS = 4 * LINE_CANDIDATES
#: Two lines of similar height, this many line heights apart or less (centre to centre)
#: and overlapping along x, are stacked: a paragraph of print, read after lone lines.
STACKED_SPACING = 2.6


def _voted_regions(
    boxes: np.ndarray, ink_area: np.ndarray, strokes: np.ndarray, shape: tuple[int, ...], limit: int
) -> list[tuple[int, int, int, int]]:
    """:func:`find_line_regions`' regions: the best band's group of ``strokes``, then the
    next band's among the marks left, and so on (see there); bands of two strokes after
    those of three or more, lone lines before stacked ones (:func:`_stacked`)."""
    height, width = shape[:2]
    lines: list[tuple[tuple[int, int, int, int], np.ndarray, float]] = []
    voters = strokes.copy()
    for least in (MIN_LINE, 2):
        for _ in range(MAX_BANDS):
            if len(lines) >= 2 * limit:
                break
            members = _band(boxes, ink_area, voters, least=least)
            if members is None:
                break
            found = _line_groups(boxes, members)
            if found is None:
                break
            groups, line_h = found
            held = [g for g in groups if members[g].any()]
            group = max(held, key=lambda g: (int(ink_area[g].sum()), int(strokes[g].sum())))
            voters[group[members[group]]] = False  # progress: each band stands one down
            if line_h < MIN_LINE_HEIGHT:  # specks that happen to line up: no more lines
                break
            span = float(np.ptp(np.r_[boxes[group, 0], boxes[group, 0] + boxes[group, 2]]))
            if len(group) >= TEXTURE_MARKS and len(group) > TEXTURE_DENSITY * span / line_h:
                voters[group[boxes[group, 3] >= 0.5 * line_h]] = False  # its own marks
                continue
            voters[group] = False
            if least < MIN_LINE and len(group) < MIN_LINE:
                continue  # two strokes alone are no line; with an operator they may be
            gx0 = int(boxes[group, 0].min() - 1.5 * line_h)
            gy0 = int(boxes[group, 1].min() - 1.0 * line_h)
            gx1 = int((boxes[group, 0] + boxes[group, 2]).max() + 1.5 * line_h)
            gy1 = int((boxes[group, 1] + boxes[group, 3]).max() + 1.0 * line_h)
            x0, y0, x1, y1 = max(0, gx0), max(0, gy0), min(width, gx1), min(height, gy1)
            whole = (x1 - x0) * (y1 - y0) >= CROP_SHARE * width * height
            if whole or y1 - y0 >= CROP_SHARE * height:
                if not lines:
                    return []  # the image is (about) the line already
                continue
            lines.append(((x0, y0, x1, y1), group, line_h))
    stacked = _stacked(boxes, [(g, h) for _, g, h in lines])
    order = sorted(range(len(lines)), key=lambda k: stacked[k])
    return [lines[k][0] for k in order[:limit]]


def _stacked(boxes: np.ndarray, lines: list[tuple[np.ndarray, float]]) -> list[bool]:
    """Which of ``lines`` (each its marks' indices and height) lie in a stack of lines of
    about their height: within :data:`STACKED_SPACING` line heights above or below,
    overlapping along x by a third of the narrower, as the lines of a paragraph do.

    >>> boxes = np.array([[0, 0, 100, 10], [0, 15, 80, 10], [0, 200, 60, 12]])
    >>> _stacked(boxes, [(np.array([0]), 10.0), (np.array([1]), 10.0), (np.array([2]), 12.0)])
    [True, True, False]
    """
    spans = []
    for group, h in lines:
        b = boxes[group]
        x0, x1 = float(b[:, 0].min()), float((b[:, 0] + b[:, 2]).max())
        cy = float(np.median(b[:, 1] + b[:, 3] / 2))
        spans.append((x0, x1, cy, h))
    out = [False] * len(spans)
    for i, (ax0, ax1, acy, ah) in enumerate(spans):
        for j, (bx0, bx1, bcy, bh) in enumerate(spans[:i]):
            if max(ah, bh) > 1.5 * min(ah, bh):
                continue
            apart = abs(acy - bcy)
            if not 0.8 * max(ah, bh) <= apart <= STACKED_SPACING * max(ah, bh):
                continue
            if min(ax1, bx1) - max(ax0, bx0) >= min(ax1 - ax0, bx1 - bx0) / 3:
                out[i] = out[j] = True
    return out
