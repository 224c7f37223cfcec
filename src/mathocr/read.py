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
  operands (``3·4=``, ``(2·7·1)=``), spaced as an operator, is a ``×`` when the
  classifier calls it a point (:data:`mathocr.priors.MULTIPLICATION_DOT`); a point
  sitting low, on the baseline, or close to its digits is a decimal point. No dot is
  read after a number that is a lone ``0`` (``0.47``), after a relation (the answer
  side is a number) or in a line without a relation (a bare ``7.1`` is a number).
* A number may begin with ``0`` and go on (``07``), at a factor
  :data:`LEADING_ZERO_PENALTY`: people write ``0``, ``0.5`` and ``10``, rarely
  ``07``, so a ``9`` with a long tail is not cut into ``01``.
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

Geometric priors from the boxes (:mod:`mathocr.priors`) nudge the scores.

:func:`posterior` says how sure the reading is: its share of all valid readings
(the forward algorithm over the same automaton), the resolver's ``confidence``.

Work is bounded: at most :data:`MAX_ALTERNATIVES` alternatives per symbol and
``beam_width`` (for :func:`posterior`, :data:`POSTERIOR_STATES`) automaton states
per step, so time is linear in the number of symbols.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, TypeVar

from .priors import COMMA_KEY, DOT_KEY, SPECK_KEY, LineGeometry
from .symbols import BRACKETS, CLASSES, MAX_DEPTH, RELATIONS

__all__ = [
    "CHAIN_PENALTY",
    "LEADING_ZERO_PENALTY",
    "MAX_ALTERNATIVES",
    "POSTERIOR_STATES",
    "Edge",
    "Reading",
    "grammar_accepts",
    "grammar_moves",
    "grammar_start",
    "is_valid",
    "lattice_posterior",
    "lattice_shares",
    "posterior",
    "read",
    "read_labels",
    "read_lattice",
]

#: Alternatives considered per symbol (after merging ``x`` into ``×``).
MAX_ALTERNATIVES: Final[int] = 8
#: Factor on the probability of every ``=`` after the first (a chain a = b = c).
CHAIN_PENALTY: Final[float] = 0.05
#: Factor on the probability of a ``+`` read as a sign (``+1``, ``2×(+3)``).
UNARY_PLUS_PENALTY: Final[float] = 0.15
#: Factor on the probability of a digit after a number's leading ``0`` (``07``):
#: valid, but 1 of the 22 numbers that the CROHME training writers' arithmetic
#: expressions begin with ``0`` goes on with a digit (the rest are ``0`` and ``0.5``).
LEADING_ZERO_PENALTY: Final[float] = 0.1
#: Probabilities are clamped to at least this before taking logs.
_P_MIN: Final[float] = 1e-9
_LOG_P_MIN: Final[float] = math.log(_P_MIN)

_KNOWN: Final[frozenset[str]] = frozenset(CLASSES)


@dataclass(frozen=True, slots=True)
class Reading:
    """The reader's choice for one line of symbols (or one path through a lattice).

    Attributes
    ----------
    labels : tuple of str
        One label per input symbol (per edge of ``path``), in reading order;
        ``""`` where the symbol was dropped as noise (``reject``).
    score : float
        Sum of the natural-log classifier probabilities of the chosen labels
        (``×`` counts the letter ``x`` too, ``""`` its ``reject``
        probability); the priors, the chain penalty and the edges'
        segmentation weights rank candidates but are not included.
    valid : bool
        Whether ``labels`` form a complete expression of the grammar. When no
        valid reading exists, ``labels`` are each symbol's top class and
        ``valid`` is False.
    path : tuple of int
        The chosen edges of a lattice (:func:`read_lattice`), one per label;
        for :func:`read`, the symbols' own indices.
    """

    labels: tuple[str, ...]
    score: float
    valid: bool
    path: tuple[int, ...] = ()


# --------------------------------------------------------------------------- automaton
#
# A state is an int packing (kind, relations, stack): the kind of the last symbol
# read, how many relations (=, <, ...) were seen (0, 1, 2 = two or more), and the
# open brackets as a bit stack: 1 when none is open, and each "(" or "[" shifts
# in a 0 or a 1 bit, so a closing bracket must match the innermost open one.

_START, _EQ, _REL, _OPEN, _ADD, _MUL, _NEG, _INT, _DOT, _FRAC, _CLOSE = range(11)
# grouped numbers only (see :data:`_INITIAL_GROUPED`): 1-3 digits and no comma yet, a
# comma, and 1-3 digits of a group after it
_INT1, _INT2, _INT3, _COMMA, _G1, _G2, _G3 = range(11, 18)
# a number that is a lone "0" so far (ungrouped numbers only): a digit after it is rare
_ZERO: Final[int] = 18
_KINDS: Final[int] = 19
_EXPECT_OPERAND: Final = frozenset({_START, _EQ, _REL, _OPEN, _ADD, _MUL, _NEG})
_UNARY_OK: Final = frozenset({_START, _EQ, _REL, _OPEN, _MUL})
_WHOLE: Final = frozenset({_INT, _ZERO, _INT1, _INT2, _INT3, _G3})  # a whole number: "." may follow
_OPERAND_END: Final = _WHOLE | {_FRAC, _CLOSE}
_ACCEPTING_KINDS: Final = _OPERAND_END
_EMPTY_STACK: Final[int] = 1
_BRACKET_BIT: Final[dict[str, int]] = {"(": 0, ")": 0, "[": 1, "]": 1}
#: The digit kinds' successors: counting a leading group, and the groups after commas.
_NEXT_DIGIT: Final[dict[int, int | None]] = {
    _INT: _INT, _ZERO: _INT, _INT1: _INT2, _INT2: _INT3, _INT3: _INT,
    _COMMA: _G1, _G1: _G2, _G2: _G3, _G3: None, _DOT: _FRAC, _FRAC: _FRAC,
}  # fmt: skip


