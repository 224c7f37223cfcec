"""The API documentation pages (Swagger UI, Redoc) name nothing outside the site.

Their scripts and styles come from drf-spectacular-sidecar, served by the site itself;
Redoc's typefaces are system fonts (drf-spectacular's own page would link Google
Fonts), and ``resolver/redoc.html`` keeps Redoc's badge logo off cdn.redoc.ly. The
browser test ``tests/e2e/test_security_policy.py`` checks the requests the pages make;
this one checks what their HTML references.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

#: Attributes that make a browser fetch something.
FETCHING = {"src", "href", "srcset", "data", "poster", "action"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if name in FETCHING and value:
                self.urls.append(value)


def _external(url: str) -> bool:
    return bool(re.match(r"^\s*([a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_page_references_no_external_url(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    parser = _References()
    parser.feed(html)
    assert parser.urls, "the page loads nothing?"
    assert [url for url in parser.urls if _external(url)] == []
    assert all(url.startswith(("/", "data:")) for url in parser.urls), parser.urls
    # nor in inline scripts and styles: no @import, fetch or font of another origin
    for host in ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com"):
        assert host not in html
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"['\"]https?://", html)


@pytest.mark.django_db
def test_redoc_uses_system_fonts_and_guards_its_badge_logo(client):
    html = client.get("/api/redoc/").content.decode()
    assert '"fontFamily": "system-ui' in html
    assert "cdn\\.redoc\\.ly" in html  # the guard that swaps the badge's logo for data:
