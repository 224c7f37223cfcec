"""Evaluate a symbol-classifier ONNX file on every held-out set of every source.

Usage::

    .venv-test/bin/python -m training.evaluate src/mathocr/models/symbols.onnx \
        [--json report.json] [--gallery errors.png] [--full] [--whole-source mathwriting]

Prints the CROHME development writers' overall and per-class accuracy and confusion
matrix, then one line per held-out set (:mod:`training.heldout`: UNIPEN's and
pendigits' held-out writers, MNIST t10k, USPS and optdigits test writers; ``--full``
prints each one's tables), so a new model can be compared with the shipped one on
exactly the same data. ``--gallery`` also
draws a random sample of the misclassified symbols, as the network sees them, so the
errors can be looked at (and audited: which of them could any reader tell apart?).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mathocr.classify import softmax
from mathocr.symbols import CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, n: int = len(CLASSES)):
    """``(n, n)`` int matrix: row = true class, column = predicted class."""
    cm = np.zeros((n, n), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def report(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Overall and per-class accuracy, the confusion matrix and the top confusions.

    ``accuracy`` counts every symbol; ``accuracy_arithmetic`` leaves out the
    ``reject`` class (the symbols an arithmetic expression is made of).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = confusion_matrix(y_true, y_pred)
    support = cm.sum(axis=1)
    per_class = {
        c: {
            "support": int(support[i]),
            "accuracy": float(cm[i, i] / support[i]) if support[i] else None,
        }
        for i, c in enumerate(CLASSES)
    }
    arith = y_true != CLASSES.index("reject")
    off = [
        (int(cm[i, j]), CLASSES[i], CLASSES[j])
        for i in range(len(CLASSES))
        for j in range(len(CLASSES))
        if i != j and cm[i, j]
    ]
    off.sort(reverse=True)
    return {
        "n": len(y_true),
        "accuracy": float((y_true == y_pred).mean()),
        "accuracy_arithmetic": float((y_true[arith] == y_pred[arith]).mean()),
        "per_class": per_class,
        "confusion": cm.tolist(),
        "top_confusions": [{"true": t, "pred": p, "count": n} for n, t, p in off[:15]],
    }


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    """The resolver's own softmax (:func:`mathocr.classify.softmax`) of ``logits / temperature``."""
    return softmax(np.asarray(logits, np.float64) / temperature)