def _pack(kind: int, relations: int, stack: int, grouped: int = 0, dotted: int = 0) -> int:
    return kind + _KINDS * (grouped + 2 * (dotted + 2 * (relations + 3 * stack)))


def _unpack(state: int) -> tuple[int, int, int]:
    kind, rest = state % _KINDS, state // _KINDS // 4
    return kind, rest % 3, rest // 3


def _grouped(state: int) -> int:
    """1 when commas group digits in threes (``1,000``), else 0."""
    return state // _KINDS % 2


def _dotted(state: int) -> int:
    """1 once a point has been read as the multiplication dot, else 0."""
    return state // _KINDS // 2 % 2


def _step(state: int, label: str) -> int | None:  # noqa: C901 - the automaton's table, by label
    """Next state after ``label``, or None if no valid expression continues so."""
    kind, rel, stack = _unpack(state)
    grouped, dotted = _grouped(state), _dotted(state)

    def pack(kind: int, rel: int, stack: int) -> int:
        return _pack(kind, rel, stack, grouped, dotted)

    if label.isdigit():
        if kind in _EXPECT_OPERAND:
            if grouped:
                return pack(_INT1, rel, stack)
            return pack(_ZERO if label == "0" else _INT, rel, stack)
        nxt = _NEXT_DIGIT.get(kind)
        return None if nxt is None else pack(nxt, rel, stack)
    if label == ".":
        return pack(_DOT, rel, stack) if kind in _WHOLE else None
    if label == ",":
        return pack(_COMMA, rel, stack) if kind in (_INT1, _INT2, _INT3, _G3) else None
    if label == "-":
        if kind in _UNARY_OK:
            return pack(_NEG, rel, stack)
        return pack(_ADD, rel, stack) if kind in _OPERAND_END else None
    if label == "+":
        if kind in _UNARY_OK:
            return pack(_NEG, rel, stack)
        return pack(_ADD, rel, stack) if kind in _OPERAND_END else None
    if label in ("×", "÷", "/"):
        return pack(_MUL, rel, stack) if kind in _OPERAND_END else None
    if label in BRACKETS:
        ok = kind in _EXPECT_OPERAND or kind in _OPERAND_END
        deep = stack.bit_length() - 1 >= MAX_DEPTH
        return None if not ok or deep else pack(_OPEN, rel, stack << 1 | _BRACKET_BIT[label])
    if label in (")", "]"):
        closes = stack != _EMPTY_STACK and stack & 1 == _BRACKET_BIT[label]
        return pack(_CLOSE, rel, stack >> 1) if kind in _OPERAND_END and closes else None
    if label in RELATIONS:
        if kind not in _OPERAND_END or stack != _EMPTY_STACK:
            return None
        return pack(_EQ if label == "=" else _REL, min(rel + 1, 2), stack)
    return None


#: One label's move from a state: the next state, or ``None`` (no valid continuation).
_Step: TypeAlias = Callable[[int], int | None]


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


_GRAMMAR_LABELS: Final = (*(c for c in CLASSES if c != "reject"), ",")
_INITIAL: Final[int] = _pack(_START, 0, _EMPTY_STACK)
#: The start when a comma groups digits in threes (``1,000``, English): a number is
#: digits, or 1-3 digits and groups of three after commas, then perhaps a fraction.
#: Without it a comma is no label of the grammar (a comma is a decimal point).
_INITIAL_GROUPED: Final[int] = _pack(_START, 0, _EMPTY_STACK, 1)
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
_LOG_LEADING_ZERO: Final[float] = math.log(LEADING_ZERO_PENALTY)


def _after_zero(digit: str, *, after: bool) -> _Step:
    return lambda s: _step(s, digit) if (_unpack(s)[0] == _ZERO) == after else None


#: The labels whose moves are split by source state, each part with its log factor:
#: a relation (the first; extending a chain), ``+`` (between operands; a sign) and a
#: digit (anywhere else; after a number's leading ``0``).
_SPLIT: Final[dict[str, tuple[tuple[_Table, float], ...]]] = {
    **{r: ((_FIRST_REL[r], 0.0), (_CHAIN_REL[r], _LOG_CHAIN_PENALTY)) for r in RELATIONS},
    "+": ((_PLUS_BINARY, 0.0), (_PLUS_SIGN, _LOG_UNARY_PLUS)),
    **{
        d: (
            (_Table(_after_zero(d, after=False)), 0.0),
            (_Table(_after_zero(d, after=True)), _LOG_LEADING_ZERO),
        )
        for d in "0123456789"
    },
}


def _dot_times(state: int) -> int | None:
    """A point read as the multiplication dot: ``×``, marked in the state (see
    :func:`_accepting`); but not after a number that is a lone ``0`` (``0.47``, not a
    product by zero), nor after a relation (``= 1.31``: the answer side is a number)."""
    kind, rel, _ = _unpack(state)
    if kind == _ZERO or rel:
        return None
    nxt = _step(state, "×")
    if nxt is None or _dotted(nxt):
        return nxt
    return nxt + 2 * _KINDS  # the dotted bit of :func:`_pack`


#: A point read as the multiplication dot (see :func:`_dot_times`).
_DOT_TIMES: Final[_Table] = _Table(_dot_times)


def _start(thousands: bool) -> int:
    return _INITIAL_GROUPED if thousands else _INITIAL


def _accepting(state: int) -> bool:
    """A complete expression: an operand at depth 0, or ``expr =`` (fill in the answer).

    A line with a point read as the multiplication dot needs a relation (``3·4 =``):
    a bare ``7·1`` is the decimal number ``7.1``."""
    kind, rel, stack = _unpack(state)
    if stack != _EMPTY_STACK or (_dotted(state) and rel == 0):
        return False
    return kind in _ACCEPTING_KINDS or (kind == _EQ and rel == 1)


def grammar_start(*, thousands: bool = False) -> int:
    """The automaton's state before any label (see :func:`grammar_moves`)."""
    return _start(thousands)


def grammar_accepts(state: int) -> bool:
    """Whether the labels that led to ``state`` form a complete expression."""
    return _accepting(state)


def grammar_moves(state: int, label: str) -> list[tuple[int, float]]:
    """Where ``label`` may lead from ``state``: ``(next state, log factor)`` pairs.

    The factor is the reader's own: :data:`CHAIN_PENALTY` for a relation that
    extends a chain, :data:`UNARY_PLUS_PENALTY` for a ``+`` read as a sign,
    :data:`LEADING_ZERO_PENALTY` for a digit after a number's leading ``0``, else 1.
    Empty when no valid expression continues so. Other readers (the line model's
    decoder, :mod:`mathocr.line_model`) walk the same grammar with it.

    Examples
    --------
    >>> s = grammar_start()
    >>> [round(math.exp(f), 2) for _, f in grammar_moves(s, "+")]   # a leading sign
    [0.15]
    >>> grammar_moves(s, "=")
    []
    >>> zero = grammar_moves(s, "0")[0][0]
    >>> [round(math.exp(f), 2) for _, f in grammar_moves(zero, "7")]   # 07
    [0.1]
    """
    if label in _SPLIT:
        tables = _SPLIT[label]
    elif label in _TRANSITIONS:
        tables = ((_TRANSITIONS[label], 0.0),)
    else:
        return []
    return [(nxt, factor) for table, factor in tables if (nxt := table[state]) is not None]


def is_valid(labels: Sequence[str], *, thousands: bool = False) -> bool:
    """Whether ``labels`` (``""``/``reject`` skipped) form a complete expression.

    With ``thousands``, a comma groups digits in threes (``1,000.5``); without, no
    label ``","`` is valid.

    Examples
    --------
    >>> is_valid(["3", "×", "4", "="]), is_valid(["3", "+"])
    (True, False)
    >>> is_valid(["[", "1", "+", "2", ")"]), is_valid(["2", "<", "3"])
    (False, True)
    >>> is_valid(list("1,000"), thousands=True), is_valid(list("1,00"), thousands=True)
    (True, False)
    """
    state = _start(thousands)
    for label in labels:
        if label in ("", "reject"):
            continue
        table = _TRANSITIONS.get(label)
        nxt = None if table is None else table[state]
        if nxt is None:
            return False
        state = nxt
    return _accepting(state)


def _candidates(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    priors: Sequence[dict[str, float]],
    *,
    thousands: bool = False,
) -> list[list[tuple[str, float, float, _Table]]]:
    """Per symbol: (label, ranking log-score, classifier log-prob, transition table).

    ``priors`` are the symbols' geometric log-multipliers (:mod:`mathocr.priors`).
    With ``thousands``, a point shaped like a comma is also offered as ``","``.
    ``reject`` becomes ``""``, whose table keeps the state; a label of
    :data:`_SPLIT` (a relation, ``+``, a digit) appears once per part of its moves.
    """
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
        cands: list[tuple[str, float, float, _Table]] = []
        for label, p in probs.items():
            logp = log(p) if _P_MIN < p < 1.0 else (0.0 if p >= 1.0 else _LOG_P_MIN)
            rank = logp + prior[label] if label in prior else logp
            if label in _SPLIT:
                cands.extend((label, rank + factor, logp, table) for table, factor in _SPLIT[label])
            else:
                if label == "." and DOT_KEY in prior:  # a raised point: the multiplication dot
                    cands.append(("×", logp + prior[DOT_KEY], logp, _DOT_TIMES))
                if label == "." and SPECK_KEY in prior:  # a speck where no point stands
                    noise = probs.get("", 0.0)  # its score is still that of noise
                    noise_logp = log(noise) if _P_MIN < noise < 1.0 else _LOG_P_MIN
                    cands.append(("", logp + prior[SPECK_KEY], noise_logp, _KEEP))
                if label == "." and thousands and COMMA_KEY in prior:  # a comma: 1,000
                    cands.append((",", logp + prior[COMMA_KEY], logp, _TRANSITIONS[","]))
                    rank -= prior[COMMA_KEY]
                cands.append((label, rank, logp, _TRANSITIONS[label] if label else _KEEP))
        result.append(cands or [("", 0.0, 0.0, _KEEP)])
    return result


