"""Fixtures of the recognition-core tests (helpers live in :mod:`tests.core.drawing`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathocr.classify import default_model_path
from tests.core.drawing import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Path of a tiny random linear model with valid metadata."""
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny.onnx")


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """The packaged model (or ``$MATHOCR_MODEL``); tests using it skip until it exists."""
    path = default_model_path()
    if not path.exists() or not path.with_suffix(".json").exists():
        pytest.skip(f"no trained model at {path} yet")
    return path


@pytest.fixture(scope="session")
def crohme_dev_expressions():
    """In-grammar arithmetic of held-out CROHME writers (skips without ../shared/data)."""
    from training import crohme

    archive = crohme.data_dir() / crohme.ARCHIVE_NAME
    if not archive.exists():
        pytest.skip(f"CROHME archive not found at {archive} (../shared/data is absent)")
    exprs = [e for e in crohme.load_expressions() if e.is_arithmetic]
    return [e for e in exprs if crohme.is_dev(e)]
