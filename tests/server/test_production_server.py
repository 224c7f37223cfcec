"""The real production server (gunicorn, DEBUG off, collected static files)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.images import data_url, expression_image
from tests.support.liveserver import serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("server"), workers=2) as url:
        yield url


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def post_json(url: str, payload: dict):
    body = json.dumps(payload).encode()
    return fetch(url, data=body, headers={"Content-Type": "application/json"})


def test_health_answers_json(base_url):
    status, headers, body = fetch(base_url + "api/health/")
    assert status in (200, 503)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["database"]["ok"] is True


def test_static_files_are_hashed_compressed_and_cached(base_url):
    status, _, html = fetch(base_url + "admin/login/")
    assert status == 200
    css = html.decode().split('href="/static/admin/css/base.', 1)[1].split('"', 1)[0]
    assert len(css.split(".")[0]) == 12  # content hash in the name
    status, headers, _ = fetch(
        base_url + "static/admin/css/base." + css, headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "immutable" in headers["Cache-Control"]


def test_security_headers_and_no_debug_pages(base_url):
    status, headers, body = fetch(base_url + "no/such/page/")
    assert status == 404
    assert b"Traceback" not in body
    assert b"URLconf" not in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_bad_image_is_refused_with_json(base_url):
    status, _, body = post_json(base_url + "api/images/create/", {"image": "not base64!"})
    assert status == 400
    assert json.loads(body)["codes"] == {"image": ["invalid_base64"]}


def test_oversized_body_is_refused_before_parsing(base_url):
    payload = {"image": "A" * (14 * 1024 * 1024)}
    status, _, body = post_json(base_url + "api/images/create/", payload)
    assert status == 413
    assert json.loads(body)["codes"] == {"image": ["too_large"]}


def test_image_is_recognised_stored_and_served(base_url):
    status, _, health = fetch(base_url + "api/health/")
    if status != 200:
        pytest.skip(f"the recognition model is not available: {health.decode()}")
    image = expression_image("jpeg", size=(1000, 250))
    status, _, body = post_json(base_url + "api/images/create/", {"image": data_url(image, "jpeg")})
    assert status == 201, body
    answer = json.loads(body)
    assert answer["model_version"] == json.loads(health)["model"]["version"]
    assert answer["image"].startswith(base_url + "media/images/")
    status, headers, stored = fetch(answer["image"])
    assert status == 200
    assert stored == image
    assert headers["Content-Type"] == "image/jpeg"
