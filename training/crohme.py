"""Read CROHME 2016 training InkML straight from the archive, and draw it.

Used by the classifier training (symbol crops) and by the expression benchmark
(whole expressions of held-out writers). Nothing is unpacked to disk:
:func:`iter_expressions` reads the archive in :func:`data_dir`, and
:func:`render` draws an expression's symbols, here two written by hand:

>>> one = InkSymbol("1", (np.array([[0.0, 0.0], [0.0, 10.0]]),))
>>> plus = InkSymbol("+", (np.array([[4.0, 5.0], [10.0, 5.0]]), np.array([[7.0, 2.0], [7.0, 8.0]])))
>>> image, boxes = render([one, plus], symbol_height=40)
>>> image.shape, image.dtype.name, boxes
((83, 83), 'uint8', [(14, 14, 5, 55), (34, 24, 35, 35)])
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

#: ``../shared/data`` beside the project checkout (override with MATHOCR_DATA).
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ARCHIVE_NAME = "crohme2016-train-inkml.tar.xz"
NS = "{http://www.w3.org/2003/InkML}"

#: CROHME symbol labels mapped to our class names; other labels pass through unchanged.
LABELS = {r"\times": "×", r"\div": "÷", r"\lt": "<", r"\gt": ">"}
#: LaTeX tokens that may appear in an in-grammar (plain arithmetic) expression.
ARITHMETIC_TOKENS = frozenset("0123456789+-=()./") | {r"\times", r"\div"}
#: Layout-only tokens ignored when deciding whether an expression is plain arithmetic.
LAYOUT_TOKENS = frozenset({r"\left", r"\right", "{", "}", r"\,", r"\!"})


def data_dir() -> Path:
    """The shared data folder (``$MATHOCR_DATA`` or ``../shared/data``)."""
    return Path(os.environ.get("MATHOCR_DATA", DATA_DIR))


@dataclass(frozen=True, slots=True)
class InkSymbol:
    """One labelled symbol: its class name and its pen strokes (each an (n, 2) array)."""

    label: str
    strokes: tuple[np.ndarray, ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the symbol's points."""
        pts = np.concatenate(self.strokes)
        return (*pts.min(axis=0), *pts.max(axis=0))


@dataclass(frozen=True, slots=True)
class InkExpression:
    """One InkML file: source path, writer id, LaTeX truth and its symbols."""

    path: str
    writer: str
    latex: str
    symbols: tuple[InkSymbol, ...]

    @property
    def tokens(self) -> list[str]:
        """The LaTeX truth split into tokens, layout tokens dropped."""
        toks = re.findall(r"\\[a-zA-Z]+|\\.|\S", self.latex.replace("$", ""))
        return [t for t in toks if t not in LAYOUT_TOKENS]

    @property
    def is_arithmetic(self) -> bool:
        """True for plain arithmetic: digits and ``+ - × ÷ / = ( ) .`` only, no layout."""
        toks = self.tokens
        return bool(toks) and all(t in ARITHMETIC_TOKENS for t in toks)

    @property
    def ascii(self) -> str:
        """Canonical ASCII of an arithmetic expression (``\\times`` -> ``*``)."""
        return "".join({r"\times": "*", r"\div": "/"}.get(t, t) for t in self.tokens)


def _writer(path: str, annotations: dict[str, str]) -> str:
    writer = annotations.get("writer", "").strip()
    if writer:
        return writer
    # MathBrush files carry no writer: their names are <date>-<time>-<n>, one
    # session per writer, so the session prefix stands in for the writer.
    source, name = path.split("/")[-2:]
    stem = name.rsplit(".", 1)[0]
    return f"{source}:{stem.rsplit('-', 1)[0]}"


def parse_inkml(data: bytes, path: str = "") -> InkExpression | None:
    """Parse one InkML document; ``None`` for an empty or malformed file."""
    if not data.strip():
        return None
    try:
        root = ET.fromstring(data)  # noqa: S314 - InkML of the data set's own archive
    except ET.ParseError:
        return None
    annotations = {a.get("type", ""): (a.text or "") for a in root.findall(NS + "annotation")}
    traces: dict[str, np.ndarray] = {}
    for trace in root.iter(NS + "trace"):
        points = []
        for chunk in (trace.text or "").split(","):
            values = chunk.split()
            if len(values) >= 2:
                points.append((float(values[0]), float(values[1])))
        if points:
            traces[trace.get("id", "")] = np.asarray(points, np.float32)
    symbols = []
    top = root.find(NS + "traceGroup")
    for group in top.findall(NS + "traceGroup") if top is not None else ():
        label_el = group.find(NS + "annotation")
        label = (label_el.text or "").strip() if label_el is not None else ""
        strokes = tuple(
            traces[ref.get("traceDataRef", "")]
            for ref in group.findall(NS + "traceView")
            if ref.get("traceDataRef", "") in traces
        )
        if label and strokes:
            symbols.append(InkSymbol(LABELS.get(label, label), strokes))
    return InkExpression(
        path=path,
        writer=_writer(path, annotations),
        latex=annotations.get("truth", "").strip(),
        symbols=tuple(symbols),
    )


