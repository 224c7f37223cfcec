"""ASGI entry point, for servers that prefer it (the shipped setup uses WSGI)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digits_operators_recognizer.settings")

application = get_asgi_application()
