"""The training sources read straight from their archives, as items of one class each.

CROHME 2016 training inks (symbols in pen strokes, with their expression's typical
height), BHMSDS and MDAS symbol bitmaps, MNIST t10k (held out: :mod:`training.heldout`),
and the label maps from each source's names to our classes. The sources of
:mod:`training.extra` come as :class:`training.extra.InkSample` /
:class:`training.extra.ImageSample` and become items in :mod:`training.data`.
"""

from __future__ import annotations

import gzip
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from mathocr.symbols import CLASS_INDEX

from . import crohme

BHMSDS = "bhmsds-symbols.tar.gz"
MDAS = "mdas_symbols_v1.zip"
MNIST_IMAGES = "mnist-t10k-images-idx3-ubyte.gz"
MNIST_LABELS = "mnist-t10k-labels-idx1-ubyte.gz"
ARCHIVES = (crohme.ARCHIVE_NAME, BHMSDS, MDAS, MNIST_IMAGES, MNIST_LABELS)

REJECT = CLASS_INDEX["reject"]

#: CROHME labels that are none of our classes yet look too much like one of them to be
#: taught as ``reject`` (``o``/``0``, ``l``/``1``, ``X``/``×``, ``t``/``+``, ``s``/``5``,
#: ``z``/``2``, ``b``/``6``, ``g``/``9``, braces/brackets, ``\cdot``/``.`` ...).
#: They are left out entirely.
CROHME_SKIP = frozenset(
    {
        r"\cdot", r"\ldots", r"\prime", "o", "O", "l", "|", "I", "X", "t", "s", "S",
        "z", "b", "g", "q", "B", "G", "c", "C", r"\{", r"\}",
    }
)  # fmt: skip
#: BHMSDS / MDAS file-name classes mapped to ours (``None``: not used).
BHMSDS_LABELS = {
    **{d: d for d in "0123456789"},
    "plus": "+", "minus": "-", "slash": "/", "dot": ".", "x": "×", "w": "reject",
    "y": "reject", "z": None,  # BHMSDS z is drawn like a 2: too ambiguous for reject
}  # fmt: skip
MDAS_LABELS = {
    "addition_plus": "+", "subtraction_minus": "-", "multiplication_cross": "×",
    "division_obelus": "÷", "division_slash": "/", "multiplication_dot": ".",
}  # fmt: skip


#: CROHME labels taught as one of our classes under another name. A comma is a decimal
#: point in arithmetic (``2,5`` in many locales), and several writers' points are
#: comma-shaped: teaching commas as ``reject`` taught the network to drop those points.
#: The letter ``x`` is drawn as the same cross as ``\times`` (CROHME tells them apart
#: only by the expression around them), so it is taught as ``×``.
CROHME_ALIASES = {",": ".", "x": "×", r"\leq": "≤", r"\geq": "≥", r"\neq": "≠"}


def crohme_class(label: str) -> int | None:
    """Our class index for a CROHME symbol label, or ``None`` when it is skipped."""
    label = CROHME_ALIASES.get(label, label)
    if label in CLASS_INDEX and label != "reject":
        return CLASS_INDEX[label]
    if label in CROHME_SKIP or label in CLASS_INDEX:
        return None
    return REJECT


@dataclass(frozen=True, slots=True)
class InkItem:
    """One symbol in pen strokes (moved to the origin), its class, and its line's typical height.

    ``typical`` is the median height (ink units) of the expression's non-flat symbols,
    or ``None`` for an isolated symbol (drawn at a plausible size, see :func:`ink_sample`).
    """

    strokes: tuple[np.ndarray, ...]
    label: int
    typical: float | None
    source: str = "crohme"


@dataclass(frozen=True, slots=True)
class ImageItem:
    """One isolated-symbol image as an ink mask (uint8 0/255), its class and source name."""

    mask: np.ndarray
    label: int
    source: str