# --------------------------------------------------------------------------- lattice


@dataclass(frozen=True, slots=True)
class Edge:
    """One candidate symbol of a segmentation lattice, for the reader.

    It spans the lattice's positions ``start`` to ``end`` (``start < end``; a path
    from 0 to the last position reads the line); ``alternatives`` are its classes
    as for :func:`read`, ``box`` its ``(x, y, w, h)``, and ``log_weight`` what a path
    through it pays for its segmentation (0 for the rules' own, see
    :mod:`mathocr.lattice`).
    """

    start: int
    end: int
    alternatives: Sequence[tuple[str, float]]
    box: tuple[int, int, int, int]
    log_weight: float = 0.0


#: A key of forward sums: an automaton state, or (labels read, state).
_K = TypeVar("_K", int, tuple[int, int])
#: A reading's edges and labels as back-pointers: (edge, label, the path before it).
_Path: TypeAlias = "tuple[int, str, _Path] | None"


def _checked(edges: Sequence[Edge]) -> int:
    """The last position of ``edges`` (0 when empty); ValueError if an edge runs backwards."""
    end = 0
    for e in edges:
        if not 0 <= e.start < e.end:
            raise ValueError(f"an edge must run forwards from position >= 0: {e.start}->{e.end}")
        end = max(end, e.end)
    return end


def _chain(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
) -> list[Edge]:
    if len(boxes) != len(alternatives):
        raise ValueError(f"{len(alternatives)} alternatives but {len(boxes)} boxes")
    return [Edge(i, i + 1, a, b) for i, (a, b) in enumerate(zip(alternatives, boxes, strict=True))]


def _priors(edges: Sequence[Edge], line: LineGeometry | None) -> list[dict[str, float]]:
    if not edges:
        return []
    line = line or LineGeometry.of([e.box for e in edges])
    return [line.prior(e.box) for e in edges]


