"""Stage 2: turn a phone photo (or a canvas drawing) into a clean ink mask.

The steps, each a function on arrays:

1. :func:`to_gray` - a channel mix that keeps blue ink and pencil dark while
   light-blue or grey paper rulings stay light.
2. :func:`flatten_illumination` - divide by a background estimate (a large
   max-filter on a shrunk copy), which removes uneven light, shadows and paper tint.
3. :func:`threshold_ink` - hysteresis threshold set from the image's own noise
   level and ink contrast: strong ink seeds, weaker connected pixels (blurred or
   pencil strokes) are kept only when attached to a seed.
4. :func:`remove_rulings` - long thin horizontal/vertical runs that span most of
   the image (ruled or squared paper) are removed, except where a stroke crosses them.

:func:`binarize` runs them at a bounded working resolution and returns the mask
with the scale that maps it back to the original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .stats import median, percentile, thinned

#: Images are processed at no more than this many pixels (boxes are mapped back).
WORKING_PIXELS = 600_000
#: Channel weights (R, G, B) of the grey image. Blue-heavy: printed rulings are light blue
#: and nearly vanish in blue, while black, pencil and blue ballpoint ink stay dark.
CHANNEL_WEIGHTS = (0.2, 0.3, 0.5)


@dataclass(frozen=True, slots=True)
class Binarized:
    """An ink mask at working resolution.

    ``ink`` is a uint8 array, 1 for ink and 0 for paper; ``scale`` is working
    pixels per original pixel (``<= 1``); ``stroke_width`` the typical pen width
    in working pixels (0 when there is no ink). ``core`` (same shape, 1 or 0, or
    ``None``) is the part of ``ink`` above the strong threshold: the pen lines
    without the faint halo by which blur can join a point to the digit beside it.
    ``gray`` (same shape, or ``None``) is the grey image the mask was made from,
    before its light was flattened: what lies around a mark (paper, or a dark
    region such as a keyboard, see :func:`mathocr.layout.select_line`).
    """

    ink: np.ndarray
    scale: float
    stroke_width: float
    core: np.ndarray | None = None
    gray: np.ndarray | None = None


def to_gray(
    image: np.ndarray, *, weights: tuple[float, float, float] = CHANNEL_WEIGHTS
) -> np.ndarray:
    """Mix an RGB image into uint8 grey (a 2-D input is returned as is).

    Examples
    --------
    >>> blue_ink_and_ruling = np.array([[[30, 45, 160], [175, 195, 230]]], np.uint8)
    >>> to_gray(blue_ink_and_ruling).tolist()
    [[100, 208]]
    """
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    if image.shape[2] < 3:
        return np.ascontiguousarray(image[..., 0])
    mix = np.array([weights], np.float32)
    gray = cv2.transform(np.ascontiguousarray(image[..., :3]), mix)
    return gray.reshape(image.shape[:2])


def working_scale(shape: tuple[int, ...], *, max_pixels: int = WORKING_PIXELS) -> float:
    """Scale factor (``<= 1``) that brings an image of ``shape`` under ``max_pixels``."""
    pixels = shape[0] * shape[1]
    return 1.0 if pixels <= max_pixels else float(np.sqrt(max_pixels / pixels))


def flatten_illumination(gray: np.ndarray, *, ink_size: int = 24) -> np.ndarray:
    """Divide out the paper's brightness so the background becomes a flat 1.0.

    The background is estimated by a morphological closing (dark strokes
    thinner than ``ink_size`` pixels vanish, shadow edges stay put) on a copy
    shrunk 4x, smoothed and scaled back.

    Returns
    -------
    float32 array
        Ink darkness ``1 - gray / background`` in ``[0, 1]``: 0 is paper.
    """
    h, w = gray.shape
    factor = 4 if min(h, w) >= 64 else 1
    small = cv2.resize(
        gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    k = max(3, (ink_size // factor) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # A closing (max then min filter) erases dark strokes narrower than the
    # kernel but keeps the edge of a shadow where it is.
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.blur(background, (3, 3))
    if factor > 1:
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    # max(background, gray, 1), in place; then the float division with no
    # float copies of the inputs (numpy casts them chunk by chunk).
    np.maximum(background, gray, out=background)
    np.maximum(background, 1, out=background)
    darkness: np.ndarray = np.divide(gray, background, dtype=np.float32)
    np.subtract(1.0, darkness, out=darkness)
    return darkness


def _paper_level(darkness: np.ndarray) -> tuple[float, float]:
    """Median darkness of the paper and its robust spread (1.4826 x MAD), from a sample."""
    sample = thinned(darkness)
    med = median(sample)
    return med, 1.4826 * median(np.abs(sample - med))


def threshold_ink(
    darkness: np.ndarray,
    *,
    min_contrast: float = 0.15,
    strong: float = 0.55,
    weak_fraction: float = 0.5,
    rulings: bool = True,
) -> np.ndarray:
    """Hysteresis-threshold a darkness map into a uint8 ink mask (1 = ink).

    Thresholds are set above the paper's own level: the strong one at
    ``strong`` of the way from the paper to the ink (the 90th percentile of the
    pixels clearly darker than paper), and at least 3 noise deviations up. Weak
    pixels (``weak_fraction`` as far up) are kept only in components that hold
    a strong pixel, so a blurred or pencil stroke stays whole while paper
    texture does not. An image whose ink is less than ``min_contrast`` darker
    than the paper has no ink. With ``rulings``, ruled/squared paper lines are
    removed from the weak mask first (see :func:`remove_rulings`).
    """
    return _ink_and_core(
        darkness,
        min_contrast=min_contrast,
        strong=strong,
        weak_fraction=weak_fraction,
        rulings=rulings,
    )[0]


def _ink_and_core(
    darkness: np.ndarray,
    *,
    min_contrast: float = 0.15,
    strong: float = 0.55,
    weak_fraction: float = 0.5,
    rulings: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`threshold_ink`'s mask, and its core: the ink above the strong threshold."""
    levels = ink_levels(
        darkness, min_contrast=min_contrast, strong=strong, weak_fraction=weak_fraction
    )
    if levels is None:
        none = np.zeros(darkness.shape, np.uint8)
        return none, none
    low, high = levels
    seeds = darkness > high  # the strong pixels: they seed the ink and make its core
    ink = hysteresis(darkness, low, seeds, rulings=rulings)
    return ink, ink & seeds.view(np.uint8)