def calibration_error(probs: np.ndarray, y_true: np.ndarray, *, bins: int = 10) -> float:
    """Expected calibration error: mean |confidence - accuracy| over equal-width bins of the
    top probability, weighted by the share of samples in each bin.

    Examples
    --------
    >>> probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    >>> round(calibration_error(probs, np.array([0, 1, 0, 0])), 3)  # 0.9 -> 50 %, 0.6 -> 100 %
    0.4
    """
    probs = np.asarray(probs)
    conf = probs.max(axis=1)
    right = probs.argmax(axis=1) == np.asarray(y_true)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(which):
        in_bin = which == b
        error += in_bin.mean() * abs(conf[in_bin].mean() - right[in_bin].mean())
    return float(error)


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature ``T`` minimising the held-out negative log-likelihood of
    ``softmax(logits / T)`` (temperature scaling, Guo et al. 2017), to 0.01.

    The label smoothing used in training makes the network under-confident (``T < 1``).
    """
    y_true = np.asarray(y_true)
    rows = np.arange(len(y_true))

    def nll(t: float) -> float:
        return float(-np.log(_softmax(logits, t)[rows, y_true] + 1e-12).mean())

    grid = np.round(np.arange(0.25, 4.0, 0.01), 2)
    return float(grid[int(np.argmin([nll(t) for t in grid]))])


def calibration(logits: np.ndarray, y_true: np.ndarray) -> dict:
    """Fitted temperature and the calibration error before and after it."""
    t = fit_temperature(logits, y_true)
    return {
        "temperature": t,
        "ece": calibration_error(_softmax(logits, 1.0), y_true),
        "ece_calibrated": calibration_error(_softmax(logits, t), y_true),
    }


def format_report(rep: dict) -> str:
    """Human-readable text of :func:`report`."""
    lines = [
        f"symbols: {rep['n']}",
        f"accuracy (all {len(CLASSES)} classes): {100 * rep['accuracy']:.2f} %",
        f"accuracy (without reject): {100 * rep['accuracy_arithmetic']:.2f} %",
        "",
        "class    support  accuracy",
    ]
    for c, d in rep["per_class"].items():
        acc = "-" if d["accuracy"] is None else f"{100 * d['accuracy']:.2f} %"
        lines.append(f"{c:<8} {d['support']:>7}  {acc:>8}")
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    short = [c if c != "reject" else "rej" for c in CLASSES]
    lines.append("     " + "".join(f"{c:>5}" for c in short))
    for c, row in zip(short, rep["confusion"], strict=True):
        lines.append(f"{c:>5}" + "".join(f"{v:>5}" if v else "    ." for v in row))
    lines += ["", "most frequent confusions (true -> predicted: count)"]
    lines += [f"  {d['true']} -> {d['pred']}: {d['count']}" for d in rep["top_confusions"]]
    cal = rep.get("calibration")
    if cal:
        lines += [
            "",
            f"calibration: temperature {cal['temperature']:.2f}; expected calibration error "
            f"{100 * cal['ece']:.2f} % raw, {100 * cal['ece_calibrated']:.2f} % calibrated",
        ]
    return "\n".join(lines)


#: Caption names in the gallery (its bitmap font has no ``×`` or ``÷``).
_CAPTION = {"×": "x", "÷": "div", "reject": "rej"}


def error_gallery(
    x: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    size: int = 100,
    seed: int = 0,
    columns: int = 10,
):
    """A picture of a random sample of the misclassified inputs, and their indices.

    Each cell shows plane 0 of ``x`` (the ink, black on white, 1.5x) captioned
    ``k:true>pred r``: the cell number, the true and the predicted class, and ``r``
    the relative size in plane 1. Cells run left to right, then down. Returns the
    ``PIL.Image`` and the indices into ``x`` of the cells, in order.

    Examples
    --------
    >>> x = np.zeros((4, 2, 32, 32), np.float32)
    >>> image, picked = error_gallery(x, np.array([0, 1, 2, 3]), np.array([0, 2, 2, 1]))
    >>> sorted(picked.tolist()), image.size
    ([1, 3], (720, 72))
    """
    from PIL import Image, ImageDraw

    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    picked = np.random.default_rng(seed).permutation(wrong)[:size]
    cell = 72
    rows = max(1, -(-len(picked) // columns))
    image = Image.new("L", (columns * cell, rows * cell), 255)
    draw = ImageDraw.Draw(image)
    for k, i in enumerate(picked):
        top, left = (k // columns) * cell, (k % columns) * cell
        ink = Image.fromarray((255 - 255 * np.clip(x[i, 0], 0, 1)).astype(np.uint8))
        image.paste(ink.resize((48, 48), Image.NEAREST), (left + 12, top + 2))
        true, pred = (_CAPTION.get(CLASSES[c], CLASSES[c]) for c in (y_true[i], y_pred[i]))
        size_plane = f" {x[i, 1, 0, 0]:.1f}" if x.shape[1] > 1 else ""
        draw.text((left + 1, top + 52), f"{k}:{true}>{pred}{size_plane}", fill=0)
    return image, picked


#: The logit given to a class the model was not trained on (its probability is 0).
UNTAUGHT_LOGIT = -1e4


def predict_onnx(path: Path, x: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """Logits of an ONNX model for inputs ``x`` (N, 2, 32, 32) float32, one column per class
    of :data:`~mathocr.symbols.CLASSES` (a model of fewer classes, such as 1.3.0, gets
    :data:`UNTAUGHT_LOGIT` for the others, as :class:`mathocr.classify.Classifier` maps them).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    meta_path = Path(path).with_suffix(".json")
    classes = json.loads(meta_path.read_text("utf-8"))["classes"] if meta_path.is_file() else None
    out = [
        session.run(["logits"], {"input": x[i : i + batch_size]})[0]
        for i in range(0, len(x), batch_size)
    ]
    logits = np.concatenate(out) if out else np.zeros((0, len(classes or CLASSES)), np.float32)
    if classes is None or list(classes) == list(CLASSES):
        return logits
    full = np.full((len(logits), len(CLASSES)), UNTAUGHT_LOGIT, np.float32)
    full[:, [CLASSES.index(c) for c in classes]] = logits
    return full


