"""POST /api/images/create/: every accepted input form, every rejected one."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mathocr import ModelError
from resolver import recognition
from resolver.models import Image
from tests.support.images import (
    b64,
    blank_image,
    data_url,
    expression_image,
    transparent_canvas_png,
)

pytestmark = pytest.mark.django_db

URL = "/api/images/create/"
FORMATS = ["png", "jpeg", "webp", "gif"]
NAME = re.compile(r"^images/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.(png|jpg|webp|gif)$")


def small(fmt: str = "png") -> bytes:
    return expression_image(fmt, size=(200, 60), text="1+2")


def assert_created(response, media_files, fake_recognizer, data: bytes) -> dict:
    assert response.status_code == 201, response.content
    body = response.json()
    image = Image.objects.get(pk=body["pk"])
    assert NAME.match(image.image.name), image.image.name
    files = media_files()
    assert len(files) == 1
    assert files[0].read_bytes() == data
    assert fake_recognizer.calls == [data]
    assert body["image"].startswith("http://testserver/media/images/")
    assert body["image"].endswith(image.image.name.rsplit("/", 1)[1])
    return body


# --- accepted inputs ------------------------------------------------------------------


def test_json_data_url_is_recognised_and_stored(api_client, media_files, fake_recognizer):
    data = small()
    response = api_client.post(URL, {"image": data_url(data)}, format="json")
    body = assert_created(response, media_files, fake_recognizer, data)
    assert body["status"] == "solved"
    assert body["expression"] == "1+2"
    assert body["result"] == "3"
    assert body["symbols"][0] == {
        "symbol": "1",
        "confidence": 0.95,
        "box": [10, 10, 20, 40],
        "alternatives": [{"symbol": "7", "confidence": 0.03}],
    }
    assert body["computations"] == [{"name": "Result", "result": "3"}]
    assert body["steps"] == ["1 + 2", "3"]
    assert body["model_version"] == "fake-1"
    assert body["processing_ms"] >= 0
    assert (body["width"], body["height"]) == (200, 60)
    expected = {
        "pk", "image", "timestamp", "width", "height", "status", "expression", "latex",
        "result", "result_decimal", "verdict", "confidence", "symbols", "computations",
        "steps", "error", "message", "model_version", "processing_ms", "edit_token",
    }  # fmt: skip
    assert set(body) == expected


def test_json_bare_base64_is_accepted(api_client, media_files, fake_recognizer):
    data = small()
    response = api_client.post(URL, {"image": b64(data)}, format="json")
    assert_created(response, media_files, fake_recognizer, data)


def test_jquery_form_encoded_post_is_accepted(client, media_files, fake_recognizer):
    data = small()
    body = urlencode({"image": data_url(data)})  # jQuery.param percent-encodes '+', '/', '='
    response = client.post(
        URL, body, content_type="application/x-www-form-urlencoded; charset=UTF-8"
    )
    assert_created(response, media_files, fake_recognizer, data)


def test_form_post_with_unescaped_plus_signs_is_repaired(client, media_files, fake_recognizer):
    data = small()
    encoded = data_url(data)
    assert "+" in encoded
    body = "image=" + encoded  # a careless client: '+' arrives as ' '
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert_created(response, media_files, fake_recognizer, data)


def test_multipart_file_upload_is_accepted(api_client, media_files, fake_recognizer):
    data = small("jpeg")
    upload = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
    response = api_client.post(URL, {"image": upload}, format="multipart")
    body = assert_created(response, media_files, fake_recognizer, data)
    assert body["image"].endswith(".jpg")
    assert "photo" not in body["image"]  # the client's file name is never used


def test_multipart_base64_text_field_is_accepted(api_client, media_files, fake_recognizer):
    data = small()
    response = api_client.post(URL, {"image": data_url(data)}, format="multipart")
    assert_created(response, media_files, fake_recognizer, data)


@pytest.mark.parametrize("separator", ["\n", "\r\n", " ", "\t"])
def test_whitespace_and_line_breaks_in_base64_are_ignored(
    api_client, media_files, fake_recognizer, separator
):
    data = small()
    encoded = b64(data)
    wrapped = separator.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    response = api_client.post(
        URL, {"image": f"  data:image/png;base64,{wrapped}\n"}, format="json"
    )
    assert_created(response, media_files, fake_recognizer, data)


def test_url_without_trailing_slash_works_too(api_client, media_files, fake_recognizer):
    data = small()
    response = api_client.post(URL.rstrip("/"), {"image": data_url(data)}, format="json")
    assert_created(response, media_files, fake_recognizer, data)


def test_base64_without_padding_and_urlsafe_alphabet_is_accepted(
    api_client, media_files, fake_recognizer
):
    data = small()
    encoded = base64.urlsafe_b64encode(data).decode().rstrip("=")
    response = api_client.post(URL, {"image": encoded}, format="json")
    assert_created(response, media_files, fake_recognizer, data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_supported_format_is_accepted(api_client, media_files, fake_recognizer, fmt):
    data = small(fmt)
    response = api_client.post(URL, {"image": data_url(data, fmt)}, format="json")
    body = assert_created(response, media_files, fake_recognizer, data)
    extension = {"jpeg": "jpg"}.get(fmt, fmt)
    assert body["image"].endswith("." + extension)


def test_declared_type_is_not_trusted_bytes_decide(api_client, media_files, fake_recognizer):
    data = small("jpeg")
    response = api_client.post(URL, {"image": data_url(data, "png")}, format="json")
    body = assert_created(response, media_files, fake_recognizer, data)
    assert body["image"].endswith(".jpg")


def test_transparent_canvas_png_is_accepted(api_client, media_files, fake_recognizer):
    data = transparent_canvas_png()
    response = api_client.post(URL, {"image": data_url(data)}, format="json")
    assert_created(response, media_files, fake_recognizer, data)


def test_stored_file_is_served_at_the_returned_url(api_client, fake_recognizer):
    data = small()
    body = api_client.post(URL, {"image": data_url(data)}, format="json").json()
    path = body["image"].removeprefix("http://testserver")
    response = api_client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data


def test_create_needs_no_csrf_token_even_with_a_session(admin_user, media_files):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(URL, {"image": data_url(small())}, content_type="application/json")
    assert response.status_code == 201, response.content


# --- rejected inputs: 400, a clear JSON error, nothing stored -----------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims 400 million pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
BAD_INPUTS = {
    "missing": ({}, "required"),
    "null": ({"image": None}, "null"),
    "empty string": ({"image": ""}, "blank"),
    "only whitespace": ({"image": "  \n "}, "blank"),
    "empty data url": ({"image": "data:image/png;base64,"}, "blank"),
    "number": ({"image": 12}, "invalid"),
    "object": ({"image": {"data": "x"}}, "invalid"),
    "not base64": ({"image": "this is not base64!"}, "invalid_base64"),
    "bad length": ({"image": "QUJDRA" + "A" * 3}, "invalid_base64"),
    "data url without comma": ({"image": "data:image/png;base64"}, "invalid_base64"),
    "two headers": (
        {"image": "data:image/png;base64,data:image/png;base64," + b64(b"\x89PNG")},
        "multiple_headers",
    ),
    "svg data url": ({"image": "data:image/svg+xml;base64," + b64(SVG)}, "unsupported_type"),
    "pdf data url": (
        {"image": "data:application/pdf;base64," + b64(b"%PDF-1.4\n%...")},
        "unsupported_type",
    ),
    "text data url": ({"image": "data:text/plain;base64," + b64(b"12+7")}, "unsupported_type"),
    "percent-encoded data url": ({"image": "data:image/png,%89PNG"}, "not_base64_data_url"),
    "svg bytes as png": ({"image": "data:image/png;base64," + b64(SVG)}, "unsupported_type"),
    "plain text bytes": ({"image": b64(b"hello world, 12 + 7 = 19")}, "unsupported_type"),
    "bmp bytes": ({"image": b64(b"BM" + b"\0" * 60)}, "unsupported_type"),
    "truncated png": (
        {"image": b64(expression_image("png", size=(200, 60))[:-200])},
        "corrupt",
    ),
    "truncated jpeg": (
        {"image": b64(expression_image("jpeg", size=(200, 60))[:600])},
        "corrupt",
    ),
    "png header only": ({"image": b64(b"\x89PNG\r\n\x1a\n")}, "corrupt"),
    "decompression bomb": ({"image": b64(bomb_png())}, "too_many_pixels"),
}


@pytest.mark.parametrize(("payload", "code"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_refused_and_nothing_is_stored(
    api_client, media_files, fake_recognizer, payload, code
):
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["image"], list)
    assert body["image"]
    assert all(isinstance(message, str) and message for message in body["image"])
    assert body["codes"] == {"image": [code]}
    assert Image.objects.count() == 0
    assert media_files() == []
    assert fake_recognizer.calls == []


def test_image_above_the_byte_limit_is_refused(api_client, settings, media_files, fake_recognizer):
    settings.IMAGE_MAX_BYTES = 1000
    data = expression_image("png", size=(300, 100))
    assert len(data) > 1000
    response = api_client.post(URL, {"image": data_url(data)}, format="json")
    assert response.status_code == 400
    assert response.json()["codes"] == {"image": ["too_large"]}
    assert "1000 bytes" in response.json()["image"][0]
    assert Image.objects.count() == 0
    assert media_files() == []


def test_uploaded_file_above_the_byte_limit_is_refused(api_client, settings, media_files):
    settings.IMAGE_MAX_BYTES = 1000
    upload = SimpleUploadedFile("a.png", expression_image("png", size=(300, 100)))
    response = api_client.post(URL, {"image": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["codes"] == {"image": ["too_large"]}
    assert Image.objects.count() == 0
    assert media_files() == []


def test_pixel_limit_is_configurable(api_client, settings, media_files):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    data = expression_image("png", size=(200, 60))
    response = api_client.post(URL, {"image": b64(data)}, format="json")
    assert response.status_code == 400
    assert response.json()["codes"] == {"image": ["too_many_pixels"]}
    assert Image.objects.count() == 0
    assert media_files() == []


def test_request_body_above_the_cap_is_refused_before_parsing(
    client, settings, media_files, fake_recognizer
):
    settings.REQUEST_MAX_BYTES = 2000
    body = '{"image": "' + "A" * 5000 + '"}'
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["codes"] == {"image": ["too_large"]}
    assert Image.objects.count() == 0
    assert media_files() == []


def test_malformed_json_is_a_400_json_error(client, media_files):
    response = client.post(URL, '{"image": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert Image.objects.count() == 0
    assert media_files() == []


def test_unsupported_content_type_is_415(client, media_files):
    response = client.post(URL, "image=abc", content_type="text/plain")
    assert response.status_code == 415
    assert Image.objects.count() == 0
    assert media_files() == []


def test_get_is_not_allowed_on_create(api_client):
    assert api_client.get(URL, HTTP_ACCEPT="application/json").status_code == 405


def test_unavailable_model_is_503_and_stores_nothing(api_client, monkeypatch, media_files):
    def broken():
        raise ModelError("model file missing")

    monkeypatch.setattr(recognition, "get_recognizer", broken)
    monkeypatch.setattr("resolver.services.get_recognizer", broken)
    response = api_client.post(URL, {"image": data_url(small())}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "model_unavailable"
    assert Image.objects.count() == 0
    assert media_files() == []


def test_valid_image_without_handwriting_is_created(api_client, real_recognizer, media_files):
    response = api_client.post(URL, {"image": data_url(blank_image())}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "unreadable"
    assert body["result"] is None
    assert Image.objects.filter(pk=body["pk"]).exists()
    assert len(media_files()) == 1


# --- the comma convention -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "asked"),
    [({}, None), ({"comma": "thousands"}, "thousands"), ({"comma": "decimal"}, "decimal")],
)
def test_the_comma_convention_is_passed_to_the_recogniser(
    api_client, media_files, fake_recognizer, sent, asked
):
    data = small()
    response = api_client.post(URL, {"image": data_url(data), **sent}, format="json")
    assert_created(response, media_files, fake_recognizer, data)
    assert fake_recognizer.commas == [asked]


def test_an_unknown_comma_convention_is_refused_and_nothing_is_stored(
    api_client, media_files, fake_recognizer
):
    response = api_client.post(
        URL, {"image": data_url(small()), "comma": "semicolon"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["codes"] == {"comma": ["invalid_choice"]}
    assert fake_recognizer.calls == []
    assert media_files() == []
    assert Image.objects.count() == 0
