"""The whole pipeline: image bytes in, a :class:`~mathocr.result.Result` out.

Stages (each a function on arrays, see its module):

1. :func:`mathocr.decode.decode_image` - bytes to RGB, or :class:`InvalidImage`;
2. :func:`mathocr.cleanup.binarize` - a clean ink mask at working resolution;
3. :func:`mathocr.segment.segment` and :func:`mathocr.layout.select_line` - the
   line's pieces, left to right;
4. :func:`mathocr.lattice.build_lattice` - candidate symbols: the pieces, wide
   pieces cut in two, adjacent pieces merged; :class:`mathocr.classify.Classifier`
   scores them all in one call;
5. :func:`mathocr.read.read_lattice` - the most probable path through the
   lattice and its labels that form a valid expression;
6. :mod:`mathocr.line_model` and :func:`mathocr.combine.combine` - a second reader
   that sees the whole line's ink (optional, ``line_model``); its hypotheses, the
   lattice's and the lattice's near readings whose equation holds (the answer
   prior, :mod:`mathocr.truth`) are ranked together, the boxes coming from the
   lattice;
7. :func:`mathocr.compute.solve` - its exact value.

The overall ``confidence`` is the reading's share of all the valid paths and
readings of the lattice, on the calibrated alternatives
(:func:`mathocr.read.lattice_posterior`): where the grammar rules out a symbol's
other classes, the reading is sure although the symbol alone was not. It is
weighed against the possibility that the ink is no expression at all
(:data:`NOISE_ODDS`: the label sequences outside the grammar), so a scribble
whose only valid reading is an unlikely digit is not reported as sure. The answer
prior weighs it too (:func:`mathocr.truth.weighted_share`). When no
valid reading exists it is the product of the top classes' probabilities, weighed
the same way (:data:`INVALID_RATE`: real expressions nearly always have a valid
reading, so ink without one is most likely no expression).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .classify import Classifier, top_k
from .cleanup import WORKING_PIXELS, Binarized, binarize
from .combine import LINE_WEIGHT, Combined, combine, pooled_confidence
from .compute import solve
from .deadline import Deadline
from .decode import DECODE_PIXELS, MAX_PIXELS, Decoded, decode
from .errors import TooManyMarks
from .lattice import build_lattice
from .layout import find_line_regions, select_line
from .line_model import LineModel, line_image
from .normalize import normalize_batch
from .notation import COMMA_CONVENTIONS
from .priors import LineGeometry
from .read import Edge, Reading, lattice_shares, read_lattice
from .result import Alternative, Result, Status, Symbol
from .segment import Segmentation, segment
from .symbols import CLASS_INDEX
from .truth import TRUTH_ODDS, weighted_share

#: Alternatives kept per symbol (passed to the reader and reported).
TOP_K = 5
#: Prior odds that an image holds no expression at all (scribbles, doodles, words):
#: the reading's confidence is weighed against every label sequence the grammar does
#: not accept (:func:`mathocr.read.lattice_posterior`). Chosen on non-expressions and composed
#: sums drawn with other seeds than the reported benchmarks' (nonexpressions seed 2,
#: composed seed 3, model 1.3.0): at 0.1, 87.5 % of the non-expressions fall under 0.5
#: (56.7 % without), and the sums' calibration holds (ECE 0.071, against 0.072 without;
#: 0.01 gives 82.5 % and 0.059, 1.0 gives 89.6 % and 0.124).
NOISE_ODDS = 0.1
#: How often the reading of a real expression forms no valid expression at all: none
#: of the 600 composed sums of composed seed 3 (both looks, model 1.3.0, the lattice
#: reader) did, so at most about 1 in 600. Ink whose reading is no valid expression is
#: then far likelier no expression (odds :data:`NOISE_ODDS`) than a misread one, and
#: the symbols' own probabilities are weighed by that (see :meth:`Recognizer._result`).
INVALID_RATE = 1 / 600
#: Seconds a recognition may take by default (see :class:`Recognizer`).
DEFAULT_TIME_LIMIT = 3.0


@dataclass(frozen=True, slots=True)
class _Clock:
    """One recognition's stage timings (milliseconds), checked against its deadline."""

    timings: dict[str, float]
    budget: Deadline

    def lap(self, name: str, since: float) -> float:
        """Add the time since ``since`` to stage ``name``; raise if the budget is spent."""
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + (now - since) * 1e3
        self.budget.check(name)
        return now