def _top(alts: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The most probable known class of ``alts`` (``""`` for reject) and its log-probability."""
    best, best_p = "", -1.0
    for label, p in alts:
        p = float(p)
        if label in _KNOWN and p > best_p:
            best, best_p = label, p
    logp = math.log(min(max(best_p, _P_MIN), 1.0)) if best else 0.0
    return ("" if best == "reject" else best), logp


def _raw(edges: Sequence[Edge], end: int) -> Reading:
    """No valid reading: each symbol's top class along the path that is likeliest so."""
    best: dict[int, tuple[float, _Path]] = {0: (0.0, None)}
    for pos, leaving in sorted(_leaving(edges).items()):
        if pos not in best:
            continue
        score, path = best[pos]
        for k in leaving:
            e = edges[k]
            label, logp = _top(e.alternatives)
            new = score + logp + e.log_weight
            if e.end not in best or new > best[e.end][0]:
                best[e.end] = (new, (k, label, path))
    labels, chosen = _unwind(best.get(end, (0.0, None))[1])
    logp = sum(_top(edges[k].alternatives)[1] for k in chosen)
    return Reading(labels, logp, False, chosen)


def _leaving(edges: Sequence[Edge]) -> dict[int, list[int]]:
    """Position -> the indices of the edges that start there."""
    out: dict[int, list[int]] = {}
    for k, e in enumerate(edges):
        out.setdefault(e.start, []).append(k)
    return out


def _arriving(edges: Sequence[Edge]) -> dict[int, list[int]]:
    """Position -> the indices of the edges that end there."""
    out: dict[int, list[int]] = {}
    for k, e in enumerate(edges):
        out.setdefault(e.end, []).append(k)
    return out


def _unwind(path: _Path) -> tuple[tuple[str, ...], tuple[int, ...]]:
    labels: list[str] = []
    chosen: list[int] = []
    while path is not None:
        chosen.append(path[0])
        labels.append(path[1])
        path = path[2]
    return tuple(reversed(labels)), tuple(reversed(chosen))


def _classifier_logp(
    candidates: Sequence[Sequence[tuple[str, float, float, _Table]]],
    labels: Sequence[str],
    chosen: Sequence[int],
) -> float:
    """The summed classifier log-probabilities of reading edges ``chosen`` as ``labels``
    (a :attr:`Reading.score`)."""
    logp = 0.0
    for label, k in zip(labels, chosen, strict=True):
        logp += next(c[2] for c in candidates[k] if c[0] == label)
    return logp


def _viterbi_step(
    ranks: dict[int, float],
    paths: dict[int, _Path],
    edge: int,
    cands: list[tuple[str, float, float, _Table]],
    weight: float,
    new_ranks: dict[int, float],
    new_paths: dict[int, _Path],
) -> None:
    """Extend the states ``ranks`` (with their ``paths``) by ``edge``, read as one of
    ``cands`` at segmentation cost ``weight``, into ``new_ranks``/``new_paths`` (kept
    where they beat what the edge's end position already holds)."""
    best = new_ranks.get
    for state, rank in ranks.items():
        path = paths[state]
        for label, c_rank, _, table in cands:
            nxt = table[state]
            if nxt is not None:
                score = rank + c_rank + weight
                if score > best(nxt, -math.inf):
                    new_ranks[nxt] = score
                    new_paths[nxt] = (edge, label, path)


def read_lattice(
    edges: Sequence[Edge],
    *,
    line: LineGeometry | None = None,
    beam_width: int = 16,
    thousands: bool = False,
) -> Reading:
    """Choose the most probable path and labels through a lattice that form a valid expression.

    Viterbi over (position, automaton state): at each position every state keeps
    its best ranking score and path (at most ``beam_width`` states), and each
    edge leaving it extends them by its candidates (classifier log-probability,
    geometric prior from ``line``, the edge's ``log_weight``).

    Parameters
    ----------
    edges : sequence of Edge
        The lattice; paths run from position 0 to the largest ``end``.
    line : LineGeometry, optional
        The line that the priors measure boxes against (default: measured from
        all the edges' boxes, right for a chain of symbols).
    beam_width : int, optional
        Most grammar states kept per position.
    thousands : bool, optional
        A comma groups digits in threes (``1,000``, the English convention): a
        point shaped like a comma may be read ``","``. Otherwise a comma is a
        decimal point, read ``"."``.

    Returns
    -------
    Reading
        ``path`` holds the chosen edges, ``labels`` their labels; ``valid``
        False (with the top classes along the likeliest path) when no path
        forms a valid expression.

    Examples
    --------
    >>> cut = [Edge(0, 1, [("1", 0.9)], (0, 0, 6, 20)), Edge(1, 2, [("(", 0.9)], (8, 0, 10, 20))]
    >>> whole = Edge(0, 2, [("4", 0.4), ("reject", 0.6)], (0, 0, 18, 20), log_weight=-0.7)
    >>> r = read_lattice([*cut, whole, Edge(2, 3, [("=", 0.9)], (22, 5, 12, 10))])
    >>> r.labels, r.path   # "1(=" is no expression; "4=" is
    (('4', '='), (2, 3))
    """
    if beam_width < 1:
        raise ValueError("beam_width must be at least 1")
    end = _checked(edges)
    if not edges:
        return Reading((), 0.0, False)
    candidates = _candidates(
        [e.alternatives for e in edges], _priors(edges, line), thousands=thousands
    )
    leaving = _leaving(edges)
    start = _start(thousands)
    ranks: dict[int, dict[int, float]] = {0: {start: 0.0}}
    paths: dict[int, dict[int, _Path]] = {0: {start: None}}
    for pos in range(end):
        here = ranks.pop(pos, None)
        if not here:
            continue
        back = paths.pop(pos)
        if len(here) > beam_width:
            kept = heapq.nlargest(beam_width, here, key=here.__getitem__)
            here = {state: here[state] for state in kept}
        for k in leaving.get(pos, ()):
            e = edges[k]
            _viterbi_step(
                here, back, k, candidates[k], e.log_weight,
                ranks.setdefault(e.end, {}), paths.setdefault(e.end, {}),
            )  # fmt: skip
    final = [state for state in ranks.get(end, {}) if _accepting(state)]
    if not final:
        return _raw(edges, end)
    labels, chosen = _unwind(paths[end][max(final, key=ranks[end].__getitem__)])
    return Reading(labels, _classifier_logp(candidates, labels, chosen), True, chosen)


def read(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
    *,
    beam_width: int = 16,
    thousands: bool = False,
) -> Reading:
    """Choose the most probable label sequence that forms a valid expression.

    A line of symbols is a lattice with one edge per symbol (:func:`read_lattice`,
    which also says what ``thousands`` does).

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
    return read_lattice(_chain(alternatives, boxes), beam_width=beam_width, thousands=thousands)


def _labels_step(
    source: dict[tuple[int, int], tuple[float, _Path]],
    edge: int,
    cands: list[tuple[str, float, float, _Table]],
    weight: float,
    target: Sequence[str],
    new: dict[tuple[int, int], tuple[float, _Path]],
) -> None:
    """Extend the (labels read, state) ranks ``source`` by ``edge`` towards ``target``."""
    for (j, state), (rank, path) in source.items():
        for label, c_rank, _, table in cands:
            at = _read_on(j, state, label, table, target)
            if at is None:
                continue
            score = rank + c_rank + weight
            if score > new.get(at, (-math.inf, None))[0]:
                new[at] = (score, (edge, label, path))


def read_labels(
    edges: Sequence[Edge],
    labels: Sequence[str],
    *,
    line: LineGeometry | None = None,
    thousands: bool = False,
) -> tuple[Reading, float] | None:
    """The likeliest path through a lattice that reads ``labels``, and its ranking score.

    As :func:`read_lattice` ranks paths (classifier log-probabilities, priors, the
    edges' segmentation weights), over the paths whose non-empty labels are
    ``labels``: any edge on the way may be dropped as ``""`` (``reject``) if its
    alternatives allow it. Another reader's hypothesis (the line model's,
    :mod:`mathocr.line_model`) gets its symbols' boxes and the lattice's score so.
    ``None`` when no path reads ``labels`` as a valid expression.

    Examples
    --------
    >>> cut = [Edge(0, 1, [("1", 0.9)], (0, 0, 6, 20)), Edge(1, 2, [("7", 0.9)], (8, 0, 10, 20))]
    >>> whole = Edge(0, 2, [("4", 0.4), ("1", 0.3)], (0, 0, 18, 20), log_weight=-0.7)
    >>> reading, rank = read_labels([*cut, whole], ["4"])
    >>> reading.labels, reading.path
    (('4',), (2,))
    >>> read_labels([*cut, whole], ["7"]) is None
    True
    """
    end = _checked(edges)
    target = [lab for lab in labels if lab]
    if not edges or not target:
        return None
    candidates = _candidates(
        [e.alternatives for e in edges], _priors(edges, line), thousands=thousands
    )
    arriving = _arriving(edges)
    start = _start(thousands)
    # (labels read, state) -> (rank, back-pointer) at each position
    best: dict[int, dict[tuple[int, int], tuple[float, _Path]]] = {0: {(0, start): (0.0, None)}}
    for pos in range(1, end + 1):
        new: dict[tuple[int, int], tuple[float, _Path]] = {}
        for k in arriving.get(pos, ()):
            source = best.get(edges[k].start)
            if source:
                _labels_step(source, k, candidates[k], edges[k].log_weight, target, new)
        if len(new) > POSTERIOR_STATES:
            kept = heapq.nlargest(POSTERIOR_STATES, new, key=lambda at: new[at][0])
            new = {at: new[at] for at in kept}
        if new:
            best[pos] = new
    final = [
        value
        for (j, state), value in best.get(end, {}).items()
        if j == len(target) and _accepting(state)
    ]
    if not final:
        return None
    rank, path = max(final, key=lambda v: v[0])
    chosen_labels, chosen = _unwind(path)
    logp = _classifier_logp(candidates, chosen_labels, chosen)
    return Reading(chosen_labels, logp, True, chosen), rank


#: Most automaton states :func:`posterior` carries from one position to the next.
POSTERIOR_STATES: Final[int] = 64


def _path_rank(
    edges: Sequence[Edge],
    candidates: Sequence[Sequence[tuple[str, float, float, _Table]]],
    path: Sequence[int],
    labels: Sequence[str],
    start: int,
) -> float | None:
    """The ranking score of reading ``path`` as ``labels`` from automaton state ``start``;
    None unless a valid expression."""
    # a label may lead to more than one state (a relation is a first one or extends a
    # chain; a "×" is the classifier's or a point's), so every state is followed
    best: dict[int, float] = {start: 0.0}
    at = 0
    for k, wanted in zip(path, labels, strict=True):
        if edges[k].start != at:
            return None
        step: dict[int, float] = {}
        for state, chosen in best.items():
            for lab, rank, _, table in candidates[k]:
                if lab == wanted and (nxt := table[state]) is not None:
                    score = chosen + rank + edges[k].log_weight
                    if score > step.get(nxt, -math.inf):
                        step[nxt] = score
        if not step:
            return None
        best = step
        at = edges[k].end
    return max((v for state, v in best.items() if _accepting(state)), default=None)


def _forward(
    edges: Sequence[Edge],
    candidates: Sequence[Sequence[tuple[str, float, float, _Table]]],
    end: int,
    *,
    with_invalid: bool,
    start: int,
) -> tuple[float | None, float | None]:
    """Log of the summed ranking weight of every valid path and reading (None if
    none survives pruning) and, ``with_invalid``, of every path and label sequence
    (dropping a mark as noise without the large-mark prior)."""
    arriving = _arriving(edges)
    # Forward sums in linear space per position, rescaled (``scale`` keeps the log of
    # the factor taken out), so no logarithm is taken per transition.
    sums: dict[int, tuple[float, dict[int, float]]] = {0: (0.0, {start: 1.0})}
    log_all: dict[int, float] = {0: 0.0}
    for pos in range(1, end + 1):
        incoming = []
        every = []
        for k in arriving.get(pos, ()):
            e = edges[k]
            if e.start not in sums:
                continue
            scale, source = sums[e.start]
            cands = candidates[k]
            top = max(c[1] for c in cands)
            weighted = [(math.exp(c[1] - top), c[3]) for c in cands]
            incoming.append((scale + top + e.log_weight, source, weighted))
            if with_invalid and e.start in log_all:
                first: dict[str, float] = {}
                for lab, c_rank, logp, _ in cands:
                    first.setdefault(lab, logp if lab == "" else c_rank)
                every.append(log_all[e.start] + e.log_weight + _logsumexp(first.values()))
        if every:
            log_all[pos] = _logsumexp(every)
        if incoming:
            arrived = _arrive(incoming)
            if arrived is not None:
                sums[pos] = arrived
    if end not in sums:
        return None, log_all.get(end) if with_invalid else None
    scale, last = sums[end]
    total = sum(value for at, value in last.items() if _accepting(at))
    log_valid = scale + math.log(total) if total > 0.0 else None
    return log_valid, log_all.get(end) if with_invalid else None


def _arrive(
    incoming: list[tuple[float, dict[int, float], list[tuple[float, _Table]]]],
) -> tuple[float, dict[int, float]] | None:
    """The forward sums at a position from its incoming edges' ``(log base, source
    sums, (weight, table) readings)``: the :data:`POSTERIOR_STATES` largest, rescaled
    to a peak of 1, with the log of the scale; None when no state is reached."""
    ref = max(base for base, _, _ in incoming)
    new: dict[int, float] = {}
    for base, source, weighted in incoming:
        factor = math.exp(base - ref)
        for at, total in source.items():
            mass = total * factor
            for weight, table in weighted:
                nxt = table[at]
                if nxt is not None:
                    new[nxt] = new.get(nxt, 0.0) + mass * weight
    return _rescaled(new, ref)


def _rescaled(new: dict[_K, float], ref: float) -> tuple[float, dict[_K, float]] | None:
    """The :data:`POSTERIOR_STATES` largest of forward sums ``new`` (taken out at
    ``exp(ref)``), rescaled to a peak of 1, with the log of their scale; None when none
    is positive."""
    if len(new) > POSTERIOR_STATES:
        kept = heapq.nlargest(POSTERIOR_STATES, new, key=new.__getitem__)
        new = {at: new[at] for at in kept}
    peak = max(new.values(), default=0.0)
    if peak <= 0.0:
        return None
    return ref + math.log(peak), {at: total / peak for at, total in new.items()}


def _read_on(
    j: int, state: int, label: str, table: _Table, target: Sequence[str]
) -> tuple[int, int] | None:
    """Where reading ``label`` leads from ``state`` with ``target[:j]`` read: dropping
    (``""``) stays, the next target label moves on, anything else fails (None)."""
    if label == "":
        return j, state
    if j < len(target) and label == target[j]:
        nxt = table[state]
        return None if nxt is None else (j + 1, nxt)
    return None


def _forward_labels(
    edges: Sequence[Edge],
    candidates: Sequence[Sequence[tuple[str, float, float, _Table]]],
    end: int,
    target: Sequence[str],
    start: int,
) -> float:
    """Log of the summed ranking weight of every path that reads ``target`` (the
    non-empty labels; any candidate may be dropped as ``""`` on the way), or -inf.

    As :func:`_forward`, over (position, labels read, automaton state), keeping the
    :data:`POSTERIOR_STATES` largest at each position."""
    arriving = _arriving(edges)
    sums: dict[int, tuple[float, dict[tuple[int, int], float]]] = {0: (0.0, {(0, start): 1.0})}
    for pos in range(1, end + 1):
        incoming = [k for k in arriving.get(pos, ()) if edges[k].start in sums]
        if not incoming:
            continue
        bases = [sums[edges[k].start][0] + edges[k].log_weight for k in incoming]
        ref = max(bases)
        new: dict[tuple[int, int], float] = {}
        for k, base in zip(incoming, bases, strict=True):
            factor = math.exp(base - ref)
            for (j, state), total in sums[edges[k].start][1].items():
                for label, rank, _, table in candidates[k]:
                    at = _read_on(j, state, label, table, target)
                    if at is not None:
                        new[at] = new.get(at, 0.0) + total * factor * math.exp(rank)
        arrived = _rescaled(new, ref)
        if arrived is not None:
            sums[pos] = arrived
    if end not in sums:
        return -math.inf
    scale, last = sums[end]
    total = sum(v for (j, state), v in last.items() if j == len(target) and _accepting(state))
    return scale + math.log(total) if total > 0.0 else -math.inf


def lattice_posterior(
    edges: Sequence[Edge],
    path: Sequence[int],
    labels: Sequence[str],
    *,
    line: LineGeometry | None = None,
    noise_odds: float = 0.0,
    thousands: bool = False,
) -> float:
    """The probability of reading ``path`` as ``labels`` among all valid paths and readings.

    Every path through the lattice and every label sequence along it that the
    grammar accepts is scored as :func:`read_lattice` ranks it; the forward
    algorithm sums them over (position, automaton state) (the
    :data:`POSTERIOR_STATES` likeliest states at each position), and the reading
    gets its share: the sum over every path that reads the same labels (another
    cut of the same touching pair gives the same answer). Where the grammar
    rules out a symbol's other classes (or a segmentation's other paths), the
    reading is sure although the symbol alone was not. 0.0 if ``labels`` is not
    a valid reading of ``path``, or ``path`` does not run from 0 to the end.

    ``thousands`` as for :func:`read_lattice`. With ``noise_odds`` (the prior odds
    that the ink is *not* an expression), the reading also competes with that
    hypothesis: every path and label sequence the
    grammar does not accept (symbols dropped as noise, letters, nonsense),
    weighted by ``noise_odds``; there, dropping a digit-sized mark as noise costs
    nothing (the prior against it belongs to ink that is an expression). When the
    ink looks like no valid expression (a scribble whose only valid reading is a
    digit at 1 %, letters read as digits), most of the mass lies outside the
    grammar and the confidence falls; a clearly written expression keeps nearly
    all of it.

    Examples
    --------
    >>> cut = [Edge(0, 1, [("1", 0.9)], (0, 0, 6, 20)), Edge(1, 2, [("7", 0.9)], (8, 0, 10, 20))]
    >>> whole = Edge(0, 2, [("4", 0.9)], (0, 0, 18, 20), log_weight=-0.7)
    >>> p = lattice_posterior([*cut, whole], (2,), ("4",))
    >>> round(p, 3)  # 0.9 x exp(-0.7) against 0.9 x 0.9: the cut is likelier
    0.356
    """
    return lattice_shares(
        edges, [(path, labels)], line=line, noise_odds=noise_odds, thousands=thousands
    )[0][0]


def lattice_shares(
    edges: Sequence[Edge],
    readings: Sequence[tuple[Sequence[int], Sequence[str]]],
    *,
    line: LineGeometry | None = None,
    noise_odds: float = 0.0,
    thousands: bool = False,
) -> tuple[list[float], float]:
    """:func:`lattice_posterior` of several ``(path, labels)`` readings, and the
    expression share, from one forward pass.

    The expression share is the mass of every valid reading against that of the
    ink being no expression (``noise_odds`` times the invalid label sequences): 1
    without ``noise_odds``, and the most that any one reading's share can be.

    Examples
    --------
    >>> cut = [Edge(0, 1, [("1", 0.9)], (0, 0, 6, 20)), Edge(1, 2, [("7", 0.9)], (8, 0, 10, 20))]
    >>> whole = Edge(0, 2, [("4", 0.9)], (0, 0, 18, 20), log_weight=-0.7)
    >>> shares, expression = lattice_shares([*cut, whole], [((2,), ("4",)), ((0, 1), ("1", "7"))])
    >>> [round(p, 3) for p in shares], expression
    ([0.356, 0.644], 1.0)
    """
    end = _checked(edges)
    if not edges:
        return [0.0] * len(readings), 0.0
    candidates = _candidates(
        [e.alternatives for e in edges], _priors(edges, line), thousands=thousands
    )
    start = _start(thousands)
    log_valid, log_all = _forward(
        edges, candidates, end, with_invalid=bool(noise_odds), start=start
    )
    if log_valid is None:  # only where pruning dropped every valid path
        return [0.0] * len(readings), 0.0
    outside = 0.0
    if noise_odds and log_all is not None:
        outside = noise_odds * max(math.exp(min(log_all - log_valid, 700.0)) - 1.0, 0.0)
    shares = []
    for path, labels in readings:
        ok = bool(labels) and len(path) == len(labels)
        ok = ok and all(0 <= k < len(edges) for k in path) and edges[path[-1]].end == end
        chosen = _path_rank(edges, candidates, path, labels, start) if ok else None
        if chosen is None:
            shares.append(0.0)
            continue
        # the same labels read along other paths (another cut of the same touching
        # pair, a point dropped or not) are the same answer: their weights count for it
        target = [lab for lab in labels if lab]
        chosen = max(chosen, _forward_labels(edges, candidates, end, target, start))
        shares.append(min(1.0, math.exp(chosen - log_valid) / (1.0 + outside)))
    return shares, 1.0 / (1.0 + outside)


def _logsumexp(values: Iterable[float]) -> float:
    values = list(values)
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def posterior(
    alternatives: Sequence[Sequence[tuple[str, float]]],
    boxes: Sequence[tuple[int, int, int, int]],
    labels: Sequence[str],
    *,
    noise_odds: float = 0.0,
    thousands: bool = False,
) -> float:
    """The probability of the reading ``labels`` among all valid readings of the alternatives.

    :func:`lattice_posterior` of the line as a chain of symbols, one edge each.

    Examples
    --------
    >>> alts = [[("3", 1.0)], [("+", 0.5), ("(", 0.5)], [("4", 1.0)]]
    >>> boxes = [(0, 0, 10, 20), (12, 5, 10, 10), (24, 0, 10, 20)]
    >>> posterior(alts, boxes, ("3", "+", "4"))  # "3(4" is no expression
    1.0
    """
    if not labels or not len(labels) == len(alternatives) == len(boxes):
        return 0.0
    edges = _chain(alternatives, boxes)
    return lattice_posterior(
        edges, range(len(edges)), labels, noise_odds=noise_odds, thousands=thousands
    )
