"""WSGI entry point (``gunicorn digits_operators_recognizer.wsgi``).

Refuses to start in production (``DEBUG`` off) with the public development
``SECRET_KEY``. Wrapped in :class:`resolver.middleware.ChunkedBodyMiddleware`, so
that a chunked request body (no ``Content-Length``) reaches Django, capped.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digits_operators_recognizer.settings")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (configured by get_wsgi_application)

from resolver.middleware import ChunkedBodyMiddleware  # noqa: E402

application = ChunkedBodyMiddleware(django_application)

if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set and DEBUG is off: refusing to serve with the public "
        "development key. Set SECRET_KEY in the environment (scripts/serve does it)."
    )
