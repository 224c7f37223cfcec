"""From one item to one classifier input: drawn, sized on an imagined line, degraded.

:func:`ink_sample` draws pen strokes afresh (pen, scale, slant, rotation vary);
:func:`image_sample` warps a bitmap mask; both give the mask and the ``ref_height``
the segmenter would measure, which :func:`mathocr.normalize.normalize_input` turns
into the classifier input. :func:`synthetic_reject` makes scribbles, blots and dust.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mathocr.symbols import CLASS_INDEX, CLASSES

from .augment import degrade, draw_strokes, shape_matrix_for, warp_mask
from .sources import ImageItem, InkItem

POINT = CLASS_INDEX["."]
SLASH = CLASS_INDEX["/"]
#: Share of CROHME points drawn bold (CROHME pens make only fine points; phone
#: photos of marker or pressed-ballpoint writing show filled discs).
BOLD_POINT_SHARE = 0.3


def isolated_typical(strokes: Sequence[np.ndarray], label: int, rng: np.random.Generator) -> float:
    """A plausible typical symbol height (ink units) of the line an isolated symbol sat on.

    The symbol's own height (its width for ``-`` and ``=``) over a relative size drawn
    from :data:`RELATIVE_SIZE`; a point's own extent is a small share of the line, its
    size is made by the pen.
    """
    w, h = np.ptp(np.concatenate(strokes), axis=0)
    cls = CLASSES[label]
    if label == POINT:
        return max(float(max(w, h)), 1e-3) / rng.uniform(0.02, 0.1)
    own = w if cls in WIDTH_MEASURED else h
    lo, hi = RELATIVE_SIZE[cls]
    # a sample flat in its measured side (a "1" drawn as a dash) is not blown up
    own = max(float(own), 0.2 * float(max(w, h)), 1e-3)
    return own / rng.uniform(lo, hi)


def ink_sample(item: InkItem, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Draw one symbol in strokes at a random size and pen; returns (mask, ref_height)."""
    ref_px = float(np.exp(rng.uniform(np.log(18), np.log(90))))
    pen = max(1.0, ref_px * rng.uniform(0.03, 0.11))
    typical = item.typical
    if typical is None:
        typical = isolated_typical(item.strokes, item.label, rng)
    extent = float(max(np.ptp(np.concatenate(item.strokes), axis=0).max(), 1e-3))
    # no symbol is drawn larger than four lines (a mislabelled or degenerate sample)
    scale = min(max(ref_px - pen, 4.0) / typical, 4 * ref_px / extent)
    # a small symbol (an exponent) keeps a pen that fits it; a tiny mark (a dot) does not
    own = extent * scale
    if own >= 0.25 * ref_px:
        pen = max(1.0, min(pen, 0.2 * own + 1.0))
    if item.label == POINT and rng.random() < BOLD_POINT_SHARE:
        # a point pressed hard or made with a marker: a filled disc up to a third of a digit
        pen = ref_px * rng.uniform(0.12, 0.32)
    slash = np.concatenate(item.strokes) if item.label == SLASH else None
    matrix = shape_matrix_for(rng, aspect=0.15, slash=slash) * scale
    mask = draw_strokes(item.strokes, matrix=matrix, pen_width=pen)
    mask = degrade(mask, rng, stroke=pen)
    ref = (typical * scale + pen) * rng.uniform(0.9, 1.12)
    return mask, ref


#: For isolated symbols: the symbol's height as a fraction of the line's typical
#: symbol height (low, high), or for ``-`` its width.
RELATIVE_SIZE = {
    **{d: (0.85, 1.08) for d in "0123456789"},
    "+": (0.4, 1.05), "×": (0.5, 1.05), "÷": (0.7, 1.3), "/": (0.95, 1.6),
    "-": (0.4, 1.0), ".": (0.07, 0.32), "reject": (0.5, 1.4),
    "=": (0.45, 1.0), "(": (1.0, 1.45), ")": (1.0, 1.45), "[": (1.0, 1.5), "]": (1.0, 1.5),
    "<": (0.45, 0.95), ">": (0.45, 0.95), "≤": (0.55, 1.05), "≥": (0.55, 1.05),
    "≠": (0.6, 1.2),
}  # fmt: skip
#: Classes whose :data:`RELATIVE_SIZE` is of their width (they are flat).
WIDTH_MEASURED = frozenset({"-", "="})
#: Bitmap sources whose crops were stretched to fill their square.
STRETCHED = frozenset({"bhmsds", "usps", "semeion", "optdigits"})


