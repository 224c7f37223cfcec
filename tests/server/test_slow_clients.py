"""Slow clients (issue 13, item 3): sockets that drip a request at 1 byte/s.

With gunicorn's gthread workers each such socket held a worker thread while it
sent its request head or body, and a dozen of them made every health check time
out. The shipped worker reads requests on an event loop and hands only complete
ones to Django's threads; nginx, with the shipped deploy/nginx/mathocr.conf, reads
them completely before gunicorn sees them. Both are tested here with more slow
sockets than the server has threads, and the worker's deadlines (head, body) too.

The bounds are liveness bounds, generous on purpose: a health check answered
within 5 s; a dripping client cut off within 15 s of its deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.liveserver import free_port, serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")
SITE_CONF = ROOT / "deploy" / "nginx" / "mathocr.conf"

#: More than the server's threads (2 workers x 2 threads here, 1 x 1 behind nginx).
SLOW_HEADS = 6
SLOW_BODIES = 6
HEALTH_BOUND_S = 5.0


def _slow_requests(heads: int, bodies: int) -> list[tuple[bytes, bytes]]:
    """(sent at once, dripped) for each slow client: heads, then bodies."""
    head = b"GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 4000
    body = b'{"image": "' + b"A" * 4000 + b'"}'
    post = (
        b"POST /api/images/create/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    return [(b"", head)] * heads + [(post, body)] * bodies


class SlowClients:
    """Sockets that send their request one byte per second, from one thread."""

    def __init__(self, port: int, requests: list[tuple[bytes, bytes]]) -> None:
        self.port = port
        self.requests = requests
        self.sockets: list[socket.socket] = []
        self.sent: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self) -> SlowClients:
        for at_once, dripped in self.requests:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(at_once + dripped[:1])
            self.sockets.append(sock)
            self.sent.append(1)
            time.sleep(0.05)  # one by one, as an attacker would: every worker gets some
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()

    def _drip(self) -> None:
        while not self._stop.wait(1.0):
            for index, sock in enumerate(self.sockets):
                dripped = self.requests[index][1]
                if self.sent[index] < len(dripped):
                    try:
                        sock.send(dripped[self.sent[index] : self.sent[index] + 1])
                        self.sent[index] += 1
                    except OSError:
                        self.sent[index] = len(dripped)

    def still_open(self) -> int:
        """How many sockets the server has neither answered nor closed."""
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                count += 1
            except OSError:
                pass
            finally:
                sock.settimeout(5)
        return count


def health(base_url: str, timeout: float = HEALTH_BOUND_S) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(base_url + "api/health/", timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:  # 503: up, the model not loaded
        status = exc.code
    return status, time.monotonic() - started


def assert_health_answers_while_slow_clients_wait(base_url: str, port: int) -> None:
    requests = _slow_requests(SLOW_HEADS, SLOW_BODIES)
    with SlowClients(port, requests) as slow:
        time.sleep(1.5)  # every slow socket has been accepted and has sent a few bytes
        for _ in range(5):
            status, seconds = health(base_url)
            assert status in (200, 503)
            assert seconds < HEALTH_BOUND_S
            time.sleep(0.2)
        # the slow clients were really there the whole time, not cut off early
        assert slow.still_open() == len(requests)


# --- (a) the shipped gunicorn setup on its own ---------------------------------------


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory) -> Iterator[str]:
    env = {"GUNICORN_HEADER_TIMEOUT": "60", "GUNICORN_BODY_TIMEOUT": "60"}
    with serve(tmp_path_factory.mktemp("slow"), workers=2, threads=2, env=env) as url:
        yield url


def _port(base_url: str) -> int:
    return int(base_url.rstrip("/").rsplit(":", 1)[1])


def test_gunicorn_answers_health_checks_while_slow_clients_hold_sockets(gunicorn_url):
    assert_health_answers_while_slow_clients_wait(gunicorn_url, _port(gunicorn_url))


def test_gunicorn_still_serves_normal_requests_after_slow_clients(gunicorn_url):
    body = json.dumps({"image": "not base64!"}).encode()
    request = urllib.request.Request(
        gunicorn_url + "api/images/create/",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == 400
    assert json.loads(error.value.read())["codes"] == {"image": ["invalid_base64"]}


HEAD_TIMEOUT_S = 2
BODY_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def short_deadlines_url(tmp_path_factory) -> Iterator[str]:
    env = {
        "GUNICORN_HEADER_TIMEOUT": str(HEAD_TIMEOUT_S),
        "GUNICORN_BODY_TIMEOUT": str(BODY_TIMEOUT_S),
    }
    with serve(tmp_path_factory.mktemp("deadlines"), workers=1, threads=1, env=env) as url:
        yield url


def _answer_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed."""
    started = time.monotonic()
    sock.settimeout(seconds)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # closed with our unread bytes pending: also an end
            chunk = b""
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


@pytest.mark.parametrize("kind", ["head", "body"])
def test_a_dripping_client_is_cut_off_at_its_deadline(short_deadlines_url, kind):
    heads, bodies = (1, 0) if kind == "head" else (0, 1)
    deadline = HEAD_TIMEOUT_S if kind == "head" else BODY_TIMEOUT_S
    with SlowClients(_port(short_deadlines_url), _slow_requests(heads, bodies)) as slow:
        answer, seconds = _answer_within(slow.sockets[0], deadline + 15)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert seconds < deadline + 15
    # meanwhile the one thread of this server was free for others
    assert health(short_deadlines_url)[0] in (200, 503)


