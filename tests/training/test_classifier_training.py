"""Training pipeline: data through ``normalize_input``, smoke training, ONNX export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mathocr.normalize import FILL_FRACTION, normalize_symbol
from mathocr.symbols import CLASS_INDEX, CLASSES, INPUT_CHANNELS, INPUT_SIZE


def test_crohme_labels_map_to_our_classes_skip_lookalikes_and_reject_the_rest():
    from training.sources import REJECT, crohme_class

    assert crohme_class("7") == CLASS_INDEX["7"]
    assert crohme_class("×") == CLASS_INDEX["×"]
    assert crohme_class(r"\cdot") is None
    assert crohme_class("o") is None
    assert crohme_class("a") == REJECT
    assert crohme_class(r"\sqrt") == REJECT
    assert crohme_class("P") == REJECT


def test_a_crohme_comma_is_taught_as_a_decimal_point():
    # many writers (and locales) write 2,5 for 2.5: a comma must not be taught as reject
    from training.sources import crohme_class

    assert crohme_class(",") == CLASS_INDEX["."]


def test_the_letter_x_is_taught_as_the_multiplication_cross():
    # held-out writers' x and \times are the same cross; only the expression tells them apart
    from training.sources import BHMSDS_LABELS, crohme_class

    assert "x" not in CLASSES
    assert crohme_class("x") == crohme_class("×") == CLASS_INDEX["×"]
    assert BHMSDS_LABELS["x"] == "×"


def test_letters_drawn_like_digits_are_not_taught_as_reject():
    # a z is drawn like a 2 and a b like a 6: teaching them as reject teaches the
    # network to drop real digits
    from training.sources import crohme_class

    assert crohme_class("z") is None
    assert crohme_class("b") is None


def test_some_crohme_points_are_drawn_bold_but_stay_well_below_digit_size():
    from training.samples import ink_sample
    from training.sources import InkItem

    dot = InkItem((np.zeros((1, 2), np.float32),), CLASS_INDEX["."], typical=40.0)
    rng = np.random.default_rng(0)
    sizes = []
    for _ in range(300):
        mask, ref = ink_sample(dot, rng)
        ys, xs = np.nonzero(mask)
        sizes.append(max(np.ptp(ys), np.ptp(xs)) / ref)
    sizes = np.array(sizes)
    assert 0.2 < (sizes > 0.14).mean() < 0.4
    assert sizes.max() < 0.45


def test_lean_is_zero_upright_and_one_at_45_degrees():
    from training.augment import lean

    t = np.arange(20.0)
    assert lean(np.stack([np.zeros_like(t), t], axis=1)) == pytest.approx(0.0, abs=1e-9)
    assert lean(np.stack([t, -t], axis=1)) == pytest.approx(1.0)


def test_augmentation_never_turns_a_slash_upright_like_a_one():
    from training.augment import lean
    from training.samples import ink_sample
    from training.sources import InkItem

    # a steep slash, lean 0.3: unconstrained shear and rotation would often make it upright
    stroke = np.array([[12.0, 0.0], [0.0, 40.0]], np.float32)
    item = InkItem((stroke,), CLASS_INDEX["/"], typical=40.0)
    rng = np.random.default_rng(1)
    leans = [lean(np.argwhere(ink_sample(item, rng)[0])[:, ::-1]) for _ in range(200)]
    assert np.quantile(leans, 0.02) >= 0.2


def test_drawn_strokes_are_a_binary_mask_covering_the_path():
    from training.augment import draw_strokes

    stroke = np.array([[0, 0], [10, 20]], np.float32)
    mask = draw_strokes([stroke], matrix=np.eye(2) * 2, pen_width=3)
    assert set(np.unique(mask)) == {0, 255}
    ys, xs = np.nonzero(mask)
    assert 40 <= np.ptp(ys) + 1 <= 46
    assert 20 <= np.ptp(xs) + 1 <= 26


def test_a_sub_pixel_stroke_with_a_thin_pen_still_leaves_ink():
    from training.augment import draw_strokes

    stroke = np.array([[0, 0], [0.6, 0.3]], np.float32)
    mask = draw_strokes([stroke], matrix=np.eye(2), pen_width=1.09)
    assert mask.any()
    assert set(np.unique(mask)) == {0, 255}


def test_elastic_distortion_bends_a_long_flat_stroke_without_losing_it():
    from training.augment import elastic

    mask = np.zeros((35, 770), np.uint8)
    mask[3:32, 4:766] = 255
    for seed in range(20):
        out = elastic(mask, np.random.default_rng(seed), amount=0.06)
        assert 0.8 < out.sum() / mask.sum() < 1.2


def test_degrade_keeps_some_ink_and_the_mask_binary():
    from training.augment import degrade

    mask = np.zeros((40, 40), np.uint8)
    mask[5:35, 18:22] = 255
    rng = np.random.default_rng(1)
    for _ in range(50):
        out = degrade(mask.copy(), rng, stroke=4.0)
        assert out.any()
        assert set(np.unique(out)) <= {0, 255}


def test_isolated_dot_gets_a_small_frame_and_digit_fills_it():
    from training.samples import image_sample
    from training.sources import ImageItem

    rng = np.random.default_rng(0)
    blob = np.zeros((56, 56), np.uint8)
    blob[4:52, 4:52] = 255
    dot = ImageItem(blob, CLASS_INDEX["."], "mdas")
    digit = ImageItem(blob, CLASS_INDEX["0"], "mnist")

    def ink(item):
        mask, ref = image_sample(item, rng)
        return normalize_symbol(mask, ref_height=ref).sum()

    dot_ink = np.mean([ink(dot) for _ in range(20)])
    digit_ink = np.mean([ink(digit) for _ in range(20)])
    assert dot_ink < digit_ink / 4


def test_fitted_temperature_undoes_an_overconfident_scale():
    from training.evaluate import _softmax, calibration, fit_temperature

    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2.0, (4000, 5))
    p = _softmax(true_logits, 1.0)
    labels = np.array([rng.choice(5, p=row) for row in p])
    # a network twice as sure as it should be is calibrated by T = 2
    assert fit_temperature(2 * true_logits, labels) == pytest.approx(2.0, abs=0.1)
    cal = calibration(2 * true_logits, labels)
    assert cal["ece_calibrated"] < cal["ece"] / 3


def test_confusion_report_counts_per_class_accuracy():
    from training.evaluate import format_report, report

    reject = CLASS_INDEX["reject"]
    y_true = np.array([0, 0, 1, 1, reject])
    y_pred = np.array([0, 1, 1, 1, reject])
    rep = report(y_true, y_pred)
    assert rep["accuracy"] == pytest.approx(0.8)
    assert rep["per_class"]["0"]["accuracy"] == pytest.approx(0.5)
    assert rep["per_class"]["1"]["accuracy"] == pytest.approx(1.0)
    assert rep["per_class"]["5"]["accuracy"] is None
    assert rep["confusion"][0][1] == 1
    assert rep["top_confusions"][0] == {"true": "0", "pred": "1", "count": 1}
    assert "confusion matrix" in format_report(rep)


def test_error_gallery_draws_only_misclassified_symbols_reproducibly():
    from training.evaluate import error_gallery

    x = np.zeros((30, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32)
    x[:, 0, 8:24, 14:18] = 1.0  # a bar of ink in every cell
    y_true = np.arange(30) % len(CLASSES)
    y_pred = y_true.copy()
    wrong = [3, 7, 12, 19, 25]
    y_pred[wrong] = (y_pred[wrong] + 1) % len(CLASSES)
    image, picked = error_gallery(x, y_true, y_pred, size=4, seed=1, columns=2)
    assert set(picked.tolist()) < set(wrong)
    assert len(picked) == 4
    assert image.size == (2 * 72, 2 * 72)
    cells = np.asarray(image)
    assert (cells[:48, :72] < 128).any()  # the first cell holds ink
    again, same = error_gallery(x, y_true, y_pred, size=4, seed=1, columns=2)
    assert same.tolist() == picked.tolist()
    assert np.array_equal(np.asarray(again), cells)
    _, other = error_gallery(x, y_true, y_pred, size=5, seed=2)
    assert sorted(other.tolist()) == wrong


@pytest.mark.data
def test_training_batches_go_through_normalize_input_and_cover_all_classes(shared_data):
    from training.data import TrainingSet

    source = TrainingSet.load()
    x, y = source.batch(2048, np.random.default_rng(0))
    assert x.shape == (2048, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
    assert x.dtype == np.float32
    assert x[:, 0].min() >= 0.0
    assert x[:, 0].max() <= 1.0
    sizes = x[:, 1]
    assert (sizes == sizes[:, :1, :1]).all()
    assert sizes.min() >= 0.0
    assert sizes.max() <= 3.0
    assert set(np.unique(y)) == set(range(len(CLASSES)))
    again, _ = source.batch(2048, np.random.default_rng(0))
    np.testing.assert_array_equal(x, again)


@pytest.mark.data
def test_validation_set_is_only_held_out_writers(shared_data):
    from training import crohme, heldout, sources

    train_writers = {e.writer for e in crohme.load_expressions() if not crohme.is_dev(e)}
    assert not train_writers & crohme.dev_writers()
    assert all(it.label >= 0 for it in sources.ink_items(dev=False))
    x, y = heldout.crohme_dev()
    assert len(x) == len(y) > 10_000
    assert x.shape[1:] == (INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)


@pytest.mark.data
def test_no_held_out_writer_is_trained_on(shared_data):
    from training import extra
    from training.data import TrainingSet

    source = TrainingSet.load()
    trained = {it.source for it in source.ink} | {it.source for it in source.images}
    assert "mnist" not in trained  # MNIST t10k is a test set now
    for name, loader in extra.SOURCES.items():
        if not extra.available().get(name):
            continue
        samples = loader()
        test = {s.writer for s in samples if s.split == "test" and s.writer}
        train = {s.writer for s in samples if s.split == "train" and s.writer}
        assert not test & train, name
    counted = sum(sum(d.values()) for d in source.class_counts().values())
    assert counted == len(source)


@pytest.mark.data
def test_every_held_out_set_is_drawn_as_serving_normalizes(shared_data):
    from training import heldout

    sets = heldout.held_out_sets(whole_sources=["mathwriting"])
    for name in ("crohme-dev", "unipen-test", "pendigits-test", "mnist-t10k", "mathwriting"):
        x, y = sets[name]
        assert len(x) == len(y) > 100, name
        assert x.shape[1:] == (INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
        assert x[:, 0].max() == 1.0
        assert x[:, 0].min() >= 0.0


@pytest.mark.data
@pytest.mark.slow
def test_smoke_training_is_deterministic_and_exports_onnx_matching_torch(
    shared_data, torch, tmp_path
):
    pytest.importorskip("onnxruntime")
    from training import train
    from training.export import MAX_ABS_DIFF, sha256

    assert train.main(["--smoke", "--seed", "3", "--out", str(tmp_path / "again")]) == 0
    assert train.main(["--smoke", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert sha256(tmp_path / "symbols.onnx") == sha256(tmp_path / "again" / "symbols.onnx")
    meta = json.loads((tmp_path / "symbols.json").read_text("utf-8"))
    assert meta["classes"] == list(CLASSES)
    assert meta["input_size"] == INPUT_SIZE
    assert meta["fill_fraction"] == FILL_FRACTION
    assert meta["input_channels"] == INPUT_CHANNELS
    assert meta["temperature"] == meta["validation"]["calibration"]["temperature"] > 0
    assert set(meta["held_out"]) >= {"crohme-dev"}
    assert meta["preliminary"] is True
    assert meta["sha256"] == sha256(tmp_path / "symbols.onnx")
    assert meta["onnx_max_abs_diff"] <= MAX_ABS_DIFF
    assert (tmp_path / "symbols.onnx").stat().st_size < 2 * 1024 * 1024


class _NoiseSource:
    """Stands in for a TrainingSet: random inputs and labels, drawn from the batch's rng."""

    def batch(self, size, rng):
        x = rng.random((size, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
        return x, rng.integers(0, len(CLASSES), size)


def test_an_interrupted_training_continues_to_the_same_weights(torch, tmp_path, monkeypatch):
    from training import train

    val = (np.zeros((8, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32), np.zeros(8, int))
    run = {"steps": 6, "batch_size": 8, "workers": 0, "log_every": 3}
    whole = train.train(_NoiseSource(), val, **run)

    checkpoint = tmp_path / "run.pt"
    draw = train._Batches.__getitem__

    def stop_before_the_fifth_batch(self, i):
        if self.first + i == 4:
            raise KeyboardInterrupt
        return draw(self, i)

    monkeypatch.setattr(train._Batches, "__getitem__", stop_before_the_fifth_batch)
    with pytest.raises(KeyboardInterrupt):
        train.train(_NoiseSource(), val, **run, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.undo()
    assert torch.load(checkpoint, weights_only=True)["step"] == 4

    resumed = train.train(_NoiseSource(), val, **run, checkpoint=checkpoint, checkpoint_every=2)
    assert torch.load(checkpoint, weights_only=True)["step"] == 6
    for name, weights in whole.state_dict().items():
        assert torch.equal(weights, resumed.state_dict()[name]), name


def test_a_checkpoint_of_another_run_is_refused(torch, tmp_path):
    from training import train

    val = (np.zeros((8, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32), np.zeros(8, int))
    checkpoint = tmp_path / "run.pt"
    train.train(_NoiseSource(), val, steps=2, batch_size=8, workers=0, checkpoint=checkpoint)
    with pytest.raises(SystemExit, match="another run"):
        train.train(_NoiseSource(), val, steps=4, batch_size=8, workers=0, checkpoint=checkpoint)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("crohme=3.5", ("crohme", 3.5)), ("pairs=1.5", ("pairs", 1.5)), ("usps=0.1", ("usps", 0.1))],
)
def test_a_source_weight_names_any_weighted_source(torch, text, expected):
    # the junk pairs are sampled with a weight of their own, so a run may change it too
    from training.train import _source_weight

    assert _source_weight(text) == expected


@pytest.mark.parametrize("text", ["nowhere=1", "crohme", "crohme=0", "crohme=-1", "crohme=x"])
def test_a_source_weight_for_an_unknown_source_or_a_bad_number_is_refused(torch, text):
    import argparse

    from training.train import _source_weight

    with pytest.raises(argparse.ArgumentTypeError):
        _source_weight(text)
