"""OpenAPI schema and documentation pages, health endpoint, the index page."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

import mathocr
from mathocr import ModelError
from resolver import recognition


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")


def test_schema_documents_the_base64_image_field(schema):
    request = schema["components"]["schemas"]["ImageCreateInputRequest"]
    field = request["properties"]["image"]
    assert field["type"] == "string"
    assert "data URL" in field["description"]
    assert field["example"].startswith("data:image/png;base64,iVBOR")
    assert re.fullmatch(field["pattern"], field["example"])
    assert re.fullmatch(field["pattern"], field["example"].split(",", 1)[1])
    assert request["required"] == ["image"]
    response = schema["components"]["schemas"]["Image"]["properties"]["image"]
    assert response["format"] == "uri"
    assert response["readOnly"] is True
    assert "ImageCreateInputRequest" in str(
        schema["paths"]["/api/images/create/"]["post"]["requestBody"]
    )


def test_schema_documents_symbols_with_boxes_and_alternatives(schema):
    image = schema["components"]["schemas"]["Image"]["properties"]
    assert image["symbols"]["items"]["$ref"].endswith("/Symbol")
    symbol = schema["components"]["schemas"]["Symbol"]["properties"]
    assert {"symbol", "confidence", "box", "alternatives"} <= set(symbol)
    assert (symbol["box"]["minItems"], symbol["box"]["maxItems"]) == (4, 4)
    assert image["computations"]["items"]["$ref"].endswith("/Computation")


def test_schema_documents_create_with_examples_and_errors(schema):
    operation = schema["paths"]["/api/images/create/"]["post"]
    content = operation["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
    assert "examples" in content["application/json"]
    assert {"201", "400", "413", "429", "503"} <= set(operation["responses"])
    assert operation["security"] == [{}]  # no authentication needed
    created = operation["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/ImageCreated")
    assert "examples" in created


def test_every_endpoint_is_documented_once(schema):
    assert sorted(schema["paths"]) == [
        "/api/health/",
        "/api/images/",
        "/api/images/create/",
        "/api/images/{id}/",
        "/api/images/{id}/correction/",
    ]
    assert "get" in schema["paths"]["/api/images/"]
    assert "get" in schema["paths"]["/api/images/{id}/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_documentation_pages_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.django_db
def test_docs_pages_load_their_assets_locally(client):
    html = client.get("/api/docs/").content.decode() + client.get("/api/redoc/").content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn.jsdelivr.net" not in html
    assert "unpkg.com" not in html


@pytest.mark.django_db
def test_health_is_200_when_database_and_model_are_ready(client):
    response = client.get("/api/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == mathocr.__version__
    assert body["database"]["ok"] is True
    assert body["model"] == {"ok": True, "version": "fake-1", "line_model": None}


def test_the_schema_carries_the_package_version(schema):
    assert schema["info"]["version"] == mathocr.__version__


@pytest.mark.django_db
def test_health_is_503_when_the_model_cannot_load(client, monkeypatch):
    def broken():
        raise ModelError("missing")

    monkeypatch.setattr(recognition, "_recognizer", None)
    monkeypatch.setattr(recognition, "get_recognizer", broken)
    response = client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["model"]["ok"] is False
    assert body["database"]["ok"] is True


@pytest.mark.django_db
def test_health_is_503_when_the_database_fails(client, monkeypatch):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(type(connection._connections["default"]), "cursor", broken_cursor)
    response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


@pytest.mark.django_db
def test_index_page_renders_the_web_page_template(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "resolver/index.html" in [t.name for t in response.templates]


def test_schema_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/images/create/" in out.read_text()
