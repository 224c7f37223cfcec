"""Training and validation data for the symbol classifier, read straight from the archives.

Every sample the network sees is the output of :func:`mathocr.normalize.normalize_input`,
called with a mask and a ``ref_height`` like the segmenter produces, so training goes
*through* the serving contract.

Sources (all under :func:`training.crohme.data_dir`, never unpacked):

* CROHME 2016 training inks: each symbol is kept as pen strokes and drawn afresh for
  every sample (pen width, scale, aspect, slant, rotation vary). ``ref_height`` is the
  expression's typical symbol height in rendered pixels, as the segmenter measures it:
  the median height of the expression's non-flat symbols.
* Online inks of other writers (:mod:`training.extra`: UNIPEN, pendigits, MathWriting,
  detypify): isolated symbols drawn by the same renderer and augmentation, placed on an
  imagined line by a plausible relative size per class (:data:`RELATIVE_SIZE`).
* BHMSDS (28x28 black on white), MDAS (28x28 white on black) and the bitmaps of
  :mod:`training.extra` (MNIST training set, USPS, Semeion, optdigits): isolated symbols,
  thresholded to a mask, with a plausible ``ref_height`` drawn per class (digits about
  their own height, ``+ × ÷`` smaller, ``-`` thin, dots small).
* Synthetic rejects: scribbles, ink blots and dust.

Writers listed in ``training/dev_writers.txt`` are never used for training, nor are the
held-out writers of the other sources (their ``split`` is ``test``) or MNIST t10k:
:mod:`training.heldout` evaluates on them.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from mathocr.normalize import normalize_input
from mathocr.symbols import CLASS_INDEX, CLASSES, INPUT_CHANNELS, INPUT_SIZE

from . import crohme, extra
from .augment import degrade, draw_strokes, shape_matrix_for, warp_mask

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


# --- sources ----------------------------------------------------------------------


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


def _at_origin(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
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
            items.append(InkItem(_at_origin(sym.strokes), label, typical))
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


# --- per-source sample makers ------------------------------------------------------


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


#: Within a class, each source's share grows with this weight times the square root
#: of its count: the real writers' inks of CROHME count most, as they look most like
#: what the segmenter cuts out of a line; the other writers widen the styles.
SOURCE_WEIGHTS = {
    "crohme": 2.0, "unipen": 1.2, "pendigits": 0.6, "mathwriting": 1.0, "detypify": 0.5,
    "mnist-train": 1.0, "usps": 0.5, "semeion": 0.3, "optdigits": 0.4,
    "bhmsds": 0.6, "mdas": 0.6,
}  # fmt: skip


@dataclass
class TrainingSet:
    """All training sources in memory, and how often each item is drawn."""

    ink: list[InkItem]
    images: list[ImageItem]
    reject_share: float = 0.15
    synthetic_share: float = 0.25
    probs: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = [(it.label, it.source) for it in self.ink] + [
            (it.label, it.source) for it in self.images
        ]
        probs = np.zeros(len(keys), np.float64)
        counts = Counter(label for label, _ in keys)
        # class mass grows slowly with its count, so rare classes are seen often
        mass = {c: n**0.35 for c, n in counts.items()}
        total = sum(v for c, v in mass.items() if c != REJECT)
        mass = {c: v / total * (1 - self.reject_share) for c, v in mass.items()}
        mass[REJECT] = self.reject_share * (1 - self.synthetic_share)
        by_key = Counter(keys)
        share = {key: SOURCE_WEIGHTS.get(key[1], 1.0) * np.sqrt(n) for key, n in by_key.items()}
        class_share = Counter()
        for (label, _), v in share.items():
            class_share[label] += v
        index = {key: i for i, key in enumerate(by_key)}
        per_item = np.array([mass[k[0]] * share[k] / class_share[k[0]] / by_key[k] for k in by_key])
        probs = per_item[[index[k] for k in keys]]
        self.probs = probs / probs.sum() * (1 - self.reject_share * self.synthetic_share)

    @classmethod
    def load(cls, root: Path | None = None, *, exclude: Sequence[str] = ()) -> TrainingSet:
        """Read every source's training part once (about a minute), leaving out ``exclude``.

        ``exclude`` names sources (``"mathwriting"``, ...) to hold out whole, for a
        leave-one-source-out evaluation.
        """
        root = root or crohme.data_dir()
        images = [im for im in bhmsds_items(root) + mdas_items(root) if im.source not in exclude]
        ink = ink_items(dev=False) if "crohme" not in exclude else []
        available = extra.available(root)
        for name, loader in extra.SOURCES.items():
            if name in exclude or not available.get(name):
                continue
            for sample in loader(root):
                if sample.split != "train":
                    continue
                if isinstance(sample, extra.InkSample):
                    ink.append(
                        InkItem(_at_origin(sample.strokes), CLASS_INDEX[sample.label], None, name)
                    )
                else:
                    images.append(ImageItem(sample.mask, CLASS_INDEX[sample.label], name))
        return cls(ink=ink, images=images)

    def __len__(self) -> int:
        return len(self.ink) + len(self.images)

    def batch(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``size`` fresh samples: ``(size, 2, 32, 32)`` float32 inputs and int64 labels."""
        x = np.zeros((size, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32)
        y = np.zeros(size, np.int64)
        n_ink = len(self.ink)
        p_items = float(self.probs.sum())
        picks = rng.choice(len(self.probs), size=size, p=self.probs / p_items)
        synthetic = rng.random(size) > p_items
        for i in range(size):
            if synthetic[i]:
                mask, ref = synthetic_reject(rng)
                label = REJECT
            elif picks[i] < n_ink:
                item = self.ink[picks[i]]
                mask, ref = ink_sample(item, rng)
                label = item.label
            else:
                img = self.images[picks[i] - n_ink]
                mask, ref = image_sample(img, rng)
                label = img.label
            normalize_input(mask, ref_height=ref, out=x[i])
            y[i] = label
        return x, y

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Items per class and source (for the model card)."""
        out: dict[str, dict[str, int]] = {c: {} for c in CLASSES}
        for it in self.ink:
            d = out[CLASSES[it.label]]
            d[it.source] = d.get(it.source, 0) + 1
        for im in self.images:
            d = out[CLASSES[im.label]]
            d[im.source] = d.get(im.source, 0) + 1
        return out


def to_png_grid(x: np.ndarray, *, cols: int = 32) -> bytes:
    """A contact sheet of inputs (for eyeballing augmentation); PNG bytes."""
    n = len(x)
    rows = (n + cols - 1) // cols
    sheet = np.ones((rows * 34, cols * 34), np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        sheet[r * 34 + 1 : r * 34 + 33, c * 34 + 1 : c * 34 + 33] = 1 - x[i, 0]
    _, buf = cv2.imencode(".png", (sheet * 255).astype(np.uint8))
    return io.BytesIO(buf.tobytes()).getvalue()
