"""The Content-Security-Policy in a real browser: the page and KaTeX run under it.

The ``page`` fixture already fails every e2e test on a refused script, style, font
or image; these tests check that the policy is really enforced (an injected inline
script is refused), that an answer with KaTeX renders under it, and that the API
documentation pages work under theirs.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

API = "/api/images/create/"
ANSWER = {
    "pk": 1, "image": "/media/x.png", "timestamp": "2026-11-24T00:00:00Z", "width": 200,
    "height": 60, "status": "solved", "expression": "7/2", "latex": r"\frac{7}{2}",
    "result": "7/2", "result_decimal": "3.5", "verdict": None, "confidence": 0.9,
    "symbols": [], "computations": [{"name": "Result", "result": r"\frac{7}{2}"}],
    "error": None, "message": "", "model_version": "test", "processing_ms": 1.0,
    "edit_token": "t",
}  # fmt: skip


def csp_errors(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


def test_the_page_renders_an_answer_under_a_policy_that_is_enforced(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = csp_errors(page)
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=ANSWER))
    pad = page.locator("#pad").bounding_box()
    page.mouse.move(pad["x"] + 40, pad["y"] + 40)
    page.mouse.down()
    page.mouse.move(pad["x"] + 40, pad["y"] + 110, steps=5)
    page.mouse.up()
    page.click("#solve-drawing")
    page.locator("#answer .katex").first.wait_for(state="visible")
    assert page.locator("#math .katex .mfrac").count() == 1  # KaTeX drew the fraction
    page.wait_for_timeout(300)
    assert refused == []
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__injected = true"; document.body.append(s); }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__injected === undefined")
    assert len(refused) == 1
    assert "inline script" in refused[0]
    context.close()


#: A name for the server other than localhost/127.0.0.1, as a school's would be (Swagger
#: UI, for one, treats loopback addresses apart): the real server answers for it.
NAMED = "http://docs.school.example/"


@pytest.mark.parametrize("origin", ["server", "named"])
@pytest.mark.parametrize(
    ("path", "ready"),
    [("/api/docs/", ".swagger-ui .info .title"), ("/api/redoc/", "h1")],
)
def test_the_api_documentation_is_offline_under_its_policy(browser, base_url, path, ready, origin):
    """Every request of the docs pages goes to the site itself; the policy refuses nothing.

    drf-spectacular's Redoc page would ask Google Fonts for its typefaces and Redoc
    cdn.redoc.ly for its badge's logo (resolver/redoc.html keeps both away).
    """
    site = base_url if origin == "server" else NAMED
    context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))

    def answer(route):
        url = route.request.url
        if url.startswith(NAMED):
            route.fulfill(response=route.fetch(url=base_url + url.removeprefix(NAMED)))
        elif url.startswith(base_url):
            route.continue_()
        else:
            route.abort()  # still recorded above: the test fails, offline or not

    context.route("**/*", answer)
    page = context.new_page()
    refused = csp_errors(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(path)
    assert "font-src 'self';" in response.headers["content-security-policy"]
    page.locator(ready).first.wait_for(state="visible")
    assert "MathOCR resolver API" in page.locator(ready).first.inner_text()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    if path == "/api/redoc/":
        font = page.locator(ready).first.evaluate("e => getComputedStyle(e).fontFamily")
        assert font.startswith("system-ui")
        assert page.locator("img[src*='redoc.ly']").count() == 0
        assert page.get_by_text("API docs by Redocly").count() == 1  # the badge, without logo
    context.close()
    foreign = [url for url in requests if not url.startswith((site, "data:", "blob:"))]
    assert foreign == [], f"requests that left the site: {foreign}"
    assert any(url.startswith(site + "static/") for url in requests)
    assert refused == []
    assert errors == []


def test_the_sender_deletes_the_image_from_the_page(page):
    page.goto("/")
    deletes: list[dict] = []

    def answer_delete(route):
        deletes.append({"method": route.request.method, "url": route.request.url,
                        "token": route.request.headers.get("x-edit-token")})  # fmt: skip
        route.fulfill(status=204, body="")

    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=ANSWER))
    page.route("**/api/images/1/", answer_delete)
    assert page.locator("#forget").is_hidden()
    pad = page.locator("#pad").bounding_box()
    page.mouse.move(pad["x"] + 40, pad["y"] + 40)
    page.mouse.down()
    page.mouse.move(pad["x"] + 40, pad["y"] + 110, steps=5)
    page.mouse.up()
    page.click("#solve-drawing")
    page.locator("#delete-image").wait_for(state="visible")
    page.click("#delete-image")
    page.locator("#delete-status", has_text="Deleted").wait_for()
    assert deletes == [{"method": "DELETE", "url": page.url + "api/images/1/", "token": "t"}]
    assert page.locator("#delete-image").is_disabled()
