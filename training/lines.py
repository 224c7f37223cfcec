"""Whole lines of handwritten arithmetic for the line model (:mod:`mathocr.line_model`).

Three kinds of line, all from the training side (the development writers of
``training/dev_writers.txt`` never appear; :func:`split_writers` keeps a further
share of the other CROHME writers out for validation; the extra sources give only
their ``train`` split):

``crohme``
    A CROHME training writer's own arithmetic expression, drawn from its strokes
    with its own layout.
``composed``
    A sum written with one CROHME writer's symbols and gaps
    (:func:`training.compose.compose`): the composed benchmark's shapes, signs
    where a sign can stand, the multiplication dot (a point raised to the middle,
    labelled ``×``), square brackets and relations (``< > ≤ ≥ ≠``).
``mixed``
    The same shapes written with isolated symbols of every extra source (UNIPEN,
    pendigits, MathWriting, detypify inks; MNIST training, USPS, Semeion,
    optdigits bitmaps) and CROHME glyphs, each sized and placed as a CROHME
    writer's symbol of its class sat on their line, with gaps drawn from the
    writers' own, sometimes touching.

Each line is drawn at a random scale and pen width, slanted and turned a little,
blurred and thresholded (the ragged or broken strokes a photo's clean-up leaves),
and becomes the model's input through :func:`mathocr.line_model.line_image`, the
same function that prepares the service's lines. Labels run left to right.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from mathocr.line_model import REF_PIXELS, line_image
from mathocr.read import is_valid
from mathocr.symbols import CLASSES

from . import compose, crohme, extra

#: The labels the line model reads (CTC columns 1.. in this order; 0 is the blank).
ALPHABET: tuple[str, ...] = tuple(c for c in CLASSES if c != "reject")
#: Classes of the composed and mixed lines.
LINE_CLASSES = frozenset(ALPHABET)
#: The multiplication dot's token while a line is laid out (its label is ``×``).
DOT = "·"
#: How the lines are drawn from the three kinds.
KIND_WEIGHTS = {"crohme": 0.15, "composed": 0.5, "mixed": 0.35}
#: Share of the non-development CROHME writers kept out for validation.
VALIDATION_SHARE = 0.1
#: The extra sources' isolated symbols used in mixed lines.
EXTRA_SOURCES = {
    "unipen": extra.unipen,
    "pendigits": extra.pendigits,
    "mathwriting": extra.mathwriting,
    "detypify": extra.detypify,
    "mnist-train": extra.mnist_train,
    "usps": extra.usps,
    "semeion": extra.semeion,
    "optdigits": extra.optdigits,
}


@dataclass(frozen=True, slots=True)
class LineSample:
    """One training line: the model's input (float32, ink 1) and its labels."""

    image: np.ndarray
    labels: tuple[str, ...]
    kind: str


def split_writers(writers: Iterable[str], *, share: float = VALIDATION_SHARE) -> set[str]:
    """The writers kept out for validation: a stable share of ``writers`` by hash."""
    out = set()
    for w in writers:
        h = int(hashlib.sha256(w.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if h < share:
            out.add(w)
    return out


# --------------------------------------------------------------------------- tokens


def _number(rng: np.random.Generator, *, decimals: bool = True) -> list[str]:
    if decimals and rng.random() < 0.15:
        whole = str(int(rng.integers(0, 100)))
        return [*whole, ".", *(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(1, 3))))]
    digits = int(rng.choice([1, 2, 3, 4], p=[0.4, 0.35, 0.18, 0.07]))
    first = str(int(rng.integers(1, 10)))
    return [first, *(str(int(d)) for d in rng.integers(0, 10, digits - 1))]


#: Shapes of the lines beyond the composed benchmark's: ``±`` a sign, ``op`` any
#: operator, ``rel`` a relation, ``·`` the dot, ``r`` a number (not the answer: the
#: model reads what is written).
SHAPES = {
    "sum": 0.45,  # the composed benchmark's templates
    "±a op b = ±r": 0.08,
    "a op (±b) =": 0.06,
    "±a(±b) =": 0.04,
    "a · b =": 0.06,
    "a · b · c =": 0.03,
    "(a · b) op c =": 0.03,
    "[a op (b op c)] op d =": 0.04,
    "[a op b] · c =": 0.02,
    "a rel b": 0.06,
    "a op b rel c": 0.04,
    "a op b = c = d": 0.02,
    "a": 0.04,
    "a op b": 0.03,
}


