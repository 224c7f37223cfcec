"""Draw ``docs/sum.png``, the README's example: a handwritten-looking ``12 + 7 × 3 =``.

Every pen stroke is defined below as a few control points (a glyph box one unit
high, y downwards); the strokes are smoothed, given a seeded hand's wobble, slant
and size, and drawn with OpenCV's anti-aliased polylines in dark blue ink on
off-white paper. Nothing comes from a data set, and the output is the same bytes
on every run (``tests/core/test_readme_example.py`` checks that the shipped model
reads it as the README says)::

    .venv-test/bin/python docs/make_example.py            # writes docs/sum.png
    .venv-test/bin/python docs/make_example.py --out /tmp/sum.png
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
#: What the example shows, glyph by glyph (``×`` is the multiplication cross).
TEXT = "12+7×3="
#: Image size in pixels (width, height).
SIZE = (520, 130)
#: Height of a digit, in pixels.
DIGIT_HEIGHT = 64
#: Pen width, in pixels.
PEN = 4
INK = (120, 50, 30)  # BGR: dark blue
PAPER = (244, 247, 249)  # BGR: off-white
SEED = 7

Point = tuple[float, float]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list[Point]:
    """Points on an ellipse from ``start`` to ``end`` degrees (0 = right, 90 = down)."""
    steps = max(3, round(abs(end - start) / 15))
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(start, end, steps + 1)
    ]


#: Each glyph: its width (in units of the digit height), its vertical extent
#: (top, bottom) and its strokes, each a list of control points in that box.
GLYPHS: dict[str, tuple[float, tuple[float, float], list[list[Point]]]] = {
    "1": (0.3, (0.0, 1.0), [[(0.22, 0.0), (0.23, 0.5), (0.22, 1.0)]]),
    "2": (
        0.55,
        (0.0, 1.0),
        [[*_arc(0.28, 0.27, 0.25, 0.25, 200, 375), (0.38, 0.62), (0.03, 0.98), (0.55, 0.96)]],
    ),
    "7": (0.55, (0.0, 1.0), [[(0.02, 0.04), (0.3, 0.02), (0.55, 0.0), (0.34, 0.5), (0.16, 1.0)]]),
    "3": (
        0.52,
        (0.0, 1.0),
        [[*_arc(0.25, 0.24, 0.24, 0.22, 210, 440), *_arc(0.24, 0.72, 0.28, 0.27, 280, 505)]],
    ),
    "+": (0.5, (0.25, 0.78), [[(0.0, 0.5), (0.5, 0.5), (1.0, 0.48)], [(0.5, 0.0), (0.51, 1.0)]]),
    "×": (0.42, (0.35, 0.8), [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]]),
    "=": (0.52, (0.35, 0.72), [[(0.0, 0.0), (1.0, 0.02)], [(0.0, 1.0), (1.0, 0.98)]]),
}
#: Space before each glyph, in units of the digit height.
GAP = {"1": 0.2, "2": 0.22, "+": 0.3, "7": 0.3, "×": 0.25, "3": 0.28, "=": 0.32}


def _smooth(points: list[Point], rounds: int = 3) -> np.ndarray:
    """Chaikin's corner cutting: a pen's curve through the control points."""
    path = np.asarray(points, np.float64)
    for _ in range(rounds):
        if len(path) < 3:
            break
        inner = np.empty((2 * (len(path) - 1), 2))
        inner[0::2] = 0.75 * path[:-1] + 0.25 * path[1:]
        inner[1::2] = 0.25 * path[:-1] + 0.75 * path[1:]
        path = np.vstack([path[:1], inner, path[-1:]])
    return path


def strokes(rng: np.random.Generator) -> list[np.ndarray]:
    """Every stroke of :data:`TEXT` in image pixels, with the hand's wobble."""
    height = DIGIT_HEIGHT
    baseline_mid = SIZE[1] / 2
    x = 0.0
    out: list[np.ndarray] = []
    for char in TEXT:
        width, (top, bottom), glyph = GLYPHS[char]
        x += GAP[char] * height
        scale = height * rng.uniform(0.94, 1.06)
        slant = rng.uniform(0.12, 0.2)  # leaning right, as most hands do
        lift = rng.uniform(-0.04, 0.04) * height
        box_height = bottom - top
        for stroke in glyph:
            control = np.asarray(stroke, np.float64)
            control += rng.normal(0, 0.015, control.shape)
            if char in "+×=":  # operators: their box is the part of the line they fill
                control[:, 0] *= width
                control[:, 1] = top + control[:, 1] * box_height
            path = _smooth([tuple(p) for p in control])
            px = x + path[:, 0] * scale + (1.0 - path[:, 1]) * slant * scale * 0.5
            py = baseline_mid + (path[:, 1] - 0.5) * scale + lift
            out.append(np.stack([px, py], axis=1))
        x += width * scale
    total = x
    shift = (SIZE[0] - total) / 2
    return [s + np.array([shift, 0.0]) for s in out]


def draw(seed: int = SEED) -> np.ndarray:
    """The example as a BGR ``uint8`` image."""
    rng = np.random.default_rng(seed)
    factor = 4  # drawn 4x larger, then shrunk: smooth edges like a scanned pen line
    width, height = SIZE
    canvas = np.full((height * factor, width * factor, 3), PAPER, np.uint8)
    # faint, uneven light across the sheet
    yy, xx = np.mgrid[0 : height * factor, 0 : width * factor].astype(np.float32)
    light = 1.0 - 0.03 * (xx / (width * factor)) - 0.02 * (yy / (height * factor))
    canvas = (canvas * light[..., None]).astype(np.uint8)
    for stroke in strokes(rng):
        points = np.round(stroke * factor).astype(np.int32).reshape(-1, 1, 2)
        pen = round(PEN * factor * rng.uniform(0.9, 1.1))
        cv2.polylines(canvas, [points], False, INK, pen, cv2.LINE_AA)
    return cv2.resize(canvas, SIZE, interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "sum.png", help="PNG to write")
    parser.add_argument("--seed", type=int, default=SEED, help="the hand's wobble")
    args = parser.parse_args(argv)
    ok, png = cv2.imencode(".png", draw(args.seed), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:  # pragma: no cover
        raise SystemExit("could not encode the PNG")
    args.out.write_bytes(png.tobytes())
    print(f"wrote {args.out} ({SIZE[0]}x{SIZE[1]}, {len(png)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
