"""Stage 2: from a photo to a clean ink mask."""

from __future__ import annotations

import cv2
import numpy as np

from mathocr.cleanup import (
    binarize,
    flatten_illumination,
    remove_rulings,
    stroke_width,
    threshold_ink,
    to_gray,
    working_scale,
)
from tests.core.drawing import blank, draw_text


def test_blue_ink_stays_darker_than_light_blue_rulings():
    page = np.full((1, 3, 3), 245, np.uint8)
    page[0, 0] = (30, 45, 160)  # blue ballpoint
    page[0, 1] = (95, 95, 100)  # pencil
    page[0, 2] = (175, 195, 230)  # printed ruling
    gray = to_gray(page)[0]
    assert gray[0] < 128
    assert gray[1] < 128
    assert gray[2] > gray[0] + 80
    assert gray[2] > gray[1] + 80


def test_flatten_illumination_removes_a_lighting_gradient():
    ramp = np.linspace(250, 110, 300, dtype=np.float32)[None, :].repeat(100, axis=0)
    page = ramp.astype(np.uint8)
    darkness = flatten_illumination(page)
    assert float(np.abs(darkness).max()) < 0.06  # paper is paper, bright or dim


def test_strokes_in_light_and_in_shadow_are_both_found():
    page = np.full((100, 300), 230, np.uint8)
    page[:, 150:] = 110  # shadow over the right half
    cv2.line(page, (40, 20), (40, 80), 40, 4)
    cv2.line(page, (220, 20), (220, 80), 25, 4)
    ink = binarize(page).ink
    assert ink[50, 40] == 1
    assert ink[50, 220] == 1
    columns = np.flatnonzero(ink.any(axis=0))
    assert set(columns) <= set(range(36, 45)) | set(range(216, 225))  # no shadow edge


def test_blank_paper_with_noise_has_no_ink():
    rng = np.random.default_rng(0)
    page = np.clip(rng.normal(220, 4, (120, 400)), 0, 255).astype(np.uint8)
    assert np.count_nonzero(binarize(page).ink) == 0


def test_threshold_keeps_a_faint_tail_attached_to_a_strong_stroke():
    darkness = np.zeros((40, 80), np.float32)
    darkness[10:30, 10:13] = 0.8  # a dark stroke
    darkness[28:31, 13:40] = 0.35  # its faint, blurred tail
    darkness[5:8, 60:75] = 0.35  # equally faint but alone: a smudge
    ink = threshold_ink(darkness)
    assert ink[29, 30] == 1
    assert ink[6, 65] == 0


def test_core_is_the_dark_ink_without_the_faint_halo_that_joins_a_point_to_a_digit():
    page = np.full((80, 120), 235, np.uint8)
    cv2.line(page, (40, 10), (40, 70), 30, 4)  # a dark 1
    cv2.circle(page, (54, 64), 4, 30, -1)  # a dark point low beside it
    page[60:68, 42:50] = 150  # grey blur between them
    out = binarize(page)
    assert out.ink[64, 46] == 1  # the halo is ink,
    assert out.core[64, 46] == 0  # not core
    assert out.core[40, 40] == 1
    assert out.core[64, 54] == 1
    assert not (out.core & ~out.ink).any()
    assert binarize(np.full((20, 20), 235, np.uint8)).core.sum() == 0


def test_rulings_are_removed_but_crossing_strokes_stay_whole():
    page = draw_text("7+1", height=140)
    h, w = page.shape
    for y in range(15, h, 28):  # ruled paper, slightly tilted
        cv2.line(page, (0, y), (w - 1, y + 4), 120, 2)
    out = binarize(page)
    ink = out.ink
    # No row of the cleaned mask is inked across most of the page.
    assert (ink.sum(axis=1) < 0.5 * w).all()
    # The strokes survive: the text's own ink is still there.
    text_only = binarize(draw_text("7+1", height=140)).ink
    kept = np.count_nonzero(ink & text_only) / np.count_nonzero(text_only)
    assert kept > 0.9