def test_an_idle_connection_is_closed_at_the_head_deadline(short_deadlines_url):
    with socket.create_connection(("127.0.0.1", _port(short_deadlines_url)), timeout=5) as sock:
        answer, _ = _answer_within(sock, HEAD_TIMEOUT_S + 15)
    assert answer == b""  # nothing sent, nothing answered: just closed


# --- (b) behind nginx with the shipped site configuration -----------------------------


def render_site(conf: str, *, listen_port: int, upstream: str, media_root: Path) -> str:
    """The shipped site file with this test's port, upstream and media folder."""
    replacements = [
        ("    listen [::]:80;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("/srv/mathocr/var/media/", f"{media_root}/"),
    ]
    for old, new in replacements:
        assert old in conf, f"{SITE_CONF.name} no longer contains {old!r}: update this test"
        conf = conf.replace(old, new)
    return conf


def main_conf(prefix: Path) -> str:
    """A minimal nginx.conf around the site file (what /etc/nginx/nginx.conf provides)."""
    mime_types = Path("/etc/nginx/mime.types")
    return "\n".join(
        [
            "daemon off;",
            "worker_processes 1;",
            f"pid {prefix}/nginx.pid;",
            f"error_log {prefix}/error.log warn;",
            # as root, workers would run as nobody and not read the pytest folders
            "user root;" if os.geteuid() == 0 else "",
            "events { worker_connections 256; }",
            "http {",
            f"    include {mime_types};" if mime_types.exists() else "",
            "    default_type application/octet-stream;",
            "    access_log off;",
            *(
                f"    {kind}_temp_path {prefix}/{kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            f"    include {prefix}/mathocr.conf;",
            "}",
            "",
        ]
    )


@contextmanager
def nginx(prefix: Path, *, upstream: str, media_root: Path) -> Iterator[str]:
    """Run nginx in the foreground with the shipped site file; always stop it."""
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = render_site(
        SITE_CONF.read_text(), listen_port=port, upstream=upstream, media_root=media_root
    )
    (prefix / "mathocr.conf").write_text(site)
    (prefix / "nginx.conf").write_text(main_conf(prefix))
    command = [str(NGINX), "-p", str(prefix), "-e", str(prefix / "error.log")]
    command += ["-c", str(prefix / "nginx.conf")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    log = (prefix / "nginx.out").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (prefix / "error.log").read_text(errors="replace")
            try:
                health(base_url)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                assert time.monotonic() < deadline, "nginx did not answer within 30 s"
                time.sleep(0.1)
        yield base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    if not NGINX.exists():
        pytest.skip(f"{NGINX} not found: install Debian's nginx-light (.ci/run does) to run it")
    root = tmp_path_factory.mktemp("proxied")
    env = {"NUM_PROXIES": "1", "SERVE_MEDIA": "false"}
    # The fewest threads there can be: nginx alone has to keep the slow clients away.
    with serve(root / "app", workers=1, threads=1, env=env) as app_url:
        upstream = app_url.removeprefix("http://").rstrip("/")
        with nginx(root / "nginx", upstream=upstream, media_root=root / "app" / "media") as url:
            yield url, root / "app" / "media"


def test_nginx_answers_health_checks_while_slow_clients_hold_sockets(proxied):
    base_url, _ = proxied
    assert_health_answers_while_slow_clients_wait(base_url, _port(base_url))


def test_nginx_refuses_a_body_over_the_cap_like_the_application(proxied):
    base_url, _ = proxied
    with socket.create_connection(("127.0.0.1", _port(base_url)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/images/create/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 14046551\r\n\r\n"
        )  # one byte over REQUEST_MAX_BYTES, and no body: nginx answers from the length
        sock.shutdown(socket.SHUT_WR)  # nothing follows (nginx need not linger for the body)
        answer, _ = _answer_within(sock, 10)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"application/json" in head
    assert json.loads(body)["codes"] == {"image": ["too_large"]}


def test_nginx_passes_a_body_at_the_cap_to_the_application(proxied):
    base_url, _ = proxied
    from django.conf import settings

    body = b'{"image": "' + b"A" * (settings.REQUEST_MAX_BYTES - 14) + b'"}'
    assert len(body) == settings.REQUEST_MAX_BYTES - 1
    request = urllib.request.Request(
        base_url + "api/images/create/", data=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code in (400, 413)
    assert "codes" in json.loads(error.value.read())
    assert error.value.headers["X-Frame-Options"] == "DENY"  # the application's answer


def test_nginx_serves_media_and_proxies_static_files(proxied):
    base_url, media_root = proxied
    stored = media_root / "images" / "slow-clients-test.png"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with urllib.request.urlopen(base_url + "media/images/slow-clients-test.png") as response:
        assert response.read() == stored.read_bytes()
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    with urllib.request.urlopen(base_url + "admin/login/", timeout=30) as response:
        html = response.read().decode()
    css = html.split('href="/static/admin/css/base.', 1)[1].split('"', 1)[0]
    with urllib.request.urlopen(base_url + "static/admin/css/base." + css) as response:
        assert response.status == 200
        assert "immutable" in response.headers["Cache-Control"]  # whitenoise's, through nginx


def test_the_site_file_matches_the_application_cap():
    from django.conf import settings

    conf = SITE_CONF.read_text()
    assert f"client_max_body_size {settings.REQUEST_MAX_BYTES};" in conf
    assert f"at most {settings.REQUEST_MAX_BYTES} bytes" in conf
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert f"    {directive} " in conf
    assert "proxy_request_buffering on;" in conf
