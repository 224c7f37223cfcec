"""Held-out symbols of every source, drawn once, as the classifier sees them.

Nothing here is ever trained on: the CROHME development writers
(``training/dev_writers.txt``), UNIPEN's held-out fifth of writers, the pendigits
``.tes`` writers, MNIST t10k, USPS ``zip.test`` and optdigits ``windep``; and, for a
leave-one-source-out model, a whole source (MathWriting). Each symbol is drawn
without augmentation and normalised by :func:`mathocr.normalize.normalize_input` as
serving does: inks at a typical symbol height of :data:`VAL_SYMBOL_HEIGHT` pixels
with a :data:`VAL_PEN_WIDTH` pixel pen, bitmaps thresholded to masks, each with the
``ref_height`` its line would have (the middle of :data:`training.samples.RELATIVE_SIZE`).

:func:`held_out_sets` reads every set whose data is in the folder (none in an empty one);
each set is the classifier's inputs and their class indices, as :func:`ink_set` makes
from pen strokes:

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as empty:
...     held_out_sets(Path(empty))
{}
>>> one = extra.InkSample((np.array([[0.0, 0.0], [0.0, 40.0]]),), "1", "w1", "unipen", "test")
>>> x, y = ink_set([one])
>>> x.shape, x.dtype.name, [CLASSES[i] for i in y]
((1, 2, 32, 32), 'float32', ['1'])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mathocr.normalize import normalize_input
from mathocr.symbols import CLASS_INDEX, CLASSES

from . import crohme, extra, sources
from .augment import draw_strokes
from .samples import RELATIVE_SIZE, STRETCHED, WIDTH_MEASURED, smooth_up

#: Canonical drawing of the held-out writers' symbols.
VAL_SYMBOL_HEIGHT = 48.0
VAL_PEN_WIDTH = 3.0

Set = tuple[np.ndarray, np.ndarray]


def _stack(xs: list[np.ndarray], ys: list[int]) -> Set:
    if not xs:
        return np.zeros((0, 2, 32, 32), np.float32), np.zeros(0, np.int64)
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


def crohme_dev(*, arithmetic_only: bool = False) -> Set:
    """Every usable symbol of the CROHME development writers, as the segmenter cuts it.

    ``arithmetic_only`` keeps the symbols of plain arithmetic expressions only (what
    the resolver reads). Each expression is drawn with its typical symbol
    :data:`VAL_SYMBOL_HEIGHT` px tall; ``ref_height`` is the median rendered height of
    the expression's non-flat symbols. Returns ``(N, 2, 32, 32)`` inputs and labels.
    """
    xs, ys = [], []
    for expr in crohme.load_expressions():
        if not crohme.is_dev(expr) or (arithmetic_only and not expr.is_arithmetic):
            continue
        typical = float(np.median(sources.non_flat_heights(expr.symbols))) or 1.0
        scale = VAL_SYMBOL_HEIGHT / typical
        masks = [crohme.symbol_mask(s, scale=scale, pen_width=VAL_PEN_WIDTH) for s in expr.symbols]
        heights = []
        for m in masks:
            rows = np.flatnonzero(m.any(axis=1))
            heights.append(float(rows[-1] - rows[0] + 1) if rows.size else 0.0)
        top = max(heights)
        tall = [h for h in heights if h > 0.3 * top] or heights
        ref = float(np.median(tall))
        for sym, m in zip(expr.symbols, masks, strict=True):
            label = sources.crohme_class(sym.label)
            if label is None:
                continue
            xs.append(normalize_input(m, ref_height=ref))
            ys.append(label)
    return _stack(xs, ys)


def _middle(cls: str) -> float:
    lo, hi = RELATIVE_SIZE[cls]
    return (lo + hi) / 2


def ink_set(samples: Sequence[extra.InkSample]) -> Set:
    """Isolated symbols in strokes, each at its class's middle size on a 48-pixel line."""
    xs, ys = [], []
    for sample in samples:
        strokes = [np.asarray(st, np.float64) for st in sample.strokes]
        w, h = np.ptp(np.concatenate(strokes), axis=0)
        if sample.label == ".":
            scale = 0.05 * VAL_SYMBOL_HEIGHT / max(w, h, 1e-3)
        else:
            own = w if sample.label in WIDTH_MEASURED else h
            scale = _middle(sample.label) * (VAL_SYMBOL_HEIGHT - VAL_PEN_WIDTH) / max(own, 1e-3)
        mask = draw_strokes(strokes, matrix=np.eye(2) * scale, pen_width=VAL_PEN_WIDTH)
        xs.append(normalize_input(mask, ref_height=VAL_SYMBOL_HEIGHT))
        ys.append(CLASS_INDEX[sample.label])
    return _stack(xs, ys)


