"""Product-shaped benchmark: sums like ``12 + 7 × 3 =`` in held-out writers' own hand.

The development benchmark (``benchmarks/expressions.py``) reads what the held-out
CROHME writers wrote; 127 of its 207 expressions are a bare number (``9.43``), 80
have an operator and none ends with ``=``. Users of the service send sums to be
solved. This benchmark writes such sums - ``a op b =``, ``a op b op c =``,
bracketed ones, decimals and true equations ``a op b = r`` - with the symbols of one
held-out writer at a time (``training/dev_writers.txt``; never a CROHME *test* set):

* every symbol is one that writer drew in one of their own expressions, kept at its
  size relative to that expression's typical symbol height and at its height above
  or below that expression's middle line (so a writer's low points stay low);
* symbols that sat in a superscript, a subscript or a fraction (too small, too far
  from the middle) and fraction bars are not used;
* symbols are laid out left to right with gaps drawn from the gaps these writers
  left in their own arithmetic expressions, by kind: between two digits, before and
  after a point, and around an operator or bracket. Those gaps are between boxes, and
  in the writers' own lines shapes interlock (a point tucked under a digit's
  corner); paired at random they would collide, so a symbol whose pen line comes
  nearer than :data:`CLEARANCE` to those of the two symbols before it is moved right
  until it does not.

The expressions, writers, symbols and gaps are drawn from a generator seeded with
``--seed``, so a run is reproducible; the images are drawn and scored exactly like
the development benchmark's (clean pen strokes, then a phone-photo look). A writer
with few slashes or points lends the same few to many sums, so one odd glyph weighs
more here than in the writers' own lines; two seeds' sets of 300 differ by a point
or two.

Usage::

    python benchmarks/composed.py [--n 300] [--seed 1] [--json] [--failures] [--model PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import expressions  # noqa: E402
from mathocr.compute import solve  # noqa: E402
from training import crohme  # noqa: E402

#: Seeds the expressions, writers, symbols and gaps (the looks use ``expressions.SEED``).
DEFAULT_SEED = 1
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
_LATEX = {"×": r"\times", "÷": r"\div"}

Glyph = tuple[np.ndarray, ...]
"""One drawn symbol's strokes: x from 0 at its left edge, y from its line's middle,
both in units of its expression's typical symbol height."""


def _usable(label: str, w: float, h: float, centre: float) -> bool:
    """Whether a symbol (size and centre offset in typical heights) sat on the main line."""
    if label == ".":
        return max(w, h) <= 0.3 and 0.0 <= centre <= 0.8
    if abs(centre) > 0.35:
        return False
    if label in DIGITS:
        return 0.6 <= h <= 1.5
    if label in "()/":
        return 0.7 <= h <= 2.0
    if label == "-":
        return 0.2 <= w <= 1.2 and h <= 0.3
    if label == "=":
        return 0.25 <= w <= 1.2 and h <= 0.8
    return 0.25 <= max(w, h) <= 1.2  # + × ÷


def writer_glyphs(
    expressions_: Iterable[crohme.InkExpression],
) -> dict[str, dict[str, list[Glyph]]]:
    """Per writer and class, the symbols usable on a single line (see :func:`_usable`)."""
    classes = set(DIGITS) | set(OPERATORS) | set("=().")
    pools: dict[str, dict[str, list[Glyph]]] = defaultdict(lambda: defaultdict(list))
    for expr in expressions_:
        bounds = [s.bounds() for s in expr.symbols]
        height = crohme.typical_height(expr.symbols)
        tallest = max(y1 - y0 for _, y0, _, y1 in bounds)
        middles = [(y0 + y1) / 2 for _, y0, _, y1 in bounds if y1 - y0 > 0.3 * tallest]
        middle = float(np.median(middles))
        for sym, (x0, y0, x1, y1) in zip(expr.symbols, bounds, strict=True):
            w, h = (x1 - x0) / height, (y1 - y0) / height
            centre = ((y0 + y1) / 2 - middle) / height
            if sym.label in classes and _usable(sym.label, w, h, centre):
                origin = np.array([x0, middle])
                glyph = tuple((st - origin) / height for st in sym.strokes)
                pools[expr.writer][sym.label].append(glyph)
    return {w: dict(c) for w, c in pools.items()}


def _gap_kind(left: str, right: str) -> str:
    if left in DIGITS and right in DIGITS:
        return "digit-digit"
    if left in DIGITS and right == ".":
        return "digit-point"
    if left == "." and right in DIGITS:
        return "point-digit"
    return "other"


def writer_gaps(expressions_: Iterable[crohme.InkExpression]) -> dict[str, np.ndarray]:
    """Horizontal gaps (in typical heights) between neighbours in the writers' own
    arithmetic expressions, by :func:`_gap_kind`."""
    gaps: dict[str, list[float]] = defaultdict(list)
    for expr in expressions_:
        if not expr.is_arithmetic:
            continue
        height = crohme.typical_height(expr.symbols)
        ordered = sorted(((s.bounds(), s.label) for s in expr.symbols), key=lambda b: b[0][0])
        for (a, left), (b, right) in itertools.pairwise(ordered):
            gaps[_gap_kind(left, right)].append((b[0] - a[2]) / height)
    return {k: np.array(v) for k, v in gaps.items()}


