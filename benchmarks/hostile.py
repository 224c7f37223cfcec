"""Worst-case time and memory of the recognition path on hostile images.

Each image of :func:`hostile_set` (noise photos, thousands of specks, salt and
pepper, stripes, checkerboards, a black frame, a transparent 40 MP PNG, a line
of 600 symbols, ...) is validated and recognised as the server does, in a fresh
child process of its own, with one thread. For each the child reports the
seconds taken and the growth of its peak resident memory over what the loaded
model already held (``ru_maxrss``); a child still running after ``--timeout``
seconds is killed and reported as such.

Targets (issue "Hostile input"): under 1 s and 300 MB for every image.

Usage::

    python benchmarks/hostile.py [--only NAME ...] [--timeout 30] [--json]
        [--src PATH]   # another checkout's src/ (the old code), same images

Pin it to one core (``taskset -c 1``) on a shared machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _png(array: np.ndarray, **params) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", **params)
    return buf.getvalue()


def _jpeg(array: np.ndarray, quality: int = 95) -> bytes:
    ok, buf = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {array.shape} array as JPEG")
    return buf.tobytes()


def noise_jpeg(width: int, height: int, *, seed: int = 0, quality: int = 95) -> bytes:
    """Uniform RGB noise as a JPEG (the worst case for every stage)."""
    rng = np.random.default_rng(seed)
    return _jpeg(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), quality)


def specks(width: int, height: int, count: int, *, seed: int = 0, radius: int = 2) -> bytes:
    """``count`` dark round specks scattered over a white page (PNG)."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width), 255, np.uint8)
    for x, y in zip(rng.integers(0, width, count), rng.integers(0, height, count), strict=True):
        cv2.circle(page, (int(x), int(y)), radius, 0, -1)
    return _png(page)


def salt_and_pepper(width: int, height: int, *, density: float, seed: int = 0) -> bytes:
    """Single black and white pixels on mid grey (PNG)."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width), 128, np.uint8)
    r = rng.random((height, width))
    page[r < density / 2] = 0
    page[(r >= density / 2) & (r < density)] = 255
    return _png(page)


def stripes(width: int, height: int, *, period: int, vertical: bool = True) -> bytes:
    """Black and white stripes ``period`` pixels wide (PNG)."""
    axis = np.arange(width if vertical else height) // period % 2 * 255
    page = np.broadcast_to(axis[None, :] if vertical else axis[:, None], (height, width))
    return _png(np.ascontiguousarray(page, np.uint8))


def checkerboard(width: int, height: int, *, cell: int) -> bytes:
    """A black and white checkerboard of ``cell``-pixel squares (PNG)."""
    y, x = np.mgrid[0:height, 0:width]
    return _png(((x // cell + y // cell) % 2 * 255).astype(np.uint8))


def black_frame(width: int, height: int, *, border: int) -> bytes:
    """A white page inside a black frame ``border`` pixels wide (PNG); 0 is all black."""
    page = np.zeros((height, width), np.uint8)
    if border:
        page[border:-border, border:-border] = 255
    return _png(page)


def transparent(width: int, height: int) -> bytes:
    """A fully transparent RGBA PNG (compresses to almost nothing)."""
    return _png(np.zeros((height, width, 4), np.uint8), optimize=False, compress_level=9)


def long_line(symbols: int, *, seed: int = 0) -> bytes:
    """A printed line of ``symbols`` digits and operators (PNG)."""
    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(list("0123456789+-=")) for _ in range(symbols))
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.5, 3)
    page = np.full((90, tw + 40), 255, np.uint8)
    cv2.putText(page, text, (20, 65), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3, cv2.LINE_AA)
    return _png(page)


def wide_symbols(count: int) -> bytes:
    """A printed-size line of ``count`` crossed ovals (each wide enough to be cut in two)."""
    page = np.full((120, count * 64 + 40), 255, np.uint8)
    for i in range(count):
        x = 45 + i * 64
        cv2.ellipse(page, (x, 60), (25, 30), 0, 0, 360, 0, 4)
        cv2.line(page, (x, 30), (x, 90), 0, 4)
    return _png(page)


def sparse_noise_at_limit(pixels: int = 39_000_000, *, density: float = 2e-4) -> bytes:
    """A near-limit page of isolated dark pixels: compresses under the byte limit."""
    width = int(np.sqrt(pixels * 1.5))
    height = pixels // width
    rng = np.random.default_rng(3)
    page = np.full((height, width), 255, np.uint8)
    n = int(pixels * density)
    page[rng.integers(0, height, n), rng.integers(0, width, n)] = 0
    return _png(page, compress_level=9)


#: name -> maker of the image bytes (built lazily: some take seconds and MB).
CASES: dict[str, Callable[[], bytes]] = {
    "noise_jpeg_400": lambda: noise_jpeg(400, 400),
    "noise_jpeg_600": lambda: noise_jpeg(600, 600),
    "noise_jpeg_7mb": lambda: noise_jpeg(2700, 2000),
    "specks_10": lambda: specks(800, 400, 10),
    "specks_300": lambda: specks(800, 400, 300),
    "specks_2000": lambda: specks(800, 400, 2000),
    "specks_20000": lambda: specks(3000, 1500, 20_000),
    "salt_pepper_png": lambda: salt_and_pepper(800, 600, density=0.1),
    "stripes_vertical": lambda: stripes(1000, 250, period=4),
    "stripes_horizontal": lambda: stripes(1000, 250, period=3, vertical=False),
    "checkerboard_2": lambda: checkerboard(1000, 1000, cell=2),
    "checkerboard_16": lambda: checkerboard(1000, 1000, cell=16),
    "all_black": lambda: black_frame(1000, 250, border=0),
    "black_frame": lambda: black_frame(1000, 250, border=20),
    "transparent_40mp": lambda: transparent(8000, 5000),
    "sparse_noise_39mp": sparse_noise_at_limit,
    "line_60_symbols": lambda: long_line(60),
    "line_600_symbols": lambda: long_line(600),
    "wide_symbols_900": lambda: wide_symbols(900),
    "one_pixel": lambda: _png(np.zeros((1, 1), np.uint8)),
    "thin_strip": lambda: _png(
        np.random.default_rng(1).integers(0, 256, (2, 20000), dtype=np.uint8)
    ),
}

#: What the child runs: the server's path (validate, then recognise) with one thread.
CHILD = r"""
import json, os, resource, sys, time
os.environ["OMP_NUM_THREADS"] = "1"
import cv2
cv2.setNumThreads(1)
from mathocr import Recognizer
from mathocr import decode as d
rec = Recognizer(threads=1)
data = open(sys.argv[1], "rb").read()
def run():
    if hasattr(rec, "decode"):                 # decode once, as the server does
        return rec(data, decoded=rec.decode(data))
    d.probe(data)                              # older code: validate, then recognise
    return rec(data)
