"""Speed of the recognition core on one CPU core.

Measures, with onnxruntime and OpenCV limited to one thread and the model loaded:

* the median time per image of ``Recognizer.__call__`` (decode included) on a
  1000 x 250 photo-look JPEG on squared paper (the slowest clean-up case) of
  a 10-symbol handwritten expression (a held-out CROHME writer's, drawn by
  :mod:`benchmarks.photolook`), with the median of each stage from
  ``Result.timings``;
* cold start: a fresh interpreter that imports :mod:`mathocr` and loads the
  model (median of several runs; interpreter start-up reported separately).

Targets: median < 10 ms, cold start < 1 s.

Usage::

    python benchmarks/core_speed.py [--runs 300] [--cold 5] [--json]
        [--profile [--sort cumulative|tottime] [--top 25]]

Pin it to one core (``taskset -c 1``) on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks.lineoption import add_line_option, line_option  # noqa: E402

WIDTH, HEIGHT, SYMBOLS = 1000, 250, 10


def sample_image(seed: int = 7) -> tuple[bytes, str]:
    """JPEG bytes of a 1000x250 photo-look image of a 10-symbol expression, and its truth."""
    from benchmarks.photolook import photo_look
    from training import crohme

    exprs = [
        e
        for e in crohme.load_expressions()
        if e.is_arithmetic and crohme.is_dev(e) and len(e.symbols) == SYMBOLS
    ]
    if not exprs:
        raise SystemExit("no held-out 10-symbol expression found in ../shared/data")
    expr = exprs[0]
    rng = np.random.default_rng(seed)
    image, boxes = crohme.render(expr.symbols, symbol_height=60, pen_width=4, rng=rng)
    data, _, _ = photo_look(image, boxes, rng=rng, symbol_height=60, quality=80, paper="squared")
    photo = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = photo.shape[:2]
    scale = min(WIDTH / w, HEIGHT / h)
    photo = cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    top = (HEIGHT - photo.shape[0]) // 2
    left = (WIDTH - photo.shape[1]) // 2
    photo = cv2.copyMakeBorder(
        photo,
        top,
        HEIGHT - photo.shape[0] - top,
        left,
        WIDTH - photo.shape[1] - left,
        cv2.BORDER_REPLICATE,
    )
    ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok or photo.shape[:2] != (HEIGHT, WIDTH):
        raise RuntimeError(f"could not encode a {WIDTH}x{HEIGHT} JPEG of the sample")
    return buf.tobytes(), expr.ascii


COLD = """
import sys, time
t0 = time.perf_counter()
from mathocr import Recognizer
Recognizer(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
print(time.perf_counter() - t0)
"""


def cold_start(runs: int, model: Path | None = None) -> dict:
    inside, outside = [], []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD, str(model or "")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outside.append(time.perf_counter() - t0)
        inside.append(float(out.stdout.strip()))
    return {
        "import_and_load_s": statistics.median(inside),
        "process_total_s": statistics.median(outside),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5, help="cold-start runs (0: skip)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the warm loop")
    parser.add_argument("--sort", default="cumulative", help="profile order (e.g. tottime)")
    parser.add_argument("--top", type=int, default=25, help="profile lines shown")
    parser.add_argument("--model", type=Path, default=None)
    add_line_option(parser)
    args = parser.parse_args(argv)

    cv2.setNumThreads(1)
    from mathocr.recognizer import Recognizer

    data, truth = sample_image()
    rec = Recognizer(args.model, threads=1, **line_option(args))
    for _ in range(10):  # warm up
        result = rec(data)
    times, stages = [], {}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = rec(data)
        times.append((time.perf_counter() - t0) * 1e3)
        for k, v in result.timings.items():
            stages.setdefault(k, []).append(v)
    report = {
        "image": f"{WIDTH}x{HEIGHT} JPEG, {SYMBOLS} symbols, truth {truth!r}",
        "read": result.expression,
        "symbols_found": len(result.symbols),
        "median_ms": statistics.median(times),
        "p90_ms": float(np.percentile(times, 90)),
        "min_ms": min(times),
        "load_average_1min": os.getloadavg()[0],
        "stage_median_ms": {k: round(statistics.median(v), 3) for k, v in stages.items()},
        "runs": args.runs,
        "model_version": rec.model_version,
    }
    if args.cold:
        report["cold_start"] = cold_start(args.cold, args.model)
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(100):
            rec(data)
        prof.disable()
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(report["image"], "->", repr(report["read"]), f"(model {report['model_version']})")
    print(
        f"warm, 1 thread: median {report['median_ms']:.2f} ms, p90 {report['p90_ms']:.2f} ms, "
        f"min {report['min_ms']:.2f} ms over {args.runs} runs "
        f"(load average {report['load_average_1min']:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        "  stages (median ms):", ", ".join(f"{k} {v}" for k, v in report["stage_median_ms"].items())
    )
    if "cold_start" in report:
        c = report["cold_start"]
        print(
            f"cold start: import + model load {c['import_and_load_s']:.3f} s, whole new process "
            f"{c['process_total_s']:.3f} s (median of {c['runs']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
