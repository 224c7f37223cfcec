"""Train the symbol classifier on CPU and ship it as ONNX.

One command trains from ``../shared/data`` (model 2.0.0, every source and 9,000 batches:
29.9 min on a 2-core machine beside benchmark runs; one torch thread trains while one
worker process draws and augments the next batches), exports
``symbols.onnx``, checks onnxruntime against torch, evaluates on every symbol of the
held-out writers and writes ``symbols.json``::

    .venv-test/bin/python -m training.train --out src/mathocr/models --seed 0

``--smoke`` trains a few batches in seconds (for tests). ``--threads`` defaults to 1:
on a 2-core machine shared with other work, two OpenMP threads were measured 10x
slower than one (spin-waiting), and the second core feeds the data worker.

The run is deterministic for a given ``--seed``: every batch is drawn from a generator
seeded by ``(seed, batch index)``. ``--checkpoint PATH`` saves the model, optimizer and
schedule every ``--checkpoint-every`` batches; run the same command again and it goes on
from the last checkpoint with the same batches it would have drawn.
Afterwards ``python -m training.card src/mathocr/models`` writes the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from . import data, extra, heldout, sources
from .evaluate import format_report, format_summary, held_out_reports
from .export import MAX_ABS_DIFF, export_onnx, onnx_max_abs_diff, write_metadata
from .model import SymbolNet

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "mathocr" / "models"


class _Batches(Dataset):
    """Batch ``i`` (from ``first``) is drawn afresh from a generator seeded by ``(seed, i)``."""

    def __init__(
        self, source: data.TrainingSet, *, n: int, size: int, seed: int, first: int = 0
    ) -> None:
        self.source, self.n, self.size, self.seed, self.first = source, n, size, seed, first

    def __len__(self) -> int:
        return self.n - self.first

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.first + i])
        x, y = self.source.batch(self.size, rng)
        return torch.from_numpy(x), torch.from_numpy(y)


def _load_checkpoint(path: Path | None, *, steps: int, seed: int, width: int) -> dict | None:
    """The checkpoint at ``path`` if it belongs to this run (same steps, seed and width)."""
    if path is None or not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    run = {"steps": steps, "seed": seed, "width": width}
    if not isinstance(state, dict) or "step" not in state:
        return None  # a plain state_dict of a finished older run
    if {k: state.get(k) for k in run} != run:
        raise SystemExit(f"{path} is from another run ({ {k: state.get(k) for k in run} }): {run}")
    return state


def _summary(rep: dict) -> dict:
    """What the model card keeps of a held-out report: sizes and accuracies per class."""
    keep = {k: rep[k] for k in ("n", "accuracy", "accuracy_arithmetic") if k in rep}
    keep["per_class"] = {c: d for c, d in rep["per_class"].items() if d["support"]}
    if "ece_at_crohme_temperature" in rep:
        keep["ece"] = rep["ece_at_crohme_temperature"]
    return keep


def _worker_init(_: int) -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def train(
    source: data.TrainingSet,
    val: tuple[np.ndarray, np.ndarray],
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    workers: int = 1,
    log_every: int = 200,
    width: int = 16,
    checkpoint: Path | None = None,
    checkpoint_every: int = 500,
) -> SymbolNet:
    """Train a :class:`SymbolNet` for ``steps`` batches; returns it in eval mode.

    With ``checkpoint``, the state is saved there every ``checkpoint_every`` batches and
    at the end, and a checkpoint of the same run found there is continued.
    """
    torch.manual_seed(seed)
    model = SymbolNet(width=width).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=steps, pct_start=0.15
    )
    done = 0
    state = _load_checkpoint(checkpoint, steps=steps, seed=seed, width=width)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        done = int(state["step"])
        print(f"continuing {checkpoint} from batch {done}/{steps}", flush=True)

    def save(step: int) -> None:
        if checkpoint is None:
            return
        snapshot = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "rng": torch.get_rng_state(),
            "step": step,
            "steps": steps,
            "seed": seed,
            "width": width,
        }
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        partial = checkpoint.with_suffix(".partial")
        torch.save(snapshot, partial)
        partial.replace(checkpoint)  # a run killed while saving keeps the previous one

    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    loader = DataLoader(
        _Batches(source, n=steps, size=batch_size, seed=seed, first=done),
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        prefetch_factor=6 if workers else None,
        worker_init_fn=_worker_init if workers else None,
        persistent_workers=False,
    )
    # progress is measured on a fixed sample of the held-out symbols (cheap)
    pick = np.random.default_rng(seed).permutation(len(val[1]))[:4000]
    val_x = torch.from_numpy(val[0][pick]).to(memory_format=torch.channels_last)
    val_y = torch.from_numpy(val[1][pick])
    start = time.perf_counter()
    running = 0.0
    batches = iter(loader)  # draws a seed from torch's generator: before the restore below
    if state is not None:
        torch.set_rng_state(state["rng"])  # dropout goes on as it would have
    for step, (x, y) in enumerate(batches, done + 1):
        model.train()
        logits = model(x.to(memory_format=torch.channels_last))
        loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running += loss.item()
        if step % log_every == 0 or step == steps:
            acc = (model.predict_logits(val_x).argmax(1) == val_y).float().mean().item()
            elapsed = time.perf_counter() - start
            eta = elapsed / (step - done) * (steps - step)
            print(
                f"step {step}/{steps}  loss {running / log_every:.4f}  held-out sample acc "
                f"{100 * acc:.2f} %  {elapsed / 60:.1f} min (eta {eta / 60:.1f} min)",
                flush=True,
            )
            running = 0.0
        if step % checkpoint_every == 0 or step == steps:
            save(step)
    return model.eval()


def _source_weight(text: str) -> tuple[str, float]:
    name, equals, weight = text.partition("=")
    known = {*data.SOURCE_WEIGHTS, *extra.SOURCES}
    if not equals or name not in known:
        raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT with NAME one of {sorted(known)}")
    try:
        value = float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{weight!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("a weight is above 0")
    return name, value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=9000, help="batches to train")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--workers", type=int, default=1, help="data worker processes")
    parser.add_argument("--version", default=None, help="model version (default: date)")
    parser.add_argument("--preliminary", action="store_true", help="mark the model preliminary")
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument(
        "--checkpoint", type=Path, help="save the training state here; continue it if present"
    )
    parser.add_argument("--checkpoint-every", type=int, default=500, help="batches between saves")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="leave this source out of training and evaluate on all of it (e.g. mathwriting)",
    )
    parser.add_argument("--width", type=int, default=16, help="network width (channels)")
    parser.add_argument(
        "--source-weight",
        action="append",
        default=[],
        metavar="NAME=WEIGHT",
        type=_source_weight,
        help="sample a source more or less often than data.SOURCE_WEIGHTS says (repeatable)",
    )
    args = parser.parse_args(argv)

    if not sources.available():
        print("shared data not found (../shared/data or $MATHOCR_DATA)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    source = data.TrainingSet.load(exclude=args.exclude, weights=dict(args.source_weight))
    sets = heldout.held_out_sets(whole_sources=args.exclude)
    val_x, val_y = sets["crohme-dev"]
    inks = Counter(item.source for item in source.ink)
    images = Counter(item.source for item in source.images)
    print(
        f"loaded {len(source.ink)} inks {dict(inks)}, {len(source.images)} images "
        f"{dict(images)}; held out {', '.join(f'{k} {len(v[1])}' for k, v in sets.items())} "
        f"in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    steps, batch_size, workers = args.steps, args.batch_size, args.workers
    if args.smoke:
        steps, batch_size, workers = 8, 64, 0
        pick = np.random.default_rng(args.seed).choice(len(val_y), 1000, replace=False)
        val_x, val_y = val_x[pick], val_y[pick]
    model = train(
        source,
        (val_x, val_y),
        steps=steps,
        batch_size=batch_size,
        lr=args.lr,
        seed=args.seed,
        workers=workers,
        log_every=min(200, steps),
        width=args.width,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
    )
    train_minutes = (time.perf_counter() - t0) / 60

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "symbols.onnx"
    export_onnx(model, onnx_path)
    diff = onnx_max_abs_diff(model, onnx_path, val_x[:512])
    print(f"onnxruntime vs torch: max abs logit difference {diff:.2e}")
    if diff > MAX_ABS_DIFF:
        print(f"ONNX export differs from torch by more than {MAX_ABS_DIFF}", file=sys.stderr)
        return 1
    if args.smoke:
        sets = {"crohme-dev": (val_x, val_y)}
    reports = held_out_reports(onnx_path, sets)
    rep = reports["crohme-dev"]
    print(format_report(rep))
    print(format_summary(reports))
    version = args.version or datetime.now(UTC).strftime("%Y.%m.%d")
    write_metadata(
        args.out / "symbols.json",
        onnx_path,
        version=version + ("-smoke" if args.smoke else ""),
        preliminary=bool(args.preliminary or args.smoke),
        training={
            "command": "python -m training.train "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "seed": args.seed,
            "steps": steps,
            "batch_size": batch_size,
            "samples_seen": steps * batch_size,
            "minutes": round(train_minutes, 1),
            "torch": torch.__version__,
            "source_weights": dict(source.weights),
            "sources": source.class_counts(),
        },
        onnx_max_abs_diff=diff,
        temperature=rep["calibration"]["temperature"],
        validation=rep,
        held_out={name: _summary(r) for name, r in reports.items()},
    )
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1024:.0f} KiB) and symbols.json")
    print(json.dumps({"accuracy": rep["accuracy"], "minutes": round(train_minutes, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
