"""Lines of arithmetic composed from one writer's own symbols, laid out as writers space them.

The writers' symbols (:func:`writer_glyphs`: each kept at its size relative to its
expression's typical height and at its height about that expression's middle line),
the gaps they leave between neighbours (:func:`writer_gaps`, by :func:`gap_kind`) and
the layout (:func:`compose`: left to right, a symbol moved right until its pen line is
:data:`CLEARANCE` from its neighbours'). Used by the composed benchmarks (with the
held-out writers) and by the line model's training lines (with the others).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from mathocr.compute import solve

from . import crohme

DIGITS = "0123456789"
OPERATORS = ("+", "-", "×", "÷", "/")
#: How often each operator is drawn (``÷`` and ``/`` are rarer on paper).
OPERATOR_WEIGHTS = (0.25, 0.25, 0.25, 0.125, 0.125)
#: Expression shapes and how often each is drawn.
TEMPLATES = {
    "a op b =": 0.30,
    "a op b op c =": 0.25,
    "(a op b) op c =": 0.15,
    "a op (b op c) =": 0.10,
    "a op b = r": 0.20,
}
#: Least distance between the pen lines of neighbours, in typical heights (about
#: 0.1 of clear paper between the inks at the benchmark's pen widths).
CLEARANCE = 0.15

Glyph = tuple[np.ndarray, ...]
"""One drawn symbol's strokes: x from 0 at its left edge, y from its line's middle,
both in units of its expression's typical symbol height."""


def usable(label: str, w: float, h: float, centre: float) -> bool:
    """Whether a symbol (size and centre offset in typical heights) sat on the main line."""
    if label == ".":
        return max(w, h) <= 0.3 and 0.0 <= centre <= 0.8
    if abs(centre) > 0.35:
        return False
    if label in DIGITS:
        return 0.6 <= h <= 1.5
    if label in "()[]/":
        return 0.7 <= h <= 2.0
    if label == "-":
        return 0.2 <= w <= 1.2 and h <= 0.3
    if label == "=":
        return 0.25 <= w <= 1.2 and h <= 0.8
    return 0.25 <= max(w, h) <= 1.2  # + × ÷ < > ≤ ≥ ≠


#: The classes of the composed sums.
SUM_CLASSES = frozenset(DIGITS) | frozenset(OPERATORS) | frozenset("=().")
#: CROHME's names of relations, as our classes.
RELATION_NAMES = {r"\leq": "≤", r"\geq": "≥", r"\neq": "≠"}
#: A raised point's centre lies within this many typical heights of the line's middle.
DOT_JITTER = 0.08


def line_middle(bounds: Sequence[tuple[float, float, float, float]]) -> float:
    """The middle of an expression's line: the median centre of its symbols
    (``(x0, y0, x1, y1)``) that are over 0.3 as tall as the tallest."""
    tallest = max(y1 - y0 for _, y0, _, y1 in bounds)
    return float(np.median([(y0 + y1) / 2 for _, y0, _, y1 in bounds if y1 - y0 > 0.3 * tallest]))


def raised_point(glyph: Glyph, rng: np.random.Generator, *, jitter: float = DOT_JITTER) -> Glyph:
    """A point (a glyph of ``.``) moved up to the line's middle, within ``jitter``: the
    multiplication dot."""
    pts = np.concatenate(glyph)
    centre = (pts[:, 1].min() + pts[:, 1].max()) / 2
    lift = np.array([0.0, rng.uniform(-jitter, jitter) - centre])
    return tuple(st + lift for st in glyph)


def writer_glyphs(
    expressions_: Iterable[crohme.InkExpression],
    *,
    classes: Iterable[str] = SUM_CLASSES,
) -> dict[str, dict[str, list[Glyph]]]:
    """Per writer and class (of ``classes``), the symbols usable on a single line
    (see :func:`usable`)."""
    classes = frozenset(classes)
    pools: dict[str, dict[str, list[Glyph]]] = defaultdict(lambda: defaultdict(list))
    for expr in expressions_:
        bounds = [s.bounds() for s in expr.symbols]
        height = crohme.typical_height(expr.symbols)
        middle = line_middle(bounds)
        for sym, (x0, y0, x1, y1) in zip(expr.symbols, bounds, strict=True):
            w, h = (x1 - x0) / height, (y1 - y0) / height
            centre = ((y0 + y1) / 2 - middle) / height
            label = RELATION_NAMES.get(sym.label, sym.label)
            if label in classes and usable(label, w, h, centre):
                origin = np.array([x0, middle])
                glyph = tuple((st - origin) / height for st in sym.strokes)
                pools[expr.writer][label].append(glyph)
    return {w: dict(c) for w, c in pools.items()}


