"""Development benchmark: whole handwritten expressions of held-out CROHME writers.

The in-grammar arithmetic expressions (``is_arithmetic``) of the writers held
out of classifier training (``training/dev_writers.txt``) are drawn twice - clean
(:func:`training.crohme.render`) and with a phone-photo look
(:mod:`benchmarks.photolook`: paper tint and rulings, uneven light and shadow,
blue/pencil ink, tilt, blur, noise, JPEG; seeded) - and their PNG/JPEG bytes
run through :meth:`mathocr.Recognizer.analyze`. Reported: exact-match rate of the expression and
of the result, and each failure attributed to one stage:

* ``segmentation`` - symbol count differs from the truth, or a box does not
  overlap its truth box (IoU < 0.4);
* ``classification`` - a symbol's top-1 class is wrong and the reader did not fix it;
* ``reading`` - every top-1 was right (or the right labels were available) but
  the reader chose a wrong sequence.

``--oracle-segmentation`` adds a third row, ``oracle``: the truth's own symbols,
each drawn alone as the clean look draws it, classified and read with the truth
boxes (:func:`evaluate_oracle`). It is what a perfect segmenter would give with
this classifier and reader, so it tells which stage limits the clean score.

``--segmentation-only`` needs no model: it checks the clean-up and the
connected-component segmentation alone (the classifier-driven cutting of
touching symbols is then not applied). Never run this on the CROHME *test*
sets: those are reserved.

Usage::

    python benchmarks/expressions.py [--json] [--limit N] [--only clean|photo]
        [--segmentation-only] [--oracle-segmentation] [--failures] [--model PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks.lineoption import add_line_option, line_option  # noqa: E402
from benchmarks.photolook import photo_look  # noqa: E402
from mathocr.cleanup import binarize  # noqa: E402
from mathocr.decode import decode_image  # noqa: E402
from mathocr.segment import segment  # noqa: E402
from training import crohme  # noqa: E402

SEED = 20261123
CLEAN_HEIGHT = 48.0


@dataclass
class Case:
    variant: str
    index: int
    path: str
    truth: str
    truth_result: str | None
    expression: str = ""
    result: str | None = None
    stage: str = "ok"  # ok / segmentation / classification / reading
    reason: str = ""
    confidence: float = 0.0
    params: dict = field(default_factory=dict)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    ix = max(0, min(ax0 + aw, bx0 + bw) - max(ax0, bx0))
    iy = max(0, min(ay0 + ah, by0 + bh) - max(ay0, by0))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def dev_expressions(limit: int | None = None) -> list:
    exprs = [e for e in crohme.load_expressions() if e.is_arithmetic and crohme.is_dev(e)]
    return exprs[:limit] if limit else exprs


def draw(
    expr, variant: str, index: int, *, seed: int = SEED
) -> tuple[bytes, list, list[str], dict]:
    """The test image's bytes (PNG or JPEG), truth boxes and labels (left to right)."""
    rng = np.random.default_rng([seed, index, 0 if variant == "clean" else 1])
    if variant == "clean":
        image, boxes = crohme.render(expr.symbols, symbol_height=CLEAN_HEIGHT)
        data = crohme.encode_png(image)
        params: dict = {}
    else:
        height = float(rng.uniform(40, 80))
        pen = float(rng.uniform(2.0, 5.0)) * height / 48
        image, boxes = crohme.render(expr.symbols, symbol_height=height, pen_width=pen, rng=rng)
        data, boxes, params = photo_look(image, boxes, rng=rng, symbol_height=height)
    order = left_to_right(boxes)
    return data, [boxes[i] for i in order], [expr.symbols[i].label for i in order], params


def left_to_right(boxes: list) -> list[int]:
    """Indices of ``boxes`` ordered by their horizontal centres (the reading order)."""
    return sorted(range(len(boxes)), key=lambda i: boxes[i][0] + boxes[i][2] / 2)


def truth_symbols(expr) -> tuple[list, list, np.ndarray]:
    """The truth's symbols left to right, their boxes in the clean look and their
    classifier inputs: each drawn alone as the clean look draws it (as the held-out
    symbol accuracy of ``training.evaluate`` does), normalized against the truth's
    reference height."""
    from mathocr.normalize import normalize_batch
    from mathocr.segment import reference_height

    _, boxes = crohme.render(expr.symbols, symbol_height=CLEAN_HEIGHT)
    scale = CLEAN_HEIGHT / crohme.typical_height(expr.symbols)
    order = left_to_right(boxes)
    symbols = [expr.symbols[i] for i in order]
    tboxes = [boxes[i] for i in order]
    masks = [crohme.symbol_mask(s, scale=scale) for s in symbols]
    ref = reference_height([h for _, _, _, h in tboxes])
    return symbols, tboxes, normalize_batch(masks, ref_height=ref)


