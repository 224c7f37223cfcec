"""The OpenAPI schema documents every answer the API gives, with the body it has.

Each case sends a request, checks the answer, and checks that the schema lists
that status for the operation with a body schema whose required properties the
answer has. ``test_schemathesis.py`` fuzzes the real server against the same schema.
"""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator

from mathocr import ModelError
from resolver import recognition
from resolver.services import image_create
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db

CREATE = "/api/images/create/"


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def deref(schema: dict, node: dict) -> dict:
    """``node`` with its ``$ref`` (if any) followed."""
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def documented(schema: dict, path: str, method: str, status: int) -> dict:
    """The JSON body schema documented for ``status`` (asserts that it is documented)."""
    responses = schema["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path}: {status} is undocumented"
    content = responses[str(status)].get("content", {})
    return deref(schema, content.get("application/json", {}).get("schema", {}))


def conforms(schema: dict, body_schema: dict, body) -> bool:
    """Whether ``body`` has the required properties of ``body_schema`` (or of one of its
    ``oneOf`` alternatives)."""
    if "oneOf" in body_schema:
        return any(conforms(schema, deref(schema, alt), body) for alt in body_schema["oneOf"])
    if body_schema.get("type") == "object" or "properties" in body_schema:
        return isinstance(body, dict) and set(body_schema.get("required", [])) <= set(body)
    return bool(body_schema)


def check(schema, response, path: str, method: str, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    body_schema = documented(schema, path, method, status)
    assert conforms(schema, body_schema, body), (body_schema, body)
    return body


@pytest.fixture
def image(fake_recognizer):
    return image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)


@pytest.fixture
def user():
    return get_user_model().objects.create_user("carol", password="s3cret-passw0rd")


# --- list and detail: 401, 403, 404 -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"), [("/api/images/", "/api/images/"), ("/api/images/{id}/", None)]
)
def test_anonymous_401_and_non_staff_403_are_documented(
    schema, api_client, image, user, path, template
):
    url = template or f"/api/images/{image.pk}/"
    body = check(schema, api_client.get(url), path, "get", 401)
    assert body["code"] == "not_authenticated"
    api_client.force_authenticate(user)
    body = check(schema, api_client.get(url), path, "get", 403)
    assert body["code"] == "permission_denied"


def test_unknown_image_404_is_documented(schema, admin_client_api):
    response = admin_client_api.get("/api/images/999999/")
    body = check(schema, response, "/api/images/{id}/", "get", 404)
    assert body == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("page", ["0", "-1", "99", "abc", "", "last"])
def test_a_page_out_of_range_is_a_documented_404(schema, admin_client_api, image, page):
    response = admin_client_api.get("/api/images/", {"page": page})
    body = check(schema, response, "/api/images/", "get", 404)
    assert body == {"detail": "Invalid page.", "code": "not_found"}


@pytest.mark.parametrize("size", ["null", "abc", "0", "-3", "", "1.5"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_400(
    schema, admin_client_api, image, size
):
    response = admin_client_api.get("/api/images/", {"page_size": size})
    body = check(schema, response, "/api/images/", "get", 400)
    assert body["code"] == "invalid_page_size"


@pytest.mark.parametrize(("size", "count"), [("1", 1), ("100", 2), ("5000", 2)])
def test_a_good_page_size_is_used_and_capped_at_100(admin_client_api, image, fake_recognizer,
                                                     size, count):  # fmt: skip
    image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)
    response = admin_client_api.get("/api/images/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == count


def test_page_size_is_documented_as_a_positive_integer(schema):
    parameters = schema["paths"]["/api/images/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"]["type"] == "integer"
    assert page_size["schema"]["minimum"] == 1
    assert "100" in page_size["description"]


# --- delete ---------------------------------------------------------------------------


def test_delete_answers_are_documented(schema, api_client, admin_client_api, image):
    path = "/api/images/{id}/"
    body = check(schema, api_client.delete(f"/api/images/{image.pk}/"), path, "delete", 403)
    assert body["code"] == "permission_denied"
    wrong = api_client.delete(f"/api/images/{image.pk}/", HTTP_X_EDIT_TOKEN="nope")
    assert check(schema, wrong, path, "delete", 403) == body
    unknown = api_client.delete("/api/images/999999/", HTTP_X_EDIT_TOKEN=image.edit_token)
    assert check(schema, unknown, path, "delete", 403) == body  # existence does not leak
    staff_unknown = admin_client_api.delete("/api/images/999999/")
    assert check(schema, staff_unknown, path, "delete", 404)["code"] == "not_found"
    bad_login = "Basic " + base64.b64encode(b"nobody:wrong").decode()
    response = api_client.delete(f"/api/images/{image.pk}/", HTTP_AUTHORIZATION=bad_login)
    assert check(schema, response, path, "delete", 401)["code"] == "authentication_failed"
    operation = schema["paths"][path]["delete"]
    assert "204" in operation["responses"]
    assert {} in operation["security"]  # the edit token needs no login
    assert any(p["name"] == "X-Edit-Token" and p["in"] == "header" for p in operation["parameters"])


# --- create: 400 shapes, 413, 415, 422, 429, 503, 200 replay ----------------------------


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "[1, 2]"])
def test_a_json_body_that_is_not_an_object_is_a_documented_400(schema, client, body):
    response = client.post(CREATE, body, content_type="application/json")
    answer = check(schema, response, CREATE, "post", 400)
    code = "null" if body == "null" else "invalid"  # DRF: "No data provided."
    assert answer["codes"] == {"non_field_errors": [code]}


