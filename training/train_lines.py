"""Train the line model on CPU and ship it as ONNX (``lines.onnx`` and ``lines.json``).

One command trains from ``../shared/data`` (one torch thread trains while one worker
process draws the next lines, :mod:`training.lines`), exports the model, checks
onnxruntime against torch and scores the validation writers' lines::

    .venv-test/bin/python -m training.train_lines --out /work/var/lines --steps 8000

then copy ``lines.onnx`` and ``lines.json`` into ``src/mathocr/models``. ``--smoke``
trains a few batches in seconds (for tests). Every batch is drawn from a generator
seeded by ``(seed, batch index)``; the model, optimizer and schedule are saved to
``OUT/checkpoint.pt`` every ``--checkpoint-every`` batches, and the same command run
again goes on from there with the same batches it would have drawn.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mathocr.line_model import LINE_HEIGHT, REF_PIXELS, STRIDE, ctc_beam_search

from .card import LICENCES
from .export import OPSET, export_onnx, sha256
from .line_net import LineNet
from .lines import ALPHABET, KIND_WEIGHTS, LineSample, LineSources

_INDEX = {label: i + 1 for i, label in enumerate(ALPHABET)}
_SOURCES: dict[bool, LineSources] = {}


def _sources(*, validation: bool = False, smoke: bool = False) -> LineSources:
    key = validation
    if key not in _SOURCES:
        _SOURCES[key] = LineSources(validation=validation, extra_sources=not smoke)
    return _SOURCES[key]


def draw_lines(
    n: int, rng: np.random.Generator, *, validation: bool = False, smoke: bool = False
) -> list[LineSample]:
    """``n`` lines drawn from the training (or validation) writers."""
    src = _sources(validation=validation, smoke=smoke)
    out: list[LineSample] = []
    while len(out) < n:
        sample = src.sample(rng)
        if sample is not None:
            out.append(sample)
    return out


def collate(samples: Sequence[LineSample]) -> tuple[torch.Tensor, ...]:
    """Images padded to the widest (paper), their column counts, labels and lengths."""
    width = max(s.image.shape[1] for s in samples)
    x = np.zeros((len(samples), 1, LINE_HEIGHT, width), np.float32)
    for i, s in enumerate(samples):
        x[i, 0, :, : s.image.shape[1]] = s.image
    columns = torch.tensor([s.image.shape[1] // STRIDE for s in samples], dtype=torch.long)
    targets = torch.tensor([_INDEX[lab] for s in samples for lab in s.labels], dtype=torch.long)
    lengths = torch.tensor([len(s.labels) for s in samples], dtype=torch.long)
    return torch.from_numpy(x), columns, targets, lengths


class _Batches(Dataset):
    """Batch ``i`` (from ``first``) is drawn afresh from a generator seeded by ``(seed, i)``;
    lines of similar width are batched together (less padding)."""

    def __init__(self, *, n: int, size: int, seed: int, first: int, smoke: bool) -> None:
        self.n, self.size, self.seed, self.first, self.smoke = n, size, seed, first, smoke

    def __len__(self) -> int:
        return self.n - self.first

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        rng = np.random.default_rng([self.seed, self.first + i])
        return collate(draw_lines(self.size, rng, smoke=self.smoke))


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def greedy(log_probs: np.ndarray) -> tuple[str, ...]:
    """The best path's labels of CTC output ``[T, C]`` (repeats merged, blanks dropped)."""
    best = log_probs.argmax(axis=1)
    out, previous = [], 0
    for c in best:
        if c != previous and c != 0:
            out.append(ALPHABET[c - 1])
        previous = int(c)
    return tuple(out)


@torch.no_grad()
def evaluate(
    model: nn.Module, lines: Sequence[LineSample], *, beam: bool = False, device: str = "cpu"
) -> dict:
    """Exact line reading of ``lines``: greedy and (``beam``) under the grammar."""
    model.eval()
    greedy_ok = beam_ok = 0
    for s in lines:
        x = torch.from_numpy(s.image)[None, None].to(device)
        lp = model(x)[:, 0].cpu().numpy()
        greedy_ok += greedy(lp) == s.labels
        if beam:
            found = ctc_beam_search(lp, ALPHABET, nbest=1)
            beam_ok += bool(found) and found[0][0] == s.labels
    out = {"n": len(lines), "greedy_exact": greedy_ok / max(len(lines), 1)}
    if beam:
        out["grammar_exact"] = beam_ok / max(len(lines), 1)
    return out


