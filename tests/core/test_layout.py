"""Stage 3b: the line of writing is kept, stray marks and other lines are left out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mathocr.cleanup import binarize
from mathocr.layout import select_line
from mathocr.segment import Segment, Segmentation, segment
from tests.core.drawing import draw_text


def mark(x: int, y: int, w: int = 12, h: int = 24) -> Segment:
    """A symbol-sized mark drawn with a pen: its box's outline."""
    ink = np.ones((h, w), bool)
    ink[2:-2, 2:-2] = False
    return Segment((x, y, w, h), ink)


def line_of(n: int, *, x: int = 100, y: int = 200, step: int = 20) -> list[Segment]:
    return [mark(x + step * i, y) for i in range(n)]


def boxes(line) -> list[tuple[int, int, int, int]]:
    return [s.box for s in line.segmentation.segments]


def test_a_cropped_line_is_kept_whole():
    seg = Segmentation(tuple(line_of(6)), 24.0)
    line = select_line(seg)
    assert line.segmentation is seg
    assert line.dropped == 0
    assert line.others == 0


def test_flat_operators_points_and_brackets_on_the_line_are_kept():
    symbols = [
        mark(100, 200),  # digit
        Segment((120, 210, 14, 3), np.ones((3, 14), bool)),  # minus at mid height
        mark(140, 200),
        Segment((156, 220, 4, 4), np.ones((4, 4), bool)),  # decimal point, low
        mark(164, 200),
        Segment((184, 194, 8, 36), np.ones((36, 8), bool)),  # a tall bracket
    ]
    seg = Segmentation(tuple(symbols), 24.0)
    assert select_line(seg).segmentation is seg


@pytest.mark.parametrize(
    ("stray", "why"),
    [
        (mark(700, 5, 4, 4), "a speck far from the line"),
        (mark(100, 500), "a digit-sized mark far below the line"),
        (Segment((400, 150, 200, 180), np.ones((180, 200), bool)), "a dark region"),
        (mark(900, 200), "a mark far along the band"),
        (Segment((70, 210, 2, 2), np.ones((2, 2), bool)), "a speck 1.2 H before the line"),
    ],
)
def test_marks_away_from_the_line_are_left_out(stray, why):
    line = select_line(Segmentation((*line_of(5), stray), 24.0))
    assert boxes(line) == [s.box for s in line_of(5)], why
    assert line.dropped == 1


def _bars(x: int, y: int, *, touching: bool = False) -> Segment:
    """An ``=`` 10 wide and 8 high: two bars 2 rows thick, 4 rows apart."""
    ink = np.zeros((8, 10), bool)
    ink[0:2, :] = ink[6:8, :] = True
    if touching:
        ink[2:6, 9] = True
    return Segment((x, y, 10, 8), ink)


@pytest.mark.parametrize("touching", [False, True])
def test_an_equals_sign_left_well_apart_from_the_sum_is_kept(touching):
    # the line ends at x = 192; the "=" 2 H further on, where a speck would be dust
    equals = _bars(240, 208, touching=touching)
    seg = Segmentation((*line_of(5), equals), 24.0)
    assert select_line(seg).segmentation is seg


#: Two 3 x 2 flecks, one at the top left of an 8 x 10 box, one at its bottom right.
FLECKS = np.zeros((8, 10), bool)
FLECKS[:2, :3] = FLECKS[6:, 7:] = True


@pytest.mark.parametrize(
    ("ink", "why"),
    [
        (np.ones((8, 10), bool), "a blot"),
        (np.eye(10, dtype=bool)[:8], "a hair"),
        (FLECKS, "two flecks that are no bars"),
    ],
)  # fmt: skip
def test_other_small_marks_as_far_from_the_sum_are_specks(ink, why):
    speck = Segment((240, 208, 10, 8), ink)
    line = select_line(Segmentation((*line_of(5), speck), 24.0))
    assert boxes(line) == [s.box for s in line_of(5)], why


def test_a_point_too_small_for_an_operator_is_kept_beside_a_digit():
    point = Segment((114, 220, 2, 2), np.ones((2, 2), bool))  # 2 px after the first digit
    seg = Segmentation((*line_of(5), point), 24.0)
    assert select_line(seg).segmentation is seg


def test_a_second_line_is_counted_not_interleaved():
    first = line_of(6, y=200)
    second = line_of(4, x=110, y=300)
    line = select_line(Segmentation((*first, *second), 24.0))
    assert boxes(line) == [s.box for s in first]
    assert line.others == 1


def test_a_real_line_of_writing_is_unchanged_by_layout():
    page = draw_text("12+7×3=33".replace("×", "x"), height=120)
    b = binarize(page)
    seg = segment(b.ink, stroke_width=b.stroke_width, core=b.core)
    assert select_line(seg).segmentation is seg