def _likelier(result: Result, than: Result) -> bool:
    """Whether ``result`` is the likelier reading of a frame's candidate lines: a read
    expression over none, one of several symbols over a lone symbol (a key, a speck:
    a sum has an operator), then the higher confidence (ties keep the earlier)."""
    return _line_rank(result) > _line_rank(than)


def _likely(result: Result) -> bool:
    """Whether a candidate line's reading is likely enough to stop reading others."""
    return len(result.symbols) > 1 and result.confidence >= LIKELY_LINE


def _line_rank(result: Result) -> tuple[bool, bool, float]:
    return (
        result.status is not Status.UNREADABLE,
        len(result.symbols) > 1,
        result.confidence or 0.0,
    )


@dataclass(frozen=True, slots=True)
class Analysis:
    """Every intermediate of one recognition, for benchmarks and debugging.

    ``boxes`` are in original image pixels; ``probs`` has one column per class
    of :data:`mathocr.symbols.CLASSES`.
    """

    binarized: Binarized
    segmentation: Segmentation
    boxes: tuple[tuple[int, int, int, int], ...]
    probs: np.ndarray
    alternatives: tuple[tuple[tuple[str, float], ...], ...]
    reading: Reading | None
    result: Result
    #: The line model's part (``None`` without one, or when it could not read the line).
    line: Combined | None = None


def _line_ink(seg: Segmentation) -> np.ndarray:
    """The marks of ``seg`` drawn in one mask spanning their boxes."""
    x0 = min(s.box[0] for s in seg.segments)
    y0 = min(s.box[1] for s in seg.segments)
    x1 = max(s.box[0] + s.box[2] for s in seg.segments)
    y1 = max(s.box[1] + s.box[3] for s in seg.segments)
    ink = np.zeros((y1 - y0, x1 - x0), bool)
    for s in seg.segments:
        x, y, w, h = s.box
        ink[y - y0 : y - y0 + h, x - x0 : x - x0 + w] |= s.mask
    return ink


def _to_original(
    box: tuple[int, int, int, int],
    scale: float,
    shape: tuple[int, ...],
    shift: tuple[float, float] = (0.0, 0.0),
) -> tuple[int, int, int, int]:
    """A box in working pixels (of a region starting at ``shift``) in original pixels."""
    if scale == 1.0 and shift == (0.0, 0.0):
        return box
    x, y = box[0] + shift[0], box[1] + shift[1]
    w, h = box[2], box[3]
    x0, y0 = math.floor(x / scale), math.floor(y / scale)
    x1 = min(shape[1], math.ceil((x + w) / scale))
    y1 = min(shape[0], math.ceil((y + h) / scale))
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


_REJECT = CLASS_INDEX["reject"]
#: A piece read as one symbol (not ``reject``) at least this probably is neither cut
#: nor merged with its neighbours (see :meth:`mathocr.lattice.Lattice.unsure`).
SURE = 0.75
#: Of a large frame's candidate lines (:func:`mathocr.layout.find_line_regions`), the
#: first read with this confidence is kept without reading the others.
LIKELY_LINE = 0.5
#: A frame shrunk below this scale for its clean-up, in which no line was found nor
#: read likely, is searched again at FINE_PIXELS times the working pixels.
FINE_SCALE = 0.5
FINE_PIXELS = 4


def _confidence(row: np.ndarray) -> float:
    """Top probability of a row, or 0 when its top class is ``reject``."""
    best = int(np.argmax(row))
    return 0.0 if best == _REJECT else min(1.0, float(row[best]))


def _comma(comma: str) -> str:
    """``comma`` if it is one of :data:`COMMA_CONVENTIONS`, else ValueError."""
    if comma not in COMMA_CONVENTIONS:
        raise ValueError(f"comma must be one of {COMMA_CONVENTIONS}, not {comma!r}")
    return comma


def _chosen_probability(row: np.ndarray, label: str) -> float:
    if label == "":
        return float(row[CLASS_INDEX["reject"]])
    return min(1.0, float(row[CLASS_INDEX[label]]))


