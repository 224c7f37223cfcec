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
        self.commas: list[str | None] = []  # the comma convention asked for, per call

    def __call__(self, data: bytes, *, decoded=None, comma: str | None = None) -> Result:
        self.calls.append(data)
        self.commas.append(comma)
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
            steps=("1 + 2", "3"),
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


class StoredObject:
    """A file in the S3 bucket, looking like the ``Path`` that ``media_files`` gives."""

    def __init__(self, bucket, key: str) -> None:
        self.bucket, self.key = bucket, key
        self.name = key.rsplit("/", 1)[-1]

    def read_bytes(self) -> bytes:
        return self.bucket.read(self.key)

    def __repr__(self) -> str:
        return f"<s3 {self.key}>"


@pytest.fixture
def media_files(request, media_root: Path):
    """Callable listing every stored file: under MEDIA_ROOT, or in the S3 bucket if used."""

    def files() -> list:
        if "s3_media" in request.fixturenames:
            bucket = request.getfixturevalue("s3_media")
            return [StoredObject(bucket, key) for key in bucket.object_keys()]
        return sorted(p for p in media_root.rglob("*") if p.is_file())

    return files


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """moto's S3 server on a free loopback port, for the whole session (started on demand)."""
    from tests.support.backends import moto_server

    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def s3_media(moto_endpoint, settings):
    """Media in a fresh private bucket on moto, selected as ``STORAGE_BACKEND=s3`` would."""
    from digits_operators_recognizer.settings import media_storage
    from tests.support.backends import s3_bucket

    bucket = s3_bucket(moto_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(bucket.env)}
    return bucket


@pytest.fixture(params=["filesystem", "s3"])
def any_storage(request):
    """Run a test with media on the local disk, then in an S3 bucket (moto)."""
    if request.param == "s3":
        request.getfixturevalue("s3_media")
    return request.param
