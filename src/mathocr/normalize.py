"""Turn one segmented symbol into the classifier's input (its ink, and its relative size).

This is the single contract between segmentation and training: the segmenter and
the training code both build the classifier's input with :func:`normalize_input`
(:func:`normalize_batch` for a batch), so the network sees in serving exactly what
it saw in training.

Size cues matter: a ``.`` is a ``0`` drawn small and a ``-`` is a ``1`` lying
down. The crop keeps its aspect ratio, and a symbol that is small compared with
the expression's typical symbol height (``ref_height``) stays small in the frame
instead of being blown up to fill it. A symbol at least :data:`FILL_FRACTION` of
``ref_height`` fills the frame, so the picture alone cannot tell a ``/`` or a ``)``
(taller than the digits) from a ``1``: the classifier's input therefore has a second
plane, constant, holding the symbol's longest side over ``ref_height``
(:func:`normalize_input`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .symbols import INPUT_CHANNELS, INPUT_SIZE

#: Symbols at least this fraction of ``ref_height`` tall (or wide) fill the frame;
#: smaller ones are drawn at their true relative size. At 0.8 a comma-shaped point
#: (0.2-0.8 of the line's height for most writers) stays smaller than a ``/``; at 0.5
#: (models before 1.2.0) half of them filled the frame just like a slash. Part of the
#: model's input contract: ``symbols.json`` records it.
FILL_FRACTION = 0.8
#: Empty margin, in output pixels, kept on each side of the symbol.
PADDING = 2
#: The size plane holds the symbol's longest side over ``ref_height``, clipped to this.
MAX_RELATIVE_SIZE = 3.0


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """Tight box ``(x, y, w, h)`` of the ``True`` pixels of a 2-D bool mask; ``w == 0`` if none.

    One OpenCV call instead of two reductions and two searches.

    Examples
    --------
    >>> m = np.zeros((5, 6), bool); m[1:3, 2:5] = True
    >>> ink_box(m)
    (2, 1, 3, 2)
    >>> ink_box(np.zeros((2, 2), bool))[2]
    0
    """
    x, y, w, h = cv2.boundingRect(ink.view(np.uint8))
    return int(x), int(y), int(w), int(h)


def _normalize(mask: np.ndarray, ref_height: float | None, size: int) -> tuple[np.ndarray, int]:
    """:func:`normalize_symbol`'s image, and the symbol's longest side in mask pixels."""
    out = np.zeros((size, size), np.float32)
    ink = np.asarray(mask)
    if ink.dtype != np.bool_:
        ink = ink != 0
    x, y, w, h = ink_box(ink)
    if w == 0:
        return out, 0
    crop = ink[y : y + h, x : x + w].astype(np.float32)
    extent = max(h, w, FILL_FRACTION * ref_height if ref_height else 0.0)
    scale = (size - 2 * PADDING) / extent
    new_w = max(1, round(w * scale))
    new_h = max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    glyph = cv2.resize(crop, (new_w, new_h), interpolation=interpolation)
    top = (size - new_h) // 2
    left = (size - new_w) // 2
    # np.clip's result, from two plain ufuncs on the glyph (the rest is 0).
    np.minimum(glyph, 1.0, out=glyph)
    out[top : top + new_h, left : left + new_w] = np.maximum(glyph, 0.0, out=glyph)
    return out, max(h, w)


def normalize_symbol(
    mask: np.ndarray,
    *,
    ref_height: float | None = None,
    size: int = INPUT_SIZE,
) -> np.ndarray:
    """Scale a symbol's ink mask into a centred ``size`` x ``size`` float image.

    Parameters
    ----------
    mask : (H, W) array
        The symbol's own ink pixels (non-zero is ink), cropped to its bounding box
        or not: the tight box is found here. Pixels of neighbouring symbols must
        already be removed.
    ref_height : float, optional
        Typical symbol height of the expression, in the mask's pixels (the
        segmenter uses the median height of the line's symbols). ``None`` treats
        the symbol itself as full size.
    size : int, optional
        Side of the output square.

    Returns
    -------
    (size, size) float32 array
        Ink is 1.0, background 0.0, anti-aliased in between.

    Examples
    --------
    >>> import numpy as np
    >>> dot = np.ones((4, 4), bool)
    >>> big = normalize_symbol(dot)
    >>> small = normalize_symbol(dot, ref_height=40)
    >>> bool(big.sum() > 10 * small.sum())
    True
    >>> normalize_symbol(np.zeros((5, 5), bool)).max()
    np.float32(0.0)
    """
    return _normalize(mask, ref_height, size)[0]


def relative_size(longest: float, ref_height: float | None) -> float:
    """The size plane's value: ``longest / ref_height`` in ``[0, MAX_RELATIVE_SIZE]``.

    Without a ``ref_height`` the symbol is its own reference (1.0).

    Examples
    --------
    >>> relative_size(30, 20.0), relative_size(30, None), relative_size(500, 20.0)
    (1.5, 1.0, 3.0)
    """
    if not ref_height or ref_height <= 0:
        return 1.0
    return float(min(max(longest / ref_height, 0.0), MAX_RELATIVE_SIZE))


def normalize_input(
    mask: np.ndarray,
    *,
    ref_height: float | None = None,
    size: int = INPUT_SIZE,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The classifier's input for one symbol: ``(INPUT_CHANNELS, size, size)`` float32.

    Plane 0 is :func:`normalize_symbol`; plane 1 is constant, the symbol's
    :func:`relative_size`. Training and serving both build inputs here.

    Examples
    --------
    >>> bar = np.ones((30, 4), bool)                  # a stroke 1.5 line heights tall
    >>> x = normalize_input(bar, ref_height=20)
    >>> x.shape, float(x[1].min()), float(x[1].max())
    ((2, 32, 32), 1.5, 1.5)
    """
    if out is None:
        out = np.empty((INPUT_CHANNELS, size, size), np.float32)
    image, longest = _normalize(mask, ref_height, size)
    out[0] = image
    out[1] = relative_size(longest, ref_height) if longest else 0.0
    return out


def normalize_batch(
    masks: list[np.ndarray], *, ref_height: float | None = None, size: int = INPUT_SIZE
) -> np.ndarray:
    """Stack :func:`normalize_input` outputs as an ``(N, INPUT_CHANNELS, size, size)`` batch."""
    batch = np.empty((len(masks), INPUT_CHANNELS, size, size), np.float32)
    for i, mask in enumerate(masks):
        normalize_input(mask, ref_height=ref_height, size=size, out=batch[i])
    return batch
