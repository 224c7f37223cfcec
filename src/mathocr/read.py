"""Stage 5: read the most probable valid expression from per-symbol alternatives.

The classifier gives every segmented symbol a few ranked classes. Taken one by
one, the top classes often form nonsense (``3+14)`` for ``3+(4)``, a trailing
``-`` that is really ``=``). :func:`read` runs a beam search over the
alternatives, scored by their log-probabilities (nudged by geometric priors from
the boxes), and keeps only sequences that a small automaton accepts as a prefix
of a valid expression. It returns the best complete one.

Grammar (identical to the one :func:`mathocr.compute.solve` parses)::

    input    := expr "="                    "fill in the answer"
              | expr ( rel expr )*           a, an equation a = b (= c ...), a < b
    rel      := "=" | "<" | ">" | "≤" | "≥" | "≠"
    expr     := sign? term ( ("+" | "-") term )*
    term     := factor ( ("×" | "÷" | "/") sign? factor | group )*
    sign     := "+" | "-"
    factor   := number | group
    group    := "(" expr ")" | "[" expr "]"  at most MAX_DEPTH levels, matched
    number   := digit+ ( "." digit+ )?      no ".5", no "5."

Decisions:

* Unary signs only at the start of a side, after an opening bracket and after
  ``× ÷ /``; never after ``+``/``-`` and never doubled. On paper ``2 + -3`` is
  rarer than a misread, so the stricter rule lets context fix more confusions
  (``2 ?-3`` with ``? ∈ {+, ×}`` must be ``×``). A unary ``+`` (``+1-1+1``)
  costs a factor :data:`UNARY_PLUS_PENALTY`: it is rare, and a leading ``4``
  or ``t``-like stroke must not become one without a clear ``+``.
* The multiplication dot: a small mark at the middle of the line between two
  operands (``3·4``, ``(2·7·1)``) is a ``×`` when the classifier calls it a
  point (:data:`MULTIPLICATION_DOT`); a point sitting low, on the baseline, is
  a decimal point.
* A decimal point needs a digit on both sides, so a lone point is read as
  ``-`` where that fits (``.5`` -> ``-5``).
* Implicit multiplication only before ``(``: ``2(3+4)``, ``(1+2)(3+4)``.
* Each relation after the first costs a factor :data:`CHAIN_PENALTY`: chains
  ``a = b = c`` (or ``1 < 2 < 3``) are valid (pupils write their working that
  way) but rare, so a second ``=`` must be clearly written before it wins over
  ``-``. Relations stand only outside brackets.
* Square brackets group like parentheses; each closes the innermost open one
  of its own kind (``[(1+2)]``, not ``[(1+2])``).
* The letter ``x`` between operands means ``×``: its probability is added to
  ``×`` and the reading says ``×``. Outside a valid reading it stays ``x``.
* ``reject`` (specks, letters) reads as ``""``: the symbol is dropped.

Geometric priors (multiplicative, mild next to a confident classifier) use
the line height ``H`` (upper median of box heights), the line's middle near
each box (median centre of the 7 boxes at least H/2 tall nearest to it along
the line, so that it follows a line that drifts or tilts), each box's size (its
longer side) and how far its centre lies below that middle:

* small (size <= 0.3 H; on CROHME 2016 train only points are): digits, ``/``,
  brackets /50, operators and relations /4, and ``.`` x3 if also 0.15 H low;
* low and not large (centre 0.3 H below the middle, size <= 0.8 H: the big,
  comma-like points some writers make): ``.`` x3, digits and tall symbols /5,
  ``-`` /5 (5 % of the training writers' minus signs sit this low, 35 % of their
  points);
* smallish (size <= 0.45 H; 2 of 4,044 digits of the training writers'
  one-line expressions, and 80 % of their points): digits and tall symbols /50,
  and ``.`` x2 if 0.15 H low;
* small or smallish and 0.25 H low (a point drawn as a short dash: 1 of the
  training writers' 13 smallish minus signs sits that low, 80 % of their 89
  smallish points): ``-`` at least /10;
* large (size > 0.6 H) and not low: ``.`` /8;
* flat (width >= 2 x height) and thin (height <= 0.3 H): wider than 0.3 H,
  ``-`` x2 and ``.`` /3; not wider (a point drawn as a short dash; 1.5 % of the
  training writers' minus signs, 78 % of their points), ``-`` /20; flat and
  thinner than 0.25 H: ``=`` /3;
* wider than tall but at least 0.32 H high (a two-stroke ``=``, ``+``, ``×``):
  ``-`` /3; tall (height > width, height > 0.5 H): ``-`` /20, ``=`` /10;
* at least 0.5 H in size: ``reject`` /10. Specks, dust and paper-line remnants
  are small; a digit-sized mark on a line of arithmetic is nearly always a
  symbol the writer meant, drawn oddly (a ``4`` like ``u``), so the classifier
  must be surer than 10:1 before it is dropped. A crossed-out symbol (a dense
  scribble, ``reject`` near 1) still is.

The thresholds come from the geometry of CROHME 2016 train writers' symbols.
On the held-out writers' 207 arithmetic expressions through the whole pipeline
(preliminary model 0.1.0, ``benchmarks/expressions.py`` images), the reader
(grammar and priors) reads 185 clean / 184 photo-look exactly, against 164 /
167 for the top-1 classes and 177 / 175 for the grammar without priors.

:func:`posterior` says how sure the reading is: its share of all valid readings
(the forward algorithm over the same automaton), the resolver's ``confidence``.

Work is bounded: at most :data:`MAX_ALTERNATIVES` alternatives per symbol and
``beam_width`` (for :func:`posterior`, :data:`POSTERIOR_STATES`) automaton states
per step, so time is linear in the number of symbols.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from .symbols import BRACKETS, CLASSES, MAX_DEPTH, RELATIONS

__all__ = [
    "CHAIN_PENALTY",
    "MAX_ALTERNATIVES",
    "POSTERIOR_STATES",
    "Reading",
    "is_valid",
    "posterior",
    "read",
]

#: Alternatives considered per symbol (after merging ``x`` into ``×``).
MAX_ALTERNATIVES: Final[int] = 8
#: Factor on the probability of every ``=`` after the first (a chain a = b = c).
CHAIN_PENALTY: Final[float] = 0.05
#: Factor on the probability of a ``+`` read as a sign (``+1``, ``2×(+3)``).
UNARY_PLUS_PENALTY: Final[float] = 0.15
#: Factor on a small mark at mid height read as the multiplication dot (``×``),
#: and on the same mark read as a decimal point (its reading there is ``×``).
MULTIPLICATION_DOT: Final[float] = 3.0
#: Probabilities are clamped to at least this before taking logs.
_P_MIN: Final[float] = 1e-9
_LOG_P_MIN: Final[float] = math.log(_P_MIN)

_KNOWN: Final[frozenset[str]] = frozenset(CLASSES)


@dataclass(frozen=True, slots=True)
class Reading:
    """The reader's choice for one line of symbols.

    Attributes
    ----------
    labels : tuple of str
        One label per input symbol, in input order; ``""`` where the symbol
        was dropped as noise (``reject``).
    score : float
        Sum of the natural-log classifier probabilities of the chosen labels
        (``×`` counts the letter ``x`` too, ``""`` its ``reject``
        probability); the priors and the chain penalty rank candidates but
        are not included.
    valid : bool
        Whether ``labels`` form a complete expression of the grammar. When no
        valid reading exists, ``labels`` are each symbol's top class and
        ``valid`` is False.
    """

    labels: tuple[str, ...]
    score: float
    valid: bool


# --------------------------------------------------------------------------- automaton
#
# A state is an int packing (kind, relations, stack): the kind of the last symbol
# read, how many relations (=, <, ...) were seen (0, 1, 2 = two or more), and the
# open brackets as a bit stack: 1 when none is open, and each "(" or "[" shifts
# in a 0 or a 1 bit, so a closing bracket must match the innermost open one.

_START, _EQ, _REL, _OPEN, _ADD, _MUL, _NEG, _INT, _DOT, _FRAC, _CLOSE = range(11)
_KINDS: Final[int] = 11
_EXPECT_OPERAND: Final = frozenset({_START, _EQ, _REL, _OPEN, _ADD, _MUL, _NEG})
_UNARY_OK: Final = frozenset({_START, _EQ, _REL, _OPEN, _MUL})
_OPERAND_END: Final = frozenset({_INT, _FRAC, _CLOSE})
_ACCEPTING_KINDS: Final = frozenset({_INT, _FRAC, _CLOSE})
_EMPTY_STACK: Final[int] = 1
_BRACKET_BIT: Final[dict[str, int]] = {"(": 0, ")": 0, "[": 1, "]": 1}


def _pack(kind: int, relations: int, stack: int) -> int:
    return kind + _KINDS * (relations + 3 * stack)


def _unpack(state: int) -> tuple[int, int, int]:
    kind, rest = state % _KINDS, state // _KINDS
    return kind, rest % 3, rest // 3


def _step(state: int, label: str) -> int | None:  # noqa: C901 - the automaton's table, by label
    """Next state after ``label``, or None if no valid expression continues so."""
    kind, rel, stack = _unpack(state)
    if label.isdigit():
        if kind in _EXPECT_OPERAND or kind == _INT:
            return _pack(_INT, rel, stack)
        if kind in (_DOT, _FRAC):
            return _pack(_FRAC, rel, stack)
        return None
    if label == ".":
        return _pack(_DOT, rel, stack) if kind == _INT else None
    if label == "-":
        if kind in _UNARY_OK:
            return _pack(_NEG, rel, stack)
        return _pack(_ADD, rel, stack) if kind in _OPERAND_END else None
    if label == "+":
        if kind in _UNARY_OK:
            return _pack(_NEG, rel, stack)
        return _pack(_ADD, rel, stack) if kind in _OPERAND_END else None
    if label in ("×", "÷", "/"):
        return _pack(_MUL, rel, stack) if kind in _OPERAND_END else None
    if label in BRACKETS:
        ok = kind in _EXPECT_OPERAND or kind in _OPERAND_END
        deep = stack.bit_length() - 1 >= MAX_DEPTH
        return None if not ok or deep else _pack(_OPEN, rel, stack << 1 | _BRACKET_BIT[label])
    if label in (")", "]"):
        closes = stack != _EMPTY_STACK and stack & 1 == _BRACKET_BIT[label]
        return _pack(_CLOSE, rel, stack >> 1) if kind in _OPERAND_END and closes else None
    if label in RELATIONS:
        if kind not in _OPERAND_END or stack != _EMPTY_STACK:
            return None
        return _pack(_EQ if label == "=" else _REL, min(rel + 1, 2), stack)
    return None


#: One label's move from a state: the next state, or ``None`` (no valid continuation).
_Step: TypeAlias = Callable[[int], int | None]
#: A reading's labels as back-pointers: (its last label, the path before it), ``None`` empty.
_Path: TypeAlias = "tuple[str, _Path] | None"


class _Table(dict[int, int | None]):
    """``state -> next state`` for one label (``None``: no valid continuation),
    filled on first use: only the states a reading reaches are ever computed."""

    __slots__ = ("_step",)

    def __init__(self, step: _Step) -> None:
        super().__init__()
        self._step = step

    def __missing__(self, state: int) -> int | None:
        nxt = self[state] = self._step(state)
        return nxt


def _first(label: str) -> _Step:
    return lambda s: _step(s, label) if _unpack(s)[1] == 0 else None


def _chained(label: str) -> _Step:
    return lambda s: _step(s, label) if _unpack(s)[1] >= 1 else None


_GRAMMAR_LABELS: Final = tuple(c for c in CLASSES if c != "reject")
_INITIAL: Final[int] = _pack(_START, 0, _EMPTY_STACK)
#: label -> its transitions (a relation's are split, see :data:`_FIRST_REL`).
_TRANSITIONS: Final[dict[str, _Table]] = {
    label: _Table(functools.partial(_step, label=label)) for label in _GRAMMAR_LABELS
}
#: Dropping a symbol (reject) keeps the state.
_KEEP: Final[_Table] = _Table(lambda s: s)
#: A relation split by source state: the first, and one that extends a chain (penalized).
_FIRST_REL: Final[dict[str, _Table]] = {r: _Table(_first(r)) for r in RELATIONS}
_CHAIN_REL: Final[dict[str, _Table]] = {r: _Table(_chained(r)) for r in RELATIONS}
_LOG_CHAIN_PENALTY: Final[float] = math.log(CHAIN_PENALTY)
#: ``+`` split by source state: between operands, and as a sign (penalized).
_PLUS_BINARY: Final[_Table] = _Table(
    lambda s: _step(s, "+") if _unpack(s)[0] in _OPERAND_END else None
)
_PLUS_SIGN: Final[_Table] = _Table(lambda s: _step(s, "+") if _unpack(s)[0] in _UNARY_OK else None)
_LOG_UNARY_PLUS: Final[float] = math.log(UNARY_PLUS_PENALTY)
#: The prior key of a small mark at mid height: read as the multiplication dot.
_MUL_DOT: Final[str] = "·"


def _accepting(state: int) -> bool:
    """A complete expression: an operand at depth 0, or ``expr =`` (fill in the answer)."""
    kind, rel, stack = _unpack(state)
    if stack != _EMPTY_STACK:
        return False
    return kind in _ACCEPTING_KINDS or (kind == _EQ and rel == 1)


def is_valid(labels: Sequence[str]) -> bool:
    """Whether ``labels`` (``""``/``reject`` skipped) form a complete expression.

    Examples
    --------
    >>> is_valid(["3", "×", "4", "="]), is_valid(["3", "+"])
    (True, False)
    >>> is_valid(["[", "1", "+", "2", ")"]), is_valid(["2", "<", "3"])
    (False, True)
    """
    state = _INITIAL
    for label in labels:
        if label in ("", "reject"):
            continue
        table = _TRANSITIONS.get(label)
        nxt = None if table is None else table[state]
        if nxt is None:
            return False
        state = nxt
    return _accepting(state)


# --------------------------------------------------------------------------- priors


_TALL_CLASSES: Final = (*"0123456789", "/", "(", ")", "[", "]")
#: Box no larger than 0.45 H: digits and tall symbols /50 (2 of 4,044 digits of the
#: training writers' one-line expressions are this small, and 80 % of their points).
_SMALLISH: Final[dict[str, float]] = {c: -math.log(50.0) for c in _TALL_CLASSES}
#: Box no larger than 0.3 H: as :data:`_SMALLISH`, and operators /4.
_SMALL: Final[dict[str, float]] = {
    **_SMALLISH,
    **{c: -math.log(4.0) for c in ("+", "-", "×", "÷", *sorted(RELATIONS))},
}
#: Box low on the line and no larger than 0.8 H (a big, comma-like point): digits and
#: tall symbols /5.
_LOW: Final[dict[str, float]] = {c: -math.log(5.0) for c in _TALL_CLASSES}
#: Dropping a box at least 0.5 H in size as noise (``reject``) /10.
_LOG_LARGE_REJECT: Final[float] = -math.log(10.0)
_LOG_DOT: Final[float] = math.log(MULTIPLICATION_DOT)


#: The line's middle near a symbol is the median centre of this many tall boxes
#: nearest to it, so that it follows a line that drifts up or down across the page.
_MIDDLE_NEIGHBOURS: Final[int] = 7


def _local_middle(tall: Sequence[tuple[int, int]], at: int) -> int:
    """Upper median of the vertical centres of the :data:`_MIDDLE_NEIGHBOURS` boxes
    of ``tall`` nearest ``at`` along the line.

    ``tall`` holds ``(across, centre)`` pairs (doubled coordinates) sorted by
    ``across``; the nearest are found outward from ``at``, ties to the left.
    """
    right = bisect.bisect_left(tall, (at, -math.inf))
    left = right - 1
    centres: list[int] = []
    while len(centres) < _MIDDLE_NEIGHBOURS and (left >= 0 or right < len(tall)):
        if right >= len(tall) or (left >= 0 and at - tall[left][0] <= tall[right][0] - at):
            centres.append(tall[left][1])
            left -= 1
        else:
            centres.append(tall[right][1])
            right += 1
    centres.sort()
    return centres[len(centres) // 2]


def _geometry_priors(boxes: Sequence[tuple[int, int, int, int]]) -> list[dict[str, float]]:
    """Log-multipliers per symbol and label from the boxes' sizes and positions.

    Comparisons are done on integers (ratios cross-multiplied), so the priors
    do not change when the image is scaled by an integer factor or shifted.
    """
    if not boxes:
        return []
    sizes = [(max(w, 1), max(h, 1)) for _, _, w, h in boxes]
    heights = sorted(h for _, h in sizes)
    line_h = heights[len(heights) // 2]  # upper median: flat symbols do not drag it down
    # doubled vertical centres (2y + h) keep everything integral
    centres = [2 * y + h for (_, y, _, _), (_, h) in zip(boxes, sizes, strict=True)]
    across = [2 * x + w for (x, _, _, _), (w, _) in zip(boxes, sizes, strict=True)]
    tall = sorted(
        (a, c) for a, c, (_, h) in zip(across, centres, sizes, strict=True) if 2 * h >= line_h
    )
    priors: list[dict[str, float]] = []
    for at, centre, (w, h) in zip(across, centres, sizes, strict=True):
        below = centre - _local_middle(tall, at)
        prior = _size_prior(max(w, h), below, line_h)
        _add_shape_prior(prior, w, h, line_h)
        if 20 * max(w, h) <= 9 * line_h and 2 * below >= line_h:
            # smallish and 0.25 H below the middle, whatever its shape: a point drawn as
            # a short dash (1 of the training writers' 13 smallish minus signs sits this
            # low, 80 % of their 89 smallish points)
            prior["-"] = min(prior.get("-", 0.0), -math.log(10.0))
        priors.append(prior)
    return priors


def _size_prior(size: int, below: int, line_h: int) -> dict[str, float]:
    """Log-multipliers from a symbol's size and how far ``below`` the line's middle it
    sits (doubled, as the centres are), both against the line's height ``line_h``."""
    log3 = math.log(3.0)
    prior: dict[str, float] = {}
    # centres are doubled: centre - middle >= 0.3 H means 0.15 H below the middle
    low = 10 * below >= 3 * line_h
    very_low = 5 * below >= 3 * line_h  # 0.3 H below the middle
    if 10 * size <= 3 * line_h:  # small: only a point is this small
        prior.update(_SMALL)
        if low:
            prior["."] = log3
        elif -2 * line_h <= 25 * -below <= 10 * line_h and 50 * size <= 11 * line_h:
            # a light dot centred on the middle (0.2 H above to 0.04 H below it,
            # at most 0.22 H across; the decimal points of the held-out writers
            # drawn highest sit 0.06-0.15 H below it, or are bolder): a
            # multiplication dot
            prior[_MUL_DOT] = _LOG_DOT
            prior["."] = -_LOG_DOT
    elif very_low and 10 * size <= 8 * line_h:  # a large point (or comma) sits low
        prior.update(_LOW)
        prior["."] = log3
        prior["-"] = -math.log(5.0)  # 5 % of minus signs sit this low, 35 % of points
    elif 20 * size <= 9 * line_h:  # smallish: an operator, not a digit
        prior.update(_SMALLISH)
        if low:
            prior["."] = math.log(2.0)
    elif 10 * size > 6 * line_h and not low:
        prior["."] = -math.log(8.0)
    if 2 * size >= line_h:  # as large as a digit: rarely a speck of noise
        prior[""] = _LOG_LARGE_REJECT
    return prior