def ink_levels(
    darkness: np.ndarray,
    *,
    min_contrast: float = 0.15,
    strong: float = 0.55,
    weak_fraction: float = 0.5,
) -> tuple[float, float] | None:
    """The weak and strong thresholds of :func:`threshold_ink`, or ``None`` (no ink)."""
    paper, noise = _paper_level(darkness)
    # The ink's own darkness: the upper part of the pixels clearly above the
    # paper (a percentile of the whole image would miss sparse, thin writing).
    candidates = darkness[darkness > paper + max(4.0 * noise, 0.05)]
    if candidates.size < 16:
        return None
    peak = percentile(candidates, 90)
    if peak - paper < min_contrast:
        return None
    high = paper + max(strong * (peak - paper), 3.0 * noise, 0.08)
    low = paper + max(weak_fraction * (high - paper), 2.0 * noise, 0.04)
    return low, high


def hysteresis(
    darkness: np.ndarray, low: float, seeds: np.ndarray, *, rulings: bool = True
) -> np.ndarray:
    """Pixels darker than ``low`` in components holding a seed (uint8 0/1).

    ``seeds`` is the bool mask of the strong pixels (darker than the strong
    threshold). With ``rulings``, paper lines are removed from the weak mask first.
    """
    weak = (darkness > low).view(np.uint8)  # 0/1, no copy
    if rulings:
        # On the weak mask a ruling is whole (not broken into faint pieces) and
        # is removed before it can attach itself to the strokes it touches.
        weak = remove_rulings(weak)
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    if n <= 1:
        return weak
    if n <= 256:  # 8-bit labels: a smaller gather, and a lookup table for the mask
        labels = labels.astype(np.uint8)
    keep = np.zeros(max(n, 256), np.uint8)
    keep[labels[seeds]] = 1
    keep[0] = 0
    return cv2.LUT(labels, keep) if n <= 256 else keep[labels]


#: Tilts (degrees) at which rulings are searched for.
_TILTS = np.tan(np.radians(np.arange(-4.0, 4.01, 0.5)))


