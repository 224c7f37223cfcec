"""Errors outside DRF's views still answer JSON under /api/."""

from __future__ import annotations

import pytest
from django.test import Client

from resolver.models import Image
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_500() -> Client:
    return Client(raise_request_exception=False)


def test_crash_in_recognition_is_a_json_500_and_stores_nothing(
    client_500, monkeypatch, media_files
):
    def crash(data: bytes):
        raise RuntimeError("bug in the core")

    monkeypatch.setattr("resolver.services.get_recognizer", lambda: crash)
    body = {"image": data_url(expression_image("png", size=(60, 20)))}
    response = client_500.post("/api/images/create/", body, content_type="application/json")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error.", "code": "server_error"}
    assert Image.objects.count() == 0
    assert media_files() == []


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_page_outside_the_api_is_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_disallowed_host_under_api_is_a_json_400(client):
    response = client.get("/api/health/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
