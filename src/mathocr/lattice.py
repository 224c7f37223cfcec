"""Stage 4a: the candidate segmentations of a line, as a lattice of candidate symbols.

Segmentation rules (:mod:`mathocr.segment`) join the parts of a symbol that do
not touch and keep apart the symbols that do not touch; they cannot tell two
touching digits from one wide symbol, nor a ``4`` drawn in two strokes that
miss each other from a ``1`` beside an ``L``. Only the classifier (and the
grammar) can. So the line's pieces, left to right, are over-segmented into
candidates, the classifier scores them all in one batched call, and the reader
(:func:`mathocr.read.read_lattice`) chooses the path through segmentations
*and* labels jointly, as in LeCun et al. (1998)'s check reader:

* **piece**: each piece as it is (the rules' segmentation, the default path);
* **cut**: a wide piece (no wider than :data:`MAX_PAIR_WIDTH` reference heights) cut
  in two (:func:`mathocr.segment.split_candidates`, at most two cuts): two
  candidates in a row, through a position of their own.
  Both halves must be at least :data:`MIN_HALF` reference heights tall: symbols
  that touch side by side are digits and brackets, and a flat half (a ``-``
  cut off the flag of a ``1`` or the top of a ``3``) is nearly always part of
  its neighbour. The exception is a point or a dash hanging off the right end of
  a digit (:func:`mathocr.segment.attachment_cuts`: ``6.`` or ``9-`` touching in
  a blurred photo), shaped and placed as a decimal point or a minus sign, and a
  point tucked under a digit's right corner and touching it
  (:func:`mathocr.segment.tucked_point_cuts`: the blob an opening leaves there);
* **merge**: 2 or :data:`MAX_MERGE` adjacent pieces together, where the union is
  no larger than a symbol (:data:`MERGE_WIDTH`, :data:`MERGE_HEIGHT` reference
  heights), each piece reaches the next along the line (:data:`MERGE_GAP`) and
  none is as small as a point (:data:`MIN_MERGED` reference heights: a decimal
  point beside a digit is no part of it).

Positions are numbered in reading order: a candidate always runs from a lower
position to a higher one, so the lattice is a DAG in topological order. The
default path costs nothing; a cut costs :data:`CUT_WEIGHT` (a tucked point
:data:`TUCKED_WEIGHT`) and a merge
:data:`MERGE_WEIGHT` (log-added to the path's score), the evidence the
classifier must bring to overturn the rules.

Work is bounded: at most :data:`MAX_CANDIDATES` candidates; a line of more than a
third as many pieces (a long one, see :data:`mathocr.segment.MAX_PARTS`), or one whose
candidates would exceed the bound, keeps its pieces only, and its cuts are not even
looked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .segment import (
    Segment,
    Segmentation,
    attachment_cuts,
    split_candidates,
    tucked_point_cuts,
)

__all__ = [
    "CUT_WEIGHT",
    "MAX_CANDIDATES",
    "MAX_MERGE",
    "MAX_PAIR_WIDTH",
    "MERGE_GAP",
    "MERGE_HEIGHT",
    "MERGE_WEIGHT",
    "MERGE_WIDTH",
    "MIN_HALF",
    "MIN_MERGED",
    "TUCKED_WEIGHT",
    "Candidate",
    "Lattice",
    "build_lattice",
]

#: Factor on a path that cuts a piece in two: the two halves' classifier
#: probabilities times this must beat the whole's.
CUT_WEIGHT: Final[float] = 0.4
#: What a path pays for a point cut off from under a digit's corner
#: (:func:`mathocr.segment.tucked_point_cuts`): blobs are also thick corners and
#: stroke ends, so the classifier must be surer of the point than of other cuts.
TUCKED_WEIGHT: Final[float] = 0.1
#: Factor on a path that reads adjacent pieces as one symbol.
MERGE_WEIGHT: Final[float] = 0.25
#: Most pieces one merged candidate may hold.
MAX_MERGE: Final[int] = 3
#: A merged candidate is at most this many reference heights wide ...
MERGE_WIDTH: Final[float] = 1.2
#: ... and this many tall.
MERGE_HEIGHT: Final[float] = 1.6
#: Each piece of a merge reaches the next within this many reference heights: 0, they
#: overlap along the line (the strokes of a ``4`` or a ``+`` that miss each other do;
#: a ``1`` close beside a ``3`` does not).
MERGE_GAP: Final[float] = 0.0
#: Only a piece at most this many reference heights wide is cut (two symbols, each
#: at most :data:`MERGE_WIDTH` wide, and a little overlap).
MAX_PAIR_WIDTH: Final[float] = 2.5
#: Both halves of a cut are at least this many reference heights tall.
MIN_HALF: Final[float] = 0.4
#: Every piece of a merge is at least this many reference heights in size.
MIN_MERGED: Final[float] = 0.4
#: Most candidates in one lattice (the bound on the classifier's batch).
MAX_CANDIDATES: Final[int] = 800


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate symbol: its ink, the positions it spans and its segmentation cost.

    ``kind`` is ``"piece"``, ``"cut"`` (one half of a cut piece) or ``"merge"``;
    ``pieces`` the indices of the line's pieces it covers (a cut's half covers its one
    piece); ``log_weight`` the log-factor its path pays for it.
    """

    start: int
    end: int
    segment: Segment
    kind: str
    pieces: tuple[int, ...]
    log_weight: float = 0.0

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.segment.box


