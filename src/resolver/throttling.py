"""Throttles that read their rate from the settings at request time.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` once at import; these read
``api_settings`` on every request, so a changed setting (or ``override_settings``
in tests) takes effect at once.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LiveRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_LiveRateMixin, AnonRateThrottle):
    """Anonymous clients, by IP (``ANON_THROTTLE_RATE``, default 6000/min)."""


class UserThrottle(_LiveRateMixin, UserRateThrottle):
    """Authenticated users, by user id (``USER_THROTTLE_RATE``)."""
