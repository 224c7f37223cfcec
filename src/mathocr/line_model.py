"""The line reader: a CTC model that reads a whole line of ink at once, under the grammar.

The per-symbol reader (:mod:`mathocr.lattice`, :mod:`mathocr.read`) decides what
the symbols are from their shapes one by one, nudged by rules on their boxes.
The line model sees the whole line: spacing, relative size and touching symbols
are learnt from data. Its input contract:

* :func:`line_image` draws the line's marks (the ink the layout kept) as a
  float32 image :data:`LINE_HEIGHT` pixels tall: ink 1, paper 0, scaled so the
  line's typical symbol (:func:`mathocr.segment.reference_height` of its marks)
  is :data:`REF_PIXELS` tall, centred on the line's middle;
* the ONNX model (``models/lines.onnx``) takes ``input`` ``[1, 1, LINE_HEIGHT, W]``
  and returns ``log_probs`` ``[T, 1, C]``: per column of :data:`STRIDE` pixels, the
  log-probabilities of the blank (index 0) and of the classes that ``lines.json``
  lists, in order;
* :func:`ctc_beam_search` finds the likeliest label sequences that the reader's
  grammar accepts (:func:`mathocr.read.grammar_moves`: a CTC prefix beam search
  whose prefixes walk the automaton), and :func:`ctc_log_likelihood` scores any
  given one (the forward algorithm), so that both readers' hypotheses can be
  ranked together (:mod:`mathocr.combine`).

Work is bounded: a line wider than :data:`MAX_WIDTH` pixels (at :data:`REF_PIXELS`
a symbol, some 60 symbols) is not read, and the search keeps ``beam`` prefixes
and, per column, only labels above ``prune`` in log-probability.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from .deadline import Deadline
from .errors import ModelError
from .read import grammar_accepts, grammar_moves, grammar_start
from .segment import reference_height
from .symbols import CLASSES

__all__ = [
    "LINE_HEIGHT",
    "MAX_WIDTH",
    "REF_PIXELS",
    "STRIDE",
    "LineModel",
    "ctc_beam_search",
    "ctc_log_likelihood",
    "line_image",
]

#: Height of the line model's input, in pixels.
LINE_HEIGHT: Final[int] = 40
#: The line's typical symbol height in the input, in pixels.
REF_PIXELS: Final[int] = 20
#: Horizontal pixels per output column of the model (its input width is padded to it).
STRIDE: Final[int] = 4
#: Paper kept left and right of the ink, in typical symbol heights.
MARGIN: Final[float] = 0.25
#: Widest input read, in pixels (longer lines are left to the per-symbol reader).
MAX_WIDTH: Final[int] = 1280
#: Marks smaller than this share of the largest mark's height do not set the scale.
_SPECK: Final[float] = 0.3

#: The model shipped inside the package.
DEFAULT_LINE_MODEL: Final[Path] = Path(__file__).with_name("models") / "lines.onnx"
#: Environment variable naming another line model to use by default.
LINE_MODEL_ENV: Final[str] = "MATHOCR_LINE_MODEL"

_LOG_ZERO: Final[float] = -1e30


def default_line_model_path() -> Path:
    """``$MATHOCR_LINE_MODEL`` when set, else the line model shipped in the package."""
    return Path(os.environ.get(LINE_MODEL_ENV) or DEFAULT_LINE_MODEL)


def line_image(ink: np.ndarray) -> np.ndarray | None:
    """The line model's input for one line's ink (bool or 0/255, ink true).

    The scale comes from the marks' own heights (connected components, as the
    segmentation would find them): their :func:`~mathocr.segment.reference_height`
    becomes :data:`REF_PIXELS`, and their middle (the median centre of the marks
    at least half that tall) the input's middle row. Returns ``None`` for no ink
    or a line wider than :data:`MAX_WIDTH` once scaled.

    Examples
    --------
    >>> ink = np.zeros((60, 100), bool)
    >>> ink[10:50, 10:16] = True      # a "1" 40 px tall
    >>> ink[28:32, 30:60] = True      # a "-"
    >>> image = line_image(ink)
    >>> image.shape, image.dtype.name, float(image.max())
    ((40, 36), 'float32', 1.0)
    """
    ink = np.asarray(ink)
    mask = (ink > 0).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    stats = stats[1:]
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    ref = reference_height(heights[heights >= _SPECK * heights.max()])
    tall = stats[heights >= 0.5 * ref]
    middle = float(np.median(tall[:, cv2.CC_STAT_TOP] + tall[:, cv2.CC_STAT_HEIGHT] / 2))
    scale = REF_PIXELS / max(ref, 1.0)
    x0 = int(stats[:, cv2.CC_STAT_LEFT].min())
    x1 = int((stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH]).max())
    pad = MARGIN * ref
    width_px = (x1 - x0 + 2 * pad) * scale
    width = math.ceil(width_px / STRIDE) * STRIDE
    if width > MAX_WIDTH:
        return None
    # the window: the ink's columns and margins, the middle +- LINE_HEIGHT / 2 at scale
    half = LINE_HEIGHT / 2 / scale
    top, left = round(middle - half), round(x0 - pad)
    bottom, right = round(middle + half), round(x1 + pad)
    window = np.zeros((max(bottom - top, 1), max(right - left, 1)), np.float32)
    sy0, sx0 = max(top, 0), max(left, 0)
    sy1, sx1 = min(bottom, mask.shape[0]), min(right, mask.shape[1])
    if sy1 > sy0 and sx1 > sx0:
        window[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = mask[sy0:sy1, sx0:sx1]
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    out = cv2.resize(window, (width, LINE_HEIGHT), interpolation=interp)
    if float(out.max()) <= 0.0:
        return None
    result: np.ndarray = np.clip(out, 0.0, 1.0).astype(np.float32)
    return result


def _logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    if b <= _LOG_ZERO:
        return a
    return a + math.log1p(math.exp(b - a))


def ctc_log_likelihood(log_probs: np.ndarray, labels: Sequence[int]) -> float:
    """Log-probability that CTC output ``log_probs`` ``[T, C]`` (blank 0) reads ``labels``.

    The forward algorithm over the blank-interleaved labels; ``-inf`` when the
    line has too few columns for them.

    Examples
    --------
    >>> lp = np.log(np.array([[0.1, 0.9], [0.9, 0.1]]))   # blank, "a"
    >>> round(math.exp(ctc_log_likelihood(lp, [1])), 3)  # "a-", "aa", "-a"
    0.91
    """
    steps = log_probs.shape[0]
    ext = [0]
    for label in labels:
        ext += [int(label), 0]
    n = len(ext)
    if n // 2 > steps or not labels:
        return float(log_probs[:, 0].sum()) if not labels else -math.inf
    lp = np.asarray(log_probs, np.float64)
    alpha = np.full(n, -np.inf)
    alpha[0] = lp[0, ext[0]]
    alpha[1] = lp[0, ext[1]]
    ext_a = np.array(ext)
    # s - 2 may be skipped when ext[s] is a label unlike ext[s - 2]
    skip = np.zeros(n, bool)
    skip[2:] = (ext_a[2:] != 0) & (ext_a[2:] != ext_a[:-2])
    for t in range(1, steps):
        prev = alpha
        one = np.concatenate(([-np.inf], prev[:-1]))
        two = np.where(skip, np.concatenate(([-np.inf, -np.inf], prev[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(prev, one), two) + lp[t, ext_a]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


@dataclass(slots=True)
class _Prefix:
    blank: float  # log-probability of the prefix ending in a blank
    label: float  # ... ending in its last label
    state: int  # the grammar automaton's state after the prefix
    penalty: float  # the grammar's log factors (chains, signs) along the prefix

    def total(self) -> float:
        return _logaddexp(self.blank, self.label)


def _add(
    into: dict[tuple[int, ...], _Prefix],
    key: tuple[int, ...],
    state: int,
    penalty: float,
    blank: float,
    label: float,
) -> None:
    """Add a prefix's blank- and label-ending mass at the next column."""
    got = into.get(key)
    if got is None:
        into[key] = _Prefix(blank, label, state, penalty)
    else:
        got.blank = _logaddexp(got.blank, blank)
        got.label = _logaddexp(got.label, label)