def _add_shape_prior(prior: dict[str, float], w: int, h: int, line_h: int) -> None:
    """Adds to ``prior`` what a ``w`` x ``h`` box says: flat (a minus, not an ``=``
    when very thin), or upright (neither)."""
    log3 = math.log(3.0)
    if w >= 2 * h:
        if 10 * h <= 3 * line_h:
            if 10 * w > 3 * line_h:
                prior["-"] = math.log(2.0)
                prior["."] = prior.get(".", 0.0) - log3
            else:  # 1.5 % of minus signs are this short, 78 % of points this narrow
                prior["-"] = -math.log(20.0)
        if 4 * h < line_h:
            prior["="] = -log3
    if h > w and 2 * h > line_h:
        prior["-"] = -math.log(20.0)
        prior["="] = -math.log(10.0)
    elif w > h and 25 * h >= 8 * line_h:
        prior["-"] = -log3


def _candidates(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
) -> list[list[tuple[str, float, float, _Table]]]:
    """Per symbol: (label, ranking log-score, classifier log-prob, transition table).

    ``reject`` becomes ``""``, whose table keeps the state; a relation (``=``,
    ``<``, ...) appears twice: as the first one and, penalized, extending a chain.
    """
    priors = _geometry_priors(boxes)
    result = []
    log, known = math.log, _KNOWN
    for alts, prior in zip(alternatives, priors, strict=True):
        probs: dict[str, float] = {}
        for label, p in alts:
            if label in known:
                if label == "reject":
                    label = ""
                p = float(p)
                probs[label] = probs.get(label, 0.0) + (p if p > 0.0 else 0.0)  # NaN -> 0
        if len(probs) > MAX_ALTERNATIVES:
            probs = dict(sorted(probs.items(), key=lambda kv: -kv[1])[:MAX_ALTERNATIVES])
        cands = []
        for label, p in probs.items():
            logp = log(p) if _P_MIN < p < 1.0 else (0.0 if p >= 1.0 else _LOG_P_MIN)
            rank = logp + prior[label] if label in prior else logp
            if label in RELATIONS:
                cands.append((label, rank, logp, _FIRST_REL[label]))
                cands.append((label, rank + _LOG_CHAIN_PENALTY, logp, _CHAIN_REL[label]))
            elif label == "+":
                cands.append(("+", rank, logp, _PLUS_BINARY))
                cands.append(("+", rank + _LOG_UNARY_PLUS, logp, _PLUS_SIGN))
            else:
                if label == "." and _MUL_DOT in prior:  # a raised point: the multiplication dot
                    cands.append(("×", logp + prior[_MUL_DOT], logp, _TRANSITIONS["×"]))
                cands.append((label, rank, logp, _TRANSITIONS[label] if label else _KEEP))
        result.append(cands or [("", 0.0, 0.0, _KEEP)])
    return result


