"""``CACHE_URL=redis://...``: the anonymous rate holds across workers and servers.

Real gunicorn servers (``tests.support.liveserver.serve``) with
``ANON_THROTTLE_RATE=10/min``; 60 requests from one address (loopback), six at a
time on fresh connections, so that every worker takes some. Throttling runs before
validation, so an admitted request answers 400 (``not base64!``) and a refused one 429.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path

import pytest

from tests.support.backends import redis_cache_url
from tests.support.liveserver import serve

pytestmark = pytest.mark.slow

RATE, REQUESTS, AT_ONCE = 10, 60, 6
BODY = json.dumps({"image": "not base64!"}).encode()


def post(base_url: str) -> int:
    request = urllib.request.Request(
        base_url + "api/images/create/", data=BODY, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def burst(*base_urls: str) -> Counter:
    """``REQUESTS`` posts, alternating between the servers, ``AT_ONCE`` in flight."""
    targets = [url for url, _ in zip(cycle(base_urls), range(REQUESTS), strict=False)]
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return Counter(pool.map(post, targets))


def env(cache_url: str) -> dict[str, str]:
    # LOG_LEVEL=INFO: each worker logs when its model is loaded (see wait_for_workers).
    return {"CACHE_URL": cache_url, "ANON_THROTTLE_RATE": f"{RATE}/min", "LOG_LEVEL": "INFO"}


def wait_for_workers(server_dir: Path, workers: int, timeout: float = 120) -> None:
    """Wait until every worker has loaded its model (the server answers with the first)."""
    log = server_dir / "gunicorn.log"
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("loaded recognition model") < workers:
        assert time.monotonic() < deadline, f"not every worker started:\n{log.read_text()}"
        time.sleep(0.2)


def test_the_rate_holds_across_the_workers_of_one_server(tmp_path):
    with redis_cache_url() as cache_url, serve(tmp_path, workers=3, env=env(cache_url)) as url:
        wait_for_workers(tmp_path, 3)
        codes = burst(url)
    print(f"one server, 3 workers, shared Redis: {dict(codes)}")
    assert codes == {400: RATE, 429: REQUESTS - RATE}


def test_the_rate_holds_across_two_servers_sharing_the_cache(tmp_path):
    with (
        redis_cache_url() as cache_url,
        serve(tmp_path / "a", workers=2, env=env(cache_url)) as first,
        serve(tmp_path / "b", workers=2, env=env(cache_url)) as second,
    ):
        wait_for_workers(tmp_path / "a", 2)
        wait_for_workers(tmp_path / "b", 2)
        codes = burst(first, second)
    print(f"two servers x 2 workers, shared Redis: {dict(codes)}")
    assert codes == {400: RATE, 429: REQUESTS - RATE}


def test_without_a_shared_cache_each_worker_counts_alone(tmp_path):
    """Why CACHE_URL matters (and proof that the burst reaches several workers)."""
    with serve(tmp_path, workers=3, env=env("locmemcache://")) as url:
        wait_for_workers(tmp_path, 3)
        codes = burst(url)
    print(f"one server, 3 workers, per-process cache: {dict(codes)}")
    assert codes[400] > RATE
