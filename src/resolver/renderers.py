"""The browsable API, also under the ``.html`` format suffix."""

from __future__ import annotations

from rest_framework.renderers import BrowsableAPIRenderer


class BrowsableAPIHTMLRenderer(BrowsableAPIRenderer):
    """DRF's browsable API answering ``?format=html`` and ``/api/images.html``."""

    format = "html"