def _rulings_1d(ink: np.ndarray, *, span: float, max_thickness: int) -> np.ndarray:
    """Mask of horizontal rulings in ``ink`` (apply to the transpose for vertical ones).

    Horizontal runs (an opening) vote for straight lines at a few tilts (a
    Hough transform restricted to near-horizontal lines). A thin line that runs
    through at least ``span`` of the columns and reaches both edges of the
    image is a ruling; only the ink within
    its thin band is returned, so strokes that touch it are not taken along.
    """
    h, w = ink.shape
    length = max(12, w // 50)
    if w < 2 * length:
        return np.zeros_like(ink)
    runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    need = span * w
    if np.count_nonzero(runs.any(axis=0)) < need:  # no run pattern spans enough columns
        return np.zeros_like(ink)
    ys, xs = np.nonzero(runs)
    xs_f, ys_f = xs.astype(np.float32), ys.astype(np.float32)
    pad = int(np.ceil(abs(_TILTS[0]) * w)) + 2
    candidates = []
    for slope in _TILTS:
        rho = np.rint(ys_f - slope * xs_f).astype(np.int64) + pad
        votes = np.bincount(rho, minlength=h + 2 * pad + 1)
        smooth = np.convolve(votes, np.ones(3), mode="same")
        for r in np.flatnonzero(smooth >= need):
            candidates.append((float(smooth[r]), float(slope), float(r - pad)))
    if not candidates:
        return np.zeros_like(ink)
    candidates.sort(reverse=True)
    mask = np.zeros_like(ink)
    accepted: list[tuple[float, float]] = []
    cols = np.arange(w, dtype=np.float64)
    band_half = max_thickness / 2 + 1
    for _, slope, rho in candidates:
        mid = rho + slope * w / 2
        if any(abs(mid - (r + s * w / 2)) <= 2 * band_half for s, r in accepted):
            continue
        accepted.append((slope, rho))
        centre = slope * cols + rho
        r0 = max(0, int(centre.min() - band_half))
        r1 = min(h, int(np.ceil(centre.max() + band_half)) + 1)
        if r0 >= r1:
            continue
        rows = np.arange(r0, r1)[:, None]
        band = (np.abs(rows - centre[None, :]) <= band_half) & (ink[r0:r1] > 0)
        thickness = band.sum(axis=0)
        covered = thickness > 0
        typical = float(np.median(thickness[covered])) if covered.any() else 0.0
        if covered.sum() < need or typical > max_thickness:
            continue
        # Printed lines run from edge to edge of the crop; strokes do not.
        edge = int(0.05 * w) + 1
        if not (covered[:edge].any() and covered[-edge:].any()):
            continue
        # Where the band is thicker than the line, a stroke lies on or crosses
        # it: those columns are left alone.
        band &= (thickness <= typical + 1)[None, :]
        mask[r0:r1] |= band.astype(np.uint8)
    return mask


def remove_rulings(
    ink: np.ndarray,
    *,
    horizontal_span: float = 0.6,
    vertical_span: float = 0.85,
    max_thickness: int = 6,
) -> np.ndarray:
    """Remove ruled/squared paper lines from an ink mask, keeping strokes that cross them.

    A ruling is a thin (at most ``max_thickness`` pixels on average) straight run
    spanning at least ``horizontal_span`` of the width (or ``vertical_span`` of
    the height: taller, so a tall ``1`` or ``(`` is never mistaken for one). Line
    pixels with ink both above and below (left and right) are kept: a stroke
    crossing the line stays whole.

    Examples
    --------
    >>> ink = np.zeros((60, 200), np.uint8)
    >>> ink[30:32, :] = 1          # a ruled line
    >>> ink[10:50, 100:103] = 1    # a stroke crossing it
    >>> out = remove_rulings(ink)
    >>> int(out[31, 20]), int(out[31, 101])
    (0, 1)
    """
    out = ink.copy()
    for axis_span, transpose in ((horizontal_span, False), (vertical_span, True)):
        # A ruling's runs are ink: when the ink itself spans too few columns
        # (rows), :func:`_rulings_1d` would find nothing - skip its work.
        spanned = np.count_nonzero(out.any(axis=1 if transpose else 0))
        if spanned < axis_span * out.shape[0 if transpose else 1]:
            continue
        work = out.T.copy() if transpose else out
        lines = _rulings_1d(work, span=axis_span, max_thickness=max_thickness)
        if not lines.any():
            continue
        rest = work & (1 - lines)
        t = max_thickness + 2
        kernel = np.ones((t + 1, 1), np.uint8)
        above = cv2.dilate(rest, kernel, anchor=(0, t))
        below = cv2.dilate(rest, kernel, anchor=(0, 0))
        cleaned = rest | (lines & above & below)
        out = np.ascontiguousarray(cleaned.T) if transpose else cleaned
    return out


def stroke_width(ink: np.ndarray) -> float:
    """Typical pen width in pixels: ink area over half its boundary length."""
    area = int(np.count_nonzero(ink))
    if area == 0:
        return 0.0
    boundary = area - int(np.count_nonzero(cv2.erode(ink, np.ones((3, 3), np.uint8))))
    return max(1.0, 2.0 * area / max(boundary, 1))


def binarize(
    image: np.ndarray,
    *,
    max_pixels: int = WORKING_PIXELS,
    rulings: bool = True,
) -> Binarized:
    """Clean up a photo into an ink mask at a bounded working resolution.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) grey uint8 array
        Dark ink on light paper (see :func:`mathocr.decode.decode_image`).
    max_pixels : int, optional
        Work on a copy shrunk to at most this many pixels.
    rulings : bool, optional
        Remove ruled/squared paper lines.

    Examples
    --------
    >>> page = np.full((80, 120), 200, np.uint8)
    >>> page[:, 60:] = 120                      # a shadow over the right half
    >>> page[30:50, 20:24] = 40                 # a stroke in the light
    >>> page[30:50, 90:94] = 20                 # a stroke in the shadow
    >>> out = binarize(page)
    >>> int(out.ink[40, 22]), int(out.ink[40, 92]), int(out.ink[10, 100])
    (1, 1, 0)
    """
    gray = to_gray(image)
    scale = working_scale(gray.shape, max_pixels=max_pixels)
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    darkness = flatten_illumination(gray)
    ink, core = _ink_and_core(darkness, rulings=rulings)
    return Binarized(ink=ink, scale=scale, stroke_width=stroke_width(ink), core=core, gray=gray)