def test_malformed_json_400_is_documented(schema, client):
    response = client.post(CREATE, "{not json", content_type="application/json")
    assert check(schema, response, CREATE, "post", 400)["code"] == "parse_error"


def test_an_invalid_image_400_is_documented(schema, api_client):
    response = api_client.post(CREATE, {"image": "not base64!"}, format="json")
    assert check(schema, response, CREATE, "post", 400)["codes"] == {"image": ["invalid_base64"]}


def test_413_is_documented(schema, client, settings):
    body = '{"image": "' + "A" * (settings.REQUEST_MAX_BYTES + 10) + '"}'
    response = client.post(CREATE, body, content_type="application/json")
    assert check(schema, response, CREATE, "post", 413)["codes"] == {"image": ["too_large"]}


def test_415_is_documented(schema, client):
    response = client.post(CREATE, b"image", content_type="text/plain")
    assert check(schema, response, CREATE, "post", 415)["code"] == "unsupported_media_type"


def test_422_for_a_reused_idempotency_key_is_documented(schema, api_client):
    first = {"image": data_url(expression_image("png", size=(60, 20), text="1"))}
    other = {"image": data_url(expression_image("png", size=(60, 20), text="2"))}
    api_client.post(CREATE, first, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api_client.post(CREATE, other, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert check(schema, response, CREATE, "post", 422)["code"] == "idempotency_key_reused"
    bad = api_client.post(CREATE, first, format="json", HTTP_IDEMPOTENCY_KEY="")
    assert check(schema, bad, CREATE, "post", 400)["code"] == "invalid_idempotency_key"


def test_200_replay_is_documented_with_its_header(schema, api_client):
    payload = {"image": data_url(expression_image("png", size=(60, 20)))}
    api_client.post(CREATE, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api_client.post(CREATE, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
    body = check(schema, response, CREATE, "post", 200)
    assert "edit_token" in body
    replay = schema["paths"][CREATE]["post"]["responses"]["200"]
    assert "Idempotent-Replayed" in replay["headers"]
    parameters = schema["paths"][CREATE]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert key["in"] == "header"
    assert key["schema"]["maxLength"] == 255


def test_429_is_documented_with_retry_after(schema, api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "user": "1/min"},
    }
    api_client.post(CREATE, {"image": "x"}, format="json")
    response = api_client.post(CREATE, {"image": "x"}, format="json")
    assert check(schema, response, CREATE, "post", 429)["code"] == "throttled"
    assert "Retry-After" in schema["paths"][CREATE]["post"]["responses"]["429"]["headers"]
    for path, method in (("/api/images/", "get"), ("/api/images/{id}/", "get"),
                         ("/api/images/{id}/", "delete")):  # fmt: skip
        documented(schema, path, method, 429)


def test_503_is_documented(schema, api_client, monkeypatch):
    def broken():
        raise ModelError("missing")

    monkeypatch.setattr(recognition, "_recognizer", None)
    monkeypatch.setattr("resolver.services.get_recognizer", broken)
    payload = {"image": data_url(expression_image("png", size=(60, 20)))}
    response = api_client.post(CREATE, payload, format="json")
    assert check(schema, response, CREATE, "post", 503)["code"] == "model_unavailable"