rec(open(sys.argv[2], "rb").read())            # warm up on an ordinary image
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    result = run()
    outcome = {"status": str(result.status.value), "error": result.error,
               "expression": result.expression[:40], "confidence": result.confidence}
except Exception as exc:  # a refusal is an answer too
    outcome = {"status": "refused", "error": type(exc).__name__ + ": " + str(exc)[:80]}
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "extra_mb": (peak - base) / 1024, **outcome}))
"""


def ordinary_image() -> bytes:
    """A small printed ``12+7`` for the child's warm-up."""
    page = np.full((120, 320), 255, np.uint8)
    cv2.putText(page, "12+7", (20, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 0, 5, cv2.LINE_AA)
    return _png(page)


def run_case(path: Path, warm: Path, *, src: Path, timeout: float, taskset: str | None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-c", CHILD, str(path), str(warm)]
    if taskset:
        cmd = ["taskset", "-c", taskset, *cmd]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "extra_mb": None, "status": f"killed after {timeout:g} s"}
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return {"seconds": None, "extra_mb": None, "status": "crashed", "error": out.stderr[-300:]}
    return json.loads(lines[-1])


def cases(only: list[str] | None = None) -> Iterator[tuple[str, bytes]]:
    for name, make in CASES.items():
        if not only or name in only:
            yield name, make()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="mathocr to measure")
    parser.add_argument("--taskset", default=None, help="CPU list for taskset (e.g. 1)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.png"
        warm.write_bytes(ordinary_image())
        for name, data in cases(args.only):
            path = Path(tmp) / name
            path.write_bytes(data)
            row = {"case": name, "bytes": len(data)}
            row.update(
                run_case(path, warm, src=args.src, timeout=args.timeout, taskset=args.taskset)
            )
            rows.append(row)
            if not args.json:
                secs = "-" if row["seconds"] is None else f"{row['seconds']:.3f}"
                mb = "-" if row["extra_mb"] is None else f"{row['extra_mb']:.0f}"
                print(
                    f"{name:20s} {len(data):>10,d} B  {secs:>8s} s  {mb:>6s} MB  "
                    f"{row['status']} {row.get('error') or ''}",
                    flush=True,
                )
    done = [r for r in rows if r["seconds"] is not None]
    summary = {
        "worst_seconds": max((r["seconds"] for r in done), default=None),
        "worst_extra_mb": max((r["extra_mb"] for r in done), default=None),
        "killed_or_crashed": [r["case"] for r in rows if r["seconds"] is None],
        "load_average_1min": os.getloadavg()[0],
        "at": time.strftime("%Y-%m-%d %H:%M"),
    }
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
    else:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
