"""Bodies of every shape (issue 13, item 4): deep JSON, odd file names, chunked bodies.

Each answer is a JSON error with a stable code or a normal recognition; never a 500,
and nothing is stored for a refused request.
"""

from __future__ import annotations

import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from resolver.models import Image
from tests.support.images import data_url, expression_image
from tests.support.liveserver import serve

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
    assert stored.name.isascii()  # the client's name is not used
    assert stored.suffix == ".png"


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


# --- (c) chunked bodies (Transfer-Encoding: chunked, no Content-Length) ---------------


class CountingStream(io.RawIOBase):
    """An endless (or fixed) body that counts what was read from it."""

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.data is None:  # endless
            size = 64 * 1024 if size is None or size < 0 else size
            self.position += size
            return b"A" * size
        end = len(self.data) if size is None or size < 0 else self.position + size
        piece = self.data[self.position : end]
        self.position += len(piece)
        return piece


def chunked_environ(body: io.RawIOBase, content_type: str, *, path: str = URL) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": content_type,
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


@pytest.fixture
def django_wsgi() -> Iterator:
    """The project's Django WSGI handler wrapped as wsgi.py wraps it, in this process.

    Like Django's test client, it keeps the test's database connection open across
    the request (``close_old_connections`` would close it inside the test's transaction).
    """
    from resolver.middleware import ChunkedBodyMiddleware

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    app = ChunkedBodyMiddleware(WSGIHandler())

    def call(environ: dict) -> tuple[int, dict, bytes]:
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(headers)

        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return answer["status"], answer["headers"], body

    yield call
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_chunked_body_is_read_and_recognised(django_wsgi, kind, media_files, fake_recognizer):
    data = small_png()
    if kind == "json":
        content_type, body = "application/json", json.dumps({"image": data_url(data)}).encode()
    elif kind == "form":
        content_type = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode({"image": data_url(data)}).encode()
    else:
        content_type, body = MULTIPART, _upload_body(b"a.png", data)
    status, _, answer = django_wsgi(chunked_environ(CountingStream(body), content_type))
    assert status == 201, answer[:200]
    assert fake_recognizer.calls == [data]
    assert len(media_files()) == 1


def test_chunked_body_above_the_cap_is_413_without_buffering_it(
    django_wsgi, settings, media_files, fake_recognizer
):
    from resolver.middleware import DISCARD_LIMIT

    settings.REQUEST_MAX_BYTES = 10_000
    seen = {}

    class Spy(CountingStream):
        def read(self, size=-1):
            piece = super().read(size)
            seen["largest read"] = max(seen.get("largest read", 0), len(piece))
            return piece

    endless = Spy()
    status, _, answer = django_wsgi(chunked_environ(endless, "application/json"))
    assert status == 413
    assert json.loads(answer)["codes"] == {"image": ["too_large"]}
    # Read and thrown away up to the discard limit (so the client gets the answer),
    # in bounded pieces, never all of it.
    assert DISCARD_LIMIT <= endless.position <= DISCARD_LIMIT + 64 * 1024
    assert seen["largest read"] <= 64 * 1024
    assert_nothing_stored(media_files, fake_recognizer)


def test_chunked_body_just_within_the_cap_is_read(django_wsgi, settings, fake_recognizer):
    data = small_png()
    body = json.dumps({"image": data_url(data)}).encode()
    settings.REQUEST_MAX_BYTES = len(body)
    status, _, answer = django_wsgi(chunked_environ(CountingStream(body), "application/json"))
    assert status == 201, answer[:200]
    settings.REQUEST_MAX_BYTES = len(body) - 1
    status, _, answer = django_wsgi(chunked_environ(CountingStream(body), "application/json"))
    assert status == 413


def test_middleware_leaves_requests_with_a_length_alone():
    from resolver.middleware import ChunkedBodyMiddleware

    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    body = io.BytesIO(b"{}")
    environ = chunked_environ(body, "application/json")
    del environ["HTTP_TRANSFER_ENCODING"]
    environ["CONTENT_LENGTH"] = "2"
    ChunkedBodyMiddleware(app)(environ, lambda *args: None)
    assert seen["wsgi.input"] is body
    assert seen["CONTENT_LENGTH"] == "2"
    # a server that does not promise an end of input is not read to the end either
    seen.clear()
    environ = chunked_environ(body, "application/json")
    environ["wsgi.input_terminated"] = False
    ChunkedBodyMiddleware(app)(environ, lambda *args: None)
    assert seen["wsgi.input"] is body
    assert "CONTENT_LENGTH" not in seen


# --- (c) through the real server (gunicorn) ------------------------------------------

#: The live server's image limit, small so that the over-the-cap body stays small.
LIVE_IMAGE_MAX_BYTES = 100_000


@pytest.fixture(scope="module")
def live_url(tmp_path_factory) -> Iterator[str]:
    env = {"IMAGE_MAX_BYTES": str(LIVE_IMAGE_MAX_BYTES), "ANON_THROTTLE_RATE": ""}
    with serve(tmp_path_factory.mktemp("chunked"), workers=1, env=env) as url:
        yield url


def post_chunked(base_url: str, path: str, pieces: list[bytes], content_type: str):
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        connection.request(
            "POST", path, body=iter(pieces), headers={"Content-Type": content_type}
        )  # an iterable body without a length: http.client sends it chunked
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.slow
def test_chunked_bodies_through_gunicorn(live_url):
    # The body reaches the parser: an invalid image is named as such, not 'required'.
    body = json.dumps({"image": "not base64!"}).encode()
    status, answer = post_chunked(live_url, URL, [body[:7], body[7:]], "application/json")
    assert (status, json.loads(answer)["codes"]) == (400, {"image": ["invalid_base64"]})

    # Above the request cap (4/3 of the image limit plus 64 KiB): 413, nothing stored.
    pieces = [b'{"image": "'] + [b"A" * 50_000] * 8 + [b'"}']
    status, answer = post_chunked(live_url, URL, pieces, "application/json")
    assert (status, json.loads(answer)["codes"]) == (413, {"image": ["too_large"]})

    try:
        with urllib.request.urlopen(live_url + "api/health/", timeout=30) as response:
            model_ready = json.load(response)["model"]["ok"]
    except urllib.error.HTTPError:  # 503: the model could not be loaded
        model_ready = False
    if not model_ready:
        pytest.skip("the recognition model is not available")
    image = expression_image("png", size=(300, 80), text="2+3")
    body = json.dumps({"image": data_url(image)}).encode()
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    status, answer = post_chunked(live_url, URL, pieces, "application/json")
    assert status == 201, answer[:300]
    assert json.loads(answer)["width"] == 300