def at_origin(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    origin = np.concatenate(strokes).min(axis=0)
    return tuple((st - origin).astype(np.float32) for st in strokes)


def non_flat_heights(symbols: Sequence[crohme.InkSymbol]) -> list[float]:
    heights = [s.bounds()[3] - s.bounds()[1] for s in symbols]
    top = max(heights)
    return [h for h in heights if h > 0.3 * top] or heights


def ink_items(*, dev: bool) -> list[InkItem]:
    """CROHME symbols of the training writers (``dev=False``) or held-out writers (``dev=True``)."""
    items = []
    for expr in crohme.load_expressions():
        if crohme.is_dev(expr) != dev:
            continue
        typical = float(np.median(non_flat_heights(expr.symbols))) or 1.0
        for sym in expr.symbols:
            label = crohme_class(sym.label)
            if label is None:
                continue
            items.append(InkItem(at_origin(sym.strokes), label, typical))
    return items


#: Labels never part of a junk pair: a point or a prime beside a symbol looks like that symbol.
_PAIR_SKIP = frozenset({".", ",", r"\cdot", r"\ldots", r"\prime", "'"})
#: Neighbours that drawn together can make one symbol (``-`` over ``-`` is ``=``, ...).
_PAIR_SYMBOLS = frozenset(
    {frozenset({"-"}), frozenset({"-", r"\lt"}), frozenset({"-", r"\gt"}),
     frozenset({"-", "<"}), frozenset({"-", ">"}), frozenset({"=", "/"}),
     frozenset({"-", ":"}), frozenset({"-", "|"})}
)  # fmt: skip
#: The junk-pair window, in the expression's typical symbol height: what
#: :mod:`mathocr.lattice` may offer as one symbol (a merge of overlapping pieces, or a
#: wide piece it may cut).
PAIR_MAX_GAP = 0.25
PAIR_MAX_WIDTH = 2.5
PAIR_MAX_HEIGHT = 1.6
PAIR_MIN_SIZE = 0.4
PAIR_MAX_DROP = 0.5


def _junk_pair(a: crohme.InkSymbol, b: crohme.InkSymbol, typical: float) -> bool:
    """Whether neighbours ``a`` then ``b`` (by left edge) drawn as one would be no symbol."""
    if a.label in _PAIR_SKIP or b.label in _PAIR_SKIP or {a.label, b.label} in _PAIR_SYMBOLS:
        return False
    ax0, ay0, ax1, ay1 = a.bounds()
    bx0, by0, bx1, by1 = b.bounds()
    if min(max(ax1 - ax0, ay1 - ay0), max(bx1 - bx0, by1 - by0)) < PAIR_MIN_SIZE * typical:
        return False
    if bx0 - ax1 > PAIR_MAX_GAP * typical:
        return False
    # side by side, not one inside the other (a bar through a digit, a stacked pair)
    overlap = min(ax1, bx1) - max(ax0, bx0)
    if overlap > 0.5 * min(ax1 - ax0, bx1 - bx0):
        return False
    if max(ax1, bx1) - ax0 > PAIR_MAX_WIDTH * typical:
        return False
    if max(ay1, by1) - min(ay0, by0) > PAIR_MAX_HEIGHT * typical:
        return False
    return bool(abs((ay0 + ay1) - (by0 + by1)) / 2 <= PAIR_MAX_DROP * typical)


def junk_pairs(*, dev: bool) -> list[InkItem]:
    """Two touching or overlapping CROHME neighbours drawn as one mark, taught as ``reject``.

    LeCun et al. (1998)'s "junk" class: the reader's lattice offers such unions as
    candidate symbols (:mod:`mathocr.lattice`), and a classifier that has never seen one
    reads it as its likeliest-looking digit. Only neighbours along the line of symbol
    size count, and none that together could be one symbol (:data:`_PAIR_SYMBOLS`).
    """
    items = []
    for expr in crohme.load_expressions():
        if crohme.is_dev(expr) != dev:
            continue
        typical = float(np.median(non_flat_heights(expr.symbols))) or 1.0
        ordered = sorted(expr.symbols, key=lambda s: s.bounds()[0])
        for a, b in pairwise(ordered):
            if _junk_pair(a, b, typical):
                items.append(InkItem(at_origin(a.strokes + b.strokes), REJECT, typical, "pairs"))
    return items


def _to_mask(gray: np.ndarray, *, ink_dark: bool) -> np.ndarray:
    """Upsample a small grey image 2x and threshold it to a 0/255 ink mask."""
    img = gray.astype(np.float32) / 255.0
    if ink_dark:
        img = 1.0 - img
    img = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    return np.where(img > 0.5, 255, 0).astype(np.uint8)


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def bhmsds_items(root: Path) -> list[ImageItem]:
    """BHMSDS symbols (black on white)."""
    items = []
    with tarfile.open(root / BHMSDS) as tar:
        for member in tar:
            if not member.name.endswith(".png"):
                continue
            name = member.name.rsplit("/", 1)[-1].rsplit("-", 1)[0]
            cls = BHMSDS_LABELS.get(name)
            handle = tar.extractfile(member)
            if cls is None or handle is None:
                continue
            mask = _to_mask(_decode(handle.read()), ink_dark=True)
            if mask.any():
                items.append(ImageItem(mask, CLASS_INDEX[cls], "bhmsds"))
    return items


def _slash_ok(mask: np.ndarray) -> bool:
    """True when the ink rises from left to right (MDAS mirrors some slashes into ``\\``)."""
    ys, xs = np.nonzero(mask)
    return len(xs) > 2 and float(np.corrcoef(xs, ys)[0, 1]) < -0.3


def _minus_ok(mask: np.ndarray) -> bool:
    """True when the ink is a flat bar (MDAS rotates some minus signs upright)."""
    ys, xs = np.nonzero(mask)
    return len(xs) > 2 and np.ptp(xs) > 2 * np.ptp(ys)


def mdas_items(root: Path) -> list[ImageItem]:
    """MDAS symbols (white on black); rotated ``-`` and mirrored ``/`` are dropped."""
    items = []
    with zipfile.ZipFile(root / MDAS) as archive:
        for name in sorted(archive.namelist()):
            if not name.endswith(".png"):
                continue
            cls = MDAS_LABELS.get(name.split("/")[-2])
            if cls is None:
                continue
            mask = _to_mask(_decode(archive.read(name)), ink_dark=False)
            if not mask.any():
                continue
            if (cls == "/" and not _slash_ok(mask)) or (cls == "-" and not _minus_ok(mask)):
                continue
            items.append(ImageItem(mask, CLASS_INDEX[cls], "mdas"))
    return items


def mnist_items(root: Path) -> list[ImageItem]:
    """MNIST t10k digits (white on black)."""
    with gzip.open(root / MNIST_IMAGES) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(root / MNIST_LABELS) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return [
        ImageItem(_to_mask(img, ink_dark=False), int(lab), "mnist")
        for img, lab in zip(images, labels, strict=True)
    ]


def available(root: Path | None = None) -> bool:
    """True when every archive the training reads is present."""
    root = root or crohme.data_dir()
    return all((root / name).is_file() for name in ARCHIVES)