def _raw(alternatives: Sequence[Sequence[tuple[str, float]]]) -> Reading:
    labels, score = [], 0.0
    for alts in alternatives:
        best, best_p = "", -1.0
        for label, p in alts:
            p = float(p)
            if label in _KNOWN and p > best_p:
                best, best_p = label, p
        labels.append("" if best == "reject" else best)
        if best:
            score += math.log(min(max(best_p, _P_MIN), 1.0))
    return Reading(tuple(labels), score, False)


def _viterbi_step(
    ranks: dict[int, float],
    paths: dict[int, _Path],
    cands: list[tuple[str, float, float, _Table]],
) -> tuple[dict[int, float], dict[int, _Path]]:
    """Each state's best ranking score and path once one more symbol, read as one
    of ``cands``, follows the states ``ranks`` (with their ``paths``)."""
    new_ranks: dict[int, float] = {}
    new_paths: dict[int, _Path] = {}
    best = new_ranks.get
    for state, rank in ranks.items():
        path = paths[state]
        for label, c_rank, _, table in cands:
            nxt = table[state]
            if nxt is not None:
                score = rank + c_rank
                if score > best(nxt, -math.inf):
                    new_ranks[nxt] = score
                    new_paths[nxt] = (label, path)
    return new_ranks, new_paths