@dataclass(frozen=True, slots=True)
class Lattice:
    """The candidates of one line; every full path runs from position 0 to ``end``."""

    candidates: tuple[Candidate, ...]
    end: int

    @property
    def masks(self) -> list[np.ndarray]:
        """Every candidate's ink mask, in candidate order (the classifier's batch)."""
        return [c.segment.mask for c in self.candidates]

    def unsure(self, sure: Sequence[bool]) -> list[int]:
        """The candidates worth reading, given which pieces the classifier is ``sure`` of.

        A piece read surely as one symbol is not cut, and pieces all read surely
        are not merged: the classifier, which never saw a fragment or a pair of
        symbols in training, reads such candidates confidently too, and their
        paths would only take a share of the confidence that belongs to the
        pieces. Returns the indices of the candidates kept (every piece).
        """
        keep = []
        for k, c in enumerate(self.candidates):
            if c.kind == "piece" or not all(sure[i] for i in c.pieces):
                keep.append(k)
        return keep


def _span(segments: list[Segment]) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the box that holds all the segments (ends exclusive)."""
    x0 = min(s.box[0] for s in segments)
    y0 = min(s.box[1] for s in segments)
    x1 = max(s.box[0] + s.box[2] for s in segments)
    y1 = max(s.box[1] + s.box[3] for s in segments)
    return x0, y0, x1, y1


def _union(segments: list[Segment]) -> Segment:
    """The segments' ink together, in the box that holds them all."""
    x0, y0, x1, y1 = _span(segments)
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for s in segments:
        x, y, w, h = s.box
        mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] |= s.mask
    return Segment((x0, y0, x1 - x0, y1 - y0), mask)


def _mergeable(run: list[Segment], ref: float) -> bool:
    """Whether the adjacent pieces ``run`` could be one symbol (see the module docstring)."""
    x0, y0, x1, y1 = _span(run)
    if x1 - x0 > MERGE_WIDTH * ref or y1 - y0 > MERGE_HEIGHT * ref:
        return False
    if any(max(s.box[2], s.box[3]) < MIN_MERGED * ref for s in run):
        return False
    reach = run[0].box[0] + run[0].box[2]
    for s in run[1:]:
        if s.box[0] - reach > MERGE_GAP * ref:
            return False
        reach = max(reach, s.box[0] + s.box[2])
    return True


