"""Two readers, one answer: the lattice reading and the line model's hypotheses, ranked together.

The lattice reader (:func:`mathocr.read.read_lattice`) chooses symbols from
their shapes; the line model (:mod:`mathocr.line_model`) reads the whole line.
:func:`combine` takes the union of their hypotheses - the lattice's reading and
the line model's ``nbest`` grammar-constrained readings - and ranks each label
sequence by both: the lattice's ranking score of its likeliest path that reads
those labels (:func:`mathocr.read.read_labels`: classifier, geometric priors and
segmentation weights) plus :data:`LINE_WEIGHT` times the line model's CTC
log-likelihood of it. A hypothesis the lattice cannot read (no path with those
labels) is left out: the answer's symbols and boxes always come from the
lattice. When both readers' first choices agree (most lines), that reading is
first on the sum of their scores too and nothing more is computed. The chosen
reading's confidence pools the two readers' probabilities of it
(:func:`pooled_confidence`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .deadline import Deadline
from .line_model import ctc_beam_search, ctc_log_likelihood
from .priors import LineGeometry
from .read import Edge, Reading, read_labels
from .truth import TRUTH_ODDS, holding_neighbours, log_prior

__all__ = [
    "CONFIDENCE_WEIGHTS",
    "LINE_WEIGHT",
    "NBEST",
    "Combined",
    "combine",
    "pooled_confidence",
]

#: Weight of the line model's log-likelihood against the lattice's ranking score. Chosen
#: by ``benchmarks/tune_combination.py --n 300`` (composed sums of the line model's
#: validation writers, never the development writers; model 1.3.0, lines-2026.12.02):
#: exact 92.8 % with the lattice alone (0), 93.5 % at 0.25, 93.8 % at 0.5, 93.7 % at 1,
#: 93.3 % at 2; with model 2.0.0, 94.3 % at 0, 94.5 % at 0.25, 94.8 % at 0.5 and at 1.
LINE_WEIGHT: Final[float] = 0.5
#: The line model's hypotheses considered.
NBEST: Final[int] = 8
#: :func:`pooled_confidence`'s ``(a, b, c)``, fitted by logistic regression (the same
#: command, model 2.0.0) on the sums' 600 readings at :data:`LINE_WEIGHT` and 206
#: readings of ink that is no expression (``benchmarks/nonexpressions.py`` drawn with
#: seed 2, not the reported seed 1): the sums' ECE 0.074 with the lattice's share
#: alone, 0.040 fitted; 93.0 % of those non-expressions under 0.5. (Model 1.3.0's fit,
#: (0.876, 0.607, 1.342), left 2.0.0's development readings under-confident.) Those
#: writers' symbols trained the classifier, so on unseen writers the fit may be a little
#: sure of itself: the benchmarks report the ECE.
CONFIDENCE_WEIGHTS: Final[tuple[float, float, float]] = (0.766, 0.408, 1.641)


@dataclass(frozen=True, slots=True)
class Combined:
    """What :func:`combine` chose, and from what.

    Attributes
    ----------
    reading : Reading
        The chosen labels and their lattice path (boxes come from it).
    lattice : Reading
        The lattice reader's own reading.
    line : tuple of (labels, float)
        The line model's grammar-constrained readings, best first, with their CTC
        log-likelihoods (where both readers agree, only the agreed reading's is
        computed; the others keep the search's score, grammar penalties included).
    line_log_likelihood : float
        The line model's log-likelihood of ``reading`` (``-inf`` when it has none,
        0 without a line model).
    holding : tuple of Reading
        The hypotheses read along the lattice whose equation holds (the answer
        prior lifted them), ``reading`` among them if it holds: what
        :func:`mathocr.truth.weighted_share` weighs the confidence against.
    lattice_posterior : float or None
        The lattice's share for ``reading`` once the recognizer has computed it
        (the other input of :func:`pooled_confidence`).
    """

    reading: Reading
    lattice: Reading
    line: tuple[tuple[tuple[str, ...], float], ...]
    line_log_likelihood: float
    holding: tuple[Reading, ...] = ()
    lattice_posterior: float | None = None


def _indices(labels: Sequence[str], alphabet: Sequence[str]) -> list[int] | None:
    index = {a: i + 1 for i, a in enumerate(alphabet)}
    out = [index.get(lab) for lab in labels if lab]
    return None if any(i is None for i in out) else [i for i in out if i is not None]


def combine(
    edges: Sequence[Edge],
    lattice_reading: Reading,
    log_probs: np.ndarray | None,
    alphabet: Sequence[str],
    *,
    line: LineGeometry | None = None,
    thousands: bool = False,
    weight: float = LINE_WEIGHT,
    nbest: int = NBEST,
    truth_odds: float = TRUTH_ODDS,
    deadline: Deadline | None = None,
) -> Combined:
    """Rank the lattice's reading, its holding neighbours and the line model's hypotheses.

    ``log_probs`` ``[T, C]`` is the line model's output for the same line
    (column ``c`` is ``alphabet[c - 1]``, 0 the blank), ``None`` without a line
    model; ``edges``, ``line`` and ``thousands`` are the lattice reader's. Each
    hypothesis is ranked by its lattice score, ``weight`` times its CTC
    log-likelihood and the answer prior (:func:`mathocr.truth.log_prior` with
    ``truth_odds``); the readings one or two symbols from the lattice's whose
    equation holds (:func:`mathocr.truth.holding_neighbours`) are hypotheses too.
    Returns the lattice's own reading when no other can be read along the
    lattice or ranks higher. ``deadline`` is checked as the hypotheses are
    searched and scored.

    Examples
    --------
    >>> edges = [Edge(0, 1, [("1", 0.6), ("7", 0.4)], (0, 0, 8, 20)),
    ...          Edge(1, 2, [("+", 0.9)], (12, 5, 10, 10)),
    ...          Edge(2, 3, [("2", 0.9)], (26, 0, 10, 20))]
    >>> from mathocr.read import read_lattice
    >>> lattice = read_lattice(edges)
    >>> lp = np.log(np.array([[.05, .05, .85, .03, .02], [.9, .03, .03, .02, .02],
    ...                       [.05, .02, .02, .88, .03], [.9, .03, .03, .02, .02],
    ...                       [.05, .02, .02, .03, .88]]))
    >>> both = combine(edges, lattice, lp, ["1", "7", "+", "2"])
    >>> lattice.labels, both.reading.labels   # the line model is sure of the 7
    (('1', '+', '2'), ('7', '+', '2'))
    >>> sum_ = [*edges, Edge(3, 4, [("=", 0.9)], (40, 5, 10, 10)),
    ...         Edge(4, 5, [("8", 0.5), ("9", 0.4)], (54, 0, 10, 20))]
    >>> combine(sum_, read_lattice(sum_), None, ()).reading.labels   # 1 + 2 = 8 is false
    ('7', '+', '2', '=', '9')
    """
    found = (
        ()
        if log_probs is None
        else tuple(
            ctc_beam_search(
                log_probs, alphabet, nbest=nbest, thousands=thousands, deadline=deadline
            )
        )
    )
    own = tuple(lab for lab in lattice_reading.labels if lab)
    neighbours = []
    if lattice_reading.valid:
        along = [edges[k].alternatives for k in lattice_reading.path]
        neighbours = holding_neighbours(
            lattice_reading.labels, along, odds=truth_odds, thousands=thousands
        )
    prior = functools.lru_cache(maxsize=None)(lambda labels: log_prior(labels, odds=truth_odds))
    agreed = not found or found[0][0] == own
    lifted = any(prior(labels) > 0.0 for labels, _ in found) or neighbours
    if lattice_reading.valid and agreed and (prior(own) > 0.0 or not lifted):
        # both readers' first choice, and no other reading the answer prior lifts over it
        ctc = _log_likelihood(log_probs, alphabet, own)
        line_found = tuple((labels, ctc if labels == own else score) for labels, score in found)
        agreed_holding = (lattice_reading,) if prior(own) > 0.0 else ()
        return Combined(lattice_reading, lattice_reading, line_found, ctc, holding=agreed_holding)
    hypotheses: dict[tuple[str, ...], None] = {}
    if lattice_reading.valid:
        hypotheses[own] = None
    for labels in [*(labels for labels, _ in found), *neighbours]:
        hypotheses.setdefault(labels, None)
    best: tuple[float, Reading, float] | None = None
    line_scores = []
    holding: list[Reading] = []
    for labels in hypotheses:
        if deadline is not None:
            deadline.check("line")
        ctc = _log_likelihood(log_probs, alphabet, labels)
        line_scores.append((labels, ctc))
        if not math.isfinite(ctc):
            continue
        read = read_labels(edges, labels, line=line, thousands=thousands)
        if read is None:
            continue
        reading, rank = read
        bonus = prior(labels)
        if bonus > 0.0:
            holding.append(reading)
        score = rank + weight * ctc + bonus
        if best is None or score > best[0]:
            best = (score, reading, ctc)
    searched = dict(found)
    line_found = tuple(sorted(((s, c) for s, c in line_scores if s in searched),
                              key=lambda sc: -sc[1]))  # fmt: skip
    if best is None:
        mine = dict(line_scores).get(own)
        return Combined(lattice_reading, lattice_reading, line_found, mine or -math.inf)
    return Combined(best[1], lattice_reading, line_found, best[2], holding=tuple(holding))


def _log_likelihood(
    log_probs: np.ndarray | None, alphabet: Sequence[str], labels: Sequence[str]
) -> float:
    """The line model's CTC log-likelihood of ``labels`` (0 without a line model)."""
    if log_probs is None:
        return 0.0
    idx = _indices(labels, alphabet)
    return ctc_log_likelihood(log_probs, idx) if idx is not None else -math.inf


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def pooled_confidence(
    lattice_posterior: float,
    line_log_likelihood: float,
    *,
    weights: tuple[float, float, float] = CONFIDENCE_WEIGHTS,
) -> float:
    """How likely the reading is right, from both readers: a logistic of their evidence.

    ``lattice_posterior`` is the lattice's share for the reading
    (:func:`mathocr.read.lattice_posterior`, which weighs "not an expression"
    too); ``line_log_likelihood`` the line model's CTC log-likelihood of it (a
    share of every label sequence the line could be). With ``weights`` ``(a, b,
    c)`` the confidence is ``sigmoid(a * logit(lattice_posterior) + b *
    max(line_log_likelihood, -20) + c)``, fitted on lines of training-side writers
    (:data:`CONFIDENCE_WEIGHTS`). A reading either reader rules out gets 0.

    Examples
    --------
    >>> round(pooled_confidence(0.9, math.log(0.9), weights=(1.0, 0.0, 0.0)), 3)
    0.9
    >>> pooled_confidence(0.9, -math.inf)
    0.0
    """
    if lattice_posterior <= 0.0 or not math.isfinite(line_log_likelihood):
        return 0.0
    a, b, c = weights
    z = a * _logit(lattice_posterior) + b * max(line_log_likelihood, -20.0) + c
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