def ctc_beam_search(
    log_probs: np.ndarray,
    alphabet: Sequence[str],
    *,
    beam: int = 16,
    nbest: int = 8,
    prune: float = math.log(1e-3),
    thousands: bool = False,
    deadline: Deadline | None = None,
) -> list[tuple[tuple[str, ...], float]]:
    """The ``nbest`` likeliest label sequences of CTC output ``log_probs`` ``[T, C]``
    that form a valid expression, with their log-probabilities (best first).

    A CTC prefix beam search whose prefixes each walk the reader's grammar
    (:func:`mathocr.read.grammar_moves`): a label that no valid expression could
    continue with is never appended, and only prefixes in an accepting state
    are returned. ``alphabet[c - 1]`` is the label of column ``c`` (0 is the
    blank). The grammar's penalties (a chained relation, a sign ``+``) are
    included in the scores. ``deadline`` is checked at every column.

    Examples
    --------
    >>> p = np.array([[.1, .8, .05, .05], [.8, .1, .05, .05], [.1, .1, .7, .1],
    ...               [.8, .1, .05, .05], [.1, .6, .05, .25]])
    >>> found = ctc_beam_search(np.log(p), "1+=", nbest=3)
    >>> [("".join(s), round(math.exp(v), 3)) for s, v in found]   # "1+" is no expression
    [('1+1', 0.318), ('11', 0.058), ('1=1', 0.05)]
    """
    if beam < 1 or nbest < 1:
        raise ValueError("beam and nbest must be at least 1")
    lp = np.asarray(log_probs, np.float64)
    prefixes: dict[tuple[int, ...], _Prefix] = {
        (): _Prefix(0.0, _LOG_ZERO, grammar_start(thousands=thousands), 0.0)
    }
    for t in range(lp.shape[0]):
        if deadline is not None:
            deadline.check("line")
        row = lp[t]
        blank = float(row[0])
        likely = [int(c) for c in np.flatnonzero(row > prune) if c != 0]
        new: dict[tuple[int, ...], _Prefix] = {}

        for key, pre in prefixes.items():
            total = pre.total()
            # a blank, or the last label again (collapsed)
            _add(new, key, pre.state, pre.penalty, total + blank, _LOG_ZERO)
            if key:
                last = pre.label + float(row[key[-1]])
                _add(new, key, pre.state, pre.penalty, _LOG_ZERO, last)
            for c in likely:
                # a repeat of the last label is a new symbol only after a blank
                source = pre.blank if key and key[-1] == c else total
                if source <= _LOG_ZERO:
                    continue
                for nxt, factor in grammar_moves(pre.state, alphabet[c - 1]):
                    grown = source + float(row[c])
                    _add(new, (*key, c), nxt, pre.penalty + factor, _LOG_ZERO, grown)
        ranked = sorted(new.items(), key=lambda kv: kv[1].total() + kv[1].penalty, reverse=True)
        prefixes = dict(ranked[:beam])
    done = [
        (tuple(alphabet[c - 1] for c in key), pre.total() + pre.penalty)
        for key, pre in prefixes.items()
        if key and grammar_accepts(pre.state)
    ]
    done.sort(key=lambda kv: kv[1], reverse=True)
    return done[:nbest]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LineModel:
    """The shipped (or a given) line model in onnxruntime, with its metadata.

    ``lines.json`` beside the model lists its ``alphabet`` (the labels of output
    columns 1..C-1; column 0 is the blank), the input contract (``input_height``,
    ``ref_pixels``, ``stride``: those of this module, or the model is refused) and
    the model file's ``sha256``.

    Raises
    ------
    ModelError
        If the model or its metadata is missing, altered or does not match.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = Path(path) if path is not None else default_line_model_path()
        meta_path = self.path.with_suffix(".json")
        try:
            meta: dict[str, Any] = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read line model metadata {meta_path}: {exc}") from exc
        if not self.path.is_file():
            raise ModelError(f"line model not found: {self.path}")
        if meta.get("sha256") and meta["sha256"] != _sha256(self.path):
            raise ModelError(f"line model {self.path} does not match its sha256")
        contract = (meta.get("input_height"), meta.get("ref_pixels"), meta.get("stride"))
        if contract != (LINE_HEIGHT, REF_PIXELS, STRIDE):
            raise ModelError(f"line model {self.path} has another input contract: {contract}")
        alphabet = tuple(meta.get("alphabet", ()))
        unknown = [a for a in alphabet if a not in CLASSES or a == "reject"]
        if not alphabet or unknown:
            raise ModelError(f"line model {self.path} has unknown labels: {unknown}")
        self.alphabet: tuple[str, ...] = alphabet
        self.version: str = str(meta.get("version", "unknown"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )

    def log_probs(self, image: np.ndarray) -> np.ndarray:
        """CTC log-probabilities ``[T, C]`` of one :func:`line_image`."""
        x = np.ascontiguousarray(image, np.float32)[None, None]
        (out,) = self._session.run(["log_probs"], {"input": x})
        result: np.ndarray = np.asarray(out, np.float32)[:, 0, :]
        return result

    def __repr__(self) -> str:
        return f"LineModel(version={self.version!r})"
