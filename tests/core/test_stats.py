"""Order statistics: numpy's values, bit for bit."""

from __future__ import annotations

import numpy as np

from mathocr.stats import median, percentile


def test_percentile_is_numpys_bit_for_bit():
    rng = np.random.default_rng(3)
    for n in (1, 2, 11, 16, 101, 4000):
        for dtype in (np.float32, np.float64):
            for values in (rng.random(n), rng.integers(0, 4, n), rng.standard_normal(n) ** 3):
                values = values.astype(dtype)
                before = values.copy()
                for q in (0, 10, 33.3, 50, 90, 99.9, 100):
                    assert percentile(values, q) == float(np.percentile(values, q)), (n, q)
                assert np.array_equal(values, before)


def test_median_is_numpys_bit_for_bit():
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 10, 101, 4000):
        for dtype in (np.float32, np.float64):
            for values in (rng.random(n), rng.integers(0, 4, n), rng.standard_normal(n) ** 3):
                values = values.astype(dtype).reshape(1, n)
                before = values.copy()
                assert median(values) == float(np.median(values)), (n, dtype)
                assert np.array_equal(values, before)


def test_median_of_integers_is_numpys_without_overflow():
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 4000):
        for dtype in (np.uint8, np.uint16, np.int32):
            values = rng.integers(100, 256, n).astype(dtype)  # middle pair sums past 255
            assert median(values) == float(np.median(values)), (n, dtype)
