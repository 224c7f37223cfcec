"""Junk pairs: two neighbours drawn as one mark, taught as ``reject`` (training/sources.py).

The table is in units of the line's typical height (100 ink units): each case is two
boxes, their labels, and whether their union is junk. The last test reads the CROHME
training inks and is skipped without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from mathocr.symbols import CLASS_INDEX
from training import sources
from training.crohme import InkSymbol

TYPICAL = 100.0


def _symbol(label: str, x0: float, y0: float, x1: float, y1: float) -> InkSymbol:
    """A symbol whose one stroke spans the box (x0, y0)-(x1, y1), in typical heights."""
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32) * TYPICAL
    return InkSymbol(label, (pts,))


# (a's label and box, b's label and box, junk?)
CASES = [
    pytest.param(("1", 0, 0, 0.3, 1), ("2", 0.25, 0, 0.9, 1), True, id="overlapping-digits"),
    pytest.param(("4", 0, 0, 0.7, 1), ("4", 0.7, 0, 1.4, 1), True, id="touching-digits"),
    pytest.param(("2", 0, 0, 0.6, 1), ("x", 0.8, 0.3, 1.4, 1), True, id="small-gap"),
    pytest.param(("2", 0, 0, 0.6, 1), ("3", 1.0, 0, 1.6, 1), False, id="clear-gap"),
    pytest.param(("5", 0, 0, 0.6, 1), (".", 0.6, 0.9, 0.7, 1), False, id="point-beside"),
    pytest.param(("-", 0, 0.4, 0.6, 0.45), ("-", 0, 0.6, 0.6, 0.65), False, id="two-bars-are-="),
    pytest.param(("<", 0, 0.2, 0.6, 0.7), ("-", 0, 0.8, 0.6, 0.85), False, id="less-and-bar"),
    pytest.param(("=", 0, 0.3, 0.8, 0.7), ("/", 0.2, 0, 0.6, 1), False, id="equals-and-slash"),
    pytest.param(("1", 0, 0, 0.1, 1), ("-", -0.3, 0.5, 0.4, 0.5), False, id="one-inside-other"),
    pytest.param(("a", 0, 0.5, 0.5, 1), ("2", 0.5, -1.0, 0.9, -0.5), False, id="exponent"),
    pytest.param(("2", 0, 0, 1.3, 1), ("3", 1.3, 0, 2.7, 1), False, id="too-wide"),
    pytest.param(("(", 0, -0.4, 0.3, 1.4), ("1", 0.3, 0, 0.5, 1), False, id="too-tall"),
    pytest.param(("1", 0, 0, 0.05, 0.3), ("2", 0.05, 0, 0.6, 1), False, id="speck-beside"),
]


@pytest.mark.parametrize(("a", "b", "junk"), CASES)
def test_a_pair_is_junk_only_when_the_lattice_could_offer_it_as_no_symbol(a, b, junk):
    assert sources._junk_pair(_symbol(*a), _symbol(*b), TYPICAL) is junk


def test_junk_pairs_are_rejects_of_the_training_writers_only(shared_data):
    items = sources.junk_pairs(dev=False)
    held_out = sources.junk_pairs(dev=True)
    assert len(items) > 5000
    assert len(held_out) > 100
    assert {it.label for it in items} == {CLASS_INDEX["reject"]}
    assert {it.source for it in items} == {"pairs"}
    # strokes moved to the origin, two symbols' worth of them
    assert all(np.concatenate(it.strokes).min() == 0 for it in items[:200])
    assert all(len(it.strokes) >= 2 for it in items[:200])
