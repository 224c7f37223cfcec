"""The development benchmark's oracle row: the truth's own symbols, classified and read."""

from __future__ import annotations

import numpy as np
import pytest

from mathocr.symbols import CLASS_INDEX, CLASSES


class _Classifier:
    """A perfect classifier for one expression: each input is matched to the symbol
    whose own drawing it is (nearest of their normalized inputs), and answered one-hot.
    ``mistake`` maps a symbol (left to right) to the label to answer instead."""

    def __init__(self, expr, mistake: dict[int, str] | None = None) -> None:
        from benchmarks.expressions import truth_symbols

        symbols, _, inputs = truth_symbols(expr)
        self.inputs = inputs[:, 0]
        self.labels = [s.label for s in symbols]
        for i, label in (mistake or {}).items():
            self.labels[i] = label

    def predict(self, batch: np.ndarray) -> np.ndarray:
        distance = ((batch[:, None, 0] - self.inputs[None]) ** 2).sum(axis=(2, 3))
        which = distance.argmin(axis=1)
        probs = np.zeros((len(batch), len(CLASSES)), np.float32)
        probs[np.arange(len(batch)), [CLASS_INDEX[self.labels[i]] for i in which]] = 1.0
        return probs

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        return probs


class _Recognizer:
    beam_width = 16

    def __init__(self, expr, mistake: dict[int, str] | None = None) -> None:
        self.classifier = _Classifier(expr, mistake)


@pytest.fixture(scope="module")
def benchmark(shared_data):
    from benchmarks import expressions

    return expressions


@pytest.fixture(scope="module")
def dev(benchmark):
    # written out of order (a bracket or an "=" added last): the oracle must sort
    return [e for e in benchmark.dev_expressions()[130:175] if _out_of_order(e)]


def _out_of_order(expr) -> bool:
    from training import crohme

    _, boxes = crohme.render(expr.symbols)
    centres = [x + w / 2 for x, _, w, _ in boxes]  # not left_to_right: that is under test
    return centres != sorted(centres)


def test_oracle_with_a_perfect_classifier_reads_every_expression_exactly(benchmark, dev):
    assert len(dev) >= 20
    for i, expr in enumerate(dev):
        case = benchmark.evaluate_oracle(_Recognizer(expr), expr, i)
        assert (case.stage, case.expression) == ("ok", expr.ascii), case.reason
        assert case.confidence == pytest.approx(1.0)


def test_oracle_blames_classification_for_a_symbol_read_as_another(benchmark, dev):
    expr = next(e for e in dev if e.ascii[0] in "123456789")
    wrong = "1" if expr.ascii[0] != "1" else "2"
    case = benchmark.evaluate_oracle(_Recognizer(expr, {0: wrong}), expr, 0)
    assert case.stage == "classification"
    assert case.reason.startswith(f"symbol 0 truth {expr.ascii[0]!r}")
    assert case.expression == wrong + expr.ascii[1:]


def test_oracle_rows_are_summarized_apart_from_the_looks(benchmark, dev):
    expr = dev[0]
    summary = benchmark.summarize([benchmark.evaluate_oracle(_Recognizer(expr), expr, 0)])
    assert list(summary) == ["oracle"]
    assert summary["oracle"]["expression_exact"] == 1.0
