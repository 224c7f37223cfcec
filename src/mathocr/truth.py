"""The answer prior: a written equation is likelier to hold than not.

Someone who writes ``141 + 160 = 301`` mostly writes the right answer, and where a
symbol is ambiguous (``1`` or ``7``, ``3`` or ``9``) the equation itself says which
one was meant: the cross-check of a cheque reader, whose courtesy and legal amounts
must agree. A reading whose equation holds (:func:`mathocr.compute.equation_holds`,
rounded answers included) is :data:`TRUTH_ODDS` times as likely a priori as one
whose equation does not; readings without an equation (``12 + 7 × 3 =``, a bare
number, a comparison) are not weighed. The odds are moderate on purpose: a
clearly written wrong answer (``7 + 5 = 13``) stays wrong, only a symbol that the
classifier found nearly as likely one way as the other is read to make the sum
right.

The reader's Viterbi search ranks one symbol at a time and cannot see whether a
whole equation holds, so :func:`holding_neighbours` proposes the readings that
might: those one or two symbols away from a reading, each symbol taken from its
own classifier alternatives, that the grammar accepts and whose equation holds.
Only alternatives that the prior could make win are tried (at least
``1 / (TRUTH_ODDS * SLACK)`` as likely as the symbol read), at most
:data:`MAX_NEIGHBOURS` of them and :data:`MAX_HOLDING` kept, so the work stays
bounded.
:func:`mathocr.combine.combine` ranks them with the other hypotheses, and
:func:`weighted_share` turns a reading's share of the lattice into its share once
the prior is applied.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Final

from .compute import equation_holds
from .read import is_valid

__all__ = [
    "MAX_HOLDING",
    "MAX_NEIGHBOURS",
    "SLACK",
    "TRUTH_ODDS",
    "holding_neighbours",
    "log_prior",
    "weighted_share",
]

#: Prior odds of a reading whose equation holds against one whose equation does not.
TRUTH_ODDS: Final[float] = 10.0
#: How much less likely than the symbol read an alternative may be and still be tried,
#: beyond what the odds alone could outweigh (the geometric priors and the line model
#: move scores too).
SLACK: Final[float] = 4.0
#: Most candidate readings (one or two symbols changed) tried per reading.
MAX_NEIGHBOURS: Final[int] = 64
#: Most readings that hold returned per reading (each is then read along the lattice).
MAX_HOLDING: Final[int] = 8

#: A classifier class -> the label it is read as where it stands between operands.
_READ_AS: Final[dict[str, str]] = {"reject": "", "x": "×"}


def log_prior(labels: Sequence[str], *, odds: float = TRUTH_ODDS) -> float:
    """The answer prior's log-multiplier for a reading: ``log(odds)`` if its equation holds.

    Examples
    --------
    >>> round(log_prior(["2", "+", "2", "=", "4"], odds=10.0), 3)
    2.303
    >>> log_prior(["2", "+", "2", "=", "5"]), log_prior(["2", "+", "2", "="])
    (0.0, 0.0)
    """
    return math.log(odds) if odds > 1.0 and equation_holds(labels) else 0.0


def _options(
    labels: Sequence[str], alternatives: Sequence[Sequence[tuple[str, float]]], floor: float
) -> list[tuple[float, int, str]]:
    """(likelihood ratio to the symbol read, position, label) of every alternative worth
    trying, likeliest first."""
    out = []
    for i, (label, alts) in enumerate(zip(labels, alternatives, strict=True)):
        probs: dict[str, float] = {}
        for name, p in alts:
            name = _READ_AS.get(name, name)
            probs[name] = probs.get(name, 0.0) + max(float(p), 0.0)
        # a dot read as "×" was classified as a point: compare with the point
        own = probs.get(label, 0.0) or probs.get("." if label == "×" else label, 0.0)
        own = own or max(probs.values(), default=0.0)
        if own <= 0.0:
            continue
        for name, p in probs.items():
            if name != label and p >= own * floor:
                out.append((p / own, i, name))
    out.sort(key=lambda o: -o[0])
    return out


def holding_neighbours(
    labels: Sequence[str],
    alternatives: Sequence[Sequence[tuple[str, float]]],
    *,
    odds: float = TRUTH_ODDS,
    thousands: bool = False,
    limit: int = MAX_NEIGHBOURS,
) -> list[tuple[str, ...]]:
    """Readings one or two symbols from ``labels`` that are valid equations which hold.

    ``alternatives[i]`` are the classes and probabilities of the symbol read as
    ``labels[i]`` (an edge's, as :class:`mathocr.read.Edge` holds them). A symbol
    is changed only to an alternative at least ``1 / (odds * SLACK)`` as likely as
    its own label (two changed symbols: their ratios' product), at most ``limit``
    candidates are tried, likeliest first, at most :data:`MAX_HOLDING` are
    returned, and ``""`` (dropped) labels are left out of them. Empty when
    ``labels`` already hold, or when the odds are 1 or less.

    Examples
    --------
    >>> alts = [[("1", 0.9)], [("+", 0.9)], [("1", 0.9)], [("=", 0.9)],
    ...         [("3", 0.56), ("2", 0.31)]]
    >>> holding_neighbours(["1", "+", "1", "=", "3"], alts)
    [('1', '+', '1', '=', '2')]
    >>> holding_neighbours(["1", "+", "1", "=", "3"], alts, odds=1.0)
    []
    """
    if odds <= 1.0 or equation_holds(labels):
        return []
    floor = 1.0 / (odds * SLACK)
    options = _options(labels, alternatives, floor)
    if not any(label == "=" for label in labels) and not any(o[2] == "=" for o in options):
        return []  # no reading here can be an equation

    def tried() -> Iterable[tuple[float, tuple[tuple[int, str], ...]]]:
        singles: list[tuple[float, tuple[tuple[int, str], ...]]]
        singles = [(r, ((i, lab),)) for r, i, lab in options]
        pairs: list[tuple[float, tuple[tuple[int, str], ...]]] = [
            (ra * rb, ((ia, la), (ib, lb)))
            for (ra, ia, la), (rb, ib, lb) in itertools.combinations(options, 2)
            if ia != ib and ra * rb >= floor
        ]
        return sorted(singles + pairs, key=lambda c: -c[0])[:limit]

    found: dict[tuple[str, ...], None] = {}
    for _, changes in tried():
        new = list(labels)
        for i, lab in changes:
            new[i] = lab
        read = tuple(lab for lab in new if lab)
        if read in found or not read:
            continue
        if is_valid(read, thousands=thousands) and equation_holds(read):
            found[read] = None
            if len(found) == MAX_HOLDING:
                break
    return list(found)


def weighted_share(
    share: float,
    holds: bool,
    holding_shares: Iterable[float],
    *,
    expression: float = 1.0,
    odds: float = TRUTH_ODDS,
) -> float:
    """A reading's share of the lattice once the answer prior weighs every reading.

    ``share`` is the reading's own (:func:`mathocr.read.lattice_shares`, which also
    weighs "not an expression"), ``holds`` whether its equation holds,
    ``holding_shares`` the shares of every distinct reading known to hold (the
    reading's own among them if it holds) and ``expression`` the share of all
    valid readings. Among the readings, those that hold weigh ``odds`` times more;
    the prior says nothing about whether the ink is an expression at all, so the
    expression share stays: ink that looks like no expression (a squiggle read
    ``7 = 7``) stays unsure.

    Examples
    --------
    >>> round(weighted_share(0.3, True, [0.3], odds=10.0), 3)   # 3 / (1 + 2.7)
    0.811
    >>> round(weighted_share(0.6, False, [0.3], odds=10.0), 3)  # 0.6 / (1 + 2.7)
    0.162
    >>> round(weighted_share(0.1, True, [0.1], expression=0.2, odds=10.0), 3)  # never over 0.2
    0.182
    """
    if expression <= 0.0:
        return 0.0
    total = 1.0 + (odds - 1.0) * sum(holding_shares) / expression
    return min(1.0, share * (odds if holds else 1.0) / total)