def pick_writer(
    pools: dict[str, dict[str, list[Glyph]]], needed: Iterable[str], rng: np.random.Generator
) -> str | None:
    """One writer of ``pools`` (:func:`writer_glyphs`) who drew every class of ``needed``,
    drawn from ``rng`` (no draw when there is none: ``None``)."""
    needed = frozenset(needed)
    writers = sorted(w for w, g in pools.items() if all(g.get(t) for t in needed))
    return writers[int(rng.integers(len(writers)))] if writers else None


def gap_kind(left: str, right: str) -> str:
    if left in DIGITS and right in DIGITS:
        return "digit-digit"
    if left in DIGITS and right == ".":
        return "digit-point"
    if left == "." and right in DIGITS:
        return "point-digit"
    return "other"


def writer_gaps(expressions_: Iterable[crohme.InkExpression]) -> dict[str, np.ndarray]:
    """Horizontal gaps (in typical heights) between neighbours in the writers' own
    arithmetic expressions, by :func:`gap_kind`."""
    gaps: dict[str, list[float]] = defaultdict(list)
    for expr in expressions_:
        if not expr.is_arithmetic:
            continue
        height = crohme.typical_height(expr.symbols)
        ordered = sorted(((s.bounds(), s.label) for s in expr.symbols), key=lambda b: b[0][0])
        for (a, left), (b, right) in itertools.pairwise(ordered):
            gaps[gap_kind(left, right)].append((b[0] - a[2]) / height)
    return {k: np.array(v) for k, v in gaps.items()}


def number(rng: np.random.Generator) -> list[str]:
    if rng.random() < 0.15:  # a decimal such as 2.5 or 13.7
        whole = str(int(rng.integers(0, 100)))
        return [*whole, ".", str(int(rng.integers(1, 10)))]
    digits = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
    first = str(int(rng.integers(1, 10)))
    return [first, *(str(int(d)) for d in rng.integers(0, 10, digits - 1))]


def random_tokens(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A template name and the symbols of one solvable expression of that shape."""
    names = list(TEMPLATES)
    while True:
        name = str(rng.choice(names, p=list(TEMPLATES.values())))
        out: list[str] = []
        for part in name.replace("(", "( ").replace(")", " )").split():
            if part in ("a", "b", "c"):
                out += number(rng)
            elif part == "op":
                out.append(str(rng.choice(OPERATORS, p=OPERATOR_WEIGHTS)))
            elif part != "r":
                out.append(part)
        if name.endswith("= r"):
            answer = solve(out).result_decimal
            if answer is None or len(answer.replace("-", "").replace(".", "")) > 5:
                continue
            if "." in answer and len(answer.split(".")[1]) > 2:
                continue  # not written exactly: a rounded answer is another verdict
            out += list(answer)
        elif solve(out).status != "solved":
            continue  # 7 ÷ 0 =
        return name, out


def dense(strokes: Sequence[np.ndarray], step: float = 0.02) -> np.ndarray:
    """Points along the strokes' pen lines, at most ``step`` apart (pen samples can be
    sparse, and the line between two of them can pass nearer than either)."""
    out = []
    for st in strokes:
        out.append(st[:1])
        for p, q in itertools.pairwise(st):
            n = max(1, int(np.ceil(np.hypot(*(q - p)) / step)))
            out.append(p + (q - p) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def nearest(a: np.ndarray, b: np.ndarray) -> float:
    """Least distance between two point sets."""
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return float(np.sqrt(d.min()))


def compose(
    tokens: Sequence[str],
    glyphs: dict[str, list[Glyph]],
    gaps: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[crohme.InkSymbol, ...]:
    """Lay out one glyph per token left to right, chosen from one writer's ``glyphs``,
    with gaps drawn from ``gaps`` (see :func:`writer_gaps`)."""
    placed = []
    placed_points: list[np.ndarray] = []  # each placed symbol's densified pen lines
    cursor = 0.0
    previous = ""
    for label in tokens:
        options = glyphs[label]
        glyph = options[int(rng.integers(len(options)))]
        pool = gaps[gap_kind(previous, label)]
        gap = float(pool[int(rng.integers(len(pool)))]) if previous else 0.0
        points = dense(glyph)
        if placed:
            left = np.concatenate(placed_points[-2:])
            x = cursor + gap
            for _ in range(20):  # each step closes the shortfall; a few suffice
                near = nearest(points + np.array([x, 0.0]), left)
                if near >= CLEARANCE:
                    break
                x += CLEARANCE - near + 1e-3
            gap = x - cursor
        strokes = tuple(st + np.array([cursor + gap, 0.0]) for st in glyph)
        placed_points.append(dense(strokes))
        width = float(max(st[:, 0].max() for st in glyph))
        cursor += gap + width
        previous = label
        placed.append(crohme.InkSymbol(label, strokes))
    return tuple(placed)