def _number(rng: np.random.Generator) -> list[str]:
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
                out += _number(rng)
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


def _dense(strokes: Sequence[np.ndarray], step: float = 0.02) -> np.ndarray:
    """Points along the strokes' pen lines, at most ``step`` apart (pen samples can be
    sparse, and the line between two of them can pass nearer than either)."""
    out = []
    for st in strokes:
        out.append(st[:1])
        for p, q in itertools.pairwise(st):
            n = max(1, int(np.ceil(np.hypot(*(q - p)) / step)))
            out.append(p + (q - p) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def _nearest(a: np.ndarray, b: np.ndarray) -> float:
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
        pool = gaps[_gap_kind(previous, label)]
        gap = float(pool[int(rng.integers(len(pool)))]) if previous else 0.0
        points = _dense(glyph)
        if placed:
            left = np.concatenate(placed_points[-2:])
            x = cursor + gap
            for _ in range(20):  # each step closes the shortfall; a few suffice
                near = _nearest(points + np.array([x, 0.0]), left)
                if near >= CLEARANCE:
                    break
                x += CLEARANCE - near + 1e-3
            gap = x - cursor
        strokes = tuple(st + np.array([cursor + gap, 0.0]) for st in glyph)
        placed_points.append(_dense(strokes))
        width = float(max(st[:, 0].max() for st in glyph))
        cursor += gap + width
        previous = label
        placed.append(crohme.InkSymbol(label, strokes))
    return tuple(placed)


def composed_expressions(
    n: int, *, seed: int = DEFAULT_SEED
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs, each written with one held-out writer's symbols."""
    dev = [e for e in crohme.load_expressions() if crohme.is_dev(e)]
    pools = writer_glyphs(dev)
    gaps = writer_gaps(dev)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        name, tokens = random_tokens(rng)
        writers = sorted(w for w, g in pools.items() if all(g.get(t) for t in tokens))
        if not writers:
            continue
        writer = writers[int(rng.integers(len(writers)))]
        symbols = compose(tokens, pools[writer], gaps, rng)
        latex = " ".join(_LATEX.get(t, t) for t in tokens)
        out.append((name, crohme.InkExpression(f"composed/{len(out)}", writer, latex, symbols)))
    return out


def breakdown(cases: Sequence[expressions.Case], names: Sequence[str]) -> dict:
    """Exact-match rate per look by template and by operator present."""
    out: dict = {}
    for variant in sorted({c.variant for c in cases}):
        groups: dict[str, list[bool]] = defaultdict(list)
        for case in (c for c in cases if c.variant == variant):
            ok = case.stage == "ok"
            groups[f"shape {names[case.index]}"].append(ok)
            for op, ascii_ in (("+", "+"), ("-", "-"), ("×", "*"), ("÷ or /", "/")):
                if ascii_ in case.truth.split("=")[0]:
                    groups[f"with {op}"].append(ok)
            if "." in case.truth:
                groups["with ."].append(ok)
        out[variant] = {k: {"n": len(v), "exact": sum(v) / len(v)} for k, v in groups.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="expressions per look")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--only", choices=["clean", "photo"], default=None)
    parser.add_argument("--json", action="store_true", help="print JSON (summary and cases)")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)

    from mathocr.recognizer import Recognizer

    recognizer = Recognizer(args.model)
    pairs = composed_expressions(args.n, seed=args.seed)
    names = [name for name, _ in pairs]
    variants = [args.only] if args.only else ["clean", "photo"]
    started = time.perf_counter()
    cases = [
        expressions.evaluate(recognizer, e, v, i, seed=expressions.SEED + args.seed)
        for v in variants
        for i, (_, e) in enumerate(pairs)
    ]
    elapsed = time.perf_counter() - started
    summary = expressions.summarize(cases)
    parts = breakdown(cases, names)
    if args.json:
        failures = [asdict(c) for c in cases if c.stage != "ok"]
        payload = {"summary": summary, "breakdown": parts, "failures": failures}
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    writers = len({e.writer for _, e in pairs})
    print(
        f"{len(pairs)} composed expressions of {writers} held-out writers x {len(variants)} "
        f"looks (model {recognizer.model_version}, seed {args.seed}), {elapsed:.1f} s"
    )
    expressions.print_summary(summary)
    print("exact match by shape and operator:")
    for variant, groups in parts.items():
        cells = ", ".join(f"{k} {g['exact']:.1%} (n={g['n']})" for k, g in sorted(groups.items()))
        print(f"  {variant:6} {cells}")
    if args.failures:
        expressions.print_failures(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