def bitmap_set(masks: Sequence[np.ndarray], labels: Sequence[str], source: str) -> Set:
    """Isolated-symbol masks (255 = ink), smoothed up and squeezed as training does."""
    xs, ys = [], []
    for mask, cls in zip(masks, labels, strict=True):
        ys_, xs_ = np.nonzero(mask)
        mask = mask[ys_.min() : ys_.max() + 1, xs_.min() : xs_.max() + 1]
        mask = smooth_up(mask)
        if source in STRETCHED and cls not in {"-", "."}:
            wide_one = cls == "1" and mask.shape[1] > 0.45 * mask.shape[0]
            squeeze = 0.42 if wide_one else (1.0 if cls == "1" else 0.8)
            h, w = mask.shape
            mask = cv2.resize(mask, (max(1, round(w * squeeze)), h), interpolation=cv2.INTER_AREA)
            mask = np.where(mask > 127, 255, 0).astype(np.uint8)
        rows, cols = np.nonzero(mask)
        own = (np.ptp(cols) if cls in WIDTH_MEASURED else np.ptp(rows)) + 1
        xs.append(normalize_input(np.pad(mask, 3), ref_height=own / _middle(cls)))
        ys.append(CLASS_INDEX[cls])
    return _stack(xs, ys)


def held_out_sets(root: Path | None = None, *, whole_sources: Sequence[str] = ()) -> dict[str, Set]:
    """Every held-out set that the data on disk allows, by name.

    ``crohme-dev`` and ``crohme-dev-arithmetic`` (the symbols of plain arithmetic
    expressions), ``unipen-test``, ``pendigits-test``, ``mnist-t10k``, ``usps-test``,
    ``optdigits-windep``, ``corrections-test`` (the held-out users' corrected symbols,
    when an export holds some); and each source named in ``whole_sources`` (a model trained
    without it, see ``training.train --exclude``), all of it.
    """
    root = root or crohme.data_dir()
    out: dict[str, Set] = {}
    if (root / crohme.ARCHIVE_NAME).is_file():
        out["crohme-dev"] = crohme_dev()
        out["crohme-dev-arithmetic"] = crohme_dev(arithmetic_only=True)
    available = extra.available(root)
    for name in ("unipen", "pendigits"):
        if available.get(name):
            samples = [s for s in extra.SOURCES[name](root) if s.split == "test"]
            out[f"{name}-test"] = ink_set(samples)
    if (root / sources.MNIST_IMAGES).is_file():
        items = sources.mnist_items(root)
        out["mnist-t10k"] = bitmap_set(
            [it.mask for it in items], [CLASSES[it.label] for it in items], "mnist"
        )
    for name, part in (("usps", "usps-test"), ("optdigits", "optdigits-windep")):
        if available.get(name):
            samples = [s for s in extra.SOURCES[name](root) if s.split == "test"]
            out[part] = bitmap_set([s.mask for s in samples], [s.label for s in samples], name)
    if available.get("corrections"):  # grows with the users' corrections: may have no test
        samples = [s for s in extra.corrections(root) if s.split == "test"]
        if samples:
            masks, labels = [s.mask for s in samples], [s.label for s in samples]
            out["corrections-test"] = bitmap_set(masks, labels, "corrections")
    for name in whole_sources:
        if not available.get(name):
            continue
        samples = extra.SOURCES[name](root)
        if samples and isinstance(samples[0], extra.InkSample):
            out[name] = ink_set(samples)
        else:
            out[name] = bitmap_set([s.mask for s in samples], [s.label for s in samples], name)
    return out