def test_writing_in_a_frame_with_a_border_strip_and_specks_keeps_only_the_writing():
    page = np.full((600, 900), 235, np.uint8)
    text = draw_text("12+34", height=100, scale=1.6, thickness=4)
    page[250 : 250 + text.shape[0], 300 : 300 + text.shape[1]] = np.minimum(
        text, 235
    )  # the writing
    page[:, :25] = 40  # a dark strip along the edge (the table)
    rng = np.random.default_rng(0)
    for x, y in zip(rng.integers(50, 880, 12), rng.integers(20, 580, 12), strict=True):
        if not (240 < y < 360 and 280 < x < 300 + text.shape[1] + 20):
            cv2.circle(page, (int(x), int(y)), 3, 60, -1)  # specks on the paper
    b = binarize(page)
    seg = segment(b.ink, stroke_width=b.stroke_width, core=b.core)
    assert len(seg.segments) > 5  # the specks are marks of their own
    line = select_line(seg)
    xs = [x / b.scale for x, _, _, _ in boxes(line)]
    assert len(xs) == 5  # 1 2 + 3 4
    assert all(290 <= x <= 300 + text.shape[1] for x in xs)


def _ring(width: int, height: int, *, border: int = 3) -> Segment:
    """A mark that is the outline of its whole box: a frame round the picture."""
    ink = np.ones((height, width), bool)
    ink[border:-border, border:-border] = False
    return Segment((2, 2, width, height), ink)


@pytest.mark.parametrize("with_writing", [False, True])
def test_a_frame_round_the_whole_image_is_no_symbol(with_writing):
    # a black border round a page (hostile.py's black_frame) was read as a "2"
    gray = np.full((250, 1000), 255, np.uint8)
    marks = [_ring(996, 246), *(line_of(5) if with_writing else [])]
    line = select_line(Segmentation(tuple(marks), 24.0), gray=gray)
    expected = [m.box for m in line_of(5)] if with_writing else []
    assert boxes(line) == expected
    assert line.dropped == 1


def test_one_big_round_symbol_filling_the_image_is_kept():
    # a 0 drawn to fill a canvas touches the box's sides, not its corners
    ink = np.zeros((240, 240), np.uint8)
    cv2.ellipse(ink, (120, 120), (116, 116), 0, 0, 360, 1, 6)
    gray = np.full((244, 244), 255, np.uint8)
    seg = Segmentation((Segment((2, 2, 240, 240), ink.astype(bool)),), 240.0)
    assert boxes(select_line(seg, gray=gray)) == [(2, 2, 240, 240)]


def test_filled_marks_do_not_outvote_the_writing():
    keys = [Segment((400 + 30 * i, 20, 26, 26), np.ones((26, 26), bool)) for i in range(8)]
    writing = line_of(5)  # pen strokes: 24 px tall, 12 wide, outlines only
    line = select_line(Segmentation((*keys, *writing), 24.0))
    assert boxes(line) == [s.box for s in writing]


def test_small_writing_in_a_large_frame_is_found_and_read(shipped_model):
    from mathocr.recognizer import Recognizer

    frame = np.full((2000, 3000), 225, np.uint8)
    text = draw_text("12+34", height=90, scale=1.4, thickness=4)
    frame[1300 : 1300 + text.shape[0], 2000 : 2000 + text.shape[1]] = np.minimum(text, 225)
    frame[:, :60] = 50  # the table beyond the sheet
    for i in range(10):  # a keyboard in a corner: filled keys
        for j in range(3):
            frame[100 + 90 * j : 170 + 90 * j, 100 + 90 * i : 170 + 90 * i] = 70
    rec = Recognizer(shipped_model)
    analysis = rec.analyze_array(frame)
    assert analysis.result.expression == "12+34"
    x, y, _, _ = analysis.boxes[0]
    assert 1990 <= x <= 2060  # in the frame's own pixels
    assert 1290 <= y <= 1390


def _keyboard_page() -> np.ndarray:
    """A grey page in a light gradient (a shadow): a row of 12 dark keys on a lighter
    body near the top, and a line of four pen strokes on the paper below."""
    page = np.tile(np.linspace(215, 150, 900).astype(np.uint8), (500, 1))
    page[30:160, 40:860] = 150  # the keyboard's body
    for i in range(12):
        x = 60 + 66 * i
        page[50:130, x : x + 54] = 45  # a key, darker than the pen
    for i in range(4):
        cv2.line(page, (300 + 40 * i, 330), (300 + 40 * i, 370), 30, 4)  # "1111"
    return page


