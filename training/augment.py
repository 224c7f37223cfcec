"""Drawing pen strokes into masks, and making clean masks look like real photos.

Functions on arrays, shared by every training source: :func:`draw_strokes` renders
online ink, :func:`shape_matrix_for` draws a random shape change (keeping a ``/``
leaning), :func:`warp_mask` and :func:`elastic` move ink, :func:`degrade` adds the
thickness changes, breaks, blur and ragged edges of a thresholded phone photo.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def draw_strokes(
    strokes: Sequence[np.ndarray], *, matrix: np.ndarray, pen_width: float
) -> np.ndarray:
    """Draw strokes (after the 2x2 ``matrix``) as a 0/255 mask with a margin around them."""
    pts = [st @ matrix.T for st in strokes]
    allp = np.concatenate(pts)
    origin = allp.min(axis=0)
    margin = int(np.ceil(pen_width)) + 3
    extent = allp.max(axis=0) - origin
    image = np.zeros((int(extent[1]) + 2 * margin + 1, int(extent[0]) + 2 * margin + 1), np.uint8)
    shift = 4
    thickness = max(1, round(pen_width))
    for st in pts:
        poly = np.round((st - origin + margin) * (1 << shift)).astype(np.int32)
        if len(st) == 1 or np.ptp(st, axis=0).max() < 0.5:
            c = tuple(int(v) for v in poly[0])
            radius = max(1, round(pen_width / 2)) << shift
            cv2.circle(image, c, radius, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(
                image, [poly.reshape(-1, 1, 2)], False, 255, thickness, cv2.LINE_AA, shift
            )
    # a sub-pixel stroke with a thin pen is all half-tones: keep any ink rather than none
    cut = 127 if image.max() > 127 else 0
    return np.where(image > cut, 255, 0).astype(np.uint8)


def _shape_matrix(rng: np.random.Generator, *, rotate: float, slant: float, aspect: float):
    angle = np.deg2rad(rng.uniform(-rotate, rotate))
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    shear = np.array([[1.0, rng.uniform(-slant, slant)], [0.0, 1.0]])
    stretch = np.diag([np.exp(rng.uniform(-aspect, aspect)), 1.0])
    return rot @ shear @ stretch


def lean(points: np.ndarray) -> float:
    """Horizontal run per unit of height along the principal axis of ``(x, y)`` points.

    0 for an upright stroke, 1 at 45 degrees, large for a flat one.
    """
    pts = np.asarray(points, np.float64)
    if len(pts) < 2:
        return 0.0
    _, vectors = np.linalg.eigh(np.cov(pts.T))
    vx, vy = vectors[:, 1]
    return float(abs(vx) / abs(vy)) if abs(vy) > 1e-9 else float("inf")


#: A ``/`` is never made steeper than this by augmentation: shear and rotation turned
#: some slashes upright, which taught the network that a plain upright ``1`` is a ``/``.
MIN_SLASH_LEAN = 0.25


def shape_matrix_for(
    rng: np.random.Generator, *, aspect: float, slash: np.ndarray | None = None
) -> np.ndarray:
    """A random shape change; given a ``/``'s ink points, one that keeps it leaning.

    Up to seven changes are drawn for a slash; the first that leans at least
    :data:`MIN_SLASH_LEAN`, else the one that leans most, is kept.
    """
    best, best_lean = None, -1.0
    for _ in range(7):
        matrix = _shape_matrix(rng, rotate=6, slant=0.2, aspect=aspect)
        if slash is None:
            return matrix
        if (value := lean(slash @ matrix.T)) > best_lean:
            best, best_lean = matrix, value
        if best_lean >= MIN_SLASH_LEAN:
            break
    return best


def warp_mask(mask: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x2 linear map to a mask about its centre, growing the canvas to fit."""
    h, w = mask.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ matrix.T
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    size = np.ceil(hi - lo).astype(int) + 4
    affine = np.hstack([matrix, (-lo + 2)[:, None]]).astype(np.float32)
    out = cv2.warpAffine(mask, affine, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR)
    return np.where(out > 127, 255, 0).astype(np.uint8)


def elastic(mask: np.ndarray, rng: np.random.Generator, *, amount: float) -> np.ndarray:
    """Smooth random displacement of up to ``amount`` x the longer side.

    The canvas grows by that much on every side first, so a long flat stroke in a
    low canvas is bent, not pushed out of it.
    """
    side = max(mask.shape)
    pad = int(np.ceil(amount * side)) + 1
    mask = np.pad(mask, pad)
    h, w = mask.shape
    sigma = max(2.0, 0.25 * side)
    dx = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
    norm = amount * side / (np.abs(np.concatenate([dx, dy])).max() + 1e-6)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(mask, gx + dx * norm, gy + dy * norm, cv2.INTER_LINEAR)
    return np.where(out > 127, 255, 0).astype(np.uint8)


def degrade(mask: np.ndarray, rng: np.random.Generator, *, stroke: float) -> np.ndarray:
    """Make a clean mask look like a thresholded phone photo.

    Thickness changes, elastic distortion, broken strokes, blur with noise and a
    re-threshold (ragged edges). ``stroke`` is the pen width in pixels.
    """
    if rng.random() < 0.25:
        mask = elastic(mask, rng, amount=rng.uniform(0.02, 0.06))
    if rng.random() < 0.3:
        k = np.ones((2, 2) if rng.random() < 0.7 or stroke > 4 else (3, 3), np.uint8)
        if rng.random() < 0.5:
            mask = cv2.dilate(mask, k)
        elif stroke >= 3.5:
            thinner = cv2.erode(mask, k)
            if thinner.any():
                mask = thinner
    if rng.random() < 0.12 and stroke >= 2:
        ys, xs = np.nonzero(mask)
        for _ in range(int(rng.integers(1, 3))):
            i = int(rng.integers(len(xs)))
            r = max(1, round(stroke * rng.uniform(0.4, 0.8)))
            cv2.circle(mask, (int(xs[i]), int(ys[i])), r, 0, -1)
        if not mask.any():
            mask[ys, xs] = 255
    if rng.random() < 0.5:
        img = mask.astype(np.float32) / 255.0
        sigma = rng.uniform(0.3, 0.6) * min(max(1.0, stroke), 2.5)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
        if rng.random() < 0.6:
            img += rng.normal(0, rng.uniform(0.05, 0.15), img.shape).astype(np.float32)
        out = np.where(img > rng.uniform(0.4, 0.6), 255, 0).astype(np.uint8)
        if out.any():
            mask = out
    return mask
