"""GET /api/images/ and /api/images/<pk>/: administrators only, paginated, suffixes."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model

from resolver.services import image_create
from tests.support.images import expression_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(fake_recognizer) -> list:
    data = expression_image("png", size=(120, 40), text="1+2")
    return [image_create(data=data, recognizer=fake_recognizer) for _ in range(3)]


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", password="s3cret-passw0rd")


@pytest.mark.parametrize("path", ["/api/images/", "/api/images/{pk}/"])
def test_anonymous_client_gets_401_with_a_challenge(api_client, images, path):
    response = api_client.get(path.format(pk=images[0].pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ["/api/images/", "/api/images/{pk}/"])
def test_normal_user_gets_403(api_client, images, user, path):
    api_client.force_authenticate(user)
    response = api_client.get(path.format(pk=images[0].pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_normal_user_with_basic_auth_gets_403(api_client, images, user):
    token = base64.b64encode(b"alice:s3cret-passw0rd").decode()
    response = api_client.get("/api/images/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 403


def test_admin_lists_images_newest_first_and_paginated(admin_client_api, images, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 2}
    response = admin_client_api.get("/api/images/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["pk"] for item in body["results"]] == [images[2].pk, images[1].pk]
    assert body["next"].endswith("/api/images/?page=2")
    first = body["results"][0]
    assert {"pk", "image", "timestamp"} <= set(first)
    assert first["image"].startswith("http://testserver/media/images/")


def test_admin_with_basic_auth_can_list(api_client, images, admin_user):
    token = base64.b64encode(b"admin:password").decode()
    response = api_client.get("/api/images/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_admin_retrieves_one_image(admin_client_api, images):
    response = admin_client_api.get(f"/api/images/{images[0].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["pk"] == images[0].pk
    assert body["expression"] == "1+2"
    assert body["image"] == "http://testserver" + images[0].image.url


def test_missing_image_is_404(admin_client_api):
    assert admin_client_api.get("/api/images/999999/").status_code == 404


@pytest.mark.parametrize("path", ["/api/images.json", "/api/images/{pk}.json"])
def test_json_format_suffix(admin_client_api, images, path):
    response = admin_client_api.get(path.format(pk=images[0].pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/api/images.html", "/api/images/{pk}.html"])
def test_html_format_suffix_gives_the_browsable_api(admin_client, images, path):
    response = admin_client.get(path.format(pk=images[0].pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Django REST framework" in response.content


def test_browsable_api_renders_the_create_form(client):
    response = client.get("/api/images/create/", HTTP_ACCEPT="text/html")
    assert response.status_code == 405  # GET is not allowed, the page still renders
    assert b"Django REST framework" in response.content


def test_list_is_read_only(admin_client_api):
    assert admin_client_api.post("/api/images/", {}).status_code == 405
