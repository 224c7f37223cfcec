"""Fixtures for the end-to-end tests: a real server and a headless Chromium.

The browser is the system Chromium (``/usr/bin/chromium``, Debian package
``chromium``), driven by Playwright's Python package; Playwright's own browser
downloads are never used. Set ``MATHOCR_E2E_URL`` to run the tests against a
server that is already running instead of starting one.

Run them with ``.venv-test/bin/pytest -m e2e``; screenshots and the API's answers go
to ``test-artifacts/e2e/``. The libraries the page and tests load (KaTeX, jQuery,
axe-core) are committed copies; ``npm ci && npm run vendor`` refreshes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # tests/conftest.py puts it on sys.path

CHROMIUM = Path(os.environ.get("MATHOCR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

#: Viewports the page is checked at: a laptop and a phone (touch, 2x pixels).
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless system Chromium for the session (skips when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run e2e tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (ending in ``/``) of a real server: gunicorn started by ``tests.support``."""
    url = os.environ.get("MATHOCR_E2E_URL")
    if url:
        yield url.rstrip("/") + "/"
        return
    try:
        from tests.support.liveserver import serve
    except ImportError as exc:  # pragma: no cover - only while the service is being built
        pytest.skip(f"tests.support.liveserver is not available: {exc}")
    served = serve(tmp_path_factory.mktemp("e2e-server"), workers=1)
    if hasattr(served, "__enter__"):
        with served as url:
            yield str(url).rstrip("/") + "/"
    else:
        yield str(served).rstrip("/") + "/"


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """Name of the viewport a test runs at (``desktop`` or ``phone``)."""
    return request.param


@pytest.fixture
def bypass_csp() -> bool:
    """Whether the browser ignores the site's Content-Security-Policy.

    Tests that inject their own tools into the page (jQuery, axe-core) as inline
    scripts, which the policy rightly refuses, parametrize this to ``True``.
    """
    return False


@pytest.fixture
def page(browser, base_url: str, viewport: str, bypass_csp: bool) -> Iterator[object]:
    """A fresh page on the site at ``viewport``.

    Fails the test on any JavaScript error, on anything the Content-Security-Policy
    refuses (unless ``bypass_csp``), on any request that leaves the site (no CDN:
    KaTeX and its fonts are served by the site itself) and on any missing static file.
    """
    context = browser.new_context(base_url=base_url, bypass_csp=bypass_csp, **VIEWPORTS[viewport])
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    missing: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(f"CSP: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    page.on(
        "request",
        lambda r: None if r.url.startswith((base_url, "data:", "blob:")) else foreign.append(r.url),
    )
    page.on(
        "response",
        lambda r: (
            missing.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/api/" not in r.url
            else None
        ),
    )
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not foreign, f"requests that left the site: {foreign}"
    assert not missing, f"failed requests: {missing}"


@pytest.fixture(scope="session")
def dev_expressions() -> dict:
    """Held-out writers' arithmetic expressions, by archive path (skips without the data).

    Loaded once a session: the archive takes a while to read on a small machine.
    """
    crohme = pytest.importorskip("training.crohme")
    archive = crohme.data_dir() / crohme.ARCHIVE_NAME
    if not archive.exists():
        pytest.skip(f"CROHME archive not found at {archive} (../shared/data is absent)")
    return {e.path: e for e in crohme.load_expressions() if crohme.is_dev(e) and e.is_arithmetic}


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots and API answers (``test-artifacts/e2e``, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