def build_lattice(
    seg: Segmentation,
    *,
    cuts: bool = True,
    merges: bool = True,
    max_candidates: int = MAX_CANDIDATES,
) -> Lattice:
    """The candidate symbols of the line ``seg`` (its pieces, left to right).

    Parameters
    ----------
    seg : Segmentation
        The line's pieces, in reading order, and its reference height.
    cuts, merges : bool, optional
        Whether to offer wide pieces cut in two, and adjacent pieces merged.
    max_candidates : int, optional
        Past this many candidates, only the pieces are offered.

    Examples
    --------
    >>> one = np.ones((20, 4), bool)
    >>> seg = Segmentation((Segment((0, 0, 4, 20), one), Segment((3, 0, 4, 20), one)), 20.0)
    >>> lat = build_lattice(seg)
    >>> [(c.kind, c.start, c.end) for c in lat.candidates], lat.end
    ([('piece', 0, 1), ('piece', 1, 2), ('merge', 0, 2)], 2)
    """
    pieces = seg.segments
    ref = seg.ref_height
    if len(pieces) > max_candidates // 3:  # a long line: no room for alternatives
        return _pieces_only(seg)
    halves: list[list[tuple[Segment, Segment, float]]] = []
    count = len(pieces)
    for p in pieces:
        pair = cuts and ref > 0 and p.width <= MAX_PAIR_WIDTH * ref
        halves.append(_cuts(p, ref) if pair else [])
        count += 2 * len(halves[-1])
        if count > max_candidates:  # stop cutting: the bound is spent
            return _pieces_only(seg)
    # piece i starts at bound[i]; its cuts' middles follow, numbered before bound[i + 1]
    bound = [0]
    for options in halves:
        bound.append(bound[-1] + 1 + len(options))
    out: list[Candidate] = []
    for i, (piece, options) in enumerate(zip(pieces, halves, strict=True)):
        out.append(Candidate(bound[i], bound[i + 1], piece, "piece", (i,)))
        for k, (left, right, weight) in enumerate(options):
            middle = bound[i] + 1 + k
            out.append(Candidate(bound[i], middle, left, "cut", (i,), math.log(weight)))
            out.append(Candidate(middle, bound[i + 1], right, "cut", (i,)))
    if merges and ref > 0:
        for i in range(len(pieces)):
            for n in range(2, MAX_MERGE + 1):
                run = list(pieces[i : i + n])
                if len(run) < n or not _mergeable(run, ref):
                    break
                covered = tuple(range(i, i + n))
                out.append(
                    Candidate(
                        bound[i], bound[i + n], _union(run), "merge", covered,
                        math.log(MERGE_WEIGHT),
                    )
                )  # fmt: skip
    if len(out) > max_candidates:
        return _pieces_only(seg)
    return Lattice(tuple(out), bound[-1])


def _cuts(piece: Segment, ref: float) -> list[tuple[Segment, Segment, float]]:
    """The ways to cut ``piece`` in two, each with its weight: through its middle into
    halves of a symbol's height, a point or a dash off its right end, and a point
    tucked under its right corner, unless a point or a dash is cut off that end
    already (see the module docstring). The first two never coincide: a point or a
    dash is lower than :data:`MIN_HALF`."""
    options = split_candidates(piece, ref_height=ref)
    halves = [(a, b) for a, b in options if min(a.height, b.height) >= MIN_HALF * ref]
    attached = attachment_cuts(piece, ref_height=ref)
    out = [(a, b, CUT_WEIGHT) for a, b in halves + attached]
    if not any(b.height < MIN_HALF * ref for _, b in attached):  # none off the right end
        out += [(a, b, TUCKED_WEIGHT) for a, b in tucked_point_cuts(piece, ref_height=ref)]
    return out


def _pieces_only(seg: Segmentation) -> Lattice:
    """The lattice of the pieces alone: one path, the rules' segmentation."""
    out = [Candidate(i, i + 1, p, "piece", (i,)) for i, p in enumerate(seg.segments)]
    return Lattice(tuple(out), len(out))
