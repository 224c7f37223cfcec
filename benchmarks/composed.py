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
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import expressions  # noqa: E402
from benchmarks.lineoption import add_line_option, line_option  # noqa: E402
from training import crohme  # noqa: E402
from training.compose import (  # noqa: E402
    compose,
    pick_writer,
    random_tokens,
    writer_gaps,
    writer_glyphs,
)

#: Seeds the expressions, writers, symbols and gaps (the looks use ``expressions.SEED``).
DEFAULT_SEED = 1
_LATEX = {"×": r"\times", "÷": r"\div"}


def composed_expressions(
    n: int,
    *,
    seed: int = DEFAULT_SEED,
    writers: Sequence[crohme.InkExpression] | None = None,
    gaps: dict[str, np.ndarray] | None = None,
) -> list[tuple[str, crohme.InkExpression]]:
    """``n`` (template, expression) pairs, each written with one held-out writer's symbols
    (``writers``: the expressions whose writers write them, default the development
    writers'; ``gaps``: default those writers' own)."""
    dev = [e for e in crohme.load_expressions() if crohme.is_dev(e)] if writers is None else writers
    pools = writer_glyphs(dev)
    gaps = writer_gaps(dev) if gaps is None else gaps
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        name, tokens = random_tokens(rng)
        writer = pick_writer(pools, tokens, rng)
        if writer is None:
            continue
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
    add_line_option(parser)
    args = parser.parse_args(argv)

    from mathocr.recognizer import Recognizer

    recognizer = Recognizer(args.model, **line_option(args))
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
