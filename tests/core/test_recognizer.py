"""The whole pipeline, with a tiny test model (structure) and the shipped one (accuracy)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

import mathocr
from mathocr.errors import InvalidImage
from mathocr.recognizer import Recognizer
from mathocr.result import Status
from mathocr.symbols import CLASSES
from tests.core.drawing import blank, draw_text, encode

STAGES = {"decode", "cleanup", "segment", "normalize", "classify", "read", "compute", "total"}


@pytest.fixture(scope="module")
def tiny(tiny_model):
    return Recognizer(tiny_model)


def test_blank_page_is_unreadable_not_an_error(tiny):
    result = tiny(encode(blank()))
    assert result.status is Status.UNREADABLE
    assert result.symbols == ()
    assert result.confidence == 0.0
    assert result.message


def test_every_symbol_gets_a_box_alternatives_and_a_probability(tiny):
    image = draw_text("1+2=3", height=120)
    result = tiny(encode(image))
    assert result.status in (Status.SOLVED, Status.RECOGNIZED, Status.UNREADABLE)
    analysis = tiny.analyze_array(image)
    assert len(analysis.boxes) == 5
    assert analysis.probs.shape == (5, len(CLASSES))
    for sym in result.symbols:
        x, y, w, h = sym.box
        assert x >= 0
        assert y >= 0
        assert x + w <= image.shape[1]
        assert y + h <= image.shape[0]
        assert 0.0 <= sym.confidence <= 1.0
        assert all(alt.symbol != sym.symbol for alt in sym.alternatives)
    assert 0.0 <= result.confidence <= 1.0


def test_timings_cover_every_stage(tiny):
    result = tiny(encode(draw_text("7-4")))
    assert set(result.timings) >= STAGES
    assert all(v >= 0 for v in result.timings.values())
    assert result.timings["total"] >= result.timings["classify"]


def test_result_is_json_ready(tiny):
    data = tiny(encode(draw_text("8/2"))).to_dict()
    assert json.loads(json.dumps(data))["status"] == data["status"]


def test_boxes_are_in_original_pixels_for_large_photos(tiny_model):
    rec = Recognizer(tiny_model, working_pixels=200_000)
    page = np.full((1500, 2000, 3), 235, np.uint8)
    for x in (400, 1000, 1600):
        cv2.line(page, (x, 500), (x, 1000), (20, 20, 20), 18)
    analysis = rec.analyze_array(page)
    assert analysis.binarized.scale < 0.5
    assert len(analysis.boxes) == 3
    for (x, y, w, h), cx in zip(analysis.boxes, (400, 1000, 1600), strict=True):
        assert abs(x + w / 2 - cx) < 12
        assert abs(y - 491) < 15
        assert abs(h - 518) < 30


def test_bad_bytes_raise_invalid_image(tiny):
    with pytest.raises(InvalidImage) as err:
        tiny(b"<svg/>")
    assert err.value.code == "unsupported_format"


def test_recognize_array_checks_its_input(tiny):
    with pytest.raises(ValueError, match=r"non-empty \(H, W\) or \(H, W, 3\) uint8 array"):
        tiny.recognize_array(np.zeros((10, 10), np.float32))


def test_concurrent_calls_agree(tiny):
    images = [encode(draw_text(t)) for t in ("12+7", "3*4", "9-5", "6/3")] * 3
    expected = [tiny(i).expression for i in images]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: tiny(b).expression, images))
    assert got == expected


def test_recognizer_is_exported_lazily():
    assert mathocr.Recognizer is Recognizer


# --- real handwriting with the shipped model ---------------------------------------


@pytest.mark.data
def test_shipped_model_reads_held_out_handwriting(shipped_model, crohme_dev_expressions):
    from training import crohme

    rec = Recognizer(shipped_model)
    sample = crohme_dev_expressions[::7][:30]
    right = 0
    for expr in sample:
        image, _ = crohme.render(expr.symbols, symbol_height=48)
        result = rec(crohme.encode_png(image))
        right += result.expression == expr.ascii
    # The development benchmark (benchmarks/expressions.py) measures this on all
    # held-out expressions; here a floor guards against a broken pipeline.
    assert right >= 0.7 * len(sample), f"{right}/{len(sample)} read exactly"


@pytest.mark.data
def test_shipped_model_solves_a_handwritten_sum(shipped_model, crohme_dev_expressions):
    from training import crohme

    rec = Recognizer(shipped_model)
    exprs = [e for e in crohme_dev_expressions if "+" in e.ascii and "=" not in e.ascii]
    if not exprs:
        pytest.skip("no held-out sum without '=' in the data")
    solved = 0
    for expr in exprs[:5]:
        image, _ = crohme.render(expr.symbols, symbol_height=48)
        result = rec(crohme.encode_png(image))
        solved += result.status is Status.SOLVED and result.expression == expr.ascii
    assert solved >= 3


def _touching(text: str, overlap: int) -> bytes:
    """Two printed digits drawn ``overlap`` pixels into each other: one piece of ink."""
    page = np.full((120, 300), 255, np.uint8)
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 2.5, 6
    cv2.putText(page, text[0], (20, 90), font, scale, 0, thick)
    (w, _), _ = cv2.getTextSize(text[0], font, scale, thick)
    cv2.putText(page, text[1], (20 + w - overlap, 90), font, scale, 0, thick)
    assert cv2.connectedComponents((page < 128).astype(np.uint8))[0] == 2
    return cv2.imencode(".png", page)[1].tobytes()


@pytest.mark.parametrize("text", ["22", "38", "56", "90"])
def test_two_touching_digits_are_read_as_two_through_the_lattice(text):
    png = _touching(text, 10)
    assert Recognizer()(png).expression == text
    # the piece alone is read as one symbol: the cut is the lattice's doing
    assert len(Recognizer(lattice=False)(png).expression) == 1


def test_big_jpeg_is_decoded_small_but_boxes_stay_in_original_pixels(tiny_model):
    rec = Recognizer(tiny_model, working_pixels=300_000, decode_pixels=300_000)
    page = np.full((2400, 3200, 3), 230, np.uint8)
    for x in (800, 1600, 2400):
        cv2.line(page, (x, 800), (x, 1600), (30, 40, 150), 24)
    data = encode(page, "JPEG", quality=90)
    from_bytes = rec.analyze(data)
    full = rec.analyze_array(page)
    # libjpeg already decoded it smaller, so clean-up shrank it less.
    assert from_bytes.binarized.scale > 2 * full.binarized.scale
    assert len(from_bytes.boxes) == len(full.boxes) == 3
    for a, b in zip(from_bytes.boxes, full.boxes, strict=True):
        assert all(abs(u - v) <= 12 for u, v in zip(a, b, strict=True)), (a, b)


def test_reported_confidences_are_calibrated_and_the_reading_is_unchanged(tmp_path):
    from mathocr.classify import top_k
    from mathocr.read import posterior
    from mathocr.recognizer import INVALID_RATE, NOISE_ODDS, TOP_K
    from mathocr.symbols import CLASS_INDEX
    from tests.core.drawing import build_tiny_model

    image = draw_text("1+2=3", height=120)
    analyses = {}
    for temperature in (1.0, 0.5):
        path = build_tiny_model(tmp_path / f"m{temperature}.onnx")  # same weights
        meta = json.loads(path.with_suffix(".json").read_text())
        meta["temperature"] = temperature
        path.with_suffix(".json").write_text(json.dumps(meta))
        # the pieces only (a chain of symbols), the lattice reader alone, no answer prior
        rec = Recognizer(path, lattice=False, line_model=False, truth_odds=1.0)
        analyses[temperature] = (rec, rec.analyze_array(image))
    _, raw = analyses[1.0]
    rec, cal = analyses[0.5]
    assert cal.reading == raw.reading
    assert cal.boxes == raw.boxes
    np.testing.assert_array_equal(cal.probs, raw.probs)
    shown = rec.classifier.calibrate(cal.probs)
    if cal.reading.valid:  # the reading's share of the valid readings of what is shown
        expected = posterior(
            top_k(shown, TOP_K), cal.boxes, cal.reading.labels, noise_odds=NOISE_ODDS
        )
    else:  # the product of the top classes shown, weighed by "no expression at all"
        expected = INVALID_RATE / (INVALID_RATE + NOISE_ODDS)
        for label, row in zip(cal.reading.labels, shown, strict=True):
            expected *= float(row[CLASS_INDEX[label or "reject"]])
    assert 0.0 < expected < 1.0, cal.reading
    assert cal.result.confidence == pytest.approx(expected, rel=1e-4)
    assert cal.result.confidence != pytest.approx(raw.result.confidence, rel=1e-3)
    for sym in cal.result.symbols:
        assert all(alt.symbol != sym.symbol for alt in sym.alternatives)


def test_an_unknown_comma_convention_is_refused(tiny_model):
    with pytest.raises(ValueError, match="comma must be one of"):
        Recognizer(tiny_model, comma="semicolon")
    rec = Recognizer(tiny_model, comma="thousands")
    assert rec.comma == "thousands"
    with pytest.raises(ValueError, match="comma must be one of"):
        rec.recognize_array(np.full((40, 40), 255, np.uint8), comma="semicolon")


class _OperatorsOnly:
    """Reads every mark as ``-`` (0.95) or another operator: no valid expression."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        from mathocr.symbols import CLASS_INDEX

        probs = np.zeros((len(batch), len(CLASS_INDEX)), np.float32)
        for label, p in (("-", 0.95), ("+", 0.02), ("=", 0.01), ("×", 0.01), ("÷", 0.01)):
            probs[:, CLASS_INDEX[label]] = p  # the top 5: no digit among them
        return probs

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        return probs