def iter_expressions(archive: Path | None = None) -> Iterator[InkExpression]:
    """Yield every readable expression of the CROHME 2016 training archive, in archive order."""
    archive = archive or data_dir() / ARCHIVE_NAME
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".inkml"):
                handle = tar.extractfile(member)
                expr = parse_inkml(handle.read() if handle else b"", member.name)
                if expr is not None and expr.symbols:
                    yield expr


@cache
def load_expressions(archive: Path | None = None) -> tuple[InkExpression, ...]:
    """All expressions, parsed once per process (about 2 s, 100 MB)."""
    return tuple(iter_expressions(archive))


# --- held-out writers -------------------------------------------------------------

DEV_WRITERS_FILE = Path(__file__).with_name("dev_writers.txt")


def choose_dev_writers(expressions: Sequence[InkExpression]) -> list[str]:
    """Half of the writers who wrote plain arithmetic, chosen by a hash of their id.

    Their every expression is held out of classifier training: their symbols are
    the classifier's validation set and their arithmetic expressions the
    development benchmark. The list is committed in ``dev_writers.txt``.
    """
    writers = {e.writer for e in expressions if e.is_arithmetic}
    return sorted(w for w in writers if hashlib.sha256(w.encode()).digest()[0] % 2 == 0)


@cache
def dev_writers() -> frozenset[str]:
    """The committed set of held-out writers."""
    lines = DEV_WRITERS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_dev(expr: InkExpression) -> bool:
    """True when the expression's writer is held out of training."""
    return expr.writer in dev_writers()


# --- drawing ----------------------------------------------------------------------


def typical_height(symbols: Sequence[InkSymbol]) -> float:
    """Median height of the symbols that are not flat (``-``, ``.``, fraction bars)."""
    heights = []
    for s in symbols:
        _, y0, _, y1 = s.bounds()
        heights.append(y1 - y0)
    tall = [h for h in heights if h > 0.3 * max(heights)] or heights
    return float(np.median(tall)) or 1.0


def render(
    symbols: Sequence[InkSymbol],
    *,
    symbol_height: float = 48.0,
    pen_width: float = 3.0,
    margin: int = 16,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Draw symbols as dark ink on white, scaled so the typical symbol is ``symbol_height``.

    Returns the ``uint8`` image and each symbol's box ``(x, y, w, h)`` in it, in
    the order given. ``rng`` (optional) jitters the pen width per stroke a little.
    """
    pts = np.concatenate([st for s in symbols for st in s.strokes])
    origin = pts.min(axis=0)
    scale = symbol_height / typical_height(symbols)
    extent = (pts.max(axis=0) - origin) * scale
    width = int(np.ceil(extent[0])) + 2 * margin + 1
    height = int(np.ceil(extent[1])) + 2 * margin + 1
    image = np.full((height, width), 255, np.uint8)
    boxes = []
    shift = 4  # sub-pixel precision for cv2.polylines
    for s in symbols:
        placed = [(st - origin) * scale + margin for st in s.strokes]
        for stroke in placed:
            w = pen_width * (rng.uniform(0.85, 1.15) if rng is not None else 1.0)
            poly = np.round(stroke * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
            thickness = max(1, round(w))
            if len(stroke) == 1:
                center = tuple(int(v) for v in poly[0, 0])
                cv2.circle(image, center, max(1, round(w / 2)) << shift, 0, -1, cv2.LINE_AA, shift)
            else:
                cv2.polylines(image, [poly], False, 0, thickness, cv2.LINE_AA, shift)
        allp = np.concatenate(placed)
        x0, y0 = np.floor(allp.min(axis=0) - pen_width / 2).astype(int)
        x1, y1 = np.ceil(allp.max(axis=0) + pen_width / 2).astype(int)
        boxes.append((int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)))
    return image, boxes


def symbol_mask(
    symbol: InkSymbol,
    *,
    scale: float,
    pen_width: float = 3.0,
    margin: int = 4,
) -> np.ndarray:
    """Draw one symbol alone as a boolean ink mask (ink True) at ``scale`` pixels per unit."""
    pts = np.concatenate(symbol.strokes)
    origin = pts.min(axis=0)
    extent = (pts.max(axis=0) - origin) * scale
    image = np.zeros((int(extent[1]) + 2 * margin + 1, int(extent[0]) + 2 * margin + 1), np.uint8)
    shift = 4
    for stroke in symbol.strokes:
        poly = np.round(((stroke - origin) * scale + margin) * (1 << shift)).astype(np.int32)
        if len(stroke) == 1:
            c = tuple(int(v) for v in poly[0])
            cv2.circle(image, c, max(1, round(pen_width / 2)) << shift, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(
                image, [poly.reshape(-1, 1, 2)], False, 255, max(1, round(pen_width)),
                cv2.LINE_AA, shift,
            )  # fmt: skip
    return image > 127


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image (for feeding the recognizer in tests and benchmarks)."""
    ok, buf = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - cv2 only fails on invalid arrays
        raise ValueError("could not encode image")
    return buf.tobytes()
