"""Training and validation data for the symbol classifier, read straight from the archives.

Every sample the network sees is the output of :func:`mathocr.normalize.normalize_input`,
called with a mask and a ``ref_height`` like the segmenter produces, so training goes
*through* the serving contract.

Sources (all under :func:`training.crohme.data_dir`, never unpacked):

* CROHME 2016 training inks: each symbol is kept as pen strokes and drawn afresh for
  every sample (pen width, scale, aspect, slant, rotation vary). ``ref_height`` is the
  expression's typical symbol height in rendered pixels, as the segmenter measures it:
  the median height of the expression's non-flat symbols.
* BHMSDS (28x28 black on white), MDAS (28x28 white on black) and MNIST t10k digits:
  isolated symbols, thresholded to a mask, with a plausible ``ref_height`` drawn per class
  (digits about their own height, ``+ × ÷`` smaller, ``-`` thin, dots small).
* Synthetic rejects: scribbles, ink blots and dust.

Writers listed in ``training/dev_writers.txt`` are never used for training: all their
symbols form the validation set (:func:`validation_set`).
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

from . import crohme

BHMSDS = "bhmsds-symbols.tar.gz"
MDAS = "mdas_symbols_v1.zip"
MNIST_IMAGES = "mnist-t10k-images-idx3-ubyte.gz"
MNIST_LABELS = "mnist-t10k-labels-idx1-ubyte.gz"
ARCHIVES = (crohme.ARCHIVE_NAME, BHMSDS, MDAS, MNIST_IMAGES, MNIST_LABELS)

REJECT = CLASS_INDEX["reject"]

#: CROHME labels that are none of our classes yet look too much like one of them to be
#: taught as ``reject`` (``o``/``0``, ``l``/``1``, ``X``/``×``, ``t``/``+``, ``s``/``5``,
#: ``z``/``2``, ``b``/``6``, ``g``/``9``, brackets/parentheses, ``\cdot``/``.`` ...).
#: They are left out entirely.
CROHME_SKIP = frozenset(
    {
        r"\cdot", r"\ldots", r"\prime", "o", "O", "l", "|", "I", "X", "t", "s", "S",
        "z", "b", "g", "q", "B", "G", "c", "C", "[", "]", r"\{", r"\}", "<", ">",
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
CROHME_ALIASES = {",": ".", "x": "×"}


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
    """One CROHME symbol: strokes moved to the origin, class, and the expression's typical height.

    ``typical`` is the median height (ink units) of the expression's non-flat symbols.
    """

    strokes: tuple[np.ndarray, ...]
    label: int
    typical: float


@dataclass(frozen=True, slots=True)
class ImageItem:
    """One isolated-symbol image as an ink mask (uint8 0/255), its class and source name."""

    mask: np.ndarray
    label: int
    source: str


def _non_flat_heights(symbols: Sequence[crohme.InkSymbol]) -> list[float]:
    heights = [s.bounds()[3] - s.bounds()[1] for s in symbols]
    top = max(heights)
    return [h for h in heights if h > 0.3 * top] or heights


def ink_items(*, dev: bool) -> list[InkItem]:
    """CROHME symbols of the training writers (``dev=False``) or held-out writers (``dev=True``)."""
    items = []
    for expr in crohme.load_expressions():
        if crohme.is_dev(expr) != dev:
            continue
        typical = float(np.median(_non_flat_heights(expr.symbols))) or 1.0
        for sym in expr.symbols:
            label = crohme_class(sym.label)
            if label is None:
                continue
            origin = np.concatenate(sym.strokes).min(axis=0)
            strokes = tuple((st - origin).astype(np.float32) for st in sym.strokes)
            items.append(InkItem(strokes, label, typical))
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


# --- drawing and augmentation ---------------------------------------------------


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


SLASH = CLASS_INDEX["/"]
#: A ``/`` is never made steeper than this by augmentation: shear and rotation turned
#: some slashes upright, which taught the network that a plain upright ``1`` is a ``/``.
MIN_SLASH_LEAN = 0.25


def _shape_matrix_for(
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


def _warp_mask(mask: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x2 linear map to a mask about its centre, growing the canvas to fit."""
    h, w = mask.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ matrix.T
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    size = np.ceil(hi - lo).astype(int) + 4
    affine = np.hstack([matrix, (-lo + 2)[:, None]]).astype(np.float32)
    out = cv2.warpAffine(mask, affine, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR)
    return np.where(out > 127, 255, 0).astype(np.uint8)


def _elastic(mask: np.ndarray, rng: np.random.Generator, *, amount: float) -> np.ndarray:
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
        mask = _elastic(mask, rng, amount=rng.uniform(0.02, 0.06))
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


# --- per-source sample makers ------------------------------------------------------


POINT = CLASS_INDEX["."]
#: Share of CROHME points drawn bold (CROHME pens make only fine points; phone
#: photos of marker or pressed-ballpoint writing show filled discs).
BOLD_POINT_SHARE = 0.3


