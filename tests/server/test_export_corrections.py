"""``manage.py export_corrections``, and training reading its folder as a source.

The round trip: images created through the API (the fake recogniser reads ``1+2`` in
three boxes, drawn here with ink in each), corrected through the API, exported, and
loaded by ``training.extra.corrections`` and ``training.data.TrainingSet.load``, whose
``class_counts`` is what the model card's per-source table counts. Neither torch nor
``../shared/data`` is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from resolver.models import Image
from tests.support.images import data_url, encode

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/api/images/create/"


def drawn_reading(shift: int = 0) -> bytes:
    """A 120 x 60 PNG with ink in the fake reading's three boxes (a 1, a +, a 2)."""
    page = np.full((60, 120, 3), 245, np.uint8)
    ink = (20, 30, 90)
    cv2.line(page, (20, 12 + shift), (20, 47), ink, 3)  # "1" in (10, 10, 20, 40)
    cv2.line(page, (42, 30), (57, 30), ink, 3)  # "+" in (40, 20, 20, 20)
    cv2.line(page, (50, 22), (50, 37), ink, 3)
    cv2.polylines(page, [np.array([[72, 18], [86, 14], [86, 28], [72, 46], [88, 46]])],
                  False, ink, 3)  # fmt: skip
    return encode(page, "png")


def create_and_correct(client, body: dict | None, shift: int = 0) -> int:
    created = client.post(CREATE, {"image": data_url(drawn_reading(shift))}, format="json")
    assert created.status_code == 201, created.content
    answer = created.json()
    if body is not None:
        response = client.post(
            f"/api/images/{answer['pk']}/correction/",
            body,
            format="json",
            HTTP_X_EDIT_TOKEN=answer["edit_token"],
        )
        assert response.status_code == 200, response.content
    return answer["pk"]


@pytest.fixture
def corrected(api_client) -> dict[str, int]:
    """Four images: corrected in three ways, and one left alone."""
    return {
        # the 1 was a 7; the other symbols are confirmed: 7 + 2 spells the correction
        "changed": create_and_correct(
            api_client, {"expression": "7+2", "symbols": [{"index": 0, "symbol": "7"}]}
        ),
        # only the expression: 1+2 is not 1+3, so no symbol's label is known
        "expression-only": create_and_correct(api_client, {"expression": "1+3"}, shift=1),
        # a change, but the labels do not spell the correction: that symbol alone
        "partly": create_and_correct(
            api_client,
            {"expression": "7+22", "symbols": [{"index": 0, "symbol": "7"}]},
            shift=2,
        ),
        "uncorrected": create_and_correct(api_client, None, shift=3),
    }


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_export_writes_each_corrected_image_with_its_truth(corrected, tmp_path):
    out = tmp_path / "corrections"
    call_command("export_corrections", str(out))
    expressions = lines(out / "expressions.jsonl")
    pks = [corrected["changed"], corrected["expression-only"], corrected["partly"]]
    assert [row["pk"] for row in expressions] == pks  # never the uncorrected one
    assert [row["expression"] for row in expressions] == ["7+2", "1+3", "7+22"]
    for row in expressions:
        image = Image.objects.get(pk=row["pk"])
        assert row["machine_expression"] == "1+2"
        assert row["file"] == f"images/{row['pk']}.png"
        assert (out / row["file"]).read_bytes() == image.image.read()
        assert (row["width"], row["height"]) == (120, 60)
        assert [s["box"] for s in row["symbols"]] == [s["box"] for s in image.symbols]
        assert row["corrected_symbols"] == image.corrected_symbols
        assert row["model_version"] == "fake-1"
    symbols = lines(out / "symbols.jsonl")
    changed, partly = corrected["changed"], corrected["partly"]
    assert [(s["pk"], s["index"], s["label"], s["read"], s["changed"]) for s in symbols] == [
        (changed, 0, "7", "1", True),
        (changed, 1, "+", "+", False),
        (changed, 2, "2", "2", False),
        (partly, 0, "7", "1", True),
    ]
    for s in symbols:
        assert s["file"] == f"symbols/{s['pk']}-{s['index']}.png"
        crop = cv2.imread(str(out / s["file"]), cv2.IMREAD_UNCHANGED)
        assert crop.ndim == 2  # grey
        assert crop.shape == (s["box"][3], s["box"][2])
        assert crop.min() < 128 < crop.max()  # dark ink on light paper
    source = (out / "SOURCE.md").read_text(encoding="utf-8")
    assert "- images: 3" in source
    assert "- symbol crops: 4 (2 named by a correction, 2 confirmed)" in source
    assert "| `7` | 2 |" in source
    assert "responsible" in source


