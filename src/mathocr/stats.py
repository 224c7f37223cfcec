"""Order statistics of arrays, bit for bit as numpy's and faster.

``np.median`` and ``np.percentile`` partition an array around several positions
(and scan for NaN); the image stages call them on every photo, where one
partition and one minimum give the same value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["median", "percentile", "thinned"]


def thinned(image: np.ndarray, *, pixels: int = 10_000) -> np.ndarray:
    """Every k-th row and column of ``image`` (``(H, W)`` or ``(H, W, C)``): about
    ``pixels`` of them, an even sample for image-wide statistics (a view, no copy).

    Examples
    --------
    >>> thinned(np.zeros((1000, 2000))).shape
    (72, 143)
    >>> thinned(np.zeros((50, 60, 3))).shape   # small images are kept whole
    (50, 60, 3)
    """
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / pixels)))
    return image[::step, ::step]


def median(values: np.ndarray) -> float:
    """``np.median(values)`` of an integer or NaN-free float array, bit for bit, and faster.

    ``np.median`` partitions around both middle positions and the end (to look
    for NaN); one partition and one minimum are enough.

    Examples
    --------
    >>> v = np.array([[3.0, 1.0], [4.0, 1.5]], np.float32)
    >>> median(v) == float(np.median(v))
    True
    >>> median(np.array([200, 250], np.uint8))   # no uint8 overflow
    225.0
    """
    flat = np.ravel(values)
    n = flat.size
    half = n // 2
    if n % 2:
        return float(np.partition(flat, half)[half])
    part = np.partition(flat, half - 1)
    low, high = part[half - 1], part[half:].min()
    if flat.dtype.kind in "iu":  # np.median averages integers as float64 (no overflow)
        return (float(low) + float(high)) / 2
    # np.median's mean of the two middle values, in the array's own precision.
    return float((low + high) / 2)


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear method) of a 1-D float array, bit for bit.

    ``np.percentile`` partitions around four positions (its two neighbours of
    the ``q`` point, and both ends to look for NaN), several times slower than
    the one partition and one minimum done here. ``values`` must be non-empty
    and hold no NaN; it is not modified.

    Examples
    --------
    >>> v = np.array([3.0, 1.0, 4.0, 1.0, 5.0], np.float32)
    >>> percentile(v, 90) == float(np.percentile(v, 90))
    True
    """
    n = values.size
    virtual = (n - 1) * (q / 100)
    lower = int(np.floor(virtual))
    if lower >= n - 1:
        return float(values.max())
    part = np.partition(values, lower)
    a, b = part[lower], part[lower + 1 :].min()
    # numpy's _lerp, in the array's own precision.
    gamma = virtual - lower
    diff = b - a
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