def line_tokens(rng: np.random.Generator) -> list[str]:
    """The tokens of one valid line (``·`` for the dot), drawn from :data:`SHAPES`."""
    names = list(SHAPES)
    weights = np.array(list(SHAPES.values()))
    while True:
        name = str(rng.choice(names, p=weights / weights.sum()))
        if name == "sum":
            return compose.random_tokens(rng)[1]
        out: list[str] = []
        dotted = DOT in name
        for part in name.replace("(", " ( ").replace(")", " ) ").replace("[", " [ ").split():
            part = part.replace("]", " ]").strip()
            for piece in part.split():
                if piece.startswith("±"):
                    if rng.random() < 0.6:
                        out.append("-" if rng.random() < 0.7 else "+")
                    piece = piece[1:]
                if piece in ("a", "b", "c", "d", "r"):
                    out += _number(rng, decimals=not dotted)
                elif piece == "op":
                    out.append(str(rng.choice(compose.OPERATORS, p=compose.OPERATOR_WEIGHTS)))
                elif piece == "rel":
                    out.append(str(rng.choice(["<", ">", "≤", "≥", "≠", "="])))
                else:
                    out.append(piece)
        labels = ["×" if t == DOT else t for t in out]
        if is_valid(labels):
            return out


def labels_of(tokens: Sequence[str]) -> tuple[str, ...]:
    """The model's labels of ``tokens`` (the dot is ``×``)."""
    return tuple("×" if t == DOT else t for t in tokens)


# --------------------------------------------------------------------------- drawing

Item = tuple[str, object, float, float, float, float]
"""A placed symbol: (kind "ink" or "bitmap", strokes or mask, x0, y0, x1, y1) in
typical heights, y down from the line's middle."""


def _ink_items(symbols: Sequence[crohme.InkSymbol], height: float, middle: float) -> list:
    out = []
    for s in symbols:
        strokes = tuple((st - np.array([0.0, middle])) / height for st in s.strokes)
        pts = np.concatenate(strokes)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        out.append(("ink", strokes, x0, y0, x1, y1))
    return out


