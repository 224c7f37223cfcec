"""The two readers side by side: the lattice alone, the line model alone, and both combined.

Issue 16's table. Each image of a benchmark set is read once by a
:class:`mathocr.Recognizer` with its line model; the :class:`mathocr.recognizer.Analysis`
keeps the lattice reader's own reading and the line model's grammar-constrained
hypotheses (:class:`mathocr.combine.Combined`), so the three rows come from the
same run of the same images:

* ``lattice`` - the lattice reader's reading (what the recognizer answers without a
  line model);
* ``line`` - the line model's likeliest valid reading of the line's ink (the
  layout's marks, :func:`mathocr.line_model.line_image`);
* ``combined`` - the answer (:func:`mathocr.combine.combine`).

Sets: ``dev`` (the development expressions, :mod:`benchmarks.expressions`) and
``composed`` (:mod:`benchmarks.composed`, ``--seed``), each in the clean and photo
looks. Reported per set and look: exact expressions of each reader, the
combination's ECE, and the median seconds per image with and without the line
model (the same images read again by a recognizer without one; ``--no-timing``
skips that). Never run on the CROHME *test* sets.

``--save DIR`` also writes every image and its truth there (``cases.json``);
:mod:`benchmarks.rapidocr_read`, run in a benchmark-only environment, reads them with
RapidOCR, and ``--rapidocr DIR`` then adds its row (the same images: ``--save`` and
``--rapidocr`` may be given together once ``DIR/rapidocr.json`` exists).

Usage::

    python benchmarks/readers.py [--sets dev,composed] [--n 300] [--seed 1] [--json]
        [--model PATH] [--line-model PATH] [--failures] [--save DIR] [--rapidocr DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks import composed, expressions  # noqa: E402
from mathocr.compute import solve  # noqa: E402

READERS = ("lattice", "line", "combined", "rapidocr")


@dataclass
class Row:
    set: str
    look: str
    truth: str
    lattice: str
    line: str
    combined: str
    confidence: float
    seconds: float
    seconds_lattice: float | None = None
    file: str = ""
    rapidocr: str | None = None
    line_ms: float | None = None


def _expression(labels) -> str:
    labels = [lab for lab in labels if lab]
    return solve(labels).expression if labels else ""


def read_one(
    recognizer, plain, expr, look: str, index: int, seed: int, set_name: str, save: Path | None
) -> Row:
    data, _, _, _ = expressions.draw(expr, look, index, seed=seed)
    file = f"{set_name}-{look}-{index}.{'png' if look == 'clean' else 'jpg'}"
    if save is not None:
        (save / file).write_bytes(data)
    started = time.perf_counter()
    analysis = recognizer.analyze(data)
    seconds = time.perf_counter() - started
    res = analysis.result
    both = analysis.line
    lattice = _expression(both.lattice.labels) if both else res.expression
    line = _expression(both.line[0][0]) if both and both.line else ""
    plain_seconds = None
    if plain is not None:
        started = time.perf_counter()
        plain.analyze(data)
        plain_seconds = time.perf_counter() - started
    truth = expr.ascii
    return Row(
        set_name, look, truth, lattice, line, res.expression, res.confidence, seconds,
        plain_seconds, file, None, res.timings.get("line"),
    )  # fmt: skip


def summarize(rows: list[Row]) -> dict:
    out: dict = {}
    for key in sorted({(r.set, r.look) for r in rows}):
        group = [r for r in rows if (r.set, r.look) == key]
        n = len(group)
        entry: dict = {"n": n}
        for reader in READERS:
            if reader == "rapidocr" and any(r.rapidocr is None for r in group):
                continue
            entry[reader] = sum(getattr(r, reader) == r.truth for r in group) / n
        entry["ece"] = expressions.ece(
            [r.confidence for r in group], [r.combined == r.truth for r in group]
        )
        entry["median_ms"] = 1e3 * statistics.median(r.seconds for r in group)
        line_ms = [r.line_ms for r in group if r.line_ms is not None]
        if line_ms:
            entry["median_ms_line_stage"] = statistics.median(line_ms)
        plain = [r.seconds_lattice for r in group if r.seconds_lattice is not None]
        if plain:
            entry["median_ms_lattice_only"] = 1e3 * statistics.median(plain)
        out["/".join(key)] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,composed")
    parser.add_argument("--n", type=int, default=300, help="composed sums per look")
    parser.add_argument("--seed", type=int, default=composed.DEFAULT_SEED)
    parser.add_argument("--limit", type=int, default=None, help="dev expressions (default all)")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--line-model", type=Path, default=None)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--failures", action="store_true")
    parser.add_argument("--save", type=Path, default=None, help="write the images here")
    parser.add_argument("--rapidocr", type=Path, default=None, help="RapidOCR's readings")
    args = parser.parse_args(argv)
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)

    from mathocr.recognizer import Recognizer

    recognizer = Recognizer(args.model, line_model=args.line_model or True)
    plain = None if args.no_timing else Recognizer(args.model, line_model=False)
    rows = read_all(recognizer, plain, args)
    if args.rapidocr is not None:
        read = json.loads((args.rapidocr / "rapidocr.json").read_text())
        for r in rows:
            r.rapidocr = read.get(r.file)
    summary = summarize(rows)
    if args.json:
        json.dump({"summary": summary}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{recognizer!r}")
    print_table(summary)
    if args.failures:
        for r in rows:
            if r.combined != r.truth:
                print(f"{r.set}/{r.look}: {r.truth!r} lattice {r.lattice!r} line {r.line!r} "
                      f"-> {r.combined!r} ({r.confidence:.2f})")  # fmt: skip
    return 0


def read_all(recognizer, plain, args: argparse.Namespace) -> list[Row]:
    """Every image of ``args.sets`` in both looks, read (and saved with ``args.save``)."""
    rows: list[Row] = []
    sets = args.sets.split(",")
    for look in ("clean", "photo"):
        if "dev" in sets:
            for i, expr in enumerate(expressions.dev_expressions(args.limit)):
                rows.append(
                    read_one(recognizer, plain, expr, look, i, expressions.SEED, "dev", args.save)
                )
        if "composed" in sets:
            seed = expressions.SEED + args.seed
            pairs = composed.composed_expressions(args.n, seed=args.seed)
            for i, (_, expr) in enumerate(pairs):
                rows.append(read_one(recognizer, plain, expr, look, i, seed, "composed", args.save))
    if args.save is not None:
        cases = [{"file": r.file, "set": r.set, "look": r.look, "truth": r.truth} for r in rows]
        (args.save / "cases.json").write_text(json.dumps(cases, indent=1))
    return rows


def print_table(summary: dict) -> None:
    """One row per set and look: each reader's exact rate, ECE and median times."""
    print(f"{'set/look':16} {'n':>4} {'lattice':>8} {'line':>8} {'combined':>9} "
          f"{'rapidocr':>9} {'ECE':>6} {'ms':>6} {'ms line stage':>14} "
          f"{'ms lattice only':>16}")  # fmt: skip
    for key, e in summary.items():
        plain_ms = e.get("median_ms_lattice_only")
        rapid = f"{e['rapidocr']:.1%}" if "rapidocr" in e else "-"
        print(
            f"{key:16} {e['n']:>4} {e['lattice']:>8.1%} {e['line']:>8.1%} {e['combined']:>9.1%} "
            f"{rapid:>9} {e['ece']:>6.3f} {e['median_ms']:>6.1f} "
            f"{e.get('median_ms_line_stage', 0.0):>14.1f} "
            f"{'' if plain_ms is None else f'{plain_ms:.1f}':>16}"
        )


if __name__ == "__main__":
    sys.exit(main())
