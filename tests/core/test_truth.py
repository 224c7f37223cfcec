"""Tests of the answer prior (mathocr.truth) and of the equation check it uses."""

from __future__ import annotations

import math

import pytest

from mathocr.combine import combine
from mathocr.compute import equation_holds
from mathocr.read import Edge, lattice_posterior, read_lattice
from mathocr.truth import MAX_HOLDING, MAX_NEIGHBOURS, holding_neighbours, log_prior, weighted_share


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("3+4=7", True),
        ("3+4=8", False),
        ("2×(3+4)=14", True),
        ("7÷2=3.5", True),
        ("92/70=1.31", True),  # the writer rounded
        ("92/70=1.32", False),
        ("1+1=2=2", True),  # a chain: every side equal
        ("1+1=2=3", False),
        ("3+4=", None),  # an answer to fill in
        ("3+4", None),
        ("3<4", None),  # a comparison is not weighed
        ("1=2<3", None),
        ("=7", None),
        ("3++4=7", None),  # malformed
        ("1÷0=1", None),  # division by zero
    ],
)
def test_equation_holds(text, want):
    assert equation_holds(list(text)) is want


def test_equation_holds_skips_dropped_symbols_and_refuses_unknown_ones():
    assert equation_holds(["1", "", "+", "1", "reject", "=", "2"]) is True
    assert equation_holds(["1", "+", "a", "=", "2"]) is None


def test_equation_holds_is_bounded_by_the_value_guard():
    huge = ["9"] * 30 + ["×"] + ["9"] * 30 + ["×"] + ["9"] * 30 + ["=", "1"]
    assert equation_holds(huge) is None  # "too_large", never computed unbounded


def test_log_prior_lifts_only_equations_that_hold():
    assert log_prior(list("2+2=4"), odds=10.0) == pytest.approx(math.log(10.0))
    assert log_prior(list("2+2=5"), odds=10.0) == 0.0
    assert log_prior(list("2+2=4"), odds=1.0) == 0.0


def _alts(text: str, sure: float = 0.9, **unsure: list[tuple[str, float]]):
    """Alternatives per character of ``text``; ``unsure`` maps a position ("p3") to its own."""
    return [unsure.get(f"p{i}", [(c, sure)]) for i, c in enumerate(text)]


def test_neighbours_change_an_unsure_symbol_to_make_the_equation_hold():
    alts = _alts("141+160=307", p10=[("7", 0.6), ("1", 0.35)])
    assert holding_neighbours(list("141+160=307"), alts) == [tuple("141+160=301")]


def test_neighbours_leave_a_clearly_written_wrong_answer_alone():
    # the 2 that would make it hold is 100 times less likely than the 3 written
    alts = _alts("7+5=13", p5=[("3", 0.99), ("2", 0.0099)])
    assert holding_neighbours(list("7+5=13"), alts, odds=10.0) == []


def test_neighbours_may_change_two_symbols():
    alts = _alts("1+2=8", p0=[("1", 0.6), ("7", 0.4)], p4=[("8", 0.5), ("9", 0.45)])
    assert tuple("7+2=9") in holding_neighbours(list("1+2=8"), alts)


def test_neighbours_drop_a_symbol_whose_alternative_is_noise():
    alts = _alts("2+2=45", p5=[("5", 0.5), ("reject", 0.4)])
    assert holding_neighbours(list("2+2=45"), alts) == [tuple("2+2=4")]


def test_no_neighbours_when_the_reading_holds_or_has_no_equation():
    assert holding_neighbours(list("2+2=4"), _alts("2+2=4", p4=[("4", 0.5), ("5", 0.4)])) == []
    alts = _alts("2+27", p2=[("2", 0.5), ("3", 0.4)])
    assert holding_neighbours(list("2+27"), alts) == []


def test_neighbours_tried_are_bounded_likeliest_first():
    # five likelier changes of the first 1 (none makes 1+1=3 hold), then the 2
    alts = _alts(
        "1+1=3", p0=[("1", 0.5), *((d, 0.45) for d in "45678")], p4=[("3", 0.5), ("2", 0.1)]
    )
    assert holding_neighbours(list("1+1=3"), alts, limit=5) == []
    assert holding_neighbours(list("1+1=3"), alts, limit=6) == [tuple("1+1=2")]
    assert MAX_NEIGHBOURS >= 6


@pytest.mark.parametrize(
    ("share", "holds", "holding", "want"),
    [
        (0.3, True, [0.3], 3.0 / 3.7),
        (0.6, False, [0.3], 0.6 / 3.7),
        (0.5, False, [], 0.5),  # nothing holds: the share is unchanged
        (0.9, True, [0.9], 9.0 / 9.1),
    ],
)
def test_weighted_share(share, holds, holding, want):
    got = weighted_share(share, holds, holding, odds=10.0)
    assert got == pytest.approx(want, abs=1e-9)


def _sum_edges(last: list[tuple[str, float]]) -> list[Edge]:
    """``1+1=`` and a last symbol, left to right."""
    return [
        Edge(0, 1, [("1", 0.9)], (0, 0, 8, 20)),
        Edge(1, 2, [("+", 0.9)], (12, 5, 10, 10)),
        Edge(2, 3, [("1", 0.9)], (26, 0, 8, 20)),
        Edge(3, 4, [("=", 0.9)], (38, 5, 10, 10)),
        Edge(4, 5, last, (52, 0, 10, 20)),
    ]


def test_combination_reads_the_answer_that_makes_the_equation_hold():
    edges = _sum_edges([("3", 0.55), ("2", 0.4)])
    lattice = read_lattice(edges)
    assert lattice.labels[-1] == "3"
    ranked = combine(edges, lattice, None, ())
    assert ranked.reading.labels == tuple("1+1=2")
    assert [r.labels for r in ranked.holding] == [tuple("1+1=2")]
    off = combine(edges, lattice, None, (), truth_odds=1.0)
    assert off.reading == lattice
    assert off.holding == ()


def test_combination_keeps_a_clear_wrong_answer():
    edges = _sum_edges([("3", 0.97), ("2", 0.02)])
    ranked = combine(edges, read_lattice(edges), None, ())
    assert ranked.reading.labels == tuple("1+1=3")


def test_the_answer_prior_raises_the_confidence_of_an_equation_that_holds():
    edges = _sum_edges([("2", 0.55), ("3", 0.4)])
    lattice = read_lattice(edges)
    ranked = combine(edges, lattice, None, ())
    assert ranked.reading.labels == tuple("1+1=2")
    assert ranked.holding
    share = lattice_posterior(edges, lattice.path, lattice.labels)
    assert weighted_share(share, True, [share]) > share


def test_at_most_max_holding_neighbours_are_returned():
    # 0×...×0=5: the answer 0 holds, and so does each 0 read 7 beside it
    text = "×".join("0" * 12) + "=5"
    alts = [[("0", 0.5), ("7", 0.4)] if c == "0" else [(c, 0.9)] for c in text]
    alts[-1] = [("5", 0.5), ("0", 0.49)]
    found = holding_neighbours(list(text), alts)
    assert len(found) == MAX_HOLDING
    assert found[0] == tuple("×".join("0" * 12) + "=0")  # the likeliest first
    assert all(equation_holds(list(f)) for f in found)
