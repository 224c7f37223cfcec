"""Non-expressions: ink that is no arithmetic at all must not get a confident answer.

Issue "Read the line, not the blobs", variant (d). Six kinds of image, each drawn
clean (PNG) and with the phone-photo look of :mod:`benchmarks.photolook`:

* ``scribble`` - one to four smooth random pen paths across a line-sized area;
* ``doodle`` - a smiley, a house, a star, a spiral, a heart, a sun, a cloud, a
  tree or an arrow, drawn with a wobbling hand;
* ``word`` - a word written with the letters of one held-out CROHME writer
  (``training/dev_writers.txt``: never trained on; never a CROHME *test* set), laid
  out as :func:`training.compose.compose` lays out sums;
* ``printed`` - a line or two of printed text (Hershey fonts);
* ``blank`` - paper with nothing written on it (plain, ruled or squared in the
  photo look);
* ``texture`` - paper with a fabric- or wood-like texture and smudges.

An answer counts as *refused* when its status is ``unreadable`` or its confidence
is under 0.5 (target: at least 95 % refused). Since no reading of these images is
right, the expected calibration error is the mean confidence.

Usage::

    python benchmarks/nonexpressions.py [--n 300] [--seed 1] [--json] [--failures]
        [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchmarks.lineoption import add_line_option, line_option  # noqa: E402
from benchmarks.photolook import photo_look  # noqa: E402
from training import compose, crohme  # noqa: E402

KINDS = ("scribble", "doodle", "word", "printed", "blank", "texture")
LOOKS = ("clean", "photo")
DEFAULT_SEED = 1
#: Confidence below which an answer counts as refused.
REFUSED_BELOW = 0.5
WORDS = (
    "hello", "math", "name", "house", "cat", "dog", "blue", "tree", "sun", "home",
    "test", "date", "page", "note", "ok", "yes", "no", "hi", "cab", "bed", "face",
    "nice", "ice", "rain", "fun", "run", "mom", "dad", "key", "map", "pen", "cup",
)  # fmt: skip
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
)
_SENTENCES = (
    "Homework for Monday", "Chapter 3: fractions", "Name: Anna Schmidt",
    "Please read page twelve", "The quick brown fox jumps", "Class 4b - Mathematics",
    "Do not forget your book", "Exercise on the next page",
)  # fmt: skip


@dataclass
class Case:
    kind: str
    look: str
    index: int
    status: str = ""
    expression: str = ""
    confidence: float = 0.0
    seconds: float = 0.0
    detail: str = ""

    @property
    def refused(self) -> bool:
        return self.status == "unreadable" or self.confidence < REFUSED_BELOW


# --- drawing ---------------------------------------------------------------------------


def _canvas(height: int, width: int) -> np.ndarray:
    return np.full((height, width), 255, np.uint8)


def _polyline(page: np.ndarray, pts: np.ndarray, pen: int, rng: np.random.Generator) -> None:
    """Draw a path with a wobbling hand: small smooth jitter along it."""
    pts = np.asarray(pts, np.float64)
    if len(pts) >= 3:
        wobble = rng.normal(0, 0.6, pts.shape)
        wobble = cv2.GaussianBlur(wobble.reshape(-1, 1, 2), (1, 5), 0).reshape(-1, 2)
        pts = pts + wobble
    poly = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(page, [poly], False, 0, pen, cv2.LINE_AA, 4)


def scribble(rng: np.random.Generator) -> np.ndarray:
    height, width = int(rng.integers(80, 160)), int(rng.integers(200, 700))
    page = _canvas(height, width)
    pen = int(rng.integers(2, 6))
    for _ in range(int(rng.integers(1, 5))):
        n = int(rng.integers(5, 16))
        pts = np.stack(
            [rng.uniform(0.05, 0.95, n) * width, rng.uniform(0.15, 0.85, n) * height], axis=1
        )
        t = np.linspace(0, 1, n)
        tt = np.linspace(0, 1, 20 * n)
        path = np.stack([np.interp(tt, t, pts[:, 0]), np.interp(tt, t, pts[:, 1])], axis=1)
        path = cv2.GaussianBlur(path.reshape(-1, 1, 2), (1, 9), 0).reshape(-1, 2)
        _polyline(page, path, pen, rng)
    return page


def _circle(cx: float, cy: float, r: float, a0: float = 0.0, a1: float = 2 * np.pi) -> np.ndarray:
    t = np.linspace(a0, a1, 60)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def doodle(rng: np.random.Generator) -> np.ndarray:
    s = float(rng.uniform(50, 140))
    page = _canvas(int(1.6 * s), int(1.6 * s))
    pen = int(rng.integers(2, 6))
    c = 0.8 * s
    kind = int(rng.integers(0, 9))
    paths: list[np.ndarray] = []
    if kind == 0:  # smiley
        paths = [
            _circle(c, c, 0.6 * s),
            _circle(c - 0.2 * s, c - 0.15 * s, 0.05 * s),
            _circle(c + 0.2 * s, c - 0.15 * s, 0.05 * s),
            _circle(c, c + 0.05 * s, 0.3 * s, 0.2 * np.pi, 0.8 * np.pi),
        ]
    elif kind == 1:  # house
        x0, x1, y0, y1 = c - 0.5 * s, c + 0.5 * s, c - 0.1 * s, c + 0.6 * s
        paths = [
            np.array([[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]),
            np.array([[x0 - 0.1 * s, y0], [c, c - 0.7 * s], [x1 + 0.1 * s, y0]]),
            np.array([[c - 0.1 * s, y1], [c - 0.1 * s, c + 0.3 * s], [c + 0.1 * s, c + 0.3 * s],
                      [c + 0.1 * s, y1]]),
        ]  # fmt: skip
    elif kind == 2:  # star
        angles = np.linspace(-np.pi / 2, -np.pi / 2 + 4 * np.pi, 6)
        paths = [np.stack([c + 0.7 * s * np.cos(angles), c + 0.7 * s * np.sin(angles)], axis=1)]
    elif kind == 3:  # spiral
        t = np.linspace(0, 6 * np.pi, 200)
        r = 0.05 * s + 0.035 * s * t
        paths = [np.stack([c + r * np.cos(t), c + r * np.sin(t)], axis=1)]
    elif kind == 4:  # heart
        t = np.linspace(0, 2 * np.pi, 120)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        paths = [np.stack([c + x * s / 24, c + y * s / 24], axis=1)]
    elif kind == 5:  # sun
        paths = [_circle(c, c, 0.3 * s)]
        for a in np.linspace(0, 2 * np.pi, 9)[:-1]:
            d = np.array([np.cos(a), np.sin(a)])
            paths.append(np.array([[c, c] + 0.4 * s * d, [c, c] + 0.7 * s * d]))
    elif kind == 6:  # cloud
        for dx, dy, r in ((-0.35, 0.1, 0.25), (0.0, -0.1, 0.35), (0.35, 0.1, 0.25)):
            paths.append(_circle(c + dx * s, c + dy * s, r * s, np.pi, 2 * np.pi))
        paths.append(np.array([[c - 0.6 * s, c + 0.1 * s], [c + 0.6 * s, c + 0.1 * s]]))
    elif kind == 7:  # tree
        paths = [
            _circle(c, c - 0.2 * s, 0.45 * s),
            np.array([[c - 0.08 * s, c + 0.25 * s], [c - 0.08 * s, c + 0.75 * s]]),
            np.array([[c + 0.08 * s, c + 0.25 * s], [c + 0.08 * s, c + 0.75 * s]]),
        ]
    else:  # arrow
        paths = [
            np.array([[c - 0.7 * s, c], [c + 0.7 * s, c]]),
            np.array([[c + 0.4 * s, c - 0.25 * s], [c + 0.7 * s, c], [c + 0.4 * s, c + 0.25 * s]]),
        ]
    for path in paths:
        _polyline(page, path, pen, rng)
    return page


def _letter_glyphs() -> dict[str, dict[str, list]]:
    """Per held-out writer, their letters as glyphs (strokes over the line's typical height)."""
    pools: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for expr in crohme.load_expressions():
        if not crohme.is_dev(expr):
            continue
        height = crohme.typical_height(expr.symbols)
        bounds = [s.bounds() for s in expr.symbols]
        tallest = max(y1 - y0 for _, y0, _, y1 in bounds)
        middle = float(
            np.median([(y0 + y1) / 2 for _, y0, _, y1 in bounds if y1 - y0 > 0.3 * tallest])
        )
        for sym, (x0, _, _, _) in zip(expr.symbols, bounds, strict=True):
            if sym.label in LETTERS:
                origin = np.array([x0, middle])
                pools[expr.writer][sym.label].append(
                    tuple((st - origin) / height for st in sym.strokes)
                )
    return {w: dict(g) for w, g in pools.items()}


_POOLS: dict[str, dict[str, list]] | None = None
_GAPS: dict[str, np.ndarray] | None = None


def word(rng: np.random.Generator) -> np.ndarray:
    global _POOLS, _GAPS
    if _POOLS is None or _GAPS is None:
        _POOLS = _letter_glyphs()
        _GAPS = compose.writer_gaps(e for e in crohme.load_expressions() if crohme.is_dev(e))
    gaps = {kind: _GAPS["digit-digit"] for kind in _GAPS}  # letters are spaced like digits
    for _ in range(50):
        text = WORDS[int(rng.integers(len(WORDS)))]
        writers = sorted(w for w, g in _POOLS.items() if all(g.get(ch) for ch in text))
        if writers:
            break
    else:  # no writer has all the letters of a word: any three letters of one writer
        writer = sorted(_POOLS)[int(rng.integers(len(_POOLS)))]
        letters = sorted(_POOLS[writer])
        text = "".join(letters[int(rng.integers(len(letters)))] for _ in range(3))
        writers = [writer]
    writer = writers[int(rng.integers(len(writers)))]
    symbols = compose.compose(list(text), _POOLS[writer], gaps, rng)
    height = float(rng.uniform(40, 80))
    image, _ = crohme.render(symbols, symbol_height=height, pen_width=height / 24)
    return image


def printed(rng: np.random.Generator) -> np.ndarray:
    font = _FONTS[int(rng.integers(len(_FONTS)))]
    scale = float(rng.uniform(0.8, 1.6))
    thick = int(rng.integers(1, 4))
    lines = [_SENTENCES[int(rng.integers(len(_SENTENCES)))] for _ in range(int(rng.integers(1, 3)))]
    sizes = [cv2.getTextSize(t, font, scale, thick)[0] for t in lines]
    line_h = max(h for _, h in sizes) * 2
    page = _canvas(line_h * len(lines) + 40, max(w for w, _ in sizes) + 40)
    for k, text in enumerate(lines):
        cv2.putText(page, text, (20, 20 + line_h * (k + 1) - line_h // 4), font, scale, 0, thick,
                    cv2.LINE_AA)  # fmt: skip
    return page


def blank(rng: np.random.Generator) -> np.ndarray:
    return _canvas(int(rng.integers(150, 400)), int(rng.integers(300, 900)))


def texture(rng: np.random.Generator) -> np.ndarray:
    height, width = int(rng.integers(150, 400)), int(rng.integers(300, 900))
    coarse = cv2.resize(rng.random((height // 16 + 1, width // 16 + 1)), (width, height))
    fine = rng.random((height, width))
    if rng.random() < 0.5:  # wood: streaks along one axis
        fine = cv2.GaussianBlur(fine, (0, 0), sigmaX=float(rng.uniform(6, 20)), sigmaY=0.8)
    else:  # fabric: a weave
        y, x = np.mgrid[0:height, 0:width]
        period = float(rng.uniform(3, 8))
        fine = 0.5 + 0.5 * np.sin(x / period) * np.sin(y / period) + 0.3 * fine
    grey = 255 - rng.uniform(40, 110) * (0.6 * coarse + 0.4 * fine / max(fine.max(), 1e-6))
    for _ in range(int(rng.integers(0, 4))):  # smudges
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(10, 60))
        cv2.circle(grey, (cx, cy), r, float(rng.uniform(90, 180)), -1)
    return cv2.GaussianBlur(np.clip(grey, 0, 255), (0, 0), 1.2).astype(np.uint8)


MAKERS = {
    "scribble": scribble,
    "doodle": doodle,
    "word": word,
    "printed": printed,
    "blank": blank,
    "texture": texture,
}


def draw_case(kind: str, look: str, index: int, *, seed: int = DEFAULT_SEED) -> bytes:
    """The image bytes of case ``index``: PNG for the clean look, JPEG for the photo look."""
    rng = np.random.default_rng([seed, index, KINDS.index(kind), LOOKS.index(look)])
    image = MAKERS[kind](rng)
    if look == "clean":
        return crohme.encode_png(image)
    data, _, _ = photo_look(image, [], rng=rng, symbol_height=float(rng.uniform(40, 80)))
    return data


def run(recognizer, n: int, *, seed: int = DEFAULT_SEED) -> list[Case]:
    cases = []
    for index in range(n):
        kind = KINDS[index % len(KINDS)]
        look = LOOKS[(index // len(KINDS)) % len(LOOKS)]
        data = draw_case(kind, look, index, seed=seed)
        started = time.perf_counter()
        res = recognizer(data)
        case = Case(kind, look, index, res.status.value, res.expression, res.confidence)
        case.seconds = time.perf_counter() - started
        case.detail = res.error or ""
        cases.append(case)
    return cases


def summarize(cases: Sequence[Case]) -> dict:
    out: dict = {}
    groups = {"all": list(cases)}
    groups.update({k: [c for c in cases if c.kind == k] for k in KINDS})
    groups.update({f"look:{lk}": [c for c in cases if c.look == lk] for lk in LOOKS})
    for name, sub in groups.items():
        if not sub:
            continue
        conf = np.array([c.confidence for c in sub])
        out[name] = {
            "n": len(sub),
            "refused": float(np.mean([c.refused for c in sub])),
            "unreadable": float(np.mean([c.status == "unreadable" for c in sub])),
            "mean_confidence": float(conf.mean()),
            "ece": float(conf.mean()),  # nothing is right here: the gap is the confidence
            "median_seconds": float(np.median([c.seconds for c in sub])),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="images (kinds and looks in turn)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--failures", action="store_true", help="list every confident answer")
    parser.add_argument("--model", type=Path, default=None)
    add_line_option(parser)
    args = parser.parse_args(argv)
    from mathocr import Recognizer

    cases = run(Recognizer(args.model, **line_option(args)), args.n, seed=args.seed)
    summary = summarize(cases)
    if args.json:
        print(json.dumps({"summary": summary, "cases": [asdict(c) for c in cases]}, indent=1))
        return 0
    print(f"{'group':14} {'n':>4} {'refused':>8} {'unreadable':>11} {'mean conf':>10}")
    for name, s in summary.items():
        print(
            f"{name:14} {s['n']:>4} {s['refused']:>8.1%} {s['unreadable']:>11.1%} "
            f"{s['mean_confidence']:>10.3f}"
        )
    if args.failures:
        for c in cases:
            if not c.refused:
                print(f"  {c.kind}/{c.look} #{c.index}: {c.expression!r} conf {c.confidence:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
