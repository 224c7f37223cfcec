"""Harder variants of the composed sums (issue 14): uncropped frames, grid papers, signs and dots.

Each variant writes sums with the symbols of one held-out writer at a time
(``training/dev_writers.txt``, as :mod:`benchmarks.composed` does; never a CROHME
*test* set) and scores them exactly as the composed benchmark does: exact
expression, exact result, each failure blamed on one stage, and the confidence's
calibration (:func:`benchmarks.expressions.confidence_report`).

``uncropped``
    :func:`benchmarks.composed.composed_expressions`, each placed off-centre in a
    phone-photo frame of 2-12 MP (4:3 or 16:9, portrait or landscape), the writing
    5-40 % of the frame's width (never under :data:`MIN_SYMBOL_HEIGHT` pixels a
    symbol), slightly tilted. Around it: specks, dust and hairs on the paper (none
    within half a symbol of the writing); the sheet's edge crossing the frame with
    the table beyond (wood grain or a uniform dark colour); a dark strip along one
    or two image edges; a keyboard-like grid of dark rounded keys in a corner;
    printed text lines far from the writing; uneven light, a vignette and a hand or
    phone shadow (a large soft dark blob). Blur, sensor noise, JPEG quality 80-92
    (lowered if needed to stay under the service's 10 MB upload limit).
``grids``
    The same composed expressions in the photo look of
    :func:`benchmarks.photolook.photo_look` on the papers of
    :data:`benchmarks.photolook.GRID_PAPERS`, in turn by index: blue squared paper,
    grey squared paper (various spacings, line widths, some with bolder lines every 2
    or 5), dotted notebook paper, ruled paper with a red margin line, and pencil
    (grey, lower contrast) on blue or grey squared paper.
``unary_dot``
    Sums built with signs and the multiplication dot (:data:`UNARY_DOT_TEMPLATES`):
    a leading ``+``/``-`` (``+1-1+1=+1``, ``-3+5=``), a sign after ``(`` (``2×(-3)=``,
    ``+2(-2)=``) and after ``=`` (``5-8=-3``), and ``3·4=``, ``(2·7·1)=``. The dot is
    one of that writer's own points (``.``), raised to the middle of the line (within
    :data:`DOT_JITTER` typical heights) and spaced as the writers space operators;
    its symbol label is ``·`` and its truth ``×`` (ASCII ``*``). Drawn in the plain
    photo look of the composed benchmark. The truth result is what ``compute``
    gives once each unary ``+`` is dropped (:func:`canonical_labels`), so it does not
    depend on whether the reader accepts the new signs yet.
``relations``
    Comparisons and square brackets (:data:`RELATION_TEMPLATES`): ``a < b``,
    ``a op b ≥ c`` (each of ``< > ≤ ≥ ≠``, true or false as the numbers fall),
    ``[a op b] op c =``, ``a op [b op c] =`` and ``[(a op b) op c] =``, written by the
    held-out writers who drew those symbols in their own expressions (CROHME's
    ``lt gt leq geq neq [ ]``), in the plain photo look. A comparison's truth
    result is its left side's value, as ``compute`` gives it.
``answers``
    Equations with their answer written, right or wrong (:data:`ANSWER_TEMPLATES`):
    ``a op b = r`` with the right ``r``, and with a wrong one as pupils write them
    (one digit of the answer changed, or the answer off by 1 or by 10). The answer
    prior (:mod:`mathocr.truth`) must read the right ones better and leave the wrong
    ones wrong: the breakdown gives each shape's exact rate. Plain photo look.

Blame is the development benchmark's, with two additions: a recognition that runs
out of time is a failure of stage ``timeout`` (counted apart from the three
stages), and a dot is rightly classified as ``.`` or ``×`` but rightly read only as
``×``. The seconds per image are those of :meth:`mathocr.Recognizer.analyze`
alone (decoding included, drawing not).

Usage::

    python benchmarks/variants.py [--variant uncropped|grids|unary_dot|relations|answers|all]
        [--n 200]
        [--seed 1] [--json] [--failures] [--model PATH] [--save DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import string
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from fractions import Fraction
from functools import cache
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import composed, expressions  # noqa: E402
from benchmarks.lineoption import add_line_option, line_option  # noqa: E402
from benchmarks.photolook import INKS, photo_look, turned_boxes  # noqa: E402
from mathocr.compute import solve  # noqa: E402
from mathocr.errors import RecognitionTimeout  # noqa: E402
from mathocr.symbols import CLASSES  # noqa: E402
from training import compose, crohme  # noqa: E402

VARIANTS = ("uncropped", "grids", "unary_dot", "relations", "answers")
#: The service's default upload limit (``IMAGE_MAX_BYTES``).
IMAGE_MAX_BYTES = 10 * 1024 * 1024
#: Images ``--save`` writes per variant.
SAVE_COUNT = 6

# --- uncropped --------------------------------------------------------------------

FRAME_MEGAPIXELS = (2.0, 12.0)
ASPECTS = (4 / 3, 16 / 9)
#: Share of the frame's width the writing spans.
WRITING_WIDTH = (0.05, 0.40)
#: Least typical symbol height in pixels (the writing is made wider if need be).
MIN_SYMBOL_HEIGHT = 24.0
JPEG_QUALITY = (80, 92)
#: The writing's ink box keeps this share of the frame's short side from its edges.
EDGE_MARGIN = 0.1
_SIDES = ("left", "right", "top", "bottom")

# --- grids ------------------------------------------------------------------------

#: The grids variant's papers, in turn by index: (name, photolook paper, ink or None).
GRID_KINDS = (
    ("squared-blue", "grid-blue", None),
    ("squared-grey", "grid-grey", None),
    ("dotted", "dotted", None),
    ("ruled-margin", "ruled-margin", None),
    ("pencil-squared", None, "pencil"),  # paper: grid-blue or grid-grey, drawn
)

# --- unary signs and the dot ------------------------------------------------------

#: Expression shapes and how often each is drawn. ``±`` is a written sign (``+`` or
#: ``-``), ``pm`` a binary ``+``/``-``, ``op`` any of the composed operators, ``·``
#: the multiplication dot, ``r`` the answer and ``±r`` the answer with its sign.
UNARY_DOT_TEMPLATES = {
    "±a op b =": 0.14,
    "±a pm b pm c = ±r": 0.14,
    "a op (±b) =": 0.14,
    "±a(±b) =": 0.10,
    "a pm b = ±r": 0.10,
    "a · b =": 0.12,
    "a · b · c =": 0.08,
    "(a · b · c) =": 0.06,
    "a · (b pm c) =": 0.06,
    "±a · b = r": 0.06,
}
#: The dot's centre lies within this many typical heights of the line's middle.
DOT_JITTER = compose.DOT_JITTER
DOT = "·"
_UNARY_BEFORE = (None, "(", "=")
_LATEX = {"×": r"\times", "÷": r"\div", DOT: r"\times"}

# --- comparisons and square brackets ---------------------------------------------

#: Expression shapes and how often each is drawn (``rel`` one of :data:`RELATIONS`).
RELATION_TEMPLATES = {
    "a rel b": 0.3,
    "a op b rel c": 0.25,
    "[a op b] op c =": 0.15,
    "a op [b op c] =": 0.15,
    "[(a op b) op c] =": 0.15,
}
RELATIONS = ("<", ">", "≤", "≥", "≠")
# --- answers right and wrong -----------------------------------------------------

#: Expression shapes and how often each is drawn: the right answer, and a wrong one
#: (``r'``: :func:`wrong_answer`).
ANSWER_TEMPLATES = {"a op b = r": 0.5, "a op b = r'": 0.5}

#: How the truth writes a relation (the recognizer's ASCII: ``<=``, ``>=``, ``!=``).
_RELATION_ASCII = {"≤": "<=", "≥": ">=", "≠": "!="}


# ================================================================ expressions


def _integer(rng: np.random.Generator) -> list[str]:
    digits = int(rng.choice([1, 2, 3], p=[0.5, 0.4, 0.1]))
    first = str(int(rng.integers(1, 10)))
    return [first, *(str(int(d)) for d in rng.integers(0, 10, digits - 1))]


def canonical_labels(labels: Sequence[str]) -> list[str]:
    """The labels as ``compute`` reads them today: the dot as ``×``, and each unary
    ``+`` (at the start, after ``(`` or after ``=``) dropped, since it changes nothing."""
    out: list[str] = []
    previous: str | None = None
    for label in labels:
        if not (label == "+" and previous in _UNARY_BEFORE):
            out.append("×" if label == DOT else label)
        previous = label
    return out


def expected_ascii(labels: Sequence[str]) -> str:
    """The truth in the recognizer's ASCII: ``×`` and the dot as ``*``, ``÷`` as ``/``."""
    return "".join({"×": "*", DOT: "*", "÷": "/"}.get(t, t) for t in labels)


def expected_result(labels: Sequence[str]) -> str | None:
    """The truth's result, computed on :func:`canonical_labels`."""
    return solve(canonical_labels(labels)).result


def _answer(tokens: list[str]) -> str | None:
    """The exact answer of ``tokens`` (without its ``=``) as written, or None when it
    is long or not written exactly (see :func:`training.compose.random_tokens`)."""
    answer = solve([*canonical_labels(tokens), "="]).result_decimal
    if answer is None or len(answer.replace("-", "").replace(".", "")) > 5:
        return None
    if "." in answer and len(answer.split(".")[1]) > 2:
        return None
    return answer


def _left_side(name: str, rng: np.random.Generator) -> list[str]:
    """The template ``name`` up to its ``=`` (included), its numbers and signs drawn."""
    dotted = DOT in name
    out: list[str] = []
    spaced = name.replace("(", " ( ").replace(")", " ) ").split()
    for part in spaced[: spaced.index("=")]:
        if part.startswith("±"):
            out.append("+" if rng.random() < 0.5 else "-")
            part = part[1:]
        if part in ("a", "b", "c"):
            out += _integer(rng) if dotted else compose.number(rng)
        elif part == "op":
            out.append(str(rng.choice(compose.OPERATORS, p=compose.OPERATOR_WEIGHTS)))
        elif part == "pm":
            out.append("+" if rng.random() < 0.5 else "-")
        else:
            out.append(part)
    out.append("=")
    return out


def _template(templates: dict[str, float], rng: np.random.Generator) -> str:
    """One template name of ``templates``, drawn by their weights."""
    weights = np.array(list(templates.values()))
    return str(rng.choice(list(templates), p=weights / weights.sum()))


def unary_dot_tokens(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A template name of :data:`UNARY_DOT_TEMPLATES` and one solvable expression of it."""
    while True:
        name = _template(UNARY_DOT_TEMPLATES, rng)
        out = _left_side(name, rng)
        if name.endswith("r"):
            answer = _answer(out[:-1])
            if answer is None or answer == "0":
                continue
            if name.endswith("±r") and not answer.startswith("-"):
                if rng.random() < 0.5:
                    continue  # more negative answers: 5 - 8 = -3
                answer = "+" + answer
            out += list(answer)
            if solve(canonical_labels(out)).verdict is not True:
                continue  # pragma: no cover - the answer was computed from the left side
        elif solve(canonical_labels(out)).status != "solved":
            continue  # 7 ÷ 0 =
        return name, out


def _relation_of(truth: str) -> str | None:
    """The relation of an expression in the recognizer's ASCII (``4<=9``: ``≤``)."""
    for rel, text in _RELATION_ASCII.items():
        if text in truth:
            return rel
    return next((rel for rel in "<>" if rel in truth), None)


def relation_tokens(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A template name of :data:`RELATION_TEMPLATES` and one solvable expression of it."""
    while True:
        name = _template(RELATION_TEMPLATES, rng)
        out: list[str] = []
        for part in (
            name.replace("(", " ( ")
            .replace("[", " [ ")
            .replace(")", " ) ")
            .replace("]", " ] ")
            .split()
        ):
            if part in ("a", "b", "c"):
                out += compose.number(rng)
            elif part == "op":
                out.append(str(rng.choice(compose.OPERATORS, p=compose.OPERATOR_WEIGHTS)))
            elif part == "rel":
                out.append(str(rng.choice(RELATIONS)))
            else:
                out.append(part)
        if solve(out).status == "solved":  # not 7 ÷ 0
            return name, out


def wrong_answer(answer: str, rng: np.random.Generator) -> str:
    """A wrong answer near ``answer`` as a pupil might write it: one of its digits
    changed (half the time), or the answer off by 1 or by 10 either way; never
    ``answer`` itself, never with a leading zero."""
    while True:
        if rng.random() < 0.5:
            places = [k for k, c in enumerate(answer) if c.isdigit()]
            k = int(rng.choice(places))
            chars = list(answer)
            chars[k] = str(int(rng.integers(0, 10)))
            wrong = "".join(chars)
        else:
            step = Fraction(int(rng.choice([1, 10])) * int(rng.choice([-1, 1])))
            wrong = solve([*answer, "+" if step > 0 else "-", *str(abs(step)), "="]).result_decimal
        digits = wrong.lstrip("-")
        leading_zero = len(digits) > 1 and digits[0] == "0" and digits[1] != "."
        if wrong and wrong != answer and not leading_zero and wrong != "-0":
            return wrong


def answer_tokens(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A template name of :data:`ANSWER_TEMPLATES` and one equation of it."""
    while True:
        name = _template(ANSWER_TEMPLATES, rng)
        out = [*compose.number(rng)]
        out.append(str(rng.choice(compose.OPERATORS, p=compose.OPERATOR_WEIGHTS)))
        out += compose.number(rng)
        answer = _answer(out)
        if answer is None:
            continue
        if name.endswith("'"):
            answer = wrong_answer(answer, rng)
        return name, [*out, "=", *answer]


def answer_expressions(
    n: int,
    *,
    seed: int = composed.DEFAULT_SEED,
    writers: Sequence[crohme.InkExpression] | None = None,
    gaps: dict[str, np.ndarray] | None = None,
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs of :data:`ANSWER_TEMPLATES`, each written with
    one held-out writer's symbols (laid out by :func:`training.compose.compose`;
    ``writers`` and ``gaps`` as for :func:`benchmarks.composed.composed_expressions`)."""
    if writers is None:
        pools, own_gaps = _writers()
    else:
        pools, own_gaps = compose.writer_glyphs(writers), compose.writer_gaps(writers)
    gaps = own_gaps if gaps is None else gaps
    rng = np.random.default_rng([seed, 5])
    return _written(n, answer_tokens, pools, gaps, rng, kind="answers")


def _written(
    n: int,
    tokens_of: Callable[[np.random.Generator], tuple[str, list[str]]],
    pools: dict,
    gaps: dict[str, np.ndarray],
    rng: np.random.Generator,
    *,
    kind: str,
    truth: Callable[[list[str]], str] = lambda tokens: " ".join(_LATEX.get(t, t) for t in tokens),
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs: ``tokens_of``'s expressions, each written by
    a writer of ``pools`` who drew all its symbols, laid out with ``gaps``."""
    out = []
    while len(out) < n:
        name, tokens = tokens_of(rng)
        writer = compose.pick_writer(pools, tokens, rng)
        if writer is None:
            continue
        symbols = compose.compose(tokens, pools[writer], gaps, rng)
        path = f"{kind}/{len(out)}"
        out.append((name, crohme.InkExpression(path, writer, truth(tokens), symbols)))
    return out


@cache
def _relation_writers() -> dict:
    """The held-out writers' glyphs of every class the reader knows, read once."""
    dev = [e for e in crohme.load_expressions() if crohme.is_dev(e)]
    known = [c for c in CLASSES if c != "reject"]
    return compose.writer_glyphs(dev, classes=known)


def relation_expressions(
    n: int, *, seed: int = composed.DEFAULT_SEED
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs of :data:`RELATION_TEMPLATES`, each written
    with one held-out writer's symbols (laid out by :func:`training.compose.compose`)."""
    pools, gaps = _relation_writers(), _writers()[1]
    rng = np.random.default_rng([seed, 4])

    def truth(tokens: list[str]) -> str:
        return " ".join(_RELATION_ASCII.get(t, _LATEX.get(t, t)) for t in tokens)

    return _written(n, relation_tokens, pools, gaps, rng, kind="relations", truth=truth)


@cache
def _writers() -> tuple[dict, dict]:
    """The held-out writers' glyphs and gaps (:func:`training.compose.writer_glyphs`,
    :func:`~training.compose.writer_gaps`), read once per process."""
    dev = [e for e in crohme.load_expressions() if crohme.is_dev(e)]
    return compose.writer_glyphs(dev), compose.writer_gaps(dev)


def unary_dot_expressions(
    n: int, *, seed: int = composed.DEFAULT_SEED
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs of :data:`UNARY_DOT_TEMPLATES`, each written
    with one held-out writer's symbols (laid out by :func:`training.compose.compose`)."""
    pools, gaps = _writers()
    rng = np.random.default_rng([seed, 3])
    out = []
    while len(out) < n:
        name, tokens = unary_dot_tokens(rng)
        writer = compose.pick_writer(pools, {"." if t == DOT else t for t in tokens}, rng)
        if writer is None:
            continue
        glyphs = dict(pools[writer])
        if DOT in tokens:
            glyphs[DOT] = [compose.raised_point(g, rng) for g in glyphs["."]]
        symbols = compose.compose(tokens, glyphs, gaps, rng)
        latex = " ".join(_LATEX.get(t, t) for t in tokens)
        path = f"unary_dot/{len(out)}"
        out.append((name, crohme.InkExpression(path, writer, latex, symbols)))
    return out


def variant_expressions(
    variant: str, n: int, *, seed: int = composed.DEFAULT_SEED
) -> list[tuple[str, crohme.InkExpression]]:
    """The (template, expression) pairs of one variant: the composed sums of ``seed``
    for ``uncropped`` and ``grids``, :func:`unary_dot_expressions` for ``unary_dot``,
    :func:`relation_expressions` for ``relations``, :func:`answer_expressions` for
    ``answers``."""
    if variant == "unary_dot":
        return unary_dot_expressions(n, seed=seed)
    if variant == "relations":
        return relation_expressions(n, seed=seed)
    if variant == "answers":
        return answer_expressions(n, seed=seed)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    return composed.composed_expressions(n, seed=seed)


# ================================================================ drawing


def draw(
    expr: crohme.InkExpression, variant: str, index: int, *, seed: int = expressions.SEED
) -> tuple[bytes, list, list[str], dict]:
    """The image's bytes (JPEG), truth boxes and labels (left to right) and the drawn
    parameters, as :func:`benchmarks.expressions.draw` gives them."""
    if variant in ("unary_dot", "relations", "answers"):
        return expressions.draw(expr, "photo", index, seed=seed)
    code = {"uncropped": 2, "grids": 3}[variant]
    rng = np.random.default_rng([seed, index, code])
    if variant == "grids":
        name, paper, ink = GRID_KINDS[index % len(GRID_KINDS)]
        if paper is None:
            paper = ("grid-blue", "grid-grey")[int(rng.integers(2))]
        height = float(rng.uniform(40, 80))
        pen = float(rng.uniform(2.0, 5.0)) * height / 48
        image, boxes = crohme.render(expr.symbols, symbol_height=height, pen_width=pen, rng=rng)
        data, boxes, params = photo_look(
            image, boxes, rng=rng, symbol_height=height, paper=paper, ink=ink
        )
        params = {"kind": name, **params}
    else:
        data, boxes, params = uncropped(expr.symbols, rng=rng)
    order = expressions.left_to_right(boxes)
    return data, [boxes[i] for i in order], [expr.symbols[i].label for i in order], params


def _rotate(
    gray: np.ndarray, boxes: list[tuple[int, int, int, int]], angle: float
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """``gray`` turned by ``angle`` degrees on a canvas that holds all of it, white
    around, and the boxes of the turned corners of ``boxes``."""
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    c, s = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = math.ceil(w * c + h * s), math.ceil(w * s + h * c)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(gray, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)
    return out, turned_boxes(boxes, matrix)


def _side_coords(side: str, shape: tuple[int, int], extent: float):
    """For a strip of depth ``extent`` along ``side`` of a frame of ``shape``: the
    frame slice it lies in, and in that slice the distance ``u`` from the side and the
    position ``v`` along it (broadcastable), and the side's length."""
    height, width = shape
    depth = int(min(math.ceil(extent) + 2, width if side in ("left", "right") else height))
    if side == "left":
        sl = np.s_[:, :depth]
        u, v = np.arange(depth, dtype=np.float32)[None, :], np.arange(height, dtype=np.float32)
        return sl, u, v[:, None], height
    if side == "right":
        sl = np.s_[:, width - depth :]
        u = (depth - 1 - np.arange(depth, dtype=np.float32))[None, :]
        return sl, u, np.arange(height, dtype=np.float32)[:, None], height
    if side == "top":
        sl = np.s_[:depth, :]
        u, v = np.arange(depth, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)
        return sl, u, v[None, :], width
    sl = np.s_[height - depth :, :]
    u = (depth - 1 - np.arange(depth, dtype=np.float32))[:, None]
    return sl, u, np.arange(width, dtype=np.float32)[None, :], width


def _gap_to(side: str, box: tuple[float, float, float, float], shape: tuple[int, int]):
    """Distance from ``side`` of the frame to ``box`` (x0, y0, x1, y1), and the box's
    extent along that side."""
    height, width = shape
    x0, y0, x1, y1 = box
    return {
        "left": (x0, (y0, y1)),
        "right": (width - x1, (y0, y1)),
        "top": (y0, (x0, x1)),
        "bottom": (height - y1, (x0, x1)),
    }[side]


def _blend(region: np.ndarray, alpha: np.ndarray, colour) -> None:
    """Lay ``colour`` (an RGB triple or an image) over ``region`` with ``alpha`` (0-1), in place."""
    a = alpha[..., None] if alpha.ndim == 2 else alpha
    region *= 1 - a
    region += a * np.asarray(colour, np.float32)


def _blend_marks(frame: np.ndarray, mask: np.ndarray, colour) -> None:
    """:func:`_blend` of a sparse ``uint8`` mask (255 opaque), at its marked pixels only."""
    ys, xs = np.nonzero(mask)
    a = (mask[ys, xs].astype(np.float32) / 255)[:, None]
    frame[ys, xs] = frame[ys, xs] * (1 - a) + a * np.asarray(colour, np.float32)


def _lowres_noise(shape: tuple[int, int], cells: tuple[int, int], rng) -> np.ndarray:
    """Smooth noise of about unit spread: random values on a ``cells`` grid, resized."""
    grid = rng.standard_normal(cells).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _table(frame: np.ndarray, keep: tuple, rng, params: dict) -> tuple:
    """The sheet's edge across the frame, with the table beyond it (on the side of the
    frame with room away from ``keep``); returns the box (x0, y0, x1, y1) it is drawn in."""
    shape = frame.shape[:2]
    room = {s: _gap_to(s, keep, shape)[0] for s in _SIDES}
    span = {s: shape[1] if s in ("left", "right") else shape[0] for s in _SIDES}
    roomy = [s for s in _SIDES if room[s] >= 0.08 * span[s]]
    side = str(rng.choice(roomy)) if roomy else max(_SIDES, key=lambda s: room[s])
    gap, (k0, k1) = _gap_to(side, keep, shape)
    length = shape[0] if side in ("left", "right") else shape[1]
    slope = math.tan(math.radians(rng.uniform(-12, 12)))
    # the edge u = t + slope * (v - length / 2) must stay short of the kept box
    bound = gap - 2 - max(slope * (k0 - length / 2), slope * (k1 - length / 2))
    if bound < 0.03 * gap + 2:
        slope, bound = 0.0, gap - 2
    t = rng.uniform(0.15, 0.85) * bound
    soft = max(2.0, 0.004 * length)  # the reach of the sheet's shadow on itself
    sl, u, v, _ = _side_coords(side, shape, t + abs(slope) * length / 2 + 6 * soft)
    beyond = (t + slope * (v - length / 2)) - u  # > 0 on the table
    region = frame[sl]
    wood = rng.random() < 0.5
    if wood:
        base = np.array([150, 102, 62], np.float32) * rng.uniform(0.65, 1.15)
        base += rng.uniform(-8, 8, 3).astype(np.float32)
        size = region.shape[:2]
        # grain: fine streaks across u, long along v (boards run along the edge)
        fine = (max(2, region.shape[0] // 400), max(2, region.shape[1] // 6))
        if side in ("top", "bottom"):
            fine = (max(2, region.shape[0] // 6), max(2, region.shape[1] // 400))
        grain = _lowres_noise(size, fine, rng)
        blotch = _lowres_noise(size, (3, 3), rng)
        texture = base * (1 + 0.10 * grain + 0.06 * blotch)[..., None]
    else:
        grey = rng.uniform(25, 85)
        base = np.array([grey, grey, grey], np.float32) + rng.uniform(-8, 8, 3).astype(np.float32)
        texture = base
    alpha = np.clip(beyond / 1.5 + 0.5, 0, 1)
    # the sheet's own shadow just inside its edge
    shade = 1 - 0.18 * np.exp(np.minimum(beyond, 0) / soft)
    region *= np.where(beyond < 0, shade, 1.0)[..., None]
    _blend(region, alpha, texture)
    params["table"] = {"side": side, "kind": "wood" if wood else "dark", "depth": round(t)}
    rows, cols = sl
    height, width = shape
    return (cols.start or 0, rows.start or 0, cols.stop or width, rows.stop or height)


def _border_strips(frame: np.ndarray, rng, params: dict) -> None:
    """A dark strip along one or two image edges, its depth changing along the edge."""
    shape = frame.shape[:2]
    short = min(shape)
    sides = rng.choice(_SIDES, size=int(rng.integers(1, 3)), replace=False)
    for side in (str(s) for s in sides):
        depth = rng.uniform(0.006, 0.035) * short
        ends = depth * (1 + rng.uniform(-0.5, 0.5, 2))
        sl, u, v, length = _side_coords(side, shape, float(ends.max()))
        edge = ends[0] + (ends[1] - ends[0]) * v / length
        alpha = np.clip((edge - u) / 2.0 + 0.5, 0, 1)
        dark = rng.uniform(10, 55) + rng.uniform(-5, 5, 3)
        _blend(frame[sl], alpha, dark)
    params["strips"] = [str(s) for s in sides]


def _rounded_rect(mask: np.ndarray, x0: int, y0: int, x1: int, y1: int, r: int, value: int):
    r = max(1, min(r, (x1 - x0) // 2, (y1 - y0) // 2))
    cv2.rectangle(mask, (x0 + r, y0), (x1 - r, y1), value, -1)
    cv2.rectangle(mask, (x0, y0 + r), (x1, y1 - r), value, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(mask, (cx, cy), r, value, -1, cv2.LINE_AA)


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grow(box: tuple, by: float) -> tuple:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _keyboard(frame: np.ndarray, keep: tuple, symbol_height: float, rng, params: dict):
    """A keyboard-like grid of dark rounded keys in a corner clear of ``keep``;
    returns its box (x0, y0, x1, y1) or None."""
    height, width = frame.shape[:2]
    big = max(height, width)
    key = float(np.clip(symbol_height * rng.uniform(2, 4), 0.02 * big, 0.07 * big))
    pitch = key * (1 + rng.uniform(0.12, 0.3))
    rows, cols = int(rng.integers(3, 6)), int(rng.integers(6, 15))
    corners = [int(c) for c in rng.permutation(4)]
    for corner in corners:
        for r, c in ((rows, cols), (rows, cols // 2), (2, cols // 2), (2, 3)):
            w, h = c * pitch, r * pitch
            over = rng.uniform(0, 0.5) * pitch  # the keyboard runs on past the frame
            x0 = -over if corner in (0, 2) else width - w + over
            y0 = -over if corner in (0, 1) else height - h + over
            box = (x0, y0, x0 + w, y0 + h)
            if not _overlaps(_grow(box, 0.3 * pitch), keep):
                break
        else:
            continue
        break
    else:
        params["keyboard"] = None
        return None
    bx0, by0 = max(0, int(box[0] - 0.3 * pitch)), max(0, int(box[1] - 0.3 * pitch))
    bx1, by1 = min(width, int(box[2] + 0.3 * pitch)), min(height, int(box[3] + 0.3 * pitch))
    region = frame[by0:by1, bx0:bx1]
    style = str(rng.choice(["dark", "silver", "none"]))
    if style != "none":  # the keyboard's body
        body = rng.uniform(20, 45) if style == "dark" else rng.uniform(150, 195)
        plate = np.zeros(region.shape[:2], np.uint8)
        _rounded_rect(plate, 0, 0, plate.shape[1] - 1, plate.shape[0] - 1, int(0.3 * pitch), 255)
        _blend(region, plate.astype(np.float32) / 255, body + rng.uniform(-4, 4, 3))
    keys = np.zeros(region.shape[:2], np.uint8)
    radius = int(key * rng.uniform(0.12, 0.3))
    for i in range(r):
        for j in range(c):
            kx = int(box[0] + j * pitch - bx0 + (i % 2) * 0.3 * pitch)
            ky = int(box[1] + i * pitch - by0)
            _rounded_rect(keys, kx, ky, int(kx + key), int(ky + key), radius, 255)
    tone = rng.uniform(45, 75) if style == "dark" else rng.uniform(22, 60)
    _blend(region, keys.astype(np.float32) / 255, tone + rng.uniform(-4, 4, 3))
    if rng.random() < 0.5:  # legends on the keys
        legend = np.zeros(region.shape[:2], np.uint8)
        scale = key * 0.3 / 22
        for i in range(r):
            for j in range(c):
                kx = int(box[0] + j * pitch - bx0 + (i % 2) * 0.3 * pitch + 0.2 * key)
                ky = int(box[1] + i * pitch - by0 + 0.45 * key)
                ch = string.ascii_uppercase[int(rng.integers(26))]
                cv2.putText(
                    legend, ch, (kx, ky), cv2.FONT_HERSHEY_SIMPLEX, scale, 255,
                    max(1, round(scale * 2)), cv2.LINE_AA,
                )  # fmt: skip
        _blend(region, legend.astype(np.float32) / 255 * 0.8, rng.uniform(170, 220))
    params["keyboard"] = {"corner": corner, "keys": [r, c], "key": round(key), "body": style}
    return box


_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
)


def _text_line(rng, words: int) -> str:
    out = []
    for _ in range(words):
        if rng.random() < 0.15:
            out.append(str(int(rng.integers(1, 1000))))
        else:
            n = int(rng.integers(1, 10))
            word = "".join(rng.choice(list(string.ascii_lowercase), size=n))
            out.append(word.capitalize() if rng.random() < 0.15 else word)
    return " ".join(out) + str(rng.choice(["", "", ".", ":", ","]))


def _printed_text(frame: np.ndarray, avoid: list[tuple], symbol_height: float, rng, params):
    """A block of printed text lines, well clear of every box in ``avoid``."""
    height, width = frame.shape[:2]
    cap = max(8.0, symbol_height * rng.uniform(0.35, 0.8))
    font = _FONTS[int(rng.integers(len(_FONTS)))]
    scale = cap / cv2.getTextSize("H", font, 1.0, 1)[0][1]
    thickness = max(1, round(cap / 14))
    lines = [_text_line(rng, int(rng.integers(3, 12))) for _ in range(int(rng.integers(2, 9)))]
    pitch = cap * rng.uniform(1.6, 2.2)
    widths = [cv2.getTextSize(t, font, scale, thickness)[0][0] for t in lines]
    bw, bh = max(widths), pitch * len(lines)
    for _ in range(40):
        x0 = rng.uniform(-0.1 * bw, max(1.0, width - 0.9 * bw))
        y0 = rng.uniform(0, max(1.0, height - bh))
        box = (x0, y0, x0 + bw, y0 + bh)
        if not any(_overlaps(box, a) for a in avoid):
            break
    else:
        params["text"] = None
        return
    mask = np.zeros((height, width), np.uint8)
    for k, line in enumerate(lines):
        origin = (int(x0), int(y0 + k * pitch + cap))
        cv2.putText(mask, line, origin, font, scale, 255, thickness, cv2.LINE_AA)
    ys, xs = slice(max(0, int(y0) - 2), min(height, int(y0 + bh) + 2)), slice(None)
    _blend_marks(frame[ys, xs], mask[ys, xs], rng.uniform(20, 70))
    params["text"] = {"lines": len(lines), "cap": round(cap, 1)}


def _specks(frame: np.ndarray, keep: tuple, symbol_height: float, rng, params: dict) -> None:
    """Dust, specks and a few hairs anywhere but within half a symbol of the writing."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    count = int(rng.integers(20, 160))
    lo, hi = max(0.6, 0.015 * symbol_height), max(1.5, 0.1 * symbol_height)
    shift = 4
    drawn = 0
    for _ in range(count):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if keep[0] <= x <= keep[2] and keep[1] <= y <= keep[3]:
            continue
        value = int(rng.uniform(0.25, 0.9) * 255)
        if rng.random() < 0.12:  # a hair: a short bent thin line
            steps = int(rng.integers(3, 7))
            step = symbol_height * rng.uniform(0.3, 1.5) / steps
            turns = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.4, steps))
            xs = x + np.concatenate([[0.0], np.cumsum(np.cos(turns))]) * step
            ys = y + np.concatenate([[0.0], np.cumsum(np.sin(turns))]) * step
            inside = (keep[0] <= xs) & (xs <= keep[2]) & (keep[1] <= ys) & (ys <= keep[3])
            if not inside.any():
                poly = np.round(np.stack([xs, ys], 1) * (1 << shift)).astype(np.int32)
                cv2.polylines(
                    mask, [poly.reshape(-1, 1, 2)], False, value // 2, 1, cv2.LINE_AA, shift
                )
                drawn += 1
            continue
        radius = lo * (hi / lo) ** (rng.random() ** 2)  # most of them small
        centre = (round(x * (1 << shift)), round(y * (1 << shift)))
        r = max(1, round(radius * (1 << shift)))
        cv2.circle(mask, centre, r, value, -1, cv2.LINE_AA, shift)
        drawn += 1
    _blend_marks(frame, mask, rng.uniform(30, 80) + rng.uniform(-8, 8, 3))
    params["specks"] = drawn


def _light(shape: tuple[int, int], rng, params: dict) -> np.ndarray:
    """A light field: gradient, vignette, paper mottling and a large soft shadow blob."""
    height, width = shape
    small = (max(8, height // 8), max(8, width // 8))
    yy, xx = np.mgrid[0 : small[0], 0 : small[1]].astype(np.float32)
    yy, xx = yy / small[0], xx / small[1]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx + np.sin(angle) * yy
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.05, 0.3) * (1 - ramp)
    light *= 1.0 - rng.uniform(0.05, 0.2) * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.5
    light *= 1.0 + 0.015 * _lowres_noise(small, (6, 6), rng)
    # the shadow of a hand or the phone: a large soft dark ellipse
    big = max(small)
    cx, cy = rng.uniform(-0.1, 1.1) * small[1], rng.uniform(-0.1, 1.1) * small[0]
    a = rng.uniform(0.25, 0.6) * big
    b = a * rng.uniform(0.4, 0.8)
    turn = rng.uniform(0, np.pi)
    px, py = xx * small[1] - cx, yy * small[0] - cy
    ru = (np.cos(turn) * px + np.sin(turn) * py) / a
    rv = (-np.sin(turn) * px + np.cos(turn) * py) / b
    r = np.sqrt(ru**2 + rv**2)
    depth = rng.uniform(0.2, 0.5)
    shadow = 1.0 - depth * np.clip((1.3 - r) / 0.7, 0, 1) ** 1.5
    light *= shadow
    params["shadow"] = round(depth, 2)
    return cv2.resize(light.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def uncropped(
    symbols: Sequence[crohme.InkSymbol], *, rng: np.random.Generator
) -> tuple[bytes, list[tuple[int, int, int, int]], dict]:
    """The ``uncropped`` look: JPEG bytes of a phone-photo frame with the symbols
    written somewhere in it, their truth boxes in the frame and the drawn parameters."""
    params: dict = {}
    mp = rng.uniform(FRAME_MEGAPIXELS[0] + 0.01, FRAME_MEGAPIXELS[1] - 0.01)
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    portrait = bool(rng.random() < 0.5)
    long_side = int(math.sqrt(mp * 1e6 * aspect))
    short_side = int(long_side / aspect)
    width, height = (short_side, long_side) if portrait else (long_side, short_side)
    # the writing: a share of the frame's width, not smaller than MIN_SYMBOL_HEIGHT
    pts = np.concatenate([st for s in symbols for st in s.strokes])
    extent = float(np.ptp(pts[:, 0])) / crohme.typical_height(symbols)
    share = rng.uniform(*WRITING_WIDTH)
    symbol_height = max(MIN_SYMBOL_HEIGHT, share * width / extent)
    pen = float(rng.uniform(2.0, 5.0)) * symbol_height / 48
    gray, boxes = crohme.render(
        symbols, symbol_height=symbol_height, pen_width=pen, rng=rng, margin=int(pen) + 4
    )
    angle = float(rng.uniform(-4, 4))
    gray, boxes = _rotate(gray, boxes, angle)
    ink = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[0] + b[2] for b in boxes),
        max(b[1] + b[3] for b in boxes),
    )
    margin = EDGE_MARGIN * min(width, height)
    lo_x, hi_x = margin - ink[0], width - margin - ink[2]
    lo_y, hi_y = margin - ink[1], height - margin - ink[3]
    for _ in range(50):  # off-centre: the writing's centre away from the frame's
        ox, oy = rng.uniform(lo_x, max(lo_x, hi_x)), rng.uniform(lo_y, max(lo_y, hi_y))
        cx, cy = ox + (ink[0] + ink[2]) / 2, oy + (ink[1] + ink[3]) / 2
        if abs(cx - width / 2) > 0.12 * width or abs(cy - height / 2) > 0.12 * height:
            break
    ox, oy = int(ox), int(oy)
    boxes = [(x + ox, y + oy, w, h) for x, y, w, h in boxes]
    writing = (ink[0] + ox, ink[1] + oy, ink[2] + ox, ink[3] + oy)
    keep = _grow(writing, max(symbol_height, 0.02 * max(width, height)))

    tint = np.array([240, 237, 228], np.float32) + rng.uniform(-14, 8)
    tint += rng.uniform(-4, 4, 3).astype(np.float32)
    frame = np.empty((height, width, 3), np.float32)
    frame[:] = tint
    table = _table(frame, keep, rng, params)
    _border_strips(frame, rng, params)
    board = _keyboard(frame, keep, symbol_height, rng, params)
    avoid = [_grow(writing, 2.5 * symbol_height + 0.03 * max(width, height)), table]
    _printed_text(frame, avoid + ([_grow(board, 10)] if board else []), symbol_height, rng, params)
    # the writing, laid on the paper
    ink_name = ("black", "blue")[int(rng.integers(2))]
    colour = np.array(INKS[ink_name], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
    gh, gw = gray.shape
    fy0, fx0 = max(0, oy), max(0, ox)
    fy1, fx1 = min(height, oy + gh), min(width, ox + gw)
    patch = gray[fy0 - oy : fy1 - oy, fx0 - ox : fx1 - ox]
    _blend(frame[fy0:fy1, fx0:fx1], 1.0 - patch.astype(np.float32) / 255, colour)
    _specks(frame, _grow(writing, 0.5 * symbol_height), symbol_height, rng, params)
    frame *= _light((height, width), rng, params)[..., None]
    sigma = float(rng.uniform(0.4, 1.2))
    frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    noise = float(rng.uniform(1.5, 4.0))
    # sensor noise, mostly in brightness (phones smooth the colour noise away)
    frame += rng.standard_normal((height, width, 1), dtype=np.float32) * noise
    np.clip(frame + 0.5, 0, 255, out=frame)
    out = cv2.cvtColor(frame.astype(np.uint8), cv2.COLOR_RGB2BGR)
    del frame
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    while True:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # pragma: no cover
            raise RuntimeError("JPEG encoding failed")
        if buf.size < IMAGE_MAX_BYTES or quality <= 50:
            break
        quality -= 4
    params.update(
        {
            "frame": [width, height],
            "megapixels": round(width * height / 1e6, 2),
            "writing": round((writing[2] - writing[0]) / width, 3),
            "symbol_height": round(symbol_height, 1),
            "tilt": round(angle, 2),
            "ink": ink_name,
            "blur": round(sigma, 2),
            "noise": round(noise, 2),
            "jpeg": quality,
            "bytes": int(buf.size),
        }
    )
    return buf.tobytes(), boxes, params


# ================================================================ scoring


def _blame(case: expressions.Case, tlabels: list[str], alternatives, labels, res) -> None:
    """:func:`benchmarks.expressions._blame`, where a drawn dot is rightly classified
    as ``.`` or ``×`` but rightly read only as ``×``."""
    if DOT not in tlabels:
        expressions._blame(case, tlabels, alternatives, labels, res)
        return

    def classified(t: str, p: str) -> bool:
        return p in (".", "×") if t == DOT else expressions._same(t, p)

    def read(t: str, r: str) -> bool:
        return r == "×" if t == DOT else expressions._same(t, r)

    top1 = [alts[0][0] for alts in alternatives]
    wrong = [i for i, (t, p) in enumerate(zip(tlabels, top1, strict=True)) if not classified(t, p)]
    unfixed = [i for i in wrong if not read(tlabels[i], labels[i])]
    if unfixed:
        i = unfixed[0]
        alts = ", ".join(f"{n} {p:.2f}" for n, p in alternatives[i][:3])
        case.stage = "classification"
        case.reason = f"symbol {i} truth {tlabels[i]!r}: top {alts}; read {labels[i]!r}"
        return
    bad = [i for i, (t, r) in enumerate(zip(tlabels, labels, strict=True)) if not read(t, r)]
    case.stage = "reading"
    case.reason = (
        f"top-1 right but read {[labels[i] for i in bad]} at {bad}"
        if bad
        else f"labels right, expression {res.expression!r} ({res.error or 'no error'})"
    )


def evaluate(
    recognizer, expr, variant: str, index: int, *, seed: int = expressions.SEED
) -> tuple[expressions.Case, float]:
    """Draw one case, recognize it and score it as
    :func:`benchmarks.expressions.evaluate` does; returns the case and the seconds
    :meth:`~mathocr.Recognizer.analyze` took."""
    data, tboxes, tlabels, params = draw(expr, variant, index, seed=seed)
    truth = expr.ascii
    case = expressions.Case(variant, index, expr.path, truth, None, params=params)
    if variant in ("unary_dot", "relations", "answers"):
        case.truth_result = expected_result([s.label for s in expr.symbols])
    else:
        case.truth_result = expressions.truth_result(expr)
    started = time.perf_counter()
    try:
        analysis = recognizer.analyze(data)
    except RecognitionTimeout as exc:
        case.stage, case.reason = "timeout", str(exc)
        return case, time.perf_counter() - started
    seconds = time.perf_counter() - started
    res = analysis.result
    case.expression, case.result = res.expression, res.result
    case.confidence = res.confidence
    if res.expression == truth:
        return case, seconds
    ok, reason = expressions._segmentation_ok(list(analysis.boxes), tboxes)
    if not ok:
        case.stage, case.reason = "segmentation", reason
        return case, seconds
    labels = analysis.reading.labels if analysis.reading else ()
    _blame(case, tlabels, analysis.alternatives, labels, res)
    return case, seconds


def breakdown(cases: Sequence[expressions.Case], names: dict[str, Sequence[str]]) -> dict:
    """Exact-match rate per variant by template, and by what the variant varies: the
    paper (grids), the frame and table (uncropped), the signs and the dot (unary_dot),
    each relation and the square brackets (relations); for answers, the shape says
    whether the answer written is right."""
    out: dict = {}
    for variant in sorted({c.variant for c in cases}):
        groups: dict[str, list[bool]] = defaultdict(list)
        for case in (c for c in cases if c.variant == variant):
            ok = case.stage == "ok"
            groups[f"shape {names[variant][case.index]}"].append(ok)
            p = case.params
            if variant == "grids":
                groups[f"paper {p['kind']}"].append(ok)
                groups[f"ink {p['ink']}"].append(ok)
            elif variant == "uncropped":
                share = p["writing"]
                band = "<10%" if share < 0.1 else "10-20%" if share < 0.2 else ">=20%"
                groups[f"writing {band} of width"].append(ok)
                groups[f"table {p['table']['kind']}"].append(ok)
                groups["keyboard" if p.get("keyboard") else "no keyboard"].append(ok)
                groups[f"frame {'<6' if p['megapixels'] < 6 else '>=6'} MP"].append(ok)
            elif variant == "relations":
                rel = _relation_of(case.truth)
                if rel:
                    groups[f"with {rel}"].append(ok)
                if "[" in case.truth:
                    groups["with [ ]"].append(ok)
            elif variant == "unary_dot":
                labels = [t for t in case.truth]
                signed = [
                    lab for k, lab in enumerate(labels)
                    if lab in "+-" and (k == 0 or labels[k - 1] in "(=")
                ]  # fmt: skip
                if "+" in signed:
                    groups["with unary +"].append(ok)
                if "-" in signed:
                    groups["with unary -"].append(ok)
                if names[variant][case.index].count(DOT):
                    groups["with ·"].append(ok)
        out[variant] = {k: {"n": len(v), "exact": sum(v) / len(v)} for k, v in groups.items()}
    return out


def summarize(cases: Sequence[expressions.Case], seconds: Sequence[float]) -> dict:
    """:func:`benchmarks.expressions.summarize`, with per variant the timeouts (among
    ``failures``) and the median seconds per image."""
    summary = expressions.summarize(list(cases))
    for variant, s in summary.items():
        own = [t for c, t in zip(cases, seconds, strict=True) if c.variant == variant]
        s["failures"]["timeout"] = sum(c.stage == "timeout" for c in cases if c.variant == variant)
        s["median_seconds"] = float(np.median(own)) if own else 0.0
    return summary


def save_images(directory: Path, variant: str, pairs, *, seed: int, count: int = SAVE_COUNT):
    """Write the first ``count`` images of a variant to ``directory`` (and their truths
    to ``<variant>.txt``); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written, notes = [], []
    for i, (_, expr) in enumerate(pairs[:count]):
        data, _, _, params = draw(expr, variant, i, seed=seed)
        path = directory / f"{variant}-{i:03d}.jpg"
        path.write_bytes(data)
        written.append(path)
        notes.append(f"{path.name}\t{expected_ascii([s.label for s in expr.symbols])}\t{params}")
    (directory / f"{variant}.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default="all")
    parser.add_argument("--n", type=int, default=200, help="expressions per variant")
    parser.add_argument("--seed", type=int, default=composed.DEFAULT_SEED)
    parser.add_argument("--json", action="store_true", help="print JSON (summary and cases)")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    parser.add_argument("--model", type=Path, default=None)
    add_line_option(parser)
    parser.add_argument(
        "--save", type=Path, default=None, metavar="DIR",
        help=f"also write the first {SAVE_COUNT} images of each variant to DIR",
    )  # fmt: skip
    args = parser.parse_args(argv)

    from mathocr.recognizer import Recognizer

    variants = list(VARIANTS) if args.variant == "all" else [args.variant]
    look_seed = expressions.SEED + args.seed
    pairs = {v: variant_expressions(v, args.n, seed=args.seed) for v in variants}
    if args.save:
        for v in variants:
            save_images(args.save, v, pairs[v], seed=look_seed)
    recognizer = Recognizer(args.model, **line_option(args))
    started = time.perf_counter()
    cases, seconds = [], []
    for v in variants:
        for i, (_, e) in enumerate(pairs[v]):
            case, took = evaluate(recognizer, e, v, i, seed=look_seed)
            cases.append(case)
            seconds.append(took)
    elapsed = time.perf_counter() - started
    summary = summarize(cases, seconds)
    names = {v: [name for name, _ in pairs[v]] for v in variants}
    parts = breakdown(cases, names)
    if args.json:
        failures = [asdict(c) for c in cases if c.stage != "ok"]
        payload = {"summary": summary, "breakdown": parts, "failures": failures}
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    writers = {v: len({e.writer for _, e in pairs[v]}) for v in variants}
    print(
        f"{args.n} expressions x {len(variants)} variants, held-out writers "
        f"{', '.join(f'{v} {w}' for v, w in writers.items())} "
        f"(model {recognizer.model_version}, seed {args.seed}), {elapsed:.1f} s"
    )
    expressions.print_summary(summary)
    for v, s in summary.items():
        print(
            f"  {v:9} timeouts {s['failures']['timeout']}, "
            f"median {s['median_seconds']:.3f} s per image"
        )
    print("exact match by shape and what varies:")
    for variant, groups in parts.items():
        cells = ", ".join(f"{k} {g['exact']:.1%} (n={g['n']})" for k, g in sorted(groups.items()))
        print(f"  {variant:9} {cells}")
    if args.failures:
        expressions.print_failures(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