def _key_outline(x: int) -> Segment:
    """What flattening the light leaves of a key: its outline, the key inside."""
    outline = np.ones((80, 54), bool)
    outline[3:-3, 3:-3] = False
    return Segment((x, 50, 54, 80), outline)


def _strokes() -> list[Segment]:
    return [Segment((298 + 40 * i, 330, 5, 41), np.ones((41, 5), bool)) for i in range(4)]


def test_the_outline_of_a_dark_key_is_embedded_and_a_stroke_in_shadow_is_not():
    from mathocr.layout import _embedded

    marks = [_key_outline(126), *_strokes()]
    found = _embedded(
        np.array([m.box for m in marks]), lambda i: marks[i].mask, _keyboard_page(),
        np.ones(len(marks), bool),
    )  # fmt: skip
    assert found.tolist() == [True, False, False, False, False]


def test_a_keyboard_does_not_outvote_the_writing_in_the_grey_image():
    keys = [_key_outline(60 + 66 * i) for i in range(12)]
    seg = Segmentation((*keys, *_strokes()), 41.0)
    assert boxes(select_line(seg)) != [s.box for s in _strokes()]  # the keys hold more ink
    line = select_line(seg, gray=_keyboard_page())
    assert boxes(line) == [s.box for s in _strokes()]


def test_the_outline_of_a_dark_blot_is_not_a_symbol():
    from mathocr.layout import _embedded

    page = np.full((200, 300), 220, np.uint8)
    cv2.circle(page, (80, 100), 30, 110, -1)  # a smudge: flattening leaves its outline
    cv2.circle(page, (200, 100), 30, 40, 4)  # a pen's "0": paper inside
    ring = np.zeros((61, 61), bool)
    cv2.circle(ring.view(np.uint8), (30, 30), 29, 1, 3)
    outline = Segment((50, 70, 61, 61), ring)
    zero = Segment((170, 70, 61, 61), ring)
    marks = [outline, zero]
    found = _embedded(
        np.array([m.box for m in marks]), lambda i: marks[i].mask, page, np.ones(2, bool)
    )
    assert found.tolist() == [True, False]
    line = select_line(Segmentation((outline,), 61.0), gray=page)
    assert line.segmentation.segments == ()
    assert line.dropped == 1


def test_the_gap_between_dark_keys_on_a_darker_body_is_embedded():
    from mathocr.layout import _embedded

    page = np.full((400, 600), 215, np.uint8)  # the sheet
    page[0:230, 0:580] = 33  # a keyboard's body
    for i in range(8):
        page[60:160, 30 + 68 * i : 90 + 68 * i] = 45  # its keys, a little lighter
    cv2.line(page, (300, 300), (300, 350), 30, 4)  # a pen's "1" on the sheet
    gap = Segment((90, 60, 8, 100), np.ones((100, 8), bool))  # between two keys
    one = Segment((298, 299, 5, 52), np.ones((52, 5), bool))
    marks = [gap, one]
    found = _embedded(
        np.array([m.box for m in marks]), lambda i: marks[i].mask, page, np.ones(2, bool)
    )
    assert found.tolist() == [True, False]


def test_tall_key_outlines_do_not_set_the_size_of_the_writing_in_a_large_frame():
    from mathocr.layout import find_line_regions

    gray = np.full((1000, 1600), 210, np.uint8)
    ink = np.zeros(gray.shape, np.uint8)
    gray[40:260, 40:1500] = 40  # a dark keyboard; its keys' outlines are left as ink
    for i in range(14):
        x = 60 + 100 * i
        cv2.rectangle(ink, (x, 60), (x + 80, 240), 1, 3)
    for i in range(5):  # small writing on the sheet: five strokes 20 px tall
        cv2.line(ink, (700 + 18 * i, 700), (700 + 18 * i, 720), 1, 3)
        gray[700:721, 699 + 18 * i : 702 + 18 * i] = 40
    region = find_line_regions(ink, gray=gray)[0]

    x0, y0, x1, y1 = region
    assert x0 <= 700
    assert x1 >= 773
    assert 300 < y0 <= 700  # below the keyboard
    assert y1 >= 720


def test_printed_text_with_more_ink_does_not_hide_the_writing_in_a_large_frame(shipped_model):
    from mathocr.recognizer import Recognizer

    frame = np.full((2000, 3000), 225, np.uint8)
    text = draw_text("12+34", height=90, scale=1.4, thickness=4)
    frame[1300 : 1300 + text.shape[0], 1800 : 1800 + text.shape[1]] = np.minimum(text, 225)
    for row in range(3):  # a paragraph of print above it: more marks, more ink
        cv2.putText(
            frame, "Write the answer to each sum below in the box", (150, 300 + 110 * row),
            cv2.FONT_HERSHEY_DUPLEX, 2.2, 30, 5,
        )  # fmt: skip
    assert len(find_line_regions_of(frame)) > 1  # the print is a candidate line too
    analysis = Recognizer(shipped_model).analyze_array(frame)
    assert analysis.result.expression == "12+34"