def test_ink_whose_reading_is_no_expression_is_not_reported_as_sure(tiny_model):
    from mathocr.recognizer import INVALID_RATE, NOISE_ODDS

    rec = Recognizer(tiny_model)
    rec.classifier = _OperatorsOnly()
    page = np.full((80, 200), 255, np.uint8)
    cv2.line(page, (20, 40), (180, 40), 0, 5)  # one long bar: a "-" and nothing else
    result = rec.recognize_array(page)
    assert result.status is Status.RECOGNIZED  # a lone "-" is no expression
    assert [(s.symbol, s.confidence) for s in result.symbols] == [("-", 0.95)]
    assert result.confidence == pytest.approx(
        0.95 * INVALID_RATE / (INVALID_RATE + NOISE_ODDS), abs=1e-6
    )


def test_writing_on_paper_beside_a_dark_table_is_read_not_inverted():
    # the sheet is a third of the frame; the table (dark, a little grain) the rest
    rng = np.random.default_rng(7)
    frame = np.clip(rng.normal(45, 2, (400, 900)), 0, 255).astype(np.uint8)
    frame[:, :300] = 225
    cv2.putText(frame, "3+4", (40, 230), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 20, 6)
    assert float(np.median(frame)) < 100  # darker than light by the median
    assert Recognizer()(cv2.imencode(".png", frame)[1].tobytes()).expression == "3+4"


