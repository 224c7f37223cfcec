"""Content-Security-Policy (Django 5 has none built in): one header on every answer.

The web page, its vendored KaTeX and everything else the application serves get a
strict policy: scripts, styles, fonts and requests from this origin only, no inline
code, no ``eval``, images also from ``data:`` and ``blob:`` (the drawing, the chosen
photo) and from the media storage (``CSP_MEDIA_SOURCES``: the S3 endpoint that
presigned image URLs point at), no plugins, no framing. KaTeX renders through the DOM
(``katex.render``), setting styles through CSSOM, which a policy does not restrict.

Pages that are not ours carry inline code, and are allowed exactly that kind:

* the admin: style attributes (its templates and the image thumbnails);
* the browsable API and its login page (``/api-auth/``): an ``onclick`` handler, a
  ``<style>`` element and style attributes in DRF's templates;
* Swagger UI and Redoc (``/api/docs/``, ``/api/redoc/``): Swagger UI's configuration
  is an inline script, Redoc injects ``<style>`` elements and runs a ``blob:`` worker.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def _policy(**extra: list[str]) -> dict[str, list[str]]:
    media = list(getattr(settings, "CSP_MEDIA_SOURCES", []))
    policy = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *media],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    for directive, sources in extra.items():
        name = directive.replace("_", "-")
        policy[name] = [*policy.get(name, ["'self'"]), *sources]
    return policy


def _header(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def policies() -> dict[str, str]:
    """The header values: ``strict``, ``admin``, ``browsable`` and ``docs``."""
    inline = ["'unsafe-inline'"]
    return {
        "strict": _header(_policy()),
        "admin": _header(_policy(style_src=inline)),
        "browsable": _header(_policy(script_src=inline, style_src=inline)),
        "docs": _header(_policy(script_src=inline, style_src=inline, worker_src=["blob:"])),
    }


def policy_name(request: HttpRequest, response: HttpResponse) -> str:
    """Which policy an answer gets (see the module's docstring)."""
    path = request.path
    if path.startswith(("/api/docs/", "/api/redoc/")):
        return "docs"
    if path.startswith("/admin/"):
        return "admin"
    html = response.get("Content-Type", "").startswith("text/html")
    if path.startswith("/api-auth/") or (path.startswith("/api/") and html):
        return "browsable"
    return "strict"


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` to every answer that does not set one itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policies = policies()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = self.policies[policy_name(request, response)]
        return response
