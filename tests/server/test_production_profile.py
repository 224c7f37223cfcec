"""The documented production profile behind HTTPS, and the Content-Security-Policy.

With the README's HTTPS settings and a real ``SECRET_KEY``, ``manage.py check
--deploy`` has nothing to say. Every answer carries a Content-Security-Policy; the
web page's is strict (no inline script or style, nothing from elsewhere) and the page
with its vendored KaTeX needs nothing more. Pages that do need inline code (Swagger
UI, the admin's and the browsable API's style attributes) get exactly that allowance.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "resolver" / "static" / "resolver"

#: The README's "Behind HTTPS" profile.
HTTPS_PROFILE = {
    "BEHIND_HTTPS_PROXY": "true",
    "SECURE_COOKIES": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "NUM_PROXIES": "1",
    "ALLOWED_HOSTS": "ocr.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL") and not k.startswith("SECURE_")
    }
    environment.update(
        {
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "ENV_FILE": "/nonexistent/.env",
            "DATABASE_URL": "sqlite:///:memory:",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=environment,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_the_https_profile_passes_check_deploy_without_a_warning():
    proc = manage("check", "--deploy", "--fail-level", "WARNING", **HTTPS_PROFILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_the_defaults_are_reported_by_check_deploy():
    proc = manage("check", "--deploy")
    found = set(re.findall(r"security\.W\d+", proc.stdout + proc.stderr))
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= found


# --- the policy -----------------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.django_db
def test_the_page_gets_a_strict_policy(client):
    csp = policy(client.get("/"))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert set(csp["img-src"]) >= {"'self'", "data:", "blob:"}  # the drawing, the photo
    assert csp["connect-src"] == ["'self'"]
    assert csp["font-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/health/", "/static/resolver/resolver.js", "/nope/"])
def test_every_answer_carries_a_policy(client, path):
    assert "script-src 'self'" in client.get(path)["Content-Security-Policy"]


class _PageParser(HTMLParser):
    """Scripts, styles, style attributes and event handlers of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = attributes
        elif tag == "style":
            self.style_elements += 1
        elif tag == "link" and "stylesheet" in (attributes.get("rel") or ""):
            self.stylesheets.append(attributes.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        script = self._in_script
        executable = script is not None and script.get("type", "text/javascript") in (
            "text/javascript",
            "module",
            "application/javascript",
        )
        if executable and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


@pytest.mark.django_db
def test_the_page_satisfies_its_policy(client):
    page = parse(client.get("/").content.decode())
    assert page.inline_scripts == []
    assert page.handlers == []
    assert page.style_attributes == []
    assert page.style_elements == 0
    assert page.scripts
    assert all(s.get("src", "").startswith("/static/") for s in page.scripts)
    assert page.stylesheets
    assert all(href.startswith("/static/") for href in page.stylesheets)


def test_the_pages_own_scripts_and_katex_need_no_eval_and_no_foreign_sources():
    script = (STATIC / "resolver.js").read_text()
    katex = (STATIC / "vendor" / "katex" / "katex.min.js").read_text()
    styles = ("resolver.css", "vendor/katex/katex.min.css")
    css = "".join((STATIC / name).read_text() for name in styles)
    for code in (script, katex):
        assert "eval(" not in code
        assert "new Function" not in code
    assert "innerHTML" not in script  # markup with style attributes would be refused
    assert 'setAttribute("style"' not in script
    assert "katex.render(" in script  # DOM rendering: KaTeX sets styles through CSSOM
    urls = re.findall(r"url\(([^)]*)\)", css)
    assert urls
    assert all(not re.match(r"['\"]?(https?:|//)", url) for url in urls)
    assert "@import" not in css


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "login"),
    [
        ("/", False),
        ("/admin/login/", False),
        ("/admin/resolver/image/", True),
        ("/api/docs/", False),
        ("/api/redoc/", False),
        ("/api-auth/login/", False),
        ("/api/images/?format=api", True),
    ],
)
def test_each_page_is_allowed_the_inline_code_it_has_and_no_more(client, admin_user, path, login):
    if login:
        client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 200
    page, csp = parse(response.content.decode()), policy(response)
    if page.inline_scripts or page.handlers:
        assert "'unsafe-inline'" in csp["script-src"], path
    if page.style_attributes or page.style_elements:
        assert "'unsafe-inline'" in csp["style-src"], path
    # Inline scripts only where a page not of ours needs them.
    scripts_allowed = path.startswith(("/api/docs/", "/api/redoc/", "/api-auth/", "/api/images/"))
    assert ("'unsafe-inline'" in csp["script-src"]) == scripts_allowed, path
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_stored_images_in_a_bucket_may_be_shown_by_the_admin():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(' '.join(s.CSP_MEDIA_SOURCES))"
    )
    env = {
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "ENV_FILE": "/nonexistent/.env",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_"))}
    for extra, expected in (
        ({}, ""),
        ({"AWS_STORAGE_BUCKET_NAME": "b"}, "https://*.amazonaws.com"),
        ({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_ENDPOINT_URL": "http://minio:9000/x"},
         "http://minio:9000"),
    ):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env={**base, **env, **extra},
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == expected