def truth_result(expr) -> str | None:
    from mathocr.compute import solve

    return solve(list(expr.ascii)).result


#: Labels that read the same in an expression (``÷`` and ``/`` both divide).
_SAME_AS = {"÷": "/"}


def _same(a: str, b: str) -> bool:
    return _SAME_AS.get(a, a) == _SAME_AS.get(b, b)


def evaluate(recognizer, expr, variant: str, index: int, *, seed: int = SEED) -> Case:
    data, tboxes, tlabels, params = draw(expr, variant, index, seed=seed)
    case = Case(variant, index, expr.path, expr.ascii, None, params=params)
    if recognizer is None:
        b = binarize(decode_image(data))
        seg = segment(b.ink, stroke_width=b.stroke_width, core=b.core)
        boxes = [
            tuple(round(v / b.scale) for v in box) if b.scale != 1 else box for box in seg.boxes
        ]
        ok, reason = _segmentation_ok(boxes, tboxes)
        case.stage, case.reason = ("ok", "") if ok else ("segmentation", reason)
        return case
    analysis = recognizer.analyze(data)
    res = analysis.result
    case.expression, case.result = res.expression, res.result
    case.confidence = res.confidence
    case.truth_result = truth_result(expr)
    if res.expression == expr.ascii:
        return case
    ok, reason = _segmentation_ok(list(analysis.boxes), tboxes)
    if not ok:
        case.stage, case.reason = "segmentation", reason
        return case
    labels = analysis.reading.labels if analysis.reading else ()
    _blame(case, tlabels, analysis.alternatives, labels, res)
    return case


def _blame(case: Case, tlabels: list[str], alternatives, labels, res) -> None:
    """Attribute a misread with a correct segmentation to classification or reading."""
    top1 = [alts[0][0] for alts in alternatives]
    wrong_top1 = [i for i, (t, p) in enumerate(zip(tlabels, top1, strict=True)) if not _same(t, p)]
    unfixed = [i for i in wrong_top1 if not _same(tlabels[i], labels[i])]
    if unfixed:
        i = unfixed[0]
        alts = ", ".join(f"{n} {p:.2f}" for n, p in alternatives[i][:3])
        case.stage = "classification"
        case.reason = f"symbol {i} truth {tlabels[i]!r}: top {alts}; read {labels[i]!r}"
    else:
        bad = [i for i, (t, r) in enumerate(zip(tlabels, labels, strict=True)) if not _same(t, r)]
        case.stage = "reading"
        case.reason = (
            f"top-1 right but read {[labels[i] for i in bad]} at {bad}"
            if bad
            else f"labels right, expression {res.expression!r} ({res.error or 'no error'})"
        )


def evaluate_oracle(recognizer, expr, index: int) -> Case:
    """Classify and read the truth's own symbols: the pipeline with a perfect segmenter.

    The symbols (:func:`truth_symbols`) are classified in one batch and the
    reader gets the truth boxes. What still fails is down to classification or
    reading, so this is the ceiling that better segmentation alone could reach.
    """
    from mathocr.classify import top_k
    from mathocr.compute import solve
    from mathocr.read import posterior, read
    from mathocr.recognizer import TOP_K

    symbols, tboxes, batch = truth_symbols(expr)
    probs = recognizer.classifier.predict(batch)
    alternatives = tuple(tuple(a) for a in top_k(probs, TOP_K))
    reading = read(alternatives, tboxes, beam_width=recognizer.beam_width)
    res = solve(reading.labels)
    case = Case("oracle", index, expr.path, expr.ascii, truth_result(expr))
    case.expression, case.result = res.expression, res.result
    if reading.valid:  # as the recognizer reports it: on calibrated alternatives
        calibrated = top_k(recognizer.classifier.calibrate(probs), TOP_K)
        case.confidence = posterior(calibrated, tboxes, reading.labels)
    if res.expression != expr.ascii:
        _blame(case, [s.label for s in symbols], alternatives, reading.labels, res)
    return case


def _segmentation_ok(boxes: list, tboxes: list) -> tuple[bool, str]:
    if len(boxes) != len(tboxes):
        return False, f"{len(boxes)} symbols found, {len(tboxes)} written"
    for i, (b, t) in enumerate(zip(boxes, tboxes, strict=True)):
        if iou(b, t) < 0.4:
            return False, f"box {i} {b} vs truth {t} (IoU {iou(b, t):.2f})"
    return True, ""