def held_out_reports(path: Path, sets: dict) -> dict:
    """:func:`report` of a model on every held-out set (see :mod:`training.heldout`), with
    each set's calibration error at the temperature fitted on the CROHME development
    writers."""
    reports = {}
    temperature = None
    for name, (x, y) in sets.items():
        if not len(y):
            continue
        logits = predict_onnx(path, x)
        rep = report(y, logits.argmax(axis=1))
        if name == "crohme-dev":
            rep["calibration"] = calibration(logits, y)
            temperature = rep["calibration"]["temperature"]
        reports[name] = rep
    for name, (x, y) in sets.items():
        if name in reports and temperature is not None:
            probs = _softmax(predict_onnx(path, x), temperature)
            reports[name]["ece_at_crohme_temperature"] = calibration_error(probs, y)
    return reports


#: Classes of plain arithmetic, held to 95 % on every held-out source.
ARITHMETIC_CLASSES = tuple(c for c in CLASSES if c != "reject")


def format_summary(reports: dict) -> str:
    """One line per held-out set: symbols, accuracy, without reject, weakest classes."""
    lines = ["held-out set              symbols   all      no reject  ECE    weakest classes"]
    for name, rep in reports.items():
        weak = sorted(
            (d["accuracy"], c)
            for c, d in rep["per_class"].items()
            if d["accuracy"] is not None and d["support"] >= 5 and c in ARITHMETIC_CLASSES
        )[:3]
        ece = rep.get("ece_at_crohme_temperature")
        lines.append(
            f"{name:<24} {rep['n']:>8}  {100 * rep['accuracy']:6.2f} %  "
            f"{100 * rep['accuracy_arithmetic']:6.2f} %  "
            f"{'-' if ece is None else f'{100 * ece:.2f}':>5}  "
            + ", ".join(f"{c} {100 * a:.1f}" for a, c in weak)
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="ONNX file to evaluate")
    parser.add_argument("--json", type=Path, help="also write the reports as JSON here")
    parser.add_argument(
        "--gallery", type=Path, help="also draw a sample of the misclassified symbols (PNG)"
    )
    parser.add_argument("--gallery-size", type=int, default=100, help="symbols in the gallery")
    parser.add_argument("--gallery-seed", type=int, default=0, help="which random sample")
    parser.add_argument(
        "--whole-source",
        action="append",
        default=[],
        help="also evaluate on all of this source (a model trained without it)",
    )
    parser.add_argument("--full", action="store_true", help="print every per-class table")
    args = parser.parse_args(argv)

    from . import heldout, sources

    if not sources.available():
        print("shared data not found (../shared/data or $MATHOCR_DATA)", file=sys.stderr)
        return 2
    sets = heldout.held_out_sets(whole_sources=args.whole_source)
    reports = held_out_reports(args.model, sets)
    for name, rep in reports.items():
        if args.full or name == "crohme-dev":
            print(f"\n== {name} ==")
            print(format_report(rep))
    print()
    print(format_summary(reports))
    if args.gallery:
        x, y = sets["crohme-dev"]
        pred = predict_onnx(args.model, x).argmax(axis=1)
        image, picked = error_gallery(x, y, pred, size=args.gallery_size, seed=args.gallery_seed)
        image.save(args.gallery)
        print(f"\n{len(picked)} misclassified symbols drawn in {args.gallery}")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
