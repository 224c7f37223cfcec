"""Brute-force helpers shared by the reader's tests."""

from __future__ import annotations

from collections.abc import Sequence

from mathocr.read import _INITIAL, _accepting


def accepted(pick: Sequence[tuple]) -> bool:
    """Whether a sequence of reader candidates (``_candidates`` rows: label, rank,
    log-probability, transition table) takes the automaton to an accepting state."""
    state: int | None = _INITIAL
    for _, _, _, table in pick:
        state = table[state]
        if state is None:
            return False
    return _accepting(state)
