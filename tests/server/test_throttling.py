"""The sliding-window counter throttle on its own (no HTTP)."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from rest_framework.test import APIRequestFactory

from resolver.throttling import AnonThrottle


@pytest.fixture
def rate(settings):
    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": value, "user": value},
        }

    return set_rate


def request(address: str = "10.1.1.1"):
    from rest_framework.request import Request

    return Request(APIRequestFactory().post("/", REMOTE_ADDR=address))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock) -> AnonThrottle:
    instance = AnonThrottle()
    instance.timer = clock
    return instance


def test_concurrent_requests_never_pass_more_than_the_rate(rate):
    rate("10/min")
    admitted: list[bool] = []
    start = threading.Barrier(40)

    def one() -> None:
        start.wait()
        admitted.append(AnonThrottle().allow_request(request(), None))

    threads = [threading.Thread(target=one) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 10


def test_the_previous_window_counts_while_it_slides_out(rate):
    rate("10/min")
    clock = Clock(60 * 1000 + 50.0)  # 50 s into a window
    assert all(throttle(clock).allow_request(request(), None) for _ in range(10))
    assert not throttle(clock).allow_request(request(), None)
    clock.now += 22  # 12 s into the next window: 10 * 48/60 = 8 of the 10 still count
    assert throttle(clock).allow_request(request(), None)  # 8 + 1 <= 10
    assert throttle(clock).allow_request(request(), None)  # 8 + 2 <= 10
    refused = throttle(clock)
    assert not refused.allow_request(request(), None)  # 8 + 3 > 10
    # Retry-After: until 0.3 of the old window has slid out (10 * 0.7 + 3 <= 10), 6 s.
    assert refused.wait() == pytest.approx(6.0)
    clock.now += 60  # two windows later the old count is gone
    assert throttle(clock).allow_request(request(), None)


def test_refused_requests_do_not_count(rate):
    rate("2/min")
    clock = Clock(60 * 500.0)
    results = [throttle(clock).allow_request(request(), None) for _ in range(20)]
    assert results == [True, True] + [False] * 18
    clock.now += 60 * 2 + 1
    assert throttle(clock).allow_request(request(), None)


def test_retry_after_at_the_limit_is_until_the_window_has_slid_enough(rate):
    rate("3/min")
    clock = Clock(60 * 700.0)  # the start of a window
    for _ in range(3):
        assert throttle(clock).allow_request(request(), None)
    refused = throttle(clock)
    assert not refused.allow_request(request(), None)
    # The next window starts in 60 s; there 3 * (1 - g) + 1 <= 3 once g >= 1/3 (20 s).
    assert refused.wait() == pytest.approx(80.0)


def test_each_client_has_its_own_count(rate):
    rate("1/min")
    assert AnonThrottle().allow_request(request("10.0.0.1"), None)
    assert not AnonThrottle().allow_request(request("10.0.0.1"), None)
    assert AnonThrottle().allow_request(request("10.0.0.2"), None)


def test_an_unreachable_cache_lets_requests_through(rate, monkeypatch):
    rate("1/min")

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "incr", down)
    assert all(AnonThrottle().allow_request(request(), None) for _ in range(5))


def test_no_rate_means_no_throttling(rate):
    rate(None)  # ANON_THROTTLE_RATE= (empty)
    assert all(AnonThrottle().allow_request(request(), None) for _ in range(50))
