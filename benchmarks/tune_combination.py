"""Choose the readers' combination weight and fit its confidence, on training-side writers.

The writers are the line model's validation writers (:func:`training.lines.split_writers`:
CROHME training writers kept out of the line model's training; never the development
writers, never a CROHME test set). They write composed sums
(:func:`benchmarks.composed.composed_expressions` with their own glyphs and gaps), drawn
in the clean and photo looks exactly as the benchmarks draw theirs. For each weight of
``--weights`` the sums are read with ``Recognizer(line_weight=w)`` and the exact rate
printed; for the best weight, :data:`mathocr.combine.CONFIDENCE_WEIGHTS` is fitted by
logistic regression on (logit of the lattice's share, the line model's log-likelihood)
and printed with the ECE before and after. The fit also sees ink that is no expression
(``--nonexpressions`` cases of :mod:`benchmarks.nonexpressions` drawn with seed
``--nonexpressions-seed``, 2, not the reported benchmark's 1; every reading of them is
wrong), so that the confidence keeps refusing them. The classifier was trained on
these writers, so the lattice is at its best here: the weight leans towards the
lattice, not the line model.

Usage::

    python benchmarks/tune_combination.py [--n 300] [--seed 11] [--weights 0,0.25,0.5,1]
        [--nonexpressions 300] [--nonexpressions-seed 2] [--line-model PATH]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import composed, expressions  # noqa: E402
from benchmarks.expressions import ece  # noqa: E402
from training import compose, crohme  # noqa: E402
from training.lines import split_writers  # noqa: E402


def tuning_sums(n: int, seed: int) -> list[crohme.InkExpression]:
    """``n`` composed sums written by the line model's validation writers."""
    others = [e for e in crohme.load_expressions() if not crohme.is_dev(e)]
    held = split_writers({e.writer for e in others})
    writers = [e for e in others if e.writer in held]
    # too few of their own arithmetic lines for every kind of gap: all the others' gaps
    gaps = compose.writer_gaps(others)
    pairs = composed.composed_expressions(n, seed=seed, writers=writers, gaps=gaps)
    return [e for _, e in pairs]


def fit_logistic(x: np.ndarray, y: np.ndarray, *, steps: int = 50) -> np.ndarray:
    """Weights ``w`` of ``sigmoid(x @ w)`` fitted to 0/1 ``y`` (Newton's method, a little
    L2 so that separable data stays finite)."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + 1e-3 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(x.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--weights", default="0,0.25,0.5,1")
    parser.add_argument("--nonexpressions", type=int, default=300)
    parser.add_argument("--nonexpressions-seed", type=int, default=2)
    parser.add_argument("--line-model", default=None)
    args = parser.parse_args(argv)

    from mathocr.combine import _logit
    from mathocr.recognizer import Recognizer

    sums = tuning_sums(args.n, args.seed)
    images = [
        (expressions.draw(e, look, i, seed=expressions.SEED + args.seed)[0], e.ascii)
        for look in ("clean", "photo")
        for i, e in enumerate(sums)
    ]
    print(f"{len(images)} images of {len({e.writer for e in sums})} validation writers")
    best = None
    for weight in (float(w) for w in args.weights.split(",")):
        rec = Recognizer(line_model=args.line_model or True, line_weight=weight)
        rows = []
        for data, truth in images:
            analysis = rec.analyze(data)
            both = analysis.line
            ok = analysis.result.expression == truth
            if both is not None and both.lattice_posterior is not None:
                rows.append((both.lattice_posterior, both.line_log_likelihood, ok))
            else:
                rows.append((None, None, ok))
        exact = sum(r[2] for r in rows) / len(rows)
        print(f"weight {weight:g}: exact {exact:.1%}")
        if best is None or exact > best[0]:
            best = (exact, weight, rows)
    assert best is not None  # noqa: S101 - at least one weight
    _, weight, rows = best
    junk = _nonexpression_rows(args, weight)
    fit = [
        (p, ll, ok) for p, ll, ok in rows + junk if p is not None and math.isfinite(ll) and p > 0
    ]
    x = np.array([[_logit(p), max(ll, -20.0), 1.0] for p, ll, _ in fit])
    y = np.array([ok for _, _, ok in fit], np.float64)
    w = fit_logistic(x, y)
    before = np.array([p for p, _, _ in fit])
    after = 1.0 / (1.0 + np.exp(-(x @ w)))
    sums = len([r for r in rows if r[0] is not None and math.isfinite(r[1]) and r[0] > 0])
    print(f"best weight {weight:g}; {len(fit)} readings with both readers' evidence "
          f"({sums} of sums, {len(fit) - sums} of non-expressions)")  # fmt: skip
    print(
        f"sums' ECE: the lattice's share alone {ece(before[:sums], y[:sums]):.3f}, "
        f"fitted {ece(after[:sums], y[:sums]):.3f}"
    )
    refused = [1.0 - ok if p is None else float(q < 0.5) for (p, _, ok), q in _junk_conf(junk, w)]
    print(f"non-expressions refused with the fit: {sum(refused) / max(len(refused), 1):.1%}")
    print(f"CONFIDENCE_WEIGHTS = ({w[0]:.3f}, {w[1]:.3f}, {w[2]:.3f})")
    return 0


def _nonexpression_rows(args: argparse.Namespace, weight: float) -> list:
    """(lattice share, line log-likelihood, False) of each non-expression's reading
    (``None`` evidence when it was answered unreadable or without a valid reading)."""
    from benchmarks import nonexpressions
    from mathocr.recognizer import Recognizer

    rec = Recognizer(line_model=args.line_model or True, line_weight=weight)
    out = []
    kinds, looks = nonexpressions.KINDS, nonexpressions.LOOKS
    for index in range(args.nonexpressions):
        kind, look = kinds[index % len(kinds)], looks[(index // len(kinds)) % len(looks)]
        data = nonexpressions.draw_case(kind, look, index, seed=args.nonexpressions_seed)
        both = rec.analyze(data).line
        if both is not None and both.lattice_posterior is not None:
            out.append((both.lattice_posterior, both.line_log_likelihood, False))
        else:
            out.append((None, None, False))
    return out


def _junk_conf(junk: list, w: np.ndarray) -> list:
    """Each non-expression row with the fitted confidence of its reading (0 without one)."""
    from mathocr.combine import pooled_confidence

    weights = (float(w[0]), float(w[1]), float(w[2]))
    return [
        (r, 0.0 if r[0] is None else pooled_confidence(r[0], r[1], weights=weights)) for r in junk
    ]


if __name__ == "__main__":
    sys.exit(main())
