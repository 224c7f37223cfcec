"""Symbol-classifier latency: one batch of 16 symbols, one CPU core, onnxruntime.

Usage::

    .venv-test/bin/python benchmarks/classifier_speed.py [MODEL.onnx] [--runs 2000]

Prints the median (and 10th/90th percentile) wall time of ``session.run`` on a batch
of 16 real-looking inputs. Target: median below 2 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parents[1] / "src" / "mathocr" / "models" / "symbols.onnx"


def measure(model: Path = MODEL, *, batch: int = 16, runs: int = 2000, warmup: int = 50) -> dict:
    """Time ``runs`` single-threaded inferences of a ``batch``; returns times in ms."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    _, channels, height, width = session.get_inputs()[0].shape  # [N, planes, 32, 32]
    x = (rng.random((batch, channels, height, width)) > 0.8).astype(np.float32)
    for _ in range(warmup):
        session.run(["logits"], {"input": x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        session.run(["logits"], {"input": x})
        times.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(times, n=10)
    return {
        "batch": batch,
        "runs": runs,
        "median_ms": statistics.median(times),
        "p10_ms": q[0],
        "p90_ms": q[-1],
        "per_symbol_us": 1000 * statistics.median(times) / batch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", type=Path, default=MODEL)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    result = measure(args.model, batch=args.batch, runs=args.runs)
    print(
        f"batch of {result['batch']}, 1 thread, {result['runs']} runs: median "
        f"{result['median_ms']:.3f} ms (p10 {result['p10_ms']:.3f}, p90 {result['p90_ms']:.3f}), "
        f"{result['per_symbol_us']:.0f} us per symbol"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
