"""The recognition time limit, hostile images, and the one decode per request."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from mathocr import decode as mathocr_decode
from mathocr.errors import RecognitionTimeout
from resolver import fields, services
from resolver.models import Image
from tests.server.conftest import CREATE_URL
from tests.support.images import data_url, encode, expression_image
from tests.support.liveserver import serve

pytestmark = pytest.mark.django_db(transaction=True)


def _specks(count: int) -> bytes:
    rng = np.random.default_rng(count)
    page = np.full((400, 800), 255, np.uint8)
    for x, y in zip(rng.integers(0, 800, count), rng.integers(0, 400, count), strict=True):
        cv2.circle(page, (int(x), int(y)), 2, 0, -1)
    return encode(page, "png")


def _noise_jpeg(size: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return encode(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), "jpeg", quality=95)


class TooSlow:
    model_version = "slow-1"

    def __call__(self, data: bytes, **_):
        raise RecognitionTimeout("Recognition took longer than 3 s (stopped in segment).")


def test_recognition_past_its_time_limit_is_a_503_and_stores_nothing(
    api_client, monkeypatch, media_files
):
    from resolver import recognition

    monkeypatch.setattr(recognition, "_recognizer", TooSlow())
    response = api_client.post(CREATE_URL, {"image": data_url(expression_image("png"))})
    assert response.status_code == 503
    assert response.json()["code"] == "recognition_timeout"
    assert "longer than the time allowed" in response.json()["detail"]
    assert Image.objects.count() == 0
    assert media_files() == []


def test_the_real_recognizer_stops_at_the_configured_limit(
    api_client, settings, monkeypatch, media_files
):
    from resolver import recognition

    settings.MATHOCR_TIME_LIMIT = 0.0
    monkeypatch.setattr(recognition, "_recognizer", None)
    try:
        recognition.get_recognizer()
    except Exception as exc:  # pragma: no cover - no model shipped
        pytest.skip(f"the recognition model is not available: {exc}")
    response = api_client.post(CREATE_URL, {"image": data_url(expression_image("png"))})
    assert response.status_code == 503
    assert response.json()["code"] == "recognition_timeout"
    assert Image.objects.count() == 0
    assert media_files() == []
    monkeypatch.setattr(recognition, "_recognizer", None)


def test_an_image_of_far_too_many_marks_is_answered_unreadable(api_client, real_recognizer):
    response = api_client.post(CREATE_URL, {"image": data_url(_specks(2_000))}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "unreadable"
    assert body["error"] == "too_many_marks"
    assert "marks" in body["message"]


def test_a_request_decodes_its_image_once(api_client, real_recognizer, monkeypatch):
    calls = []
    original = mathocr_decode.decode

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    for module in (fields, services, mathocr_decode):
        monkeypatch.setattr(module, "decode", counting)
    response = api_client.post(CREATE_URL, {"image": data_url(expression_image("jpeg"))})
    assert response.status_code == 201
    assert len(calls) == 1


# --- the real server: a hostile client cannot starve another --------------------------


def _post(base_url: str, data: bytes, fmt: str, timeout: float = 30) -> tuple[int, dict]:
    body = json.dumps({"image": data_url(data, fmt)}).encode()
    request = urllib.request.Request(
        base_url + "api/images/create/", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_a_client_posting_hostile_images_cannot_starve_another(tmp_path):
    hostile = [_noise_jpeg(600, seed) for seed in range(3)] + [_specks(2_000), _specks(20_000)]
    ordinary = expression_image("jpeg")
    env = {"ANON_THROTTLE_RATE": "", "MATHOCR_TIME_LIMIT": "3"}
    with serve(tmp_path, workers=2, threads=2, env=env) as base_url:
        stop = threading.Event()
        hostile_answers: list[int] = []

        def attack() -> None:
            while not stop.is_set():
                for data in hostile:
                    hostile_answers.append(_post(base_url, data, "png")[0])

        attackers = [threading.Thread(target=attack, daemon=True) for _ in range(4)]
        for thread in attackers:
            thread.start()
        try:
            waits = []
            for _ in range(5):
                started = time.perf_counter()
                status, body = _post(base_url, ordinary, "jpeg")
                waits.append(time.perf_counter() - started)
                assert status == 201
                assert body["status"] in ("solved", "recognized")
        finally:
            stop.set()
            for thread in attackers:
                thread.join(timeout=60)
    # answered within the time limit and a generous margin, not after the attack
    assert max(waits) < 3 + 5, waits
    assert hostile_answers
    assert set(hostile_answers) <= {201}