class Recognizer:
    """Read and solve handwritten arithmetic in an image.

    The model is loaded once; calls are thread-safe (no state changes after
    construction; onnxruntime sessions may be shared across threads).

    Parameters
    ----------
    model_path : path-like, optional
        The ONNX model (default: the one shipped in the package).
    max_pixels : int, optional
        Images with more pixels are refused before decoding.
    threads : int, optional
        onnxruntime intra-op threads.
    working_pixels : int, optional
        Clean-up and segmentation run on a copy shrunk to at most this many pixels.
    decode_pixels : int, optional
        Big images are decoded at reduced size, never below this many pixels; when
        the line of writing covers a small part of a large frame, its region is
        cleaned up again from these finer pixels (:func:`mathocr.layout.find_line_regions`:
        up to :data:`~mathocr.layout.LINE_CANDIDATES` candidate regions, read in turn,
        the likeliest reading kept).
    beam_width : int, optional
        Passed to :func:`mathocr.read.read_lattice`.
    lattice : bool, optional
        Offer the reader other segmentations than the rules' (wide pieces cut in
        two, adjacent pieces merged, see :mod:`mathocr.lattice`); False reads the
        pieces as they are.
    comma : {"decimal", "thousands"}, optional
        What a comma between digits means by default (see
        :data:`mathocr.notation.COMMA_CONVENTIONS`;
        each call may say otherwise). ``"thousands"`` reads a point shaped like a
        comma (low, taller than wide) as a separator of thousands where the digits
        allow it (``1,000``); a round point stays a decimal point.
    line_model : bool or path-like, optional
        The second reader (:mod:`mathocr.line_model`): True for the model shipped
        in the package (or ``$MATHOCR_LINE_MODEL``), a path for another, False
        for none (the lattice reader alone: smaller and faster).
    line_weight : float, optional
        Weight of the line model's scores against the lattice's
        (:func:`mathocr.combine.combine`).
    truth_odds : float, optional
        Prior odds of a reading whose equation holds against one whose equation
        does not (:mod:`mathocr.truth`); 1 turns the answer prior off.
    time_limit : float or None, optional
        Seconds one recognition may take (decoding excluded) before it stops
        with :class:`~mathocr.errors.RecognitionTimeout`; ``None``: no limit.
        Every stage's work is bounded anyway (an image with far more marks than
        a line of arithmetic is answered ``unreadable`` at once); the limit
        is the last guard, for a slow or overloaded machine.

    Examples
    --------
    >>> import cv2
    >>> page = np.full((100, 320), 255, np.uint8)
    >>> page = cv2.putText(page, "12+7", (20, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 4)
    >>> png = cv2.imencode(".png", page)[1].tobytes()
    >>> rec = Recognizer()
    >>> result = rec(png)
    >>> result.status.value, result.expression, result.result
    ('solved', '12+7', '19')
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        max_pixels: int = MAX_PIXELS,
        threads: int = 1,
        working_pixels: int = WORKING_PIXELS,
        decode_pixels: int = DECODE_PIXELS,
        beam_width: int = 16,
        lattice: bool = True,
        comma: str = "decimal",
        line_model: bool | str | Path = True,
        line_weight: float = LINE_WEIGHT,
        truth_odds: float = TRUTH_ODDS,
        time_limit: float | None = DEFAULT_TIME_LIMIT,
    ) -> None:
        self.line_weight = line_weight
        self.truth_odds = truth_odds
        self.classifier = Classifier(model_path, threads=threads)
        self.line_model: LineModel | None = None
        if line_model is not False:
            path = None if line_model is True else Path(line_model)
            self.line_model = LineModel(path, threads=threads)
        self.max_pixels = max_pixels
        self.working_pixels = working_pixels
        self.decode_pixels = decode_pixels
        self.beam_width = beam_width
        self.lattice = lattice
        self.comma = _comma(comma)
        self.time_limit = time_limit

    @property
    def model_version(self) -> str:
        """The version string from the model's metadata."""
        return self.classifier.version

    def __call__(
        self,
        data: bytes,
        *,
        decoded: Decoded | None = None,
        deadline: Deadline | None = None,
        comma: str | None = None,
    ) -> Result:
        """Recognize an encoded image (PNG, JPEG, WebP, GIF).

        Parameters
        ----------
        data : bytes
            The encoded image.
        decoded : Decoded, optional
            ``data`` already validated and decoded by :meth:`decode` (a web
            form does it to validate): used instead of decoding again.
        deadline : Deadline, optional
            The time budget; by default :attr:`time_limit` from now.
        comma : {"decimal", "thousands"}, optional
            What a comma means in this image (default: :attr:`comma`).

        Raises
        ------
        InvalidImage
            The bytes are not an acceptable image (see :func:`mathocr.decode.decode`).
        RecognitionTimeout
            The deadline passed.
        """
        return self.analyze(data, decoded=decoded, deadline=deadline, comma=comma).result

    def decode(self, data: bytes) -> Decoded:
        """Validate and decode ``data`` as :meth:`__call__` does, at the working resolution."""
        return decode(data, max_pixels=self.max_pixels, reduce_to=self.decode_pixels)

    def analyze(
        self,
        data: bytes,
        *,
        decoded: Decoded | None = None,
        deadline: Deadline | None = None,
        comma: str | None = None,
    ) -> Analysis:
        """Like :meth:`__call__`, keeping every intermediate (see :class:`Analysis`).

        A big image is decoded at reduced size (never below the working
        resolution); boxes are still in the original image's pixels.
        """
        start = time.perf_counter()
        if decoded is None:
            decoded = self.decode(data)
        timings = {"decode": (time.perf_counter() - start) * 1e3}
        return self._analyze(decoded, timings, start, deadline, self._thousands(comma))

    def recognize_array(
        self, image: np.ndarray, *, deadline: Deadline | None = None, comma: str | None = None
    ) -> Result:
        """Recognize a decoded image: ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8, dark ink."""
        return self.analyze_array(image, deadline=deadline, comma=comma).result

    def analyze_array(
        self, image: np.ndarray, *, deadline: Deadline | None = None, comma: str | None = None
    ) -> Analysis:
        """Like :meth:`recognize_array`, keeping every intermediate (see :class:`Analysis`)."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.size == 0:
            raise ValueError("expected a non-empty (H, W) or (H, W, 3) uint8 array")
        decoded = Decoded(image, 1.0, image.shape[1], image.shape[0])
        return self._analyze(decoded, {}, time.perf_counter(), deadline, self._thousands(comma))

    def _thousands(self, comma: str | None) -> bool:
        return (self.comma if comma is None else _comma(comma)) == "thousands"

    def _analyze(
        self,
        decoded: Decoded,
        timings: dict[str, float],
        start: float,
        deadline: Deadline | None,
        thousands: bool,
    ) -> Analysis:
        clock = _Clock(timings, deadline if deadline is not None else Deadline(self.time_limit))
        t = time.perf_counter()
        frame = binarize(decoded.image, max_pixels=self.working_pixels)
        # a frame larger than the working size may hold writing too small to read there
        regions = find_line_regions(frame.ink, gray=frame.gray) if frame.scale < 1.0 else []
        clock.lap("cleanup", t)
        tried: list[tuple[int, int, int, int] | None] = [*regions] or [None]
        best = self._likeliest_line(decoded, frame, tried, clock, start, thousands, None)
        if not regions and frame.scale < FINE_SCALE and not _likely(best.result):
            # writing a few working pixels tall is lost in the clean-up of a large frame:
            # look for its line again at finer pixels
            t = time.perf_counter()
            fine = binarize(decoded.image, max_pixels=FINE_PIXELS * self.working_pixels)
            regions = find_line_regions(fine.ink, gray=fine.gray)
            clock.lap("cleanup", t)
            best = self._likeliest_line(decoded, fine, regions, clock, start, thousands, best)
        return best

    def _likeliest_line(
        self,
        decoded: Decoded,
        frame: Binarized,
        regions: Sequence[tuple[int, int, int, int] | None],
        clock: _Clock,
        start: float,
        thousands: bool,
        best: Analysis | None,
    ) -> Analysis:
        """The likeliest reading of ``regions`` of ``frame`` and ``best`` (read in order,
        stopping at a likely one)."""
        for region in regions:
            analysis = self._read_line(decoded, frame, region, clock, start, thousands)
            if best is None or _likelier(analysis.result, best.result):
                best = analysis
            if _likely(best.result):
                break  # the next candidates are less likely lines: no need to read them
        assert best is not None  # noqa: S101 - read at least once
        return best

    def _read_line(
        self,
        decoded: Decoded,
        frame: Binarized,
        region: tuple[int, int, int, int] | None,
        clock: _Clock,
        start: float,
        thousands: bool,
    ) -> Analysis:
        """Read the line in ``region`` of the frame (its working pixels; ``None``: the
        whole frame, already cleaned up as ``frame``)."""
        lap, budget, timings = clock.lap, clock.budget, clock.timings
        shape = (decoded.height, decoded.width)
        t = time.perf_counter()
        binarized = frame
        shift = (0.0, 0.0)  # of the cleaned-up region, in its working pixels
        if region is not None:  # the writing is a small part of a large frame: zoom in
            x0, y0, x1, y1 = (round(v / frame.scale) for v in region)
            binarized = binarize(decoded.image[y0:y1, x0:x1], max_pixels=self.working_pixels)
            shift = (x0 * binarized.scale, y0 * binarized.scale)
        scale = binarized.scale * decoded.scale
        t = lap("cleanup", t)
        try:
            seg = segment(
                binarized.ink,
                stroke_width=binarized.stroke_width,
                core=binarized.core,
                deadline=budget,
            )
        except TooManyMarks as exc:
            lap("segment", t)
            return self._unreadable(binarized, timings, start, "too_many_marks", str(exc))
        line = select_line(seg, gray=binarized.gray)
        seg = line.segmentation
        t = lap("segment", t)
        if not seg.segments:
            return self._unreadable(
                binarized, timings, start, "empty", "No handwriting found in the image."
            )
        lattice = build_lattice(seg, cuts=self.lattice, merges=self.lattice)
        batch = normalize_batch(lattice.masks, ref_height=seg.ref_height)
        t = lap("normalize", t)
        all_probs = self.classifier.predict(batch)
        t = lap("classify", t)
        original = [_to_original(c.box, scale, shape, shift) for c in lattice.candidates]
        pieces = [k for k, c in enumerate(lattice.candidates) if c.kind == "piece"]
        line_geometry = LineGeometry.of([original[k] for k in pieces])
        keep = lattice.unsure([_confidence(all_probs[k]) >= SURE for k in pieces])
        candidates = [lattice.candidates[k] for k in keep]
        all_probs = all_probs[keep]
        edges = [
            Edge(c.start, c.end, tuple(alts), original[k], c.log_weight)
            for k, c, alts in zip(keep, candidates, top_k(all_probs, TOP_K), strict=True)
        ]
        reading = read_lattice(
            edges, line=line_geometry, beam_width=self.beam_width, thousands=thousands
        )
        t = lap("read", t)
        log_probs = alphabet = None
        if self.line_model is not None:
            image = line_image(_line_ink(seg))
            if image is not None:
                log_probs = self.line_model.log_probs(image)
                alphabet = self.line_model.alphabet
            t = lap("line", t)
        ranked = combine(
            edges, reading, log_probs, alphabet or (),
            line=line_geometry, thousands=thousands, deadline=budget,
            weight=self.line_weight, truth_odds=self.truth_odds,
        )  # fmt: skip
        reading = ranked.reading
        both = None if log_probs is None else ranked
        t = lap("read", t)
        chosen = [candidates[k] for k in reading.path]
        seg = Segmentation(tuple(c.segment for c in chosen), seg.ref_height)
        probs = all_probs[list(reading.path)]
        boxes = tuple(edges[k].box for k in reading.path)
        alternatives = tuple(tuple(edges[k].alternatives) for k in reading.path)
        t = lap("read", t)
        solution = solve(reading.labels)
        t = lap("compute", t)
        result, share = self._result(
            reading, solution, all_probs, edges, line_geometry, boxes, timings, start, thousands,
            None if both is None else both.line_log_likelihood, ranked.holding,
        )  # fmt: skip
        budget.check("read")  # the confidence's sum over the lattice is the reader's too
        if both is not None:
            both = replace(both, lattice_posterior=share)
        if line.others:
            more = "1 more line" if line.others == 1 else f"{line.others} more lines"
            note = f"{more} of writing left out: photograph one line at a time."
            result = replace(result, message=f"{result.message} ({note})".lstrip(" "))
        return Analysis(binarized, seg, boxes, probs, alternatives, reading, result, both)

    @staticmethod
    def _unreadable(
        binarized: Binarized, timings: dict[str, float], start: float, error: str, message: str
    ) -> Analysis:
        timings["total"] = (time.perf_counter() - start) * 1e3
        result = Result(
            status=Status.UNREADABLE,
            error=error,
            message=message,
            timings={k: round(v, 3) for k, v in timings.items()},
        )
        empty = np.zeros((0, len(CLASS_INDEX)), np.float32)
        return Analysis(binarized, Segmentation((), 0.0), (), empty, (), None, result)

    def _result(
        self,
        reading: Reading,
        solution: Result,
        all_probs: np.ndarray,
        edges: Sequence[Edge],
        line: LineGeometry,
        boxes: Sequence[tuple[int, int, int, int]],
        timings: dict[str, float],
        start: float,
        thousands: bool,
        line_log_likelihood: float | None,
        holding: Sequence[Reading],
    ) -> tuple[Result, float | None]:
        """The answer: ``solution`` with the chosen symbols, their calibrated
        probabilities and the reading's confidence over the whole lattice, weighed by
        the answer prior against the ``holding`` readings (:mod:`mathocr.truth`; the
        chosen one among them if it holds) and
        pooled with the line model's ``line_log_likelihood`` of it, when there is one;
        and that share of the lattice's (``None`` when the reading is invalid)."""
        share = None
        symbols = []
        product = 1.0
        # reported probabilities are calibrated; the reading was made on the raw ones
        reported = self.classifier.calibrate(all_probs)
        if reported is not all_probs:
            edges = [
                replace(e, alternatives=tuple(alts))
                for e, alts in zip(edges, top_k(reported, TOP_K), strict=True)
            ]
        rows = zip(reading.labels, reading.path, boxes, strict=True)
        for label, k, box in rows:
            p = _chosen_probability(reported[k], label)
            product *= p
            if label == "":
                continue
            others = tuple(
                Alternative(name, round(prob, 6)) for name, prob in edges[k].alternatives
                if name != label
            )  # fmt: skip
            x, y, w, h = (int(v) for v in box)
            symbols.append(Symbol(label, round(p, 6), (x, y, w, h), others))
        if not any(reading.labels):
            confidence = 0.0
        elif reading.valid:
            started = time.perf_counter()
            # the readings that hold (combine's, the chosen one among them if it holds)
            held = {tuple(filter(None, r.labels)): r for r in holding}
            holds = held.pop(tuple(filter(None, reading.labels)), None) is not None
            shares, expression = lattice_shares(
                edges, [(r.path, r.labels) for r in (reading, *held.values())], line=line,
                noise_odds=NOISE_ODDS, thousands=thousands,
            )  # fmt: skip
            confidence = shares[0]
            if held or holds:  # the answer prior: shares of the readings that hold
                confidence = weighted_share(
                    confidence, holds, shares if holds else shares[1:],
                    expression=expression, odds=self.truth_odds,
                )  # fmt: skip
            share = confidence
            if line_log_likelihood is not None:
                confidence = pooled_confidence(confidence, line_log_likelihood)
            # the reader's own sum: timed as part of its stage
            timings["read"] = timings.get("read", 0.0) + (time.perf_counter() - started) * 1e3
        else:  # the symbols' top classes, which form no expression: most likely no
            # expression was written (a scribble read as "-"), rarely one misread
            confidence = product * INVALID_RATE / (INVALID_RATE + NOISE_ODDS)
        timings["total"] = (time.perf_counter() - start) * 1e3
        result = replace(
            solution,
            confidence=round(confidence, 6),
            symbols=tuple(symbols),
            timings={k: round(v, 3) for k, v in timings.items()},
        )
        return result, share

    def __repr__(self) -> str:
        line = None if self.line_model is None else self.line_model.version
        return f"Recognizer(model_version={self.model_version!r}, line_model={line!r})"
