"""Fixtures for the training tests: skip cleanly without torch or the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def torch():
    """The torch module, or skip: training needs the optional ``train`` extra."""
    return pytest.importorskip("torch", reason="torch is not installed (pip install .[train])")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder, or skip when its archives are absent."""
    from training import sources
    from training.crohme import data_dir

    if not sources.available():
        pytest.skip(f"training archives not found in {data_dir()} (set MATHOCR_DATA)")
    return data_dir()