def _line_result(symbols: str, confidence: float, status: Status = Status.SOLVED):
    from mathocr.result import Result, Symbol

    marks = tuple(Symbol(s, 0.9, (10 * i, 0, 8, 8)) for i, s in enumerate(symbols))
    return Result(status=status, expression=symbols, confidence=confidence, symbols=marks)


@pytest.mark.parametrize(
    ("one", "other", "likelier"),
    [
        (_line_result("3+4", 0.2), _line_result("", 0.0, Status.UNREADABLE), True),
        (_line_result("3+4", 0.2), _line_result("1", 0.97), True),  # a lone key or speck
        (_line_result("3+4", 0.2), _line_result("3+4=", 0.6), False),
        (_line_result("3+4", 0.6), _line_result("3+4=", 0.6), False),  # a tie keeps the first
    ],
)
def test_of_a_frames_candidate_lines_the_likelier_reading_is_kept(one, other, likelier):
    from mathocr.recognizer import _likelier

    assert _likelier(one, other) is likelier


def test_writing_too_small_for_the_working_pixels_of_a_large_frame_is_found(shipped_model):
    frame = np.full((3000, 4000), 220, np.uint8)
    for i, char in enumerate("3+4=7"):  # symbols 24 px tall: 5 px at the frame's scale
        cv2.putText(frame, char, (1700 + 34 * i, 1500), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 30, 3)
    frame[:, 3400:] = 60  # the table beyond the sheet
    analysis = Recognizer(shipped_model).analyze_array(frame)
    assert analysis.binarized.scale > 0.3  # read from finer pixels than the frame's 0.22
    assert analysis.result.expression == "3+4=7"


# --- the line model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_line(tmp_path_factory):
    from tests.core.drawing import build_tiny_line_model

    return build_tiny_line_model(tmp_path_factory.mktemp("lines") / "lines.onnx")


def test_without_a_line_model_the_lattice_reader_answers_alone(tiny_model):
    rec = Recognizer(tiny_model, line_model=False)
    analysis = rec.analyze_array(draw_text("1+2"))
    assert rec.line_model is None
    assert analysis.line is None
    assert "line" not in analysis.result.timings


def test_the_line_model_reads_every_line_and_the_boxes_come_from_the_lattice(tiny_model, tiny_line):
    rec = Recognizer(tiny_model, line_model=tiny_line)
    image = draw_text("12+7", height=100)
    analysis = rec.analyze_array(image)
    assert analysis.line is not None
    assert analysis.line.reading == analysis.reading
    assert "line" in analysis.result.timings
    # the chosen reading's symbols are lattice edges: one box per non-empty label
    assert len(analysis.result.symbols) == sum(1 for lab in analysis.reading.labels if lab)
    assert "tiny-lines-test" in repr(rec)


@pytest.mark.data
def test_shipped_line_model_reads_held_out_handwriting_as_well_as_the_lattice(
    shipped_model, crohme_dev_expressions
):
    from mathocr.compute import solve
    from training import crohme

    both = Recognizer(shipped_model)
    alone = Recognizer(shipped_model, line_model=False)
    sample = crohme_dev_expressions[::7][:30]
    right = {"both": 0, "alone": 0, "line": 0}
    for expr in sample:
        image, _ = crohme.render(expr.symbols, symbol_height=48)
        png = crohme.encode_png(image)
        analysis = both.analyze(png)
        right["both"] += analysis.result.expression == expr.ascii
        right["alone"] += alone(png).expression == expr.ascii
        line = analysis.line.line if analysis.line else ()
        right["line"] += bool(line) and solve(list(line[0][0])).expression == expr.ascii
    # benchmarks/readers.py measures all of them; here floors guard the pipeline
    assert right["line"] >= 0.6 * len(sample), right
    assert right["both"] >= right["alone"] - 1, right