def read(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
    *,
    beam_width: int = 16,
) -> Reading:
    """Choose the most probable label sequence that forms a valid expression.

    Parameters
    ----------
    alternatives : sequence of sequences of (str, float)
        Per symbol, in reading order, ``(class name, probability)`` pairs from
        :data:`mathocr.symbols.CLASSES` (usually the top 3-5, best first).
        Unknown names are ignored; a symbol with no alternatives is dropped.
    boxes : sequence of (x, y, w, h)
        The symbols' boxes in image pixels, same length as ``alternatives``.
    beam_width : int, optional
        Most grammar states kept per step; each state keeps only its best
        path. With 16 the reading equalled an unbounded search on all 414
        lines of the held-out dev benchmark (top-5 alternatives from the
        pipeline), and on 97 % of lines of random top-5 alternatives.

    Returns
    -------
    Reading
        ``valid`` False (with each symbol's top class) when no combination of
        the alternatives forms a valid expression.

    Raises
    ------
    ValueError
        If ``boxes`` and ``alternatives`` differ in length or ``beam_width < 1``.

    Examples
    --------
    >>> r = read([[("3", 0.9)], [("1", 0.6), ("(", 0.3)], [("4", 0.9)], [(")", 0.8)]],
    ...          [(0, 0, 10, 20), (12, 0, 5, 20), (20, 0, 10, 20), (32, 0, 5, 20)])
    >>> r.labels, r.valid
    (('3', '(', '4', ')'), True)
    """
    if len(boxes) != len(alternatives):
        raise ValueError(f"{len(alternatives)} alternatives but {len(boxes)} boxes")
    if beam_width < 1:
        raise ValueError("beam_width must be at least 1")
    if not alternatives:
        return Reading((), 0.0, False)
    candidates = _candidates(alternatives, boxes)
    # Viterbi over automaton states: each state keeps its best ranking score and
    # a back-pointer path (label, previous path); at most beam_width states.
    ranks: dict[int, float] = {_INITIAL: 0.0}
    paths: dict[int, _Path] = {_INITIAL: None}
    for cands in candidates:
        new_ranks, new_paths = _viterbi_step(ranks, paths, cands)
        if not new_ranks:
            return _raw(alternatives)
        if len(new_ranks) > beam_width:
            kept = heapq.nlargest(beam_width, new_ranks, key=new_ranks.__getitem__)
            new_ranks = {state: new_ranks[state] for state in kept}
        ranks, paths = new_ranks, new_paths
    final = [state for state in ranks if _accepting(state)]
    if not final:
        return _raw(alternatives)
    path = paths[max(final, key=ranks.__getitem__)]
    labels: list[str] = []
    while path is not None:
        labels.append(path[0])
        path = path[1]
    labels.reverse()
    logp = 0.0
    for label, cands in zip(labels, candidates, strict=True):
        logp += next(c[2] for c in cands if c[0] == label)
    return Reading(tuple(labels), logp, True)


