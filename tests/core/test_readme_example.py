"""The README's example image, ``docs/sum.png``, reads as the README shows.

The image is drawn by ``docs/make_example.py`` (pen strokes defined in the script,
no data set); the README's ``curl`` example and its answer use it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import pytest

from mathocr.classify import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "sum.png"
README = ROOT / "README.md"
#: What the README says the shipped model reads in the example, and its answer.
EXPRESSION, RESULT, LATEX = "12+7*3=", "33", r"12 + 7 \times 3 ="


@pytest.fixture(scope="module")
def recognizer():
    if not DEFAULT_MODEL.exists() or not DEFAULT_MODEL.with_suffix(".json").exists():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    from mathocr import Recognizer

    return Recognizer(DEFAULT_MODEL)


def _make_example():
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "docs" / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_the_example_and_its_reading():
    readme = README.read_text("utf-8")
    assert "docs/sum.png" in readme
    assert f'"expression": "{EXPRESSION}"' in readme
    assert f'"result": "{RESULT}"' in readme


def test_the_shipped_model_reads_the_example_as_the_readme_says(recognizer):
    result = recognizer(EXAMPLE.read_bytes())
    assert (result.status, result.expression, result.result) == ("solved", EXPRESSION, RESULT)
    assert result.latex == LATEX
    assert [s.symbol for s in result.symbols] == list("12+7×3=")
    assert result.confidence >= 0.9


def test_the_script_draws_the_same_example(recognizer):
    """``docs/make_example.py`` redraws an image that reads the same (PNG bytes may differ
    between OpenCV versions; the reading must not)."""
    image = _make_example().draw()
    assert image.shape[:2] == cv2.imread(str(EXAMPLE)).shape[:2]
    png = cv2.imencode(".png", image)[1].tobytes()
    assert recognizer(png).expression == EXPRESSION
