from __future__ import annotations

from django.apps import AppConfig


class ResolverConfig(AppConfig):
    """Stores recognised images; registers checks and file-cleanup receivers."""

    name = "resolver"
    verbose_name = "Resolver"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks, the OpenAPI field extension
        # and signal receivers.
        from . import checks, schema, signals  # noqa: F401
