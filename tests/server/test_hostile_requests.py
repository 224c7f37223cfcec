"""Bodies of every shape (issue 13, item 4): deep JSON, odd file names.

Each answer is a JSON error with a stable code or a normal recognition; never a 500,
and nothing is stored for a refused request.
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from resolver.models import Image
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db

URL = "/api/images/create/"
BOUNDARY = "hostile-boundary-7f3a"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def client_500() -> Client:
    """A client that answers a crash with the 500 page instead of raising it."""
    return Client(raise_request_exception=False)


def small_png() -> bytes:
    return expression_image("png", size=(60, 20))


def assert_nothing_stored(media_files, fake_recognizer) -> None:
    assert Image.objects.count() == 0
    assert media_files() == []
    assert fake_recognizer.calls == []


# --- (a) deeply nested JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 950 + "]" * 950, id="950-nested-arrays"),
        pytest.param('{"a":' * 950 + "1" + "}" * 950, id="950-nested-objects"),
        pytest.param('{"image": ' + "[" * 950 + "]" * 950 + "}", id="image-950-deep"),
        pytest.param("[" * 100_000, id="100000-unclosed-arrays"),
        pytest.param('{"image": "x", "a": ' + "[" * 40 + "]" * 40 + "}", id="40-deep"),
        pytest.param('["\\"", ' + "[{" * 20 + "}]" * 20 + "]", id="40-deep-after-escaped-quote"),
    ],
)
def test_deeply_nested_json_is_a_400_parse_error_and_stores_nothing(
    client_500, body, media_files, fake_recognizer
):
    response = client_500.post(URL, body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    answer = response.json()
    assert answer["code"] == "too_deeply_nested"
    assert answer["detail"].startswith("JSON parse error - ")
    assert "32" in answer["detail"]
    assert_nothing_stored(media_files, fake_recognizer)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("[[[[[[[[1]]]]]]]]", id="8-deep-beside-the-image"),
        pytest.param('"' + "[{" * 500 + '"', id="brackets-inside-a-string"),
        pytest.param('"\\\\", "b": ' + "[" * 30 + "]" * 30, id="31-deep-after-a-backslash"),
    ],
)
def test_json_within_the_nesting_limit_is_read_normally(
    client, extra, media_files, fake_recognizer
):
    data = small_png()
    body = '{"image": "' + data_url(data) + '", "a": ' + extra + "}"
    json.loads(body)  # the test's body is valid JSON
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 201, response.content[:200]
    assert fake_recognizer.calls == [data]


@pytest.mark.parametrize(
    "text",
    [
        '["[", "]", "\\\\", "\\"[", [[[1]]]]',
        '{"a": "\\\\\\"[[[[", "b": [{"c": [[]]}]}',
        "[[[[[]]]], [[[]]], [[[[[]]]]]]",
        '"[[[[[[["',
        "[" * 6 + "]" * 6,
        "[" * 7,
        '["' + "[" * 9 + '", ' + "[" * 5 + "]" * 5 + "]",
    ],
)
@pytest.mark.parametrize("block", [1, 2, 3, 5, 1 << 20])
def test_nesting_scan_counts_only_brackets_outside_strings(monkeypatch, text, block):
    """The scan agrees with the real depth, however the text falls into blocks."""
    from resolver import parsers

    def real_depth(value) -> int:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            return 1 + max(map(real_depth, value), default=0)
        return 0

    try:
        depth = real_depth(json.loads(text))
    except json.JSONDecodeError:  # unclosed: every bracket is open at the end
        depth = text.count("[")
    monkeypatch.setattr(parsers, "_SCAN_BLOCK", block)
    for limit in range(8):
        assert parsers.json_nesting_exceeds(text.encode(), limit) == (depth > limit), limit


def _multipart_fields(count: int) -> str:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n'
        for i in range(count)
    ]
    return "".join(parts) + f"--{BOUNDARY}--\r\n"


def _multipart_files(count: int) -> str:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n1\r\n"
        for i in range(count)
    ]
    return "".join(parts) + f"--{BOUNDARY}--\r\n"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param(
            "application/x-www-form-urlencoded", "image" + "[" * 5000 + "=1", id="form-brackets"
        ),
        pytest.param(
            "application/x-www-form-urlencoded",
            "&".join(f"a{i}=1" for i in range(2000)),
            id="form-2000-fields",
        ),
        pytest.param(MULTIPART, _multipart_fields(2000), id="multipart-2000-fields"),
        pytest.param(MULTIPART, _multipart_files(200), id="multipart-200-files"),
        pytest.param(MULTIPART, "garbage", id="multipart-garbage"),
        pytest.param("multipart/form-data", "garbage", id="multipart-without-boundary"),
    ],
)
def test_hostile_form_and_multipart_bodies_are_json_400s(
    client_500, content_type, body, media_files, fake_recognizer
):
    """Django's form and multipart parsers do not recurse; their limits answer 400."""
    response = client_500.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer.get("code") or answer.get("codes")
    assert_nothing_stored(media_files, fake_recognizer)


# --- (b) file names that are not UTF-8 -----------------------------------------------


def _upload_body(filename: bytes, data: bytes, *, boundary: str = BOUNDARY) -> bytes:
    return (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="image"; filename="'
        + filename
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize(
    "filename",
    [
        pytest.param("café.png".encode(), id="utf-8"),
        pytest.param("café.png".encode("latin-1"), id="latin-1"),
        pytest.param("写真.png".encode("shift_jis"), id="shift-jis"),
        pytest.param("写真.png".encode("gbk"), id="gbk"),
        pytest.param(b"\xff\xfe", id="only-invalid-bytes"),
        pytest.param("é".encode()[:1] + b".png", id="truncated-utf-8"),
    ],
)
def test_upload_is_recognised_whatever_the_file_name_encoding(
    client, filename, media_files, fake_recognizer
):
    data = small_png()
    response = client.generic("POST", URL, _upload_body(filename, data), content_type=MULTIPART)
    assert response.status_code == 201, response.content[:200]
    assert fake_recognizer.calls == [data]
    (stored,) = media_files()
    assert stored.read_bytes() == data
    assert stored.name.isascii() and stored.suffix == ".png"  # the client's name is not used


def test_multipart_body_split_anywhere_keeps_every_byte(client, media_files, fake_recognizer):
    """The repair reads the body in pieces; a boundary or a header split between two
    pieces must not lose or change a byte of the file."""
    from resolver.parsers import Utf8PartHeaders

    data = small_png() + b"--" + BOUNDARY.encode()[:5]  # a near-boundary inside the data
    body = _upload_body("café.png".encode("latin-1"), data)
    for size in (1, 2, 3, 7, 64, len(body)):
        stream = Utf8PartHeaders(io.BytesIO(body), BOUNDARY.encode())
        pieces = []
        while piece := stream.read(size):
            assert len(piece) <= size
            pieces.append(piece)
        repaired = b"".join(pieces)
        assert repaired == _upload_body(b"caf?.png", data), size