def draw_items(items: Sequence[Item], rng: np.random.Generator) -> np.ndarray | None:
    """Draw placed symbols as a photo's clean-up would leave them; the model's input."""
    ref = REF_PIXELS * float(rng.uniform(0.7, 2.6))
    pen = max(1.0, ref * float(rng.uniform(0.05, 0.15)))
    x0 = min(it[2] for it in items)
    y0 = min(it[3] for it in items)
    x1 = max(it[4] for it in items)
    y1 = max(it[5] for it in items)
    margin = 0.5
    width = int((x1 - x0 + 2 * margin) * ref) + 1
    height = int((y1 - y0 + 2 * margin) * ref) + 1
    if width * height > 4_000_000:
        return None
    canvas = np.zeros((height, width), np.uint8)
    origin = np.array([x0 - margin, y0 - margin])
    shift = 4
    for kind, payload, a0, b0, a1, b1 in items:
        if kind == "ink":
            for st in payload:  # type: ignore[attr-defined]
                pts = (st - origin) * ref
                w = max(1, round(pen * float(rng.uniform(0.85, 1.15))))
                poly = np.round(pts * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
                if len(st) == 1:
                    c = tuple(int(v) for v in poly[0, 0])
                    cv2.circle(canvas, c, max(1, w // 2) << shift, 255, -1, cv2.LINE_AA, shift)
                else:
                    cv2.polylines(canvas, [poly], False, 255, w, cv2.LINE_AA, shift)
        else:
            mask = np.asarray(payload, np.uint8) * 255
            px0, py0 = int((a0 - origin[0]) * ref), int((b0 - origin[1]) * ref)
            pw, ph = max(1, int((a1 - a0) * ref)), max(1, int((b1 - b0) * ref))
            patch = cv2.resize(mask, (pw, ph), interpolation=cv2.INTER_AREA)
            region = canvas[py0 : py0 + ph, px0 : px0 + pw]
            np.maximum(region, patch[: region.shape[0], : region.shape[1]], out=region)
    # slant and turn the whole line a little
    angle = math.radians(float(rng.uniform(-3, 3)))
    slant = float(rng.uniform(-0.25, 0.25))
    c, s = math.cos(angle), math.sin(angle)
    linear = np.array([[c, -s + slant], [s, c]], np.float64)
    centre = np.array([width / 2, height / 2])
    matrix = np.hstack([linear, (centre - linear @ centre)[:, None]])
    grown = int(abs(slant) * height) + 2
    matrix[0, 2] += grown / 2
    canvas = cv2.warpAffine(canvas, matrix, (width + grown, height), flags=cv2.INTER_LINEAR)
    # blur and threshold: thinner, thicker, ragged or broken strokes
    sigma = float(rng.uniform(0.0, 0.9)) * ref / REF_PIXELS
    gray = canvas.astype(np.float32) / 255.0
    if sigma > 0.3:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma)
    gray += rng.normal(0.0, float(rng.uniform(0.0, 0.08)), gray.shape).astype(np.float32)
    ink = gray > float(rng.uniform(0.35, 0.6))
    if rng.random() < 0.15:  # a speck or two near the writing
        for _ in range(int(rng.integers(1, 3))):
            y, x = int(rng.integers(0, ink.shape[0])), int(rng.integers(0, ink.shape[1]))
            r = max(1, int(pen * rng.uniform(0.3, 0.8)))
            cv2.circle(ink.view(np.uint8), (x, y), r, 1, -1)
    return line_image(ink)


# --------------------------------------------------------------------------- sources


class LineSources:
    """The symbols and gaps that lines are made of, read once; :meth:`sample` draws one.

    ``validation`` gives the lines of the CROHME writers kept out by
    :func:`split_writers` (and the extra sources' isolated symbols all the same:
    they are only used with sizes from the training writers).
    """

    def __init__(self, *, validation: bool = False, extra_sources: bool = True) -> None:
        expressions = [e for e in crohme.load_expressions() if not crohme.is_dev(e)]
        held = split_writers({e.writer for e in expressions})
        self.expressions = [e for e in expressions if (e.writer in held) == validation]
        self.whole = [e for e in self.expressions if e.is_arithmetic]
        self.pools = compose.writer_glyphs(self.expressions, classes=LINE_CLASSES)
        # gaps are a layout statistic of all the non-development writers (the validation
        # writers alone write too few arithmetic lines to have every kind)
        self.gaps = compose.writer_gaps(expressions)
        self.extra_sources = extra_sources
        #: Symbols taken from each extra source (filled when :attr:`isolated` is read).
        self.counts: dict[str, int] = {}

    @cached_property
    def sizes(self) -> dict[str, np.ndarray]:
        """Per class, the boxes ``(x0, y0, x1, y1)`` its CROHME glyphs take on their line."""
        out: dict[str, list[tuple[float, ...]]] = defaultdict(list)
        for glyphs in self.pools.values():
            for label, options in glyphs.items():
                for g in options:
                    pts = np.concatenate(g)
                    out[label].append((*pts.min(axis=0), *pts.max(axis=0)))
        return {k: np.array(v) for k, v in out.items()}

    @cached_property
    def isolated(self) -> dict[str, list[tuple[str, object]]]:
        """Per class, the extra sources' symbols (``("ink", strokes)`` / ``("bitmap", mask)``)."""
        out: dict[str, list[tuple[str, object]]] = defaultdict(list)
        if not self.extra_sources:
            return out
        have = extra.available()
        for name, load in EXTRA_SOURCES.items():
            if not have.get(name):
                continue
            used = 0
            for item in load():
                if item.split == "train" and item.label in LINE_CLASSES:
                    if isinstance(item, extra.InkSample):
                        out[item.label].append(("ink", item.strokes))
                    else:
                        out[item.label].append(("bitmap", item.mask > 0))
                    used += 1
            self.counts[name] = used
        return out

    def census(self) -> dict[str, dict[str, int]]:
        """What the lines are made of: per source, its writers and symbols (or lines)."""
        glyphs = sum(len(v) for w in self.pools.values() for v in w.values())
        out = {
            "crohme": {
                "writers": len({e.writer for e in self.expressions}),
                "arithmetic_lines": len(self.whole),
                "glyphs": glyphs,
            }
        }
        _ = self.isolated
        out.update({name: {"symbols": n} for name, n in self.counts.items()})
        return out

    def sample(self, rng: np.random.Generator) -> LineSample | None:
        """One line (``None`` when the draw could not be made: try again)."""
        kinds = list(KIND_WEIGHTS)
        kind = str(rng.choice(kinds, p=list(KIND_WEIGHTS.values())))
        if kind == "mixed" and not self.isolated:
            kind = "composed"
        if kind == "crohme" and self.whole:
            expr = self.whole[int(rng.integers(len(self.whole)))]
            order = sorted(expr.symbols, key=lambda s: (s.bounds()[0] + s.bounds()[2]) / 2)
            labels = tuple(compose.RELATION_NAMES.get(s.label, s.label) for s in order)
            if not all(lab in LINE_CLASSES for lab in labels):
                return None
            middle = compose.line_middle([s.bounds() for s in order])
            items = _ink_items(order, crohme.typical_height(order), middle)
        else:
            tokens = line_tokens(rng)
            labels = labels_of(tokens)
            made = self._composed(tokens, rng) if kind == "composed" else self._mixed(tokens, rng)
            if made is None:
                return None
            items = made
        image = draw_items(items, rng)
        return None if image is None else LineSample(image, labels, kind)

    def _composed(self, tokens: Sequence[str], rng: np.random.Generator) -> list | None:
        needed = {"." if t == DOT else t for t in tokens}
        writers = [w for w, g in self.pools.items() if all(g.get(t) for t in needed)]
        if not writers:
            return None
        glyphs = dict(self.pools[writers[int(rng.integers(len(writers)))]])
        if DOT in tokens:
            glyphs[DOT] = [compose.raised_point(g, rng) for g in glyphs["."]]
        symbols = compose.compose(tokens, glyphs, self.gaps, rng)
        return _ink_items(symbols, 1.0, 0.0)

    def _mixed(self, tokens: Sequence[str], rng: np.random.Generator) -> list | None:
        items: list = []
        cursor = 0.0
        previous = ""
        for token in tokens:
            label = "." if token == DOT else token
            boxes = self.sizes.get(label)
            if boxes is None or not len(boxes):
                return None
            bx0, by0, bx1, by1 = boxes[int(rng.integers(len(boxes)))]
            if token == DOT:
                by0, by1 = -(by1 - by0) / 2, (by1 - by0) / 2
            options = self.isolated.get(label)
            use_iso = bool(options) and rng.random() < 0.8
            if use_iso:
                kind, payload = options[int(rng.integers(len(options)))]  # type: ignore[index]
            else:
                pool = [g for w in self.pools.values() for g in w.get(label, ())]
                kind, payload = "ink", pool[int(rng.integers(len(pool)))]
            pool_gaps = self.gaps[compose.gap_kind(previous, label)]
            gap = float(pool_gaps[int(rng.integers(len(pool_gaps)))]) if previous else 0.0
            gap *= float(rng.uniform(0.7, 1.4))
            if previous and rng.random() < 0.12:
                gap = float(rng.uniform(-0.08, 0.03))  # touching neighbours
            item = _fit(kind, payload, bx1 - bx0, by1 - by0, by0, label)
            if item is None:
                return None
            k, p, w, y0, y1 = item
            x0 = cursor + max(gap, -0.3 * w)
            items.append((k, p if k == "bitmap" else _moved(p, x0, y0), x0, y0, x0 + w, y1))
            cursor = x0 + w
            previous = label
        return items


def _moved(strokes: object, x0: float, y0: float) -> tuple[np.ndarray, ...]:
    """Unit-box strokes (from :func:`_fit`) placed at ``(x0, y0)``."""
    return tuple(st + np.array([x0, y0]) for st in strokes)  # type: ignore[attr-defined]


def _fit(
    kind: str, payload: object, w: float, h: float, y0: float, label: str
) -> tuple[str, object, float, float, float] | None:
    """An isolated symbol sized to a CROHME box of its class: ``(kind, payload in
    box units from its top-left, width, y0, y1)``; flat symbols keep the box's width,
    the others its height (their own aspect)."""
    flat = label in (".", DOT)
    if kind == "ink":
        pts = np.concatenate(payload)  # type: ignore[call-overload]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        sw, sh = max(hi[0] - lo[0], 1e-6), max(hi[1] - lo[1], 1e-6)
    else:
        mask = np.asarray(payload)
        sh, sw = mask.shape
        lo = np.zeros(2)
    k = h / sh  # the box's height, the symbol's own aspect
    if label in ("-", "="):
        k = w / sw
    elif flat:
        k = max(w, h) / max(sw, sh)
    width, height = sw * k, sh * k
    if width > 3.0 or height > 3.0 or width <= 0 or height <= 0:
        return None
    centre = y0 + h / 2
    top = centre - height / 2
    if kind == "ink":
        strokes = tuple((st - lo) * k for st in payload)  # type: ignore[attr-defined]
        return "ink", strokes, width, top, top + height
    return "bitmap", payload, width, top, top + height
