"""System checks: refuse to run in production with the development secret key."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def check_secret_key(app_configs, **kwargs) -> list[Error]:
    """``resolver.E001``: DEBUG is off but SECRET_KEY is the public development key."""
    insecure = getattr(settings, "INSECURE_SECRET_KEY", None)
    if not settings.DEBUG and insecure and insecure == settings.SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the public development key but DEBUG is off.",
                hint="Set SECRET_KEY in the environment (scripts/serve generates one).",
                id="resolver.E001",
            )
        ]
    return []