def test_training_reads_the_export_as_the_corrections_source(corrected, tmp_path, monkeypatch):
    from training import extra
    from training.data import TrainingSet

    out = tmp_path / "data" / "extra" / "corrections"  # where training looks by default
    call_command("export_corrections", str(out))
    monkeypatch.delenv(extra.CORRECTIONS_ENV, raising=False)
    root = tmp_path / "data"
    assert extra.available(root)["corrections"] is True
    assert not any(ok for name, ok in extra.available(root).items() if name != "corrections")
    samples = extra.corrections(root)
    assert sorted(s.label for s in samples) == ["+", "2", "7", "7"]
    for sample in samples:
        assert sample.source == "corrections"
        assert sample.writer.startswith("corrections:")
        assert sample.split == extra.corrections_split(sample.writer)
        assert sample.mask.dtype == np.uint8
        assert set(np.unique(sample.mask)) == {0, 255}
        assert sample.mask[0].any()  # cropped to the ink
        assert sample.mask[-1].any()
    # the training set counts its training part, per class and source, for the card
    training = TrainingSet.load(root, exclude=("crohme", "bhmsds", "mdas"))
    counts = {c: n["corrections"] for c, n in training.class_counts().items() if n}
    expected: dict[str, int] = {}
    for sample in samples:
        if sample.split == "train":
            expected[sample.label] = expected.get(sample.label, 0) + 1
    assert counts == expected
    assert len(training) == sum(expected.values())
    # and the held-out fifth is a held-out set of its own, when it holds any symbol
    from training.heldout import held_out_sets

    held_out = sum(sample.split == "test" for sample in samples)
    sets = held_out_sets(root)
    assert set(sets) == ({"corrections-test"} if held_out else set())
    if held_out:
        x, y = sets["corrections-test"]
        assert len(x) == len(y) == held_out


def test_the_corrections_folder_can_be_named_by_environment(corrected, tmp_path, monkeypatch):
    from training import extra

    out = tmp_path / "elsewhere"
    call_command("export_corrections", str(out))
    monkeypatch.setenv(extra.CORRECTIONS_ENV, str(out))
    assert extra.corrections_dir(tmp_path / "no-data") == out.resolve()
    assert len(extra.corrections(tmp_path / "no-data")) == 4
    monkeypatch.setenv(extra.CORRECTIONS_ENV, str(tmp_path / "missing"))
    assert extra.available(tmp_path)["corrections"] is False


def test_the_export_refuses_a_folder_that_is_not_empty_unless_replacing(corrected, tmp_path):
    out = tmp_path / "out"
    call_command("export_corrections", str(out))
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_corrections", str(out))
    (out / "mine.txt").write_text("kept")
    Image.objects.filter(pk=corrected["partly"]).delete()
    with pytest.raises(CommandError, match="not empty"):  # someone else's file: touch nothing
        call_command("export_corrections", str(out), "--replace")
    assert len(lines(out / "expressions.jsonl")) == 3
    (out / "mine.txt").unlink()
    call_command("export_corrections", str(out), "--replace")
    assert [row["pk"] for row in lines(out / "expressions.jsonl")] == [
        corrected["changed"],
        corrected["expression-only"],
    ]
    assert len(lines(out / "symbols.jsonl")) == 3
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        f"{corrected['changed']}.png",
        f"{corrected['expression-only']}.png",
    ]


def test_an_image_whose_file_is_gone_is_left_out_and_counted(corrected, tmp_path):
    image = Image.objects.get(pk=corrected["changed"])
    image.image.storage.delete(image.image.name)
    out = tmp_path / "out"
    call_command("export_corrections", str(out))
    assert [row["pk"] for row in lines(out / "expressions.jsonl")] == [
        corrected["expression-only"],
        corrected["partly"],
    ]
    assert "- images left out (their file could not be read): 1" in (out / "SOURCE.md").read_text()


def test_an_empty_export_is_a_valid_empty_source(tmp_path):
    from training import extra

    out = tmp_path / "extra" / "corrections"
    call_command("export_corrections", str(out))
    assert (out / "expressions.jsonl").read_text() == ""
    assert extra.corrections(tmp_path) == []
    assert "- images: 0" in (out / "SOURCE.md").read_text()


def test_a_fifth_of_the_images_is_held_out_by_pk(tmp_path, monkeypatch):
    """pk 5 hashes into the held-out fifth, pk 4 not (see ``corrections_split``)."""
    from training import extra
    from training.heldout import held_out_sets

    monkeypatch.delenv(extra.CORRECTIONS_ENV, raising=False)
    folder = tmp_path / "extra" / "corrections"
    (folder / "symbols").mkdir(parents=True)
    crop = np.full((40, 20), 240, np.uint8)
    cv2.line(crop, (10, 4), (10, 35), 30, 3)
    rows = []
    for pk in (4, 5):
        cv2.imwrite(str(folder / "symbols" / f"{pk}-0.png"), crop)
        rows.append({"file": f"symbols/{pk}-0.png", "pk": pk, "index": 0, "label": "1",
                     "read": "7", "changed": True, "box": [0, 0, 20, 40]})  # fmt: skip
    (folder / "symbols.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = extra.corrections(tmp_path)
    assert [(s.writer, s.split) for s in samples] == [
        ("corrections:4", "train"),
        ("corrections:5", "test"),
    ]
    x, y = held_out_sets(tmp_path)["corrections-test"]
    assert x.shape[0] == 1
    assert y.tolist() == [1]  # the class index of "1"