def find_line_regions_of(frame: np.ndarray) -> list:
    from mathocr.cleanup import binarize
    from mathocr.layout import find_line_regions

    binarized = binarize(frame)
    return find_line_regions(binarized.ink, gray=binarized.gray)


def test_a_lone_tall_stroke_does_not_hide_small_writing_in_a_large_frame():
    from mathocr.layout import find_line_regions

    ink = np.zeros((1000, 1600), np.uint8)
    cv2.line(ink, (1200, 200), (1240, 800), 1, 4)  # the table's edge: more ink, alone
    for i in range(5):  # small writing: five strokes 14 px tall
        cv2.line(ink, (300 + 12 * i, 500), (300 + 12 * i, 514), 1, 2)
    regions = find_line_regions(ink)
    assert len(regions) == 1
    x0, y0, x1, y1 = regions[0]
    assert x0 <= 300 < 349 <= x1
    assert y0 <= 500 < 514 <= y1
    assert x1 < 1200  # the edge is left out


def test_wood_grain_across_the_writing_row_does_not_hide_the_writing():
    from mathocr.layout import find_line_regions

    ink = np.zeros((1800, 1300), np.uint8)
    for i in range(300):  # a wood table's grain: hundreds of tall thin stripes
        x = 700 + 2 * i
        cv2.line(ink, (x, 100 + (i % 7) * 9), (x, 1500 - (i % 5) * 11), 1, 1)
    for i in range(6):  # writing on the sheet beside it, in the grain's rows
        cv2.line(ink, (150 + 22 * i, 750), (150 + 22 * i, 766), 1, 2)
    regions = find_line_regions(ink)
    assert regions, "the grain made the frame look cropped to one line"
    x0, y0, x1, y1 = regions[0]
    assert x0 <= 150
    assert y0 <= 750
    assert x1 >= 262
    assert y1 >= 766
    assert x1 < 700  # the grain is left out


def test_two_digits_and_their_operators_are_a_line_in_a_large_frame():
    from mathocr.layout import find_line_regions

    ink = np.zeros((1000, 1600), np.uint8)
    cv2.rectangle(ink, (600, 500), (640, 540), 1, 3)  # "82" written touching: one mark
    cv2.line(ink, (660, 520), (690, 520), 1, 3)  # "-"
    cv2.line(ink, (710, 500), (710, 540), 1, 3)  # "4"
    cv2.line(ink, (730, 515), (755, 515), 1, 3)  # "="
    cv2.line(ink, (730, 527), (755, 527), 1, 3)
    regions = find_line_regions(ink)
    assert len(regions) == 1
    x0, y0, x1, y1 = regions[0]
    assert x0 <= 600
    assert y0 <= 500
    assert x1 >= 756
    assert y1 >= 541


def test_a_band_shared_with_a_keyboard_row_keeps_the_writing_for_the_next_vote():
    from mathocr.layout import find_line_regions

    ink = np.zeros((1000, 2000), np.uint8)
    for i in range(4):  # a row of key outlines far to the left, in the writing's band
        cv2.rectangle(ink, (40 + 70 * i, 480), (90 + 70 * i, 540), 1, 6)
    for i in range(4):  # the writing, thinner, further along the same band
        cv2.line(ink, (1200 + 30 * i, 485), (1200 + 30 * i, 535), 1, 3)
    regions = find_line_regions(ink)
    assert any(x0 <= 1200 and x1 >= 1292 for x0, _, x1, _ in regions)


def test_a_paragraph_of_print_is_offered_after_a_lone_line_of_writing():
    from mathocr.layout import LINE_CANDIDATES, find_line_regions

    ink = np.zeros((3000, 2400), np.uint8)
    for row in range(LINE_CANDIDATES + 1):  # stacked lines of bold print, much ink
        for k in range(30):
            x, y = 200 + 60 * k, 1800 + 70 * row
            cv2.rectangle(ink, (x, y), (x + 36, y + 40), 1, 8)
    for i in range(5):  # one line of thin writing, alone
        cv2.line(ink, (900 + 40 * i, 600), (900 + 40 * i, 640), 1, 3)
    regions = find_line_regions(ink)
    x0, y0, x1, y1 = regions[0]
    assert x0 <= 900
    assert x1 >= 1060
    assert y0 <= 600
    assert 640 <= y1 < 1800