def summarize(cases: list[Case]) -> dict:
    out: dict = {}
    for variant in sorted({c.variant for c in cases}):
        sub = [c for c in cases if c.variant == variant]
        n = len(sub)
        stages = Counter(c.stage for c in sub)
        expr_ok = sum(c.stage == "ok" for c in sub)
        result_ok = sum(
            c.stage == "ok" or (c.result is not None and c.result == c.truth_result) for c in sub
        )
        out[variant] = {
            "expressions": n,
            "expression_exact": expr_ok / n if n else 0.0,
            "result_exact": result_ok / n if n else 0.0,
            "failures": {
                s: stages.get(s, 0) for s in ("segmentation", "classification", "reading")
            },
            "confidence": confidence_report(sub),
        }
    return out


#: Bins of the reported expression confidence for the reliability table.
CONFIDENCE_BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 1.0)


def confidence_report(cases: list[Case]) -> dict:
    """How well ``Result.confidence`` predicts an exact expression.

    Per bin of confidence: cases, mean confidence and exact-match rate; ``ece`` is the
    case-weighted mean gap between the two.
    """
    conf = np.array([c.confidence for c in cases], np.float64)
    ok = np.array([c.stage == "ok" for c in cases], np.float64)
    bins, ece = [], 0.0
    for lo, hi in itertools.pairwise(CONFIDENCE_BINS):
        inside = (conf >= lo) & ((conf < hi) if hi < 1.0 else (conf <= hi))
        n = int(inside.sum())
        if not n:
            continue
        mean_conf, exact = float(conf[inside].mean()), float(ok[inside].mean())
        ece += n / len(cases) * abs(mean_conf - exact)
        bins.append({"range": [lo, hi], "n": n, "confidence": mean_conf, "exact": exact})
    return {"ece": ece, "bins": bins}


def ece(confidences, exact) -> float:
    """:func:`confidence_report`'s ECE of paired confidences and exact (bool) readings."""
    cases = [
        Case("", 0, "", "", None, confidence=float(c), stage="ok" if ok else "reading")
        for c, ok in zip(confidences, exact, strict=True)
    ]
    return confidence_report(cases)["ece"]


def print_summary(summary: dict) -> None:
    """The per-look table of :func:`summarize` and its reliability rows."""
    print(
        f"{'look':8} {'n':>5} {'expr exact':>11} {'result exact':>13} "
        f"{'seg':>5} {'class':>6} {'read':>5}"
    )
    for variant, s in summary.items():
        f = s["failures"]
        print(
            f"{variant:8} {s['expressions']:>5} {s['expression_exact']:>11.1%} "
            f"{s['result_exact']:>13.1%} {f['segmentation']:>5} {f['classification']:>6} "
            f"{f['reading']:>5}"
        )
    print("confidence vs exact match (reliability):")
    for variant, s in summary.items():
        cells = ", ".join(
            f"[{b['range'][0]:.2f}-{b['range'][1]:.2f}] n={b['n']} conf {b['confidence']:.2f} "
            f"exact {b['exact']:.2f}"
            for b in s["confidence"]["bins"]
        )
        print(f"  {variant:6} ECE {s['confidence']['ece']:.3f}: {cells}")


def print_failures(cases: list[Case]) -> None:
    """One line per failed case: truth, reading, stage and why."""
    for c in cases:
        if c.stage != "ok":
            print(
                f"[{c.variant} #{c.index}] {c.truth!r} -> {c.expression!r}: "
                f"{c.stage}: {c.reason} {c.params or ''}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON (summary and cases)")
    parser.add_argument("--limit", type=int, default=None, help="first N expressions only")
    parser.add_argument("--only", choices=["clean", "photo"], default=None)
    parser.add_argument("--segmentation-only", action="store_true", help="no model needed")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    parser.add_argument(
        "--oracle-segmentation",
        action="store_true",
        help="also classify and read the truth's own symbols (clean look): a perfect segmenter",
    )
    parser.add_argument("--model", type=Path, default=None)
    add_line_option(parser)
    args = parser.parse_args(argv)

    recognizer = None
    if not args.segmentation_only:
        from mathocr.recognizer import Recognizer

        recognizer = Recognizer(args.model, **line_option(args))
    exprs = dev_expressions(args.limit)
    variants = [args.only] if args.only else ["clean", "photo"]
    started = time.perf_counter()
    cases = [evaluate(recognizer, e, v, i) for v in variants for i, e in enumerate(exprs)]
    if args.oracle_segmentation and recognizer is not None:
        cases += [evaluate_oracle(recognizer, e, i) for i, e in enumerate(exprs)]
    elapsed = time.perf_counter() - started
    summary = summarize(cases)
    if args.json:
        failures = [asdict(c) for c in cases if c.stage != "ok"]
        json.dump({"summary": summary, "failures": failures}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    what = "segmentation only" if args.segmentation_only else "full pipeline"
    model = "" if recognizer is None else f", model {recognizer.model_version}"
    print(
        f"{len(exprs)} held-out expressions x {len(variants)} looks ({what}{model}), "
        f"{elapsed:.1f} s"
    )
    print_summary(summary)
    if args.failures:
        print_failures(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
