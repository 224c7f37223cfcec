"""Throttles that hold their rate across workers and hosts sharing one cache.

DRF's own throttles keep each client's request history as a list in the cache and
write it back after reading it. With a cache shared by several workers (Redis,
``CACHE_URL=redis://...``), concurrent requests read the same history and each
writes back its own, so some requests are lost from the count: at 10/min, 14 of 60
concurrent requests from one address got through on three workers. These throttles
count with the cache's atomic ``incr`` instead (a sliding-window counter: this
window's count plus the previous window's, weighted by how much of it still lies
within the last ``duration`` seconds), so at most the rate is let through whatever
the concurrency. They also read their rate from the settings on every request
(DRF's copy ``DEFAULT_THROTTLE_RATES`` once at import), so a changed setting (or
``override_settings`` in tests) takes effect at once.

When the cache cannot be reached, requests are let through (and a warning logged):
an unreachable Redis must not take the service down.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class SlidingWindowCounterMixin(SimpleRateThrottle):
    """``allow_request``/``wait`` of a :class:`SimpleRateThrottle`, with atomic counters.

    Put first among the bases (``class T(SlidingWindowCounterMixin, AnonRateThrottle)``):
    its methods replace :class:`SimpleRateThrottle`'s, the other base gives the cache key.
    """

    num_requests: int
    duration: int
    #: Set by :meth:`allow_request` for :meth:`wait`: this window's key, the previous and
    #: this window's counts, and the fraction of this window gone by.
    current_key: str
    previous: int
    current: int
    elapsed: float

    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        # djangorestframework-stubs types the rates as numbers; they are "N/period" strings.
        return rate or None  # type: ignore[return-value]

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:  # only without a rate
            return True
        self.num_requests, self.duration = num_requests, duration
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window, into = divmod(now, self.duration)
        self.elapsed = into / self.duration
        self.current_key = f"{self.key}:{int(window)}"
        previous_key = f"{self.key}:{int(window) - 1}"
        try:
            # A key lives three windows: it is read while current and while previous.
            self.cache.add(self.current_key, 0, timeout=3 * self.duration)
            current = self.cache.incr(self.current_key)
            self.previous = self.cache.get(previous_key) or 0
        except Exception as exc:  # the cache is down: let the request through
            logger.warning("throttle cache unavailable, request let through: %s", exc)
            return True
        if self.previous * (1 - self.elapsed) + current <= self.num_requests:
            return True
        try:
            self.current = self.cache.decr(self.current_key)  # a refused request does not count
        except Exception:
            self.current = current - 1
        return False

    def wait(self) -> float:
        """Seconds until a request would be let through again (``Retry-After``)."""
        limit, duration = self.num_requests, self.duration
        previous, current, elapsed = self.previous, self.current, self.elapsed
        if current + 1 <= limit and previous:
            # Still in this window, once enough of the previous one has slid out.
            needed = 1 - (limit - 1 - current) / previous
            return max(needed - elapsed, 0.0) * duration
        # In the next window, where this window's count is the previous one.
        needed = max(0.0, 1 - (limit - 1) / current) if current and limit else 1.0
        return (1 - elapsed + needed) * duration


class AnonThrottle(SlidingWindowCounterMixin, AnonRateThrottle):
    """Anonymous clients, by IP (``ANON_THROTTLE_RATE``, default 6000/min)."""


class UserThrottle(SlidingWindowCounterMixin, UserRateThrottle):
    """Authenticated users, by user id (``USER_THROTTLE_RATE``)."""
