"""Latency and throughput of the real server: gunicorn, N workers, loopback only.

Starts the production server (``tests.support.liveserver.serve``: gunicorn,
DEBUG off, SQLite, the shipped model), posts a 1000x250 photo-like handwritten
expression (JPEG, as a JSON data URL) from 1 and then 8 concurrent clients with
keep-alive connections, and reports p50/p95 latency and requests per second.

Usage::

    .venv-test/bin/python benchmarks/server_bench.py                  # 3 workers
    .venv-test/bin/python benchmarks/server_bench.py --workers 2 --threads 1 --requests 300

Client and server share the machine's cores, so the figures are a lower bound
for a server whose clients are elsewhere.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import data_url, expression_image  # noqa: E402
from tests.support.liveserver import serve  # noqa: E402

PATH = "/api/images/create/"


def post_loop(base_url: str, body: bytes, count: int, latencies: list, errors: list) -> None:
    """Send ``count`` requests over one keep-alive connection, recording seconds each."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    try:
        for _ in range(count):
            started = time.perf_counter()
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 201:
                errors.append((response.status, payload[:200]))
                continue
            latencies.append((elapsed, json.loads(payload).get("processing_ms")))
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    finally:
        conn.close()


def run(base_url: str, body: bytes, *, concurrency: int, requests: int) -> dict:
    """``requests`` POSTs spread over ``concurrency`` client threads."""
    per_client = max(1, requests // concurrency)
    latencies: list = []
    errors: list = []
    threads = [
        threading.Thread(target=post_loop, args=(base_url, body, per_client, latencies, errors))
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    seconds = sorted(t for t, _ in latencies)
    server_ms = [ms for _, ms in latencies if ms is not None]
    if not seconds:
        raise SystemExit(f"every request failed, e.g. {errors[:1]}")
    return {
        "concurrency": concurrency,
        "requests": len(seconds),
        "errors": len(errors),
        "p50_ms": round(1000 * statistics.median(seconds), 1),
        "p95_ms": round(1000 * seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 1),
        "max_ms": round(1000 * seconds[-1], 1),
        "req_per_s": round(len(seconds) / wall, 1),
        "recognition_p50_ms": round(statistics.median(server_ms), 1) if server_ms else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() + 1)
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
    parser.add_argument("--format", default="jpeg", choices=["jpeg", "png", "webp"])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    image = expression_image(args.format, size=(1000, 250), text="12+7x3=")
    body = json.dumps({"image": data_url(image, args.format)}).encode()
    print(
        f"image: 1000x250 {args.format}, {len(image)} bytes ({len(body)} bytes as JSON); "
        f"gunicorn: {args.workers} workers x {args.threads} threads; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ANON_THROTTLE_RATE": ""}  # measure the server, not the throttle
        with serve(Path(tmp), workers=args.workers, threads=args.threads, env=env) as base_url:
            run(base_url, body, concurrency=args.workers, requests=4 * args.workers)  # warm up
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                result = run(base_url, body, concurrency=concurrency, requests=args.requests)
                results.append(result)
                print(
                    f"{concurrency:>2} client(s): p50 {result['p50_ms']:6.1f} ms  "
                    f"p95 {result['p95_ms']:6.1f} ms  {result['req_per_s']:6.1f} req/s  "
                    f"(recognition p50 {result['recognition_p50_ms']} ms, "
                    f"{result['requests']} ok, {result['errors']} errors)"
                )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2
            )
        )
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