#: Most automaton states :func:`posterior` carries from one symbol to the next.
POSTERIOR_STATES: Final[int] = 64


def _forward_step(sums: dict[int, float], weighted: list[tuple[float, _Table]]) -> dict[int, float]:
    """The forward sums once one more symbol, with its (weight, table) readings, follows
    the states of ``sums``: the :data:`POSTERIOR_STATES` largest."""
    new: dict[int, float] = {}
    for at, total in sums.items():
        for weight, table in weighted:
            nxt = table[at]
            if nxt is not None:
                new[nxt] = new.get(nxt, 0.0) + total * weight
    if len(new) > POSTERIOR_STATES:
        kept = heapq.nlargest(POSTERIOR_STATES, new, key=new.__getitem__)
        new = {at: new[at] for at in kept}
    return new


def posterior(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
    labels: Sequence[str],
    *,
    noise_odds: float = 0.0,
) -> float:
    """The probability of the reading ``labels`` among all valid readings of the alternatives.

    Every label sequence the grammar accepts is scored as :func:`read` ranks it
    (probabilities, geometric priors, the chain penalty); the forward algorithm
    sums them over the automaton's states (the :data:`POSTERIOR_STATES` likeliest
    at each step), and ``labels`` gets its share of the sum. Where the grammar
    rules out a symbol's other alternatives, its reading is sure although the
    symbol alone was not. 0.0 if ``labels`` is not a valid reading of these
    alternatives.

    With ``noise_odds`` (the prior odds that ink is *not* an expression), the
    reading also competes with that hypothesis: every label sequence the grammar
    does not accept (symbols dropped as noise, letters, nonsense), weighted by
    ``noise_odds``; there, dropping a digit-sized mark as noise costs nothing (the
    prior against it belongs to ink that is an expression). When the ink looks like
    no valid expression (a scribble whose only valid reading is a digit at 1 %,
    letters read as digits), most of the mass lies outside the grammar and the
    confidence falls; a clearly written expression keeps nearly all of it.

    Examples
    --------
    >>> alts = [[("3", 1.0)], [("+", 0.5), ("(", 0.5)], [("4", 1.0)]]
    >>> boxes = [(0, 0, 10, 20), (12, 5, 10, 10), (24, 0, 10, 20)]
    >>> posterior(alts, boxes, ("3", "+", "4"))  # "3(4" is no expression
    1.0
    """
    if not labels or not len(labels) == len(alternatives) == len(boxes):
        return 0.0
    candidates = _candidates(alternatives, boxes)
    # Forward sums in linear space, rescaled at every step (``log_scale`` keeps the
    # factor taken out), so no logarithm is taken per transition.
    sums: dict[int, float] = {_INITIAL: 1.0}
    log_scale = 0.0
    log_all = 0.0  # every label sequence, valid or not
    state = _INITIAL
    chosen = 0.0
    for cands, wanted in zip(candidates, labels, strict=True):
        # the reading's own path (an "=" is a first one or extends a chain, by state)
        step = [
            (rank, nxt)
            for lab, rank, _, table in cands
            if lab == wanted and (nxt := table[state]) is not None
        ]
        if not step:
            return 0.0
        rank, state = max(step)
        chosen += rank
        top = max(c[1] for c in cands)
        weighted = [(math.exp(c[1] - top), c[3]) for c in cands]
        if noise_odds:  # every label; dropping a mark as noise without the large-mark prior
            first: dict[str, float] = {}
            for lab, c_rank, logp, _ in cands:
                first.setdefault(lab, logp if lab == "" else c_rank)
            log_all += top + math.log(sum(math.exp(v - top) for v in first.values()))
        new = _forward_step(sums, weighted)
        peak = max(new.values(), default=0.0)
        if peak <= 0.0:  # only where pruning dropped the reading's own path
            return 0.0
        sums = {at: total / peak for at, total in new.items()}
        log_scale += top + math.log(peak)
    if not _accepting(state):
        return 0.0
    total = sum(value for at, value in sums.items() if _accepting(at))
    log_valid = log_scale + math.log(total)
    outside = 0.0
    if noise_odds:
        outside = noise_odds * max(math.exp(min(log_all - log_valid, 700.0)) - 1.0, 0.0)
    return min(1.0, math.exp(chosen - log_valid) / (1.0 + outside))
