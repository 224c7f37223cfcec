"""Choose the answer prior's odds (:data:`mathocr.truth.TRUTH_ODDS`) on training-side writers.

The writers are the line model's validation writers, as for
:mod:`benchmarks.tune_combination` (CROHME training writers; never the development
writers, never a CROHME test set). They write equations with their answer
(:func:`benchmarks.variants.answer_expressions`): half with the right answer, half
with a wrong one as pupils write them, drawn in the clean and photo looks. For each
odds of ``--odds`` the images are read with ``Recognizer(truth_odds=k)`` and the
exact rate printed for the right answers, the wrong ones and both, with the
confidence's ECE. A prior that reads right answers better by reading wrong ones as
right shows as a fall in the second column: the odds chosen must not cost the wrong
answers more than they gain the right ones.

Usage::

    python benchmarks/tune_truth.py [--n 300] [--seed 11] [--odds 1,3,10,30,100]
        [--no-line-model]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import expressions, variants  # noqa: E402
from benchmarks.expressions import ece  # noqa: E402
from training import compose, crohme  # noqa: E402
from training.lines import split_writers  # noqa: E402


def tuning_equations(n: int, seed: int) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, equation) pairs written by the line model's validation writers."""
    others = [e for e in crohme.load_expressions() if not crohme.is_dev(e)]
    held = split_writers({e.writer for e in others})
    writers = [e for e in others if e.writer in held]
    gaps = compose.writer_gaps(others)  # too few of their own lines for every kind of gap
    return variants.answer_expressions(n, seed=seed, writers=writers, gaps=gaps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--odds", default="1,3,10,30,100")
    parser.add_argument("--no-line-model", action="store_true")
    args = parser.parse_args(argv)

    from mathocr.recognizer import Recognizer

    pairs = tuning_equations(args.n, args.seed)
    images = [
        (expressions.draw(e, look, i, seed=expressions.SEED + args.seed)[0], e.ascii, name)
        for look in ("clean", "photo")
        for i, (name, e) in enumerate(pairs)
    ]
    right = [name == "a op b = r" for _, _, name in images]
    print(f"{len(images)} images of {len({e.writer for _, e in pairs})} validation writers, "
          f"{sum(right)} with the right answer")  # fmt: skip
    print(f"{'odds':>6} {'right':>7} {'wrong':>7} {'all':>7} {'ECE':>6}")
    for odds in (float(k) for k in args.odds.split(",")):
        rec = Recognizer(line_model=not args.no_line_model, truth_odds=odds)
        results = [rec(data) for data, _, _ in images]
        ok = np.array(
            [r.expression == truth for r, (_, truth, _) in zip(results, images, strict=False)]
        )
        conf = [r.confidence or 0.0 for r in results]
        mask = np.array(right)
        print(f"{odds:6g} {ok[mask].mean():7.1%} {ok[~mask].mean():7.1%} {ok.mean():7.1%} "
              f"{ece(conf, list(ok)):6.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