def test_squared_paper_lines_are_removed():
    page = draw_text("2=2", height=150)
    h, w = page.shape
    for x in range(7, w, 25):
        cv2.line(page, (x, 0), (x + 3, h - 1), 150, 1)
    for y in range(9, h, 25):
        cv2.line(page, (0, y), (w - 1, y - 3), 150, 1)
    ink = binarize(page).ink
    assert (ink.sum(axis=1) < 0.5 * w).all()
    assert (ink.sum(axis=0) < 0.8 * h).all()


def test_remove_rulings_leaves_a_tall_one_alone():
    ink = np.zeros((100, 300), np.uint8)
    ink[10:80, 100:104] = 1  # a tall "1", 70 % of the height
    assert np.array_equal(remove_rulings(ink), ink)


def test_large_photos_are_processed_at_working_resolution():
    page = blank(3000, 4000)
    cv2.line(page, (1000, 1000), (1000, 2000), 0, 30)
    out = binarize(page, max_pixels=500_000)
    assert out.ink.shape[0] * out.ink.shape[1] <= 500_000 * 1.01
    assert out.scale == working_scale(page.shape, max_pixels=500_000) < 1
    xs = np.nonzero(out.ink)[1]
    assert abs(xs.mean() / out.scale - 1000) < 10


def test_stroke_width_estimates_the_pen():
    ink = np.zeros((100, 100), np.uint8)
    ink[10:90, 40:46] = 1
    assert 4.5 <= stroke_width(ink) <= 7
    assert stroke_width(np.zeros((5, 5), np.uint8)) == 0.0


def test_edge_of_the_sheet_in_a_loose_crop_is_not_writing():
    from mathocr.segment import segment

    page = draw_text("4+5", height=140)
    page = cv2.copyMakeBorder(page, 40, 0, 50, 0, cv2.BORDER_CONSTANT, value=40)  # the table
    out = binarize(page)
    seg = segment(out.ink, stroke_width=out.stroke_width)
    assert len(seg.segments) == 3
    assert all(x > 50 and y > 40 for x, y, _, _ in seg.boxes)


def test_weak_marks_are_kept_only_beside_strong_ink_among_hundreds_of_marks():
    for count in (100, 400):  # with fewer than 256 components and with more
        darkness = np.zeros((60, 4 * count), np.float32)
        darkness[10:50, :] = 0.02  # paper texture: sets the paper level, not ink
        darkness[0:8, :400] = 0.9  # a bold bar sets the ink's own darkness
        for i in range(count):
            x = 4 * i
            darkness[20:23, x : x + 2] = 0.3  # a weak mark ...
            if i % 2 == 0:
                darkness[21, x] = 0.9  # ... with strong ink in every other one
        ink = threshold_ink(darkness, rulings=False)
        assert ink.dtype == np.uint8
        kept = [bool(ink[21, 4 * i + 1]) for i in range(count)]
        assert kept == [i % 2 == 0 for i in range(count)], count
        assert int(ink.sum()) == 8 * 400 + 6 * (count // 2)


def test_ink_spanning_too_few_columns_holds_no_ruling():
    from mathocr.cleanup import _rulings_1d

    rng = np.random.default_rng(8)
    found = 0
    for _ in range(40):
        ink = np.zeros((120, 400), np.uint8)
        right = int(rng.integers(150, 401))
        for _ in range(4):  # lines from the left edge, and a stroke
            y = int(rng.integers(5, 115))
            cv2.line(ink, (0, y), (right - 1, y + int(rng.integers(-3, 4))), 1, 2)
        cv2.line(ink, (60, 10), (70, 110), 1, 3)
        lines = _rulings_1d(ink, span=0.6, max_thickness=6)
        if np.count_nonzero(ink.any(axis=0)) < 0.6 * 400:
            assert not lines.any()
            assert np.array_equal(remove_rulings(ink), ink)
        found += bool(lines.any())
    assert found > 5
