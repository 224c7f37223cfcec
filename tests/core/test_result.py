"""Result.to_dict: the JSON the CLI prints and the server stores."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from mathocr.result import Alternative, Computation, Result, Status, Symbol

TEXT = st.text(max_size=8)
PROBABILITY = st.floats(0, 1)
ALTERNATIVES = st.lists(st.builds(Alternative, TEXT, PROBABILITY), max_size=4).map(tuple)
BOXES = st.tuples(*[st.integers(0, 5000)] * 4)
SYMBOLS = st.lists(st.builds(Symbol, TEXT, PROBABILITY, BOXES, ALTERNATIVES), max_size=6)
RESULTS = st.builds(
    Result,
    status=st.sampled_from(Status),
    expression=TEXT,
    latex=TEXT,
    result=st.none() | TEXT,
    result_decimal=st.none() | TEXT,
    verdict=st.none() | st.booleans(),
    confidence=PROBABILITY,
    symbols=SYMBOLS.map(tuple),
    computations=st.lists(st.builds(Computation, TEXT, TEXT), max_size=3).map(tuple),
    steps=st.lists(TEXT, max_size=3).map(tuple),
    error=st.none() | TEXT,
    message=TEXT,
    timings=st.dictionaries(TEXT, st.floats(0, 1e4), max_size=3),
)


@given(RESULTS)
def test_to_dict_holds_every_field_in_order_as_json(result):
    data = result.to_dict()
    assert list(data) == [f.name for f in dataclasses.fields(Result)]
    expected = dataclasses.asdict(result) | {"status": result.status.value}
    assert json.dumps(data) == json.dumps(expected)  # same keys, order and values
    assert data["status"] == result.status.value
    assert all(isinstance(s["box"], list) for s in data["symbols"])
