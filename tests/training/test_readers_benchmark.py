"""The readers benchmark: each reader scored on the same images, and RapidOCR's text mapped."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def readers():
    from benchmarks import readers

    return readers


def _row(readers, truth, lattice, line, combined, confidence, look="clean", rapid=None):
    return readers.Row("dev", look, truth, lattice, line, combined, confidence, 0.01, 0.005,
                       rapidocr=rapid)  # fmt: skip


def test_each_reader_is_scored_on_the_same_rows(readers):
    rows = [
        _row(readers, "1+2", "1+2", "7+2", "1+2", 0.9, rapid="1+2"),
        _row(readers, "3*4", "3+4", "3*4", "3*4", 0.6, rapid="3x4"),
        _row(readers, "5", "6", "6", "6", 0.2, rapid="5"),
        _row(readers, "8", "8", "8", "8", 1.0, look="photo"),
    ]
    summary = readers.summarize(rows)
    clean = summary["dev/clean"]
    assert clean["n"] == 3
    assert clean["lattice"] == pytest.approx(1 / 3)
    assert clean["line"] == pytest.approx(1 / 3)
    assert clean["combined"] == pytest.approx(2 / 3)
    assert clean["rapidocr"] == pytest.approx(2 / 3)
    assert clean["median_ms_lattice_only"] == pytest.approx(5.0)
    # a look without RapidOCR's readings gets no RapidOCR figure
    assert "rapidocr" not in summary["dev/photo"]
    assert summary["dev/photo"]["ece"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("text", "ours"),
    [("12 + 7 × 3 =", "12+7*3="), ("8÷2", "8/2"), ("4x5", "4*5"), ("1,5", "1.5"),
     ("l0 – 3", "10-3"), ("O.5", "0.5")],
)  # fmt: skip
def test_rapidocr_text_is_mapped_onto_our_symbols(text, ours):
    from benchmarks.rapidocr_read import normalized

    assert normalized(text) == ours


def test_the_confidence_fit_recovers_a_known_logistic():
    import numpy as np

    from benchmarks.tune_combination import fit_logistic

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(0, 2, 4000), rng.normal(-3, 2, 4000), np.ones(4000)])
    true = np.array([0.8, 0.5, 1.0])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ true)))).astype(float)
    assert np.allclose(fit_logistic(x, y), true, atol=0.15)
