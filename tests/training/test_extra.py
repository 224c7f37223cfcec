"""Loaders for the extra handwriting sources (``training/extra.py``).

The label-table tests need no data; every other test reads ``../shared/data/extra`` and is
skipped, with the missing source named, when that source's files are absent. The counts
are the ones observed on the shared data and match the figures in each ``SOURCE.md`` (or
the UCI names files) less what the label policy leaves out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mathocr.symbols import CLASSES
from training import extra
from training.crohme import data_dir

INK = ("unipen", "pendigits", "mathwriting", "detypify")
BITMAP = ("mnist-train", "usps", "semeion", "optdigits")

#: Samples per split as loaded.
EXPECTED_SPLITS = {
    # 31,654 in the JSONL, less 4,779 skipped look-alikes (* ! ' : ; \ ^ _ ` { | } ~)
    # and 70 outsized points/commas
    "unipen": {"train": 21357, "test": 5448},
    "pendigits": {"train": 7494, "test": 3498},
    # 6,423 files, less 2,082 skipped look-alikes
    "mathwriting": {"train": 4341},
    # 1,357 lines, less 668 skipped look-alikes
    "detypify": {"train": 689},
    "mnist-train": {"train": 60000},
    "usps": {"train": 7291, "test": 2007},
    "semeion": {"train": 1593},
    "optdigits": {"train": 1934 + 946, "test": 1797},
}

#: Per-class counts of the digit sets, from SOURCE.md / the UCI and ESL info files.
DIGIT_COUNTS = {
    ("pendigits", "train"): (780, 779, 780, 719, 780, 720, 720, 778, 719, 719),
    ("pendigits", "test"): (363, 364, 364, 336, 364, 335, 336, 364, 336, 336),
    ("mnist-train", "train"): (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    ("usps", "train"): (1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644),
    ("usps", "test"): (359, 264, 198, 166, 200, 160, 170, 147, 166, 177),
    ("semeion", "train"): (161, 162, 159, 159, 161, 159, 161, 158, 155, 158),
    # tra + cv
    ("optdigits", "train"): (276, 295, 287, 284, 300, 295, 282, 297, 271, 293),
    ("optdigits", "test"): (178, 182, 177, 183, 181, 182, 181, 179, 174, 180),
}


def _load(name: str) -> list:
    if not extra.available()[name]:
        files = ", ".join(extra.FILES[name])
        pytest.skip(f"{name}: {files} not found in {data_dir() / 'extra'} (set MATHOCR_DATA)")
    return extra.SOURCES[name]()


@pytest.fixture(scope="module")
def unipen() -> list[extra.InkSample]:
    return _load("unipen")


@pytest.fixture(scope="module")
def pendigits() -> list[extra.InkSample]:
    return _load("pendigits")


@pytest.fixture(scope="module")
def mathwriting() -> list[extra.InkSample]:
    return _load("mathwriting")


@pytest.fixture(scope="module")
def detypify() -> list[extra.InkSample]:
    return _load("detypify")


def _by_label(samples: list, label: str) -> list[np.ndarray]:
    return [np.concatenate(s.strokes) for s in samples if s.label == label]


def _top_wider(points: np.ndarray) -> bool:
    """True when the top quarter of the points spans wider than the bottom quarter (y down)."""
    y = points[:, 1]
    lo, hi = y.min(), y.max()
    top = points[y <= lo + 0.25 * (hi - lo), 0]
    bottom = points[y >= hi - 0.25 * (hi - lo), 0]
    return bool(np.ptp(top) > np.ptp(bottom))


def _rises_left_to_right(points: np.ndarray) -> bool:
    """True when y falls as x grows (a ``/`` in y-down coordinates)."""
    return len(points) > 2 and np.ptp(points[:, 1]) > 0 and np.corrcoef(points.T)[0, 1] < 0


def _flat(points: np.ndarray) -> bool:
    return bool(np.ptp(points[:, 0]) > 2 * np.ptp(points[:, 1]))


# --- label tables (no data needed) ----------------------------------------------------


def test_there_are_27_classes_and_every_table_maps_into_them():
    assert set(CLASSES) == extra.CLASS_SET
    assert set(extra.LABEL_ALIASES.values()) <= extra.CLASS_SET
    assert set(extra.DETYPIFY_LABELS.values()) <= extra.CLASS_SET


@pytest.mark.parametrize(
    ("label", "cls"),
    [
        ("7", "7"), ("+", "+"), ("[", "["), ("<", "<"), (">", ">"),
        (",", "."), ("x", "×"), (r"\times", "×"), (r"\div", "÷"),
        (r"\le", "≤"), (r"\leq", "≤"), (r"\ge", "≥"), (r"\geq", "≥"),
        (r"\ne", "≠"), (r"\neq", "≠"), (r"\lt", "<"), (r"\gt", ">"),
        ("#", "reject"), ("$", "reject"), ("%", "reject"), ("&", "reject"),
        ("@", "reject"), ("?", "reject"), ('"', "reject"), ("a", "reject"),
        ("P", "reject"), (r"\alpha", "reject"), (r"\sum", "reject"), (r"\int", "reject"),
        (r"\sqrt", "reject"), (r"\#", "reject"), (r"\mathbb{R}", "reject"),
    ],
)  # fmt: skip
def test_labels_map_to_our_classes_or_reject(label, cls):
    assert extra.label_class(label) == cls


@pytest.mark.parametrize(
    "label",
    [*"oOlI|XtsSzZbgqBGcC{}'`~:;!^_\\*·", r"\cdot", r"\{", r"\}", r"\prime", r"\langle",
     r"\rangle", r"\frac", r"\ll", r"\mathbb{Z}", r"\mathbb{I}"],
)  # fmt: skip
def test_lookalikes_and_the_multiplication_dot_are_left_out(label):
    assert extra.label_class(label) is None


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("plus", "+"), ("minus", "-"), ("eq.not", "≠"), ("lt.eq", "≤"), ("gt.eq.slant", "≥"),
        ("lt", "<"), ("paren.l", "("), ("bracket.l", "["), ("slash.big", "/"),
        ("dot.basic", None), ("comma", None), ("lt.tri", None), ("gt.small", None),
        ("harpoon.tl", None), ("circle.filled.tiny", None), ("times.l", None),
        ("arrow.r", "reject"), ("alpha", "reject"), ("ast.circle", "reject"),
        ("percent", "reject"),
    ],
)  # fmt: skip
def test_detypify_names_map_to_our_classes(name, cls):
    assert extra.detypify_class(name) == cls


def test_available_names_every_source_in_order(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(extra.CORRECTIONS_ENV, raising=False)
    assert list(extra.available(tmp_path)) == list(extra.SOURCES)
    assert not any(extra.available(tmp_path).values())
    # corrections: this service's own export (tests/server/test_export_corrections.py)
    assert list(extra.SOURCES) == [*INK, *BITMAP, "corrections"]


# --- every source ----------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize("name", [*INK, *BITMAP])
def test_counts_labels_and_splits(name):
    samples = _load(name)
    splits = Counter(s.split for s in samples)
    assert dict(splits) == EXPECTED_SPLITS[name]
    assert {s.label for s in samples} <= extra.CLASS_SET
    assert {s.source for s in samples} == {name}
    for split in splits:
        if (name, split) in DIGIT_COUNTS:
            got = Counter(s.label for s in samples if s.split == split)
            assert tuple(got[str(d)] for d in range(10)) == DIGIT_COUNTS[name, split]
            assert sum(got.values()) == sum(DIGIT_COUNTS[name, split])  # digits only


@pytest.mark.data
@pytest.mark.parametrize("name", [*INK, *BITMAP])
def test_loading_again_is_cached_but_returns_a_new_list(name):
    first = _load(name)
    second = extra.SOURCES[name]()
    assert second is not first
    assert len(second) == len(first)
    assert all(a is b for a, b in zip(first, second, strict=True))


@pytest.mark.data
@pytest.mark.parametrize("name", INK)
def test_strokes_are_finite_read_only_point_arrays(name):
    for s in _load(name):
        assert isinstance(s, extra.InkSample)
        assert s.strokes
        assert isinstance(s.strokes, tuple)
        for st in s.strokes:
            assert st.dtype == np.float64
            assert st.ndim == 2
            assert st.shape[1] == 2
            assert len(st) >= 1
            assert np.isfinite(st).all()
            assert not st.flags.writeable


@pytest.mark.data
@pytest.mark.parametrize("name", ["unipen", "pendigits", "mathwriting"])
def test_y_points_down_a_seven_has_its_bar_on_top(name):
    sevens = _by_label(_load(name), "7")
    assert len(sevens) >= 30
    assert np.mean([_top_wider(p) for p in sevens]) > 0.95


@pytest.mark.data
@pytest.mark.parametrize("name", ["unipen", "mathwriting", "detypify"])
def test_a_slash_rises_to_the_right_and_a_minus_is_flat(name):
    samples = _load(name)
    slashes, minuses = _by_label(samples, "/"), _by_label(samples, "-")
    assert slashes
    assert minuses
    assert np.mean([_rises_left_to_right(p) for p in slashes]) > 0.95
    assert np.mean([_flat(p) for p in minuses]) > 0.95


@pytest.mark.data
def test_unipen_keeps_every_digit_and_symbol_class_and_its_points_are_small(unipen):
    counts = Counter(s.label for s in unipen)
    assert sum(counts[str(d)] for d in range(10)) == 15953  # every 1a digit
    assert {k: counts[k] for k in "+-/=()[]<>"} == {
        "+": 578, "-": 865, "/": 662, "=": 520, "(": 793, ")": 936,
        "[": 323, "]": 339, "<": 462, ">": 486,
    }  # fmt: skip
    assert counts["."] == 1268 + 690 - 70  # points and commas, less outsized ones
    assert counts["reject"] == 3000  # " # $ % & ? @
    assert {"×", "÷", "≤", "≥", "≠"}.isdisjoint(counts)


@pytest.mark.data
def test_unipen_holds_out_a_fifth_of_the_writers(unipen):
    train = {s.writer for s in unipen if s.split == "train"}
    test = {s.writer for s in unipen if s.split == "test"}
    assert train.isdisjoint(test)
    assert len(train | test) == 282
    assert all(w.startswith("unipen:") and "/" in w for w in train | test)
    assert len(test) / len(train | test) == pytest.approx(0.2, abs=0.02)  # 59 of 282
    assert all(extra.unipen_split(w) == "test" for w in test)


@pytest.mark.data
def test_unipen_aga_coordinates_are_made_isotropic(unipen):
    # aga's tablet has 33.7 x 38.6 points/mm: its y is scaled by 33.7/38.6
    aga = [s for s in unipen if s.writer.startswith("unipen:aga/")]
    assert aga
    ys = np.concatenate([np.concatenate(s.strokes)[:, 1] for s in aga])
    assert not np.allclose(ys, np.round(ys))  # rescaled, no longer integer tablet units
    assert ys.max() <= 0  # negated (tablet y >= 0 pointed up)


@pytest.mark.data
def test_pendigits_train_and_test_writers_are_different_people(pendigits):
    train = {s.writer for s in pendigits if s.split == "train"}
    test = {s.writer for s in pendigits if s.split == "test"}
    assert train == {f"pendigits:tra/{i}" for i in range(1, 31)}
    assert test == {f"pendigits:tes/{i}" for i in range(1, 15)}
    strokes = Counter(len(s.strokes) for s in pendigits)
    assert strokes[1] == 8308  # as SOURCE.md says
    assert strokes[2] == 2671


@pytest.mark.data
def test_mathwriting_has_every_target_class(mathwriting):
    counts = Counter(s.label for s in mathwriting)
    # × counts the letter x too, . the commas
    assert {k: counts[k] for k in "+-×÷/=().[]<>≤≥≠"} == {
        "+": 28, "-": 29, "×": 29 + 29, "÷": 30, "/": 26, "=": 30, "(": 36, ")": 36,
        ".": 21 + 27, "[": 39, "]": 36, "<": 30, ">": 38, "≤": 21, "≥": 29, "≠": 30,
    }  # fmt: skip
    assert all(29 <= counts[str(d)] <= 31 for d in range(10))
    assert {s.writer for s in mathwriting} == {""}


@pytest.mark.data
def test_detypify_has_the_few_relevant_symbols(detypify):
    counts = Counter(s.label for s in detypify)
    assert {k: counts[k] for k in "+-/()[<≤≥≠"} == {
        "+": 27, "-": 1 + 2 + 3, "/": 4, "(": 4, ")": 2, "[": 5, "<": 1,
        "≤": 5, "≥": 2, "≠": 23,
    }  # fmt: skip
    assert {s.writer for s in detypify} == {""}


@pytest.mark.data
@pytest.mark.parametrize("name", BITMAP)
def test_bitmaps_are_cropped_binary_ink_masks(name):
    samples = _load(name)
    fractions = []
    for s in samples:
        m = s.mask
        assert isinstance(s, extra.BitmapSample)
        assert s.writer == ""
        assert m.dtype == np.uint8
        assert m.ndim == 2
        assert not m.flags.writeable
        assert ((m == 0) | (m == 255)).all()
        assert m[0].any()  # no margin
        assert m[-1].any()
        assert m[:, 0].any()
        assert m[:, -1].any()
        fractions.append((m > 0).mean())
    fractions = np.array(fractions)
    assert 0.05 < fractions.mean() < 0.70
    # a "1" cropped to its ink box is nearly all ink; every other digit is 5-70 % ink
    other = np.array([f for f, s in zip(fractions, samples, strict=True) if s.label != "1"])
    assert np.mean((other > 0.05) & (other < 0.70)) > 0.99


@pytest.mark.data
@pytest.mark.parametrize("name", BITMAP)
def test_bitmaps_are_upright_a_seven_has_its_bar_on_top(name):
    sevens = [s.mask for s in _load(name) if s.label == "7"]
    tops = []
    for m in sevens:
        ys, xs = np.nonzero(m)
        tops.append(_top_wider(np.stack([xs, ys], axis=1).astype(float)))
    assert np.mean(tops) > 0.95
