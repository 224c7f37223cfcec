"""Fixtures of the server tests: a temporary MEDIA_ROOT, a fake recogniser, clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from mathocr import Alternative, Computation, Result, Status, Symbol
from resolver import recognition

CREATE_URL = "/api/images/create/"


class FakeRecognizer:
    """Stands in for :class:`mathocr.Recognizer`: fixed answer, counts its calls."""

    model_version = "fake-1"

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, data: bytes, *, decoded=None) -> Result:
        self.calls.append(data)
        return Result(
            status=Status.SOLVED,
            expression="1+2",
            latex="1+2",
            result="3",
            result_decimal="3",
            verdict=None,
            confidence=0.9,
            symbols=(
                Symbol("1", 0.95, (10, 10, 20, 40), (Alternative("7", 0.03),)),
                Symbol("+", 0.9, (40, 20, 20, 20)),
                Symbol("2", 0.92, (70, 10, 20, 40)),
            ),
            computations=(Computation("Result", "3"),),
            timings={"total": 1.0},
        )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """A fresh MEDIA_ROOT per test; static files need no ``collectstatic``."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return root


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Throttle history lives in the cache: start every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fake_recognizer(monkeypatch) -> FakeRecognizer:
    """Replace the process-wide recogniser (tests that need the real one reset it)."""
    fake = FakeRecognizer()
    monkeypatch.setattr(recognition, "_recognizer", fake)
    return fake


@pytest.fixture
def real_recognizer(monkeypatch):
    """The real recogniser with the shipped model; skips while no model is shipped."""
    from mathocr import ModelError

    monkeypatch.setattr(recognition, "_recognizer", None)
    try:
        return recognition.get_recognizer()
    except (ModelError, ImportError, FileNotFoundError) as exc:
        pytest.skip(f"the recognition model is not available yet: {exc}")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client_api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def media_files(media_root: Path):
    """Callable listing every file under the test's MEDIA_ROOT."""

    def files() -> list[Path]:
        return sorted(p for p in media_root.rglob("*") if p.is_file())

    return files