def ink_sample(item: InkItem, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Draw one CROHME symbol at a random size and pen; returns (mask, ref_height)."""
    ref_px = float(np.exp(rng.uniform(np.log(18), np.log(90))))
    pen = max(1.0, ref_px * rng.uniform(0.03, 0.11))
    scale = max(ref_px - pen, 4.0) / item.typical
    # a small symbol (an exponent) keeps a pen that fits it; a tiny mark (a dot) does not
    own = float(max(np.ptp(np.concatenate(item.strokes), axis=0).max(), 1e-3)) * scale
    if own >= 0.25 * ref_px:
        pen = max(1.0, min(pen, 0.2 * own + 1.0))
    if item.label == POINT and rng.random() < BOLD_POINT_SHARE:
        # a point pressed hard or made with a marker: a filled disc up to a third of a digit
        pen = ref_px * rng.uniform(0.12, 0.32)
    slash = np.concatenate(item.strokes) if item.label == SLASH else None
    matrix = _shape_matrix_for(rng, aspect=0.15, slash=slash) * scale
    mask = draw_strokes(item.strokes, matrix=matrix, pen_width=pen)
    mask = degrade(mask, rng, stroke=pen)
    ref = (item.typical * scale + pen) * rng.uniform(0.9, 1.12)
    return mask, ref


#: For isolated symbols: the symbol's height as a fraction of the line's typical
#: symbol height (low, high), or for ``-`` its width.
RELATIVE_SIZE = {
    **{d: (0.85, 1.08) for d in "0123456789"},
    "+": (0.4, 1.05), "×": (0.5, 1.05), "÷": (0.7, 1.3), "/": (0.95, 1.6),
    "-": (0.4, 1.0), ".": (0.07, 0.32), "reject": (0.5, 1.4),
}  # fmt: skip


def image_sample(item: ImageItem, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """An isolated symbol with a random shape change and a plausible ``ref_height``."""
    cls = CLASSES[item.label]
    mask = item.mask
    ys, xs = np.nonzero(mask)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    aspect = 0.15
    if item.source == "bhmsds":
        # BHMSDS crops were stretched to fill the square: squeeze them back.
        squeeze = rng.uniform(0.25, 0.6) if cls == "1" else rng.uniform(0.6, 1.0)
        if cls in {"-", "."}:
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
    matrix = _shape_matrix_for(rng, aspect=aspect, slash=slash)
    mask = _warp_mask(np.pad(mask, 3), matrix)
    if not mask.any():
        mask = item.mask
    mask = degrade(mask, rng, stroke=3.0)
    ys, xs = np.nonzero(mask)
    h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
    lo, hi = RELATIVE_SIZE[cls]
    own = w if cls == "-" else h
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


@dataclass
class TrainingSet:
    """All training sources in memory, and how often each item is drawn."""

    ink: list[InkItem]
    images: list[ImageItem]
    reject_share: float = 0.15
    synthetic_share: float = 0.25
    probs: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        labels = [it.label for it in self.ink] + [it.label for it in self.images]
        is_ink = np.array([True] * len(self.ink) + [False] * len(self.images))
        labels_arr = np.array(labels)
        probs = np.zeros(len(labels), np.float64)
        counts = Counter(labels)
        # class mass grows slowly with its count, so rare classes are seen often
        mass = {c: n**0.35 for c, n in counts.items()}
        total = sum(v for c, v in mass.items() if c != REJECT)
        mass = {c: v / total * (1 - self.reject_share) for c, v in mass.items()}
        mass[REJECT] = self.reject_share * (1 - self.synthetic_share)
        for c in counts:
            in_c = labels_arr == c
            ink_c = in_c & is_ink
            img_c = in_c & ~is_ink
            # within a class the real writers' inks get 60 % when both kinds exist
            if ink_c.any() and img_c.any():
                probs[ink_c] = 0.6 * mass[c] / ink_c.sum()
                probs[img_c] = 0.4 * mass[c] / img_c.sum()
            else:
                probs[in_c] = mass[c] / in_c.sum()
        self.probs = probs / probs.sum() * (1 - self.reject_share * self.synthetic_share)

    @classmethod
    def load(cls, root: Path | None = None) -> TrainingSet:
        """Read every source once (about 20 s)."""
        root = root or crohme.data_dir()
        images = bhmsds_items(root) + mdas_items(root) + mnist_items(root)
        return cls(ink=ink_items(dev=False), images=images)

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
            d["crohme"] = d.get("crohme", 0) + 1
        for im in self.images:
            d = out[CLASSES[im.label]]
            d[im.source] = d.get(im.source, 0) + 1
        return out


# --- validation -----------------------------------------------------------------------

#: Canonical drawing of the held-out writers' symbols.
VAL_SYMBOL_HEIGHT = 48.0
VAL_PEN_WIDTH = 3.0


def validation_set(*, arithmetic_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every usable symbol of the held-out writers, normalised as the segmenter would.

    ``arithmetic_only`` keeps the symbols of plain arithmetic expressions only (what
    the resolver reads).

    Each expression is drawn with its typical symbol ``VAL_SYMBOL_HEIGHT`` px tall and a
    ``VAL_PEN_WIDTH`` px pen; ``ref_height`` is the median rendered height of the
    expression's non-flat symbols. Returns ``(N, 2, 32, 32)`` inputs and labels.
    """
    xs, ys = [], []
    for expr in crohme.load_expressions():
        if not crohme.is_dev(expr) or (arithmetic_only and not expr.is_arithmetic):
            continue
        typical = float(np.median(_non_flat_heights(expr.symbols))) or 1.0
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
            label = crohme_class(sym.label)
            if label is None:
                continue
            xs.append(normalize_input(m, ref_height=ref))
            ys.append(label)
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


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
