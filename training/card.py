"""Write ``MODEL_CARD.md`` for a trained model from its ``symbols.json`` and a latency run.

Usage::

    .venv-test/bin/python -m training.card src/mathocr/models

Every figure in the card comes from ``symbols.json`` (written by :mod:`training.train`)
or is measured here, so the card cannot drift from the model it describes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

from mathocr.symbols import CLASSES

from .crohme import dev_writers
from .data import TrainingSet
from .export import sha256

ROOT = Path(__file__).resolve().parents[1]
#: Targets of the issue "Classifier 2.0", per held-out set (accuracy over all classes).
TARGETS = {
    "crohme-dev": 0.975,
    "crohme-dev-arithmetic": 0.985,
    "mnist-t10k": 0.993,
    "unipen-test": 0.97,
}
#: No class of arithmetic under this on any held-out source.
TARGET_CLASS = 0.95
LICENCES = {
    "crohme": (
        "CROHME 2016 training set (InkML pen strokes, about 330 writers)",
        "research use, reported as CC BY-NC-SA 3.0",
    ),
    "unipen": (
        "UNIPEN train_r01_v07 1a/1d, online digits and symbols, 223 of 282 writers",
        "CC BY 4.0 (1999 CD: research use, no commercial distribution)",
    ),
    "pendigits": ("UCI pendigits, online digits, the 30 .tra writers", "CC BY 4.0"),
    "mathwriting": ("Google MathWriting 2024 symbols split, online", "CC BY-NC-SA 4.0"),
    "detypify": ("Detypify user strokes (+ ≠ ≤ and others)", "MIT"),
    "mnist-train": ("MNIST training set, 60,000 digits, about 250 writers", "CC BY-SA 3.0"),
    "usps": ("USPS zip-code digits 16x16, zip.train", "research use (none stated)"),
    "semeion": ("Semeion digits 16x16, about 80 writers", "CC BY 4.0"),
    "optdigits": ("UCI optdigits 32x32, tra + cv, 30 writers", "CC BY 4.0"),
    "bhmsds": ("Basic Handwritten Math Symbols Dataset (28x28 photo crops)", "MIT"),
    "mdas": ("MDAS symbols v1 (28x28, two writers, flips/rotations)", "MIT"),
    "pairs": (
        "junk: two touching or overlapping neighbours of the CROHME training inks drawn "
        "as one mark, class `reject` (`training.sources.junk_pairs`)",
        "as CROHME",
    ),
    "corrections": (
        "symbols of this service's readings its users corrected (`manage.py "
        "export_corrections`), four in five of the images",
        "the deployment's (see the export's SOURCE.md)",
    ),
    "mnist": ("MNIST t10k digits (trained on up to model 1.3.0; a test set since)", "CC BY-SA 3.0"),
}
#: The held-out sets, as :mod:`training.heldout` names them.
HELD_OUT = {
    "crohme-dev": "CROHME 2016 training archive, the development writers (all symbols)",
    "crohme-dev-arithmetic": "the same, symbols of plain arithmetic expressions only",
    "unipen-test": "UNIPEN, the held-out fifth of writers (59, by writer id)",
    "pendigits-test": "pendigits, the 14 .tes writers",
    "mnist-t10k": "MNIST t10k (writers disjoint from the training set's)",
    "usps-test": "USPS zip.test",
    "optdigits-windep": "optdigits windep, 13 other writers",
    "corrections-test": "corrected symbols of the held-out fifth of the users' images",
    "mathwriting": "MathWriting, all of it (only for a model trained without it)",
}
MEANING = {
    "×": "multiplication cross, or the letter x drawn as the same cross",
    "÷": "obelus",
    "/": "slash (division)",
    ".": "decimal point / dot",
    "reject": "not an arithmetic symbol: other letters, Greek, specks, blots, scribbles",
}


def _calibration_lines(cal: dict | None) -> list[str]:
    if not cal:
        return []
    return [
        f"- Calibration: temperature **{cal['temperature']:.2f}** (fitted on these symbols by "
        "negative log-likelihood; `temperature` in `symbols.json`). Expected calibration "
        f"error of the top probability {100 * cal['ece']:.2f} % raw, "
        f"{100 * cal['ece_calibrated']:.2f} % calibrated. The resolver reports calibrated "
        "probabilities (`Classifier.calibrate`); its cuts and reading use the raw ones."
    ]


def _held_out_lines(held_out: dict) -> list[str]:
    """The per-source table: accuracy, without reject, ECE, weakest classes, target."""
    if not held_out:
        return []
    out = [
        "",
        "### Every held-out source",
        "",
        "| held-out set | symbols | accuracy | without `reject` | ECE | weakest arithmetic "
        "classes | target |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, rep in held_out.items():
        weak = sorted(
            (d["accuracy"], c)
            for c, d in rep["per_class"].items()
            if d["accuracy"] is not None and d["support"] >= 5 and c != "reject"
        )[:3]
        target = TARGETS.get(name)
        verdict = (
            "-"
            if target is None
            else (f"≥ {100 * target:.1f} %: " + ("met" if rep["accuracy"] >= target else "NOT met"))
        )
        under = [c for a, c in weak if a < TARGET_CLASS]
        if under:
            verdict += f"; under {100 * TARGET_CLASS:.0f} %: " + ", ".join(f"`{c}`" for c in under)
        ece = rep.get("ece")
        out.append(
            f"| {name} ({HELD_OUT.get(name, '')}) | {rep['n']:,} | {_pct(rep['accuracy'])} | "
            f"{_pct(rep['accuracy_arithmetic'])} | {'-' if ece is None else _pct(ece)} | "
            + ", ".join(f"`{c}` {_pct(a)}" for a, c in weak)
            + f" | {verdict} |"
        )
    out += [
        "",
        "ECE: expected calibration error of the top probability at the temperature fitted "
        "on the CROHME development writers. Inks are drawn with a 3 px pen on a 48 px "
        "line, bitmaps thresholded, each at its class's middle relative size.",
    ]
    return out


def _latency(model: Path) -> dict:
    spec = importlib.util.spec_from_file_location(
        "classifier_speed", ROOT / "benchmarks" / "classifier_speed.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("benchmarks/classifier_speed.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.measure(model, batch=16, runs=3000)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def render_card(meta: dict, *, size: int, latency: dict, notes: str = "") -> str:
    """The model card's Markdown text."""
    val = meta["validation"]
    train = meta["training"]
    sources = train["sources"]
    per = val["per_class"]
    side = meta["input_size"]
    low = [c for c, d in per.items() if d["accuracy"] is not None and d["accuracy"] < TARGET_CLASS]
    status = (
        "PRELIMINARY (short training run, for integration only)"
        if meta.get("preliminary")
        else "release"
    )
    n_by_source: dict[str, int] = {}
    for counts in sources.values():
        for s, n in counts.items():
            n_by_source[s] = n_by_source.get(s, 0) + n
    used = [key for key in LICENCES if n_by_source.get(key)]

    out = [
        "# MathOCR symbol classifier",
        "",
        f"`symbols.onnx` version **{meta['version']}**, {status}.",
        "",
        "A small convolutional network that classifies one segmented handwritten symbol "
        "of an arithmetic expression (digits, `+ - × ÷ / = ( ) . [ ] < > ≤ ≥ ≠`, or "
        "`reject`). It is the classifier of the MathOCR resolver (`mathocr.classify`).",
        "",
        "| | |",
        "|---|---|",
        f"| File | `symbols.onnx`, {size:,} bytes |",
        f"| SHA-256 | `{meta['sha256']}` |",
        f"| ONNX opset | {meta['opset']} |",
        f"| Input | `input`: float32 `[N, {meta.get('input_channels', 1)}, {side}, {side}]` "
        "(ink plane, relative-size plane), dynamic batch |",
        f"| Output | `logits`: float32 `[N, {len(meta['classes'])}]` (softmax for probabilities) |",
        "| Architecture | 6 conv 3x3 layers (16-32-32-64-64-128 channels, batch norm folded, "
        "ReLU), 3 max-pools, global average pooling, dropout, linear |",
        f"| Held-out accuracy | {_pct(val['accuracy'])} on {val['n']:,} symbols of "
        f"{len(dev_writers())} CROHME writers never trained on; every source's held-out "
        "writers below |",
        f"| Latency | median {latency['median_ms']:.2f} ms per batch of 16 on 1 CPU thread "
        "(onnxruntime) |",
        "",
        "## Classes (logit order)",
        "",
        "| index | class | meaning |",
        "|---:|---|---|",
    ]
    for i, c in enumerate(meta["classes"]):
        out.append(f"| {i} | `{c}` | {MEANING.get(c, 'digit' if c.isdigit() else c)} |")
    out += [
        "",
        "The handwritten letter `x` is taught as `×`: CROHME writers draw the letter and "
        "the multiplication cross as the same two crossing strokes (model 1.1.0 had a "
        "separate `x` class and confused the two 201 times on the held-out writers, about "
        "a third of each class, with the mistakes on both sides looking alike). A future "
        "variable `x` will be told from a product by the expression around it, in the "
        "reader (`mathocr.read`), not by its shape.",
        "",
        "## Input and preprocessing",
        "",
        "The input is exactly the output of `mathocr.normalize.normalize_input(mask, "
        "ref_height=...)` (`normalize_batch` for a batch):",
        "",
        f"- {meta['normalisation']}.",
        "- `mask` is the symbol's own binary ink (non-zero = ink), neighbours removed.",
        "- `ref_height` is the expression's typical symbol height in the mask's pixels: the "
        "median height of its non-flat symbols (height above 0.3 x the tallest). It keeps "
        f"size cues: a symbol smaller than {meta.get('fill_fraction', 0.5)} x `ref_height` "
        "is drawn at its true size relative to that, so a `.` or a comma stays small and a "
        "`-` stays thin. A larger symbol fills the frame, so the picture alone cannot tell "
        "a `/` or a bracket (taller than the digits) from a `1`; the second plane, "
        "constant, holds the symbol's longest side over `ref_height` (a digit about 1.0, "
        "a `/` about 1.3, a bracket about 1.4 on the training writers). `symbols.json` "
        "records `fill_fraction`, `input_channels` and `max_relative_size`, and the code "
        "refuses a model whose values differ from its own.",
        "- No mean/std normalisation; batch with `normalize_batch`.",
        "",
        "## Training data",
        "",
        "All sources are read straight from their archives in `../shared/data`; nothing "
        "is unpacked. Writers listed in `training/dev_writers.txt` are never trained on, "
        "nor are the held-out writers of the other sources (see Validation). Online inks "
        "(CROHME, UNIPEN, pendigits, MathWriting, detypify) are drawn from their strokes "
        "by one renderer and one augmentation; bitmaps (MNIST, USPS, Semeion, optdigits, "
        "BHMSDS, MDAS) go through one mask path; every input is "
        "`mathocr.normalize.normalize_input`'s, as serving makes it. No symbol was "
        "composed from others: `≤ ≥ ≠` are the writers' own (CROHME, MathWriting, "
        "detypify).",
        "",
        "| source | what | items used | licence |",
        "|---|---|---:|---|",
    ]
    for key, (what, licence) in LICENCES.items():
        if n_by_source.get(key):
            out.append(f"| {key} | {what} | {n_by_source[key]:,} | {licence} |")
    out += [
        "| synthetic | scribbles, ink blots, dust (class `reject`) | generated | - |",
        "",
        "Items per class and source (training writers only):",
        "",
        "| class | " + " | ".join(used) + " |",
        "|---|" + "---:|" * len(used),
    ]
    for c in CLASSES:
        row = [f"{sources.get(c, {}).get(s, 0):,}" for s in used]
        out.append(f"| `{c}` | " + " | ".join(row) + " |")
    out += [
        "",
        "- CROHME symbols are drawn afresh from their pen strokes for every sample: pen "
        "width 3-11 % of the line height, line height 18-90 px, shear ±0.2, "
        "rotation ±6° and aspect changes (never making a `/` steeper than 0.25 across per "
        "unit of height, so it is not drawn like an upright `1`); 30 % of points get a bold "
        "pen (a filled disc 12-32 % of the line height); `ref_height` is computed from the "
        "expression as above.",
        "- CROHME labels outside our classes become `reject` (a, n, y, `\\sqrt`, `\\sum`, "
        "Greek, ...). A CROHME comma is taught as `.`: a comma between digits is a decimal "
        "separator, and several writers draw their points comma-shaped. The letter `x` is "
        "taught as `×` (see Classes). Look-alikes are left out altogether: "
        "`\\cdot` (a `.`), `o O` (`0`), `l | I` (`1`), `X` (`×`), `t` (`+`), `s S` (`5`), "
        "`z` (`2`), `b` (`6`), `g q` (`9`), `B` (`8`), `G`, `c C \\{ \\}` (brackets), "
        "`\\ldots`, `\\prime`; `\\leq \\geq \\neq` are `≤ ≥ ≠`. BHMSDS `z` (drawn like `2`) "
        "is left out; its `x` is `×`; `w` and `y` are `reject`. The other sources follow "
        "the same policy (`training.extra`'s label tables: UNIPEN's `,` is `.`, its `*`, "
        "quotes, braces and look-alike letters are left out, other punctuation is "
        "`reject`).",
        "- Isolated 28x28 symbols are thresholded to masks; BHMSDS crops (stretched to the "
        "square) are squeezed back; mirrored MDAS slashes and upright MDAS minus signs are "
        "dropped; each gets a plausible `ref_height` for its class, from the training "
        "writers' CROHME size ranges (digits about their own height, `+ × ÷` 0.4-1.3 of "
        "it, `/` 0.95-1.6, `-` by width, `.` 7-32 %).",
        "- Photo-like degradation: thicker/thinner strokes, blur + noise + re-threshold "
        "(ragged edges), elastic distortion, broken strokes. Synthetic blots are at least "
        "45 % of the line height across, larger than the boldest point.",
        "- Classes are sampled with probability proportional to count^0.35 (rare `÷ / ×` "
        f"are seen often); `reject` is {TrainingSet.reject_share:.0%} of samples, "
        f"{TrainingSet.synthetic_share:.0%} of those synthetic.",
        f"- {train['steps']:,} batches of {train['batch_size']} "
        f"({train['samples_seen']:,} samples), AdamW, one-cycle learning rate, label "
        f"smoothing 0.05, seed {train['seed']}, torch {train['torch']}, "
        f"{train['minutes']} min wall time (see the notes below for the conditions).",
        "",
        "## Validation (held-out writers)",
        "",
        f"Every usable symbol of the {len(dev_writers())} held-out writers ({val['n']:,} "
        "symbols, all expressions, not only arithmetic ones), drawn with a 3 px pen at a "
        "typical symbol height of 48 px and normalised with the expression's `ref_height`.",
        "",
        f"- Accuracy, all {len(per)} classes: **{_pct(val['accuracy'])}**",
        f"- Accuracy without `reject` (the symbols of arithmetic): "
        f"**{_pct(val['accuracy_arithmetic'])}**",
        f"- Classes below {100 * TARGET_CLASS:.0f} %: "
        f"{', '.join(f'`{c}`' for c in low) if low else 'none'}",
        *_calibration_lines(val.get("calibration")),
        f"- onnxruntime vs torch logits: max abs difference {meta['onnx_max_abs_diff']:.1e}",
        "",
        "| class | support | accuracy |",
        "|---|---:|---:|",
    ]
    for c, d in per.items():
        out.append(f"| `{c}` | {d['support']:,} | {_pct(d['accuracy'])} |")
    arith = val.get("arithmetic_expressions")
    if arith:
        out += [
            "",
            f"Symbols of the held-out writers' plain-arithmetic expressions only "
            f"({arith['n']:,} symbols, what the resolver reads): accuracy "
            f"**{_pct(arith['accuracy'])}**; per class: "
            + ", ".join(
                f"`{c}` {_pct(d['accuracy'])}"
                for c, d in arith["per_class"].items()
                if d["accuracy"] is not None
            )
            + ".",
        ]
    out += _held_out_lines(meta.get("held_out") or {})
    if notes:
        out += ["", notes.strip()]
    out += ["", "Most frequent confusions (true → predicted):", ""]
    out += [f"- `{d['true']}` → `{d['pred']}`: {d['count']}" for d in val["top_confusions"]]
    short = [c if c != "reject" else "rej" for c in CLASSES]
    out += ["", "Confusion matrix (rows true, columns predicted):", "", "```"]
    out.append("     " + "".join(f"{c:>5}" for c in short))
    for c, row in zip(short, val["confusion"], strict=True):
        out.append(f"{c:>5}" + "".join(f"{v:>5}" if v else "    ." for v in row))
    out += [
        "```",
        "",
        "## Speed",
        "",
        f"`benchmarks/classifier_speed.py`: batch of 16, onnxruntime, 1 thread, "
        f"{latency['runs']} runs: median **{latency['median_ms']:.2f} ms** (p10 "
        f"{latency['p10_ms']:.2f}, p90 {latency['p90_ms']:.2f}), "
        f"{latency['per_symbol_us']:.0f} µs per symbol; target < 2 ms. Measured on the "
        "shared 2-core build machine, so other work may inflate p90.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "# train (about 30 min on 2 CPU cores), export, check ONNX vs torch, evaluate",
        ".venv-test/bin/python -m training.train --out src/mathocr/models --seed 0",
        "# write this card",
        ".venv-test/bin/python -m training.card src/mathocr/models",
        "# evaluate any model on the held-out writers (per-class report + confusion matrix)",
        ".venv-test/bin/python -m training.evaluate src/mathocr/models/symbols.onnx",
        "# latency",
        ".venv-test/bin/python benchmarks/classifier_speed.py src/mathocr/models/symbols.onnx",
        "```",
        "",
        f"Exact training command of this model: `{train['command']}` (written to a scratch "
        "folder, then copied here with the held-out report of `training.evaluate` merged "
        "into `symbols.json`).",
        "",
        "## Limitations",
        "",
        "- Validation inks are pen strokes re-drawn cleanly, not phone photos; photos "
        "(blur, shadows, ruled paper) are only simulated by augmentation, so expect lower "
        "accuracy on real photos, and check the end-to-end benchmark.",
        "- `÷` and `/` have few CROHME examples (89 and 129 training symbols, 62 and 67 "
        "held out); their MDAS examples come from two writers.",
        "- `reject` is learnt from other CROHME letters and synthetic marks; letters that "
        "look like our symbols (`o`, `l`, `t`, `s`, `z`, `b`...) will be read as the "
        "look-alike.",
        "- The network sees one symbol without context: `-` versus a fraction bar, `.` "
        "versus `·`, a variable `x` versus `×` are decided by the reader.",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder with symbols.onnx and symbols.json")
    parser.add_argument("--notes", type=Path, help="Markdown notes on the confusions to include")
    args = parser.parse_args(argv)
    notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
    onnx_path = args.folder / "symbols.onnx"
    meta = json.loads((args.folder / "symbols.json").read_text(encoding="utf-8"))
    if sha256(onnx_path) != meta["sha256"]:
        raise SystemExit("symbols.json sha256 does not match symbols.onnx")
    text = render_card(
        meta, size=onnx_path.stat().st_size, latency=_latency(onnx_path), notes=notes
    )
    (args.folder / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    print(f"wrote {args.folder / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