def smooth_up(mask: np.ndarray) -> np.ndarray:
    """A 16x16 source's mask smoothed up to a 28-pixel symbol (larger ones as they are)."""
    if max(mask.shape) >= 24:
        return mask
    factor = 28 / max(mask.shape)
    grown = cv2.resize(mask, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
    return np.where(grown > 127, 255, 0).astype(np.uint8)


def image_sample(item: ImageItem, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """An isolated symbol with a random shape change and a plausible ``ref_height``."""
    cls = CLASSES[item.label]
    mask = item.mask
    ys, xs = np.nonzero(mask)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    aspect = 0.15
    mask = smooth_up(mask)
    if item.source in STRETCHED:
        # these crops were stretched to fill their square: squeeze them back (a "1"
        # that is still upright and thin was not stretched much).
        squeeze = rng.uniform(0.6, 1.0)
        if cls == "1" and mask.shape[1] > 0.45 * mask.shape[0]:
            squeeze = rng.uniform(0.25, 0.6)
        elif cls == "1" or cls in {"-", "."}:
            squeeze = 1.0
        h, w = mask.shape
        mask = cv2.resize(mask, (max(1, round(w * squeeze)), h), interpolation=cv2.INTER_AREA)
        mask = np.where(mask > 127, 255, 0).astype(np.uint8)
        if cls == ".":
            side = int(rng.integers(3, 10))
            mask = cv2.resize(mask, (side, max(2, round(side * rng.uniform(0.7, 1.2)))))
            mask = np.where(mask > 100, 255, 0).astype(np.uint8)
            aspect = 0.0
    slash = np.argwhere(mask)[:, ::-1] if item.label == SLASH else None
    matrix = shape_matrix_for(rng, aspect=aspect, slash=slash)
    mask = warp_mask(np.pad(mask, 3), matrix)
    if not mask.any():
        mask = item.mask
    mask = degrade(mask, rng, stroke=3.0)
    ys, xs = np.nonzero(mask)
    h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
    lo, hi = RELATIVE_SIZE[cls]
    own = w if cls in WIDTH_MEASURED else h
    return mask, own / rng.uniform(lo, hi)


def synthetic_reject(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A scribble, an ink blot or a speck of dust, with its ``ref_height``."""
    ref = float(rng.uniform(24, 80))
    kind = rng.random()
    if kind < 0.55:  # scribble: a wiggly pen path through many random points
        n = int(rng.integers(6, 12))
        box = ref * rng.uniform(0.6, 1.2, size=2)
        pts = rng.uniform(0, 1, size=(n, 2)) * box
        t = np.linspace(0, 1, n)
        tt = np.linspace(0, 1, 12 * n)
        path = np.stack([np.interp(tt, t, pts[:, 0]), np.interp(tt, t, pts[:, 1])], axis=1)
        path = cv2.blur(path.reshape(-1, 1, 2), (1, 5)).reshape(-1, 2).astype(np.float32)
        pen = max(1.0, ref * rng.uniform(0.03, 0.12))
        mask = draw_strokes([path], matrix=np.eye(2), pen_width=pen)
    elif kind < 0.85:  # blot: a filled irregular polygon, bigger than a dot
        n = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        # at least 0.45 ref across: larger than the boldest point (0.32 ref)
        radius = ref * rng.uniform(0.3, 0.55) * rng.uniform(0.75, 1.0, n)
        pts = np.stack([np.cos(angles) * radius, np.sin(angles) * radius], axis=1)
        pts -= pts.min(axis=0) - 2
        size = np.ceil(pts.max(axis=0)).astype(int) + 3
        mask = np.zeros((size[1], size[0]), np.uint8)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)
    else:  # dust: far smaller than any pen dot
        mask = np.full((1, 1), 255, np.uint8)
        ref = float(rng.uniform(60, 90))
    return degrade(mask, rng, stroke=2.0) if kind < 0.85 else mask, ref


# --- the training set ---------------------------------------------------------------