def train(
    *,
    steps: int,
    out: Path,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    workers: int = 1,
    width: int = 32,
    log_every: int = 100,
    checkpoint_every: int = 500,
    val: Sequence[LineSample] = (),
    smoke: bool = False,
    device: str = "cpu",
) -> LineNet:
    """Train a :class:`LineNet` for ``steps`` batches (continuing ``out/checkpoint.pt``)
    on ``device`` (``"cpu"``, or ``"cuda"`` where a GPU is lent); returns it on the CPU."""
    torch.manual_seed(seed)
    model = LineNet(len(ALPHABET), width=width).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=steps, pct_start=0.1
    )
    checkpoint = out / "checkpoint.pt"
    done = 0
    earlier = 0.0  # minutes of training before this run (a continued checkpoint's)
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False, map_location=device)
        if (state["steps"], state["seed"], state["width"]) == (steps, seed, width):
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            done = int(state["step"])
            earlier = float(state.get("minutes", 0.0))
            print(f"continuing {checkpoint} from batch {done}/{steps}", flush=True)

    def save(step: int) -> None:
        snapshot = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "step": step,
            "steps": steps,
            "seed": seed,
            "width": width,
            "minutes": earlier + (time.perf_counter() - start) / 60,
        }
        out.mkdir(parents=True, exist_ok=True)
        partial = checkpoint.with_suffix(".partial")
        torch.save(snapshot, partial)
        partial.replace(checkpoint)

    loss_fn = nn.CTCLoss(blank=0, zero_infinity=True)
    start = time.perf_counter()
    loader = DataLoader(
        _Batches(n=steps, size=batch_size, seed=seed, first=done, smoke=smoke),
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        prefetch_factor=4 if workers else None,
        worker_init_fn=_worker_init if workers else None,
    )
    running = 0.0
    for step, (x, columns, targets, lengths) in enumerate(loader, done + 1):
        model.train()
        log_probs = model(x.to(device))
        loss = loss_fn(log_probs, targets.to(device), columns, lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        running += loss.item()
        if step % log_every == 0 or step == steps:
            score = evaluate(model, val[:300], device=device) if val else {}
            elapsed = time.perf_counter() - start
            eta = elapsed / (step - done) * (steps - step)
            exact = f"  val greedy {100 * score['greedy_exact']:.1f} %" if score else ""
            print(
                f"step {step}/{steps}  loss {running / log_every:.4f}{exact}  "
                f"{elapsed / 60:.1f} min (eta {eta / 60:.1f} min)",
                flush=True,
            )
            running = 0.0
        if step % checkpoint_every == 0 or step == steps:
            save(step)
    return model.cpu().eval()


def export(model: LineNet, path: Path) -> None:
    """Write ``model`` as ONNX: ``input`` [1, 1, 40, W] -> ``log_probs`` [W/4, 1, C]."""
    export_onnx(
        model,
        path,
        dummy=torch.zeros(1, 1, LINE_HEIGHT, 160),
        output="log_probs",
        dynamic_axes={"input": {3: "W"}, "log_probs": {0: "T"}},
    )


def onnx_max_abs_diff(model: LineNet, path: Path, lines: Sequence[LineSample]) -> float:
    """Largest difference between torch's and onnxruntime's log-probabilities on ``lines``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.no_grad():
        for s in lines:
            x = s.image[None, None].astype(np.float32)
            want = model(torch.from_numpy(x)).numpy()
            (got,) = session.run(["log_probs"], {"input": x})
            worst = max(worst, float(np.abs(np.exp(want) - np.exp(got)).max()))
    return worst


def render_card(meta: dict) -> str:
    """The line model's card (Markdown) from its ``lines.json``."""
    t, v = meta["training"], meta["validation"]
    rows = []
    for name, counts in meta["sources"].items():
        what, licence = LICENCES.get(name, (name, "see training/card.py"))
        used = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in counts.items())
        rows.append(f"| {name} | {what} | {used} | {licence} |")
    val_rows = [
        f"| {kind} | {r['n']} | {100 * r['greedy_exact']:.1f} % | "
        f"{100 * r.get('grammar_exact', float('nan')):.1f} % |"
        for kind, r in v.items()
    ]
    kinds = ", ".join(f"{k} {w:.0%}" for k, w in KIND_WEIGHTS.items())
    return "\n".join(
        [
            "# MathOCR line model",
            "",
            f"`lines.onnx` version **{meta['version']}**: the second reader of the MathOCR "
            "resolver (`mathocr.line_model`, combined with the lattice reader by "
            "`mathocr.combine`). It reads one whole line of handwritten arithmetic at once.",
            "",
            "| | |",
            "|---|---|",
            f"| File | `lines.onnx`, {meta['bytes']:,} bytes |",
            f"| SHA-256 | `{meta['sha256']}` |",
            f"| ONNX opset | {OPSET} |",
            f"| Input | `input`: float32 `[1, 1, {meta['input_height']}, W]`, W a multiple of "
            f"{meta['stride']}: the line's ink (1.0 on 0.0) from "
            "`mathocr.line_model.line_image`, its typical symbol "
            f"{meta['ref_pixels']} px tall, centred on the line's middle |",
            f"| Output | `log_probs`: float32 `[W/{meta['stride']}, 1, "
            f"{len(meta['alphabet']) + 1}]`, CTC log-probabilities; column 0 the blank, then "
            f"`{' '.join(meta['alphabet'])}` |",
            f"| Network | 5 conv layers (batch norm, ReLU), a BiLSTM, a linear layer; "
            f"{t['parameters']:,} parameters (`training/line_net.py`) |",
            f"| Training | {t['steps']:,} batches of {t['batch_size']} lines, AdamW, one-cycle "
            f"max lr {t['lr']}, CTC; {t['minutes']} min on CPU (seed {t['seed']}) |",
            "",
            "## Data",
            "",
            "Whole lines drawn afresh for every batch (`training/lines.py`): "
            f"{kinds}. `crohme` lines are the training writers' own arithmetic expressions; "
            "`composed` lines are sums, signs, the multiplication dot, brackets and relations "
            "written with one training writer's symbols and gaps; `mixed` lines write the same "
            "with isolated symbols of the extra sources, sized and placed as the CROHME "
            "writers size and place that class. Every line is drawn at a random scale and "
            "pen width, slanted, turned, blurred and thresholded. The CROHME development "
            "writers (`training/dev_writers.txt`) are never used, and a tenth of the other "
            "CROHME writers are kept out for validation; the extra sources give only their "
            "`train` split. The CROHME 2014 and 2016 test sets are never used.",
            "",
            "| source | what | used | licence |",
            "|---|---|---|---|",
            *rows,
            "",
            "## Validation (the kept-out CROHME writers' lines, drawn as in training)",
            "",
            "| lines | n | exact, best path | exact, under the grammar |",
            "|---|---:|---:|---:|",
            *val_rows,
            "",
            "The service's figures (development and composed benchmarks, with the lattice "
            "reader and combined) are in `docs/benchmarks.md` (`benchmarks/readers.py`).",
            "",
            "## Retrain",
            "",
            "```",
            f"python -m training.train_lines --out OUT --steps {t['steps']} --seed {t['seed']}",
            "cp OUT/lines.onnx OUT/lines.json OUT/LINES_CARD.md src/mathocr/models/",
            "```",
            "",
            "Run it again to continue from `OUT/checkpoint.pt`; `--export-only` exports a "
            "checkpoint as it is. `MATHOCR_LINE_MODEL` names another model; "
            "`MATHOCR_LINE_READER=false` (or `Recognizer(line_model=False)`) turns it off.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for model and checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=8000, help="batches to train")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--width", type=int, default=32, help="network width (channels)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, or auto (cuda where there is a GPU)"
    )
    parser.add_argument("--workers", type=int, default=1, help="data worker processes")
    parser.add_argument("--val", type=int, default=1000, help="validation lines")
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--version", default=None, help="model version (default: date)")
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="export OUT/checkpoint.pt as it is (a run still going, or stopped early)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.batch_size, args.val, args.workers = 4, 4, 8, 0
    torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    val = draw_lines(
        args.val, np.random.default_rng([args.seed, 1_000_003]), validation=True, smoke=args.smoke
    )
    if args.export_only:
        state = torch.load(args.out / "checkpoint.pt", weights_only=False, map_location="cpu")
        model = LineNet(len(ALPHABET), width=int(state["width"]))
        model.load_state_dict(state["model"])
        model.eval()
        args.steps = int(state["step"])
    else:
        model = train(
            steps=args.steps,
            out=args.out,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            workers=args.workers,
            width=args.width,
            checkpoint_every=args.checkpoint_every,
            log_every=2 if args.smoke else 100,
            val=val,
            smoke=args.smoke,
            device=device,
        )
    saved = torch.load(args.out / "checkpoint.pt", weights_only=False, map_location="cpu")
    minutes = float(saved.get("minutes", 0.0))
    onnx_path = args.out / "lines.onnx"
    export(model, onnx_path)
    diff = onnx_max_abs_diff(model, onnx_path, val[:20])
    if diff > 1e-3:
        print(f"onnxruntime differs from torch by {diff:.2g}", file=sys.stderr)
        return 1
    score = evaluate(model, val, beam=True)
    kinds = {k: sum(s.kind == k for s in val) for k in ("crohme", "composed", "mixed")}
    by_kind = {
        k: evaluate(model, [s for s in val if s.kind == k], beam=True) for k in kinds if kinds[k]
    }
    meta = {
        "version": args.version or datetime.now(UTC).strftime("lines-%Y.%m.%d"),
        "alphabet": list(ALPHABET),
        "input_height": LINE_HEIGHT,
        "ref_pixels": REF_PIXELS,
        "stride": STRIDE,
        "input": {"name": "input", "shape": [1, 1, LINE_HEIGHT, "W"], "dtype": "float32"},
        "output": {"name": "log_probs", "shape": ["W/4", 1, len(ALPHABET) + 1], "blank": 0},
        "training": {
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "width": args.width,
            "seed": args.seed,
            "minutes": round(minutes, 1),
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        "validation": {"all": score, **by_kind},
        "sources": _sources(smoke=args.smoke).census(),
        "onnx_max_abs_diff": diff,
        "sha256": sha256(onnx_path),
        "bytes": onnx_path.stat().st_size,
    }
    (args.out / "lines.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    (args.out / "LINES_CARD.md").write_text(render_card(meta), encoding="utf-8")
    print(json.dumps(meta["validation"], indent=2))
    if not math.isfinite(score["greedy_exact"]):  # pragma: no cover - a broken run
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
