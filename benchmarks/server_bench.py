"""Latency and throughput of the real server against the recognition core, in one run.

Starts the production server (``tests.support.liveserver.serve``: gunicorn with
``gunicorn_conf.py``, DEBUG off, SQLite, the shipped model), posts a 1000x250
photo-like handwritten expression (JPEG, as a JSON data URL) from 1 and then 8
concurrent clients with keep-alive connections, and reports p50/p95 latency,
requests per second and each worker's memory. In the same run it measures the
recognition core alone on the same image: its median on one core and its
throughput with one process per core (each one thread, as the workers run it).
The targets are ratios of the two:

* throughput at 8 clients >= 70 % of the core's throughput;
* p50 at one client <= 1.3x the core's median;
* memory per worker < 150 MB (after the run; resident, proportional and unique
  memory are reported: workers share the libraries and, preloaded, Django's pages);
* a 12 MP phone JPEG through the API: p50 <= 150 ms (``--phone``).

``--baseline DIR`` serves another checkout of the project (``git worktree add
/tmp/old <commit>``) in the same run, alternating with this one for ``--rounds``
rounds, so that two versions are compared on the same machine state.

Usage::

    .venv-test/bin/python benchmarks/server_bench.py                       # 2 workers x 2
    .venv-test/bin/python benchmarks/server_bench.py --phone --rounds 3 --baseline /tmp/old

Client and server share the machine's cores, so the server figures are a lower
bound for a server whose clients are elsewhere.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
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
for _path in (ROOT, ROOT / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.support.images import data_url, encode, expression_array, expression_image  # noqa: E402
from tests.support.liveserver import serve, worker_pids  # noqa: E402

PATH = "/api/images/create/"


def post_loop(base_url: str, body: bytes, count: int, latencies: list, errors: list) -> None:
    """Send ``count`` requests over one keep-alive connection, recording seconds each."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
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
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
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
        "p50_ms": round(1000 * statistics.median(seconds), 2),
        "p95_ms": round(1000 * seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 2),
        "req_per_s": round(len(seconds) / wall, 1),
        "recognition_p50_ms": round(statistics.median(server_ms), 2) if server_ms else None,
    }


def memory_mb(pid: int) -> dict[str, float]:
    """A process's memory in MB: resident (``rss``), its fair share of pages shared with
    other processes (``pss``) and the pages only it holds (``uss``), from smaps_rollup."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return {
        "rss": round(fields["Rss"] / 1024, 1),
        "pss": round(fields["Pss"] / 1024, 1),
        "uss": round(uss / 1024, 1),
    }


def _core_worker(args: tuple[bytes, int, float]) -> list[float]:
    """In a fresh process: load the recognizer, then time ``runs`` recognitions."""
    data, runs, start_at = args
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    from mathocr import Recognizer

    cv2.setNumThreads(1)  # as gunicorn_conf.post_worker_init does (MATHOCR_THREADS)

    recognizer = Recognizer(threads=1)
    recognizer(data)  # warm up
    while time.time() < start_at:  # every process starts its loop together
        time.sleep(0.005)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        recognizer(data)
        times.append(time.perf_counter() - started)
    return times


def core(data: bytes, *, processes: int, runs: int) -> dict:
    """The core alone: median of one process, throughput of ``processes`` side by side."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        alone = pool.map(_core_worker, [(data, runs, 0.0)])[0]
    with context.Pool(processes) as pool:
        start_at = time.time() + 3.0  # after every process has loaded its model
        together = pool.map(_core_worker, [(data, runs, start_at)] * processes)
    busy = max(sum(times) for times in together)
    return {
        "median_ms": round(1000 * statistics.median(alone), 2),
        "processes": processes,
        "req_per_s": round(processes * runs / busy, 1),
    }


def phone_image() -> bytes:
    """A 4000x3000 (12 MP) photo-like JPEG of a handwritten sum, as phones send them."""
    array = expression_array("12+7x3=", size=(4000, 3000), seed=3)
    return encode(array, "jpeg", quality=90)


def serve_and_measure(
    root: Path, body: bytes, phone_body: bytes | None, args: argparse.Namespace
) -> dict:
    """One server from ``root``: warm up, each concurrency, worker memory, the phone image."""
    out: dict = {"root": str(root), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ANON_THROTTLE_RATE": "", **dict(args.env)}  # the server, not the throttle
        with serve(
            Path(tmp), workers=args.workers, threads=args.threads, env=env, root=root
        ) as base_url:
            run(base_url, body, concurrency=args.workers, requests=8 * args.workers)  # warm up
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                out["runs"].append(
                    run(base_url, body, concurrency=concurrency, requests=args.requests)
                )
            out["worker_mb"] = [memory_mb(pid) for pid in worker_pids(base_url)]
            if phone_body is not None:
                out["phone"] = run(base_url, phone_body, concurrency=1, requests=args.phone_n)
    return out


def summary(name: str, rounds: list[dict], cores: list[dict]) -> dict:
    """Medians over rounds, and the ratios to the core measured in the same rounds."""
    core_median = statistics.median(c["median_ms"] for c in cores)
    core_rps = statistics.median(c["req_per_s"] for c in cores)
    out: dict = {"name": name}
    for i, first in enumerate(rounds[0]["runs"]):
        runs = [r["runs"][i] for r in rounds]
        c = first["concurrency"]
        out[f"p50_ms@{c}"] = round(statistics.median(r["p50_ms"] for r in runs), 2)
        out[f"req_per_s@{c}"] = round(statistics.median(r["req_per_s"] for r in runs), 1)
        out[f"p50_vs_core@{c}"] = round(out[f"p50_ms@{c}"] / core_median, 2)
        out[f"throughput_vs_core@{c}"] = round(out[f"req_per_s@{c}"] / core_rps, 3)
    for kind in ("rss", "pss", "uss"):
        out[f"worker_{kind}_mb"] = max(w[kind] for r in rounds for w in r["worker_mb"])
    if "phone" in rounds[0]:
        out["phone_p50_ms"] = round(statistics.median(r["phone"]["p50_ms"] for r in rounds), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument("--threads", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
    parser.add_argument("--format", default="jpeg", choices=["jpeg", "png", "webp"])
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    parser.add_argument("--core-runs", type=int, default=300, help="recognitions per process")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--phone", action="store_true", help="also post a 12 MP phone JPEG")
    parser.add_argument("--phone-n", type=int, default=20, help="phone requests per round")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=lambda text: tuple(text.split("=", 1)),
        metavar="NAME=VALUE",
        help="server environment, e.g. GUNICORN_CMD_ARGS='--worker-class gthread'",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from digits_operators_recognizer import gunicorn_conf

    args.workers = args.workers or gunicorn_conf.workers
    args.threads = args.threads or gunicorn_conf.threads
    image = expression_image(args.format, size=(1000, 250), text="12+7x3=")
    body = json.dumps({"image": data_url(image, args.format)}).encode()
    phone = phone_image() if args.phone else None
    phone_body = json.dumps({"image": data_url(phone, "jpeg")}).encode() if phone else None
    print(
        f"image: 1000x250 {args.format}, {len(image)} bytes ({len(body)} bytes as JSON)"
        + (f"; phone: 4000x3000 JPEG, {len(phone)} bytes" if phone else "")
        + f"; gunicorn: {args.workers} workers x {args.threads} threads; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        flush=True,
    )
    trees = {"current": ROOT}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    cores: list[dict] = []
    rounds: dict[str, list[dict]] = {name: [] for name in trees}
    for i in range(args.rounds):
        cores.append(core(image, processes=os.cpu_count() or 1, runs=args.core_runs))
        print(f"round {i + 1}: core {cores[-1]}", flush=True)
        for name, root in trees.items():
            rounds[name].append(serve_and_measure(root, body, phone_body, args))
            print(f"round {i + 1}: {name} {json.dumps(rounds[name][-1]['runs'])}", flush=True)
    results = [summary(name, rounds[name], cores) for name in trees]
    core_median = statistics.median(c["median_ms"] for c in cores)
    core_rps = statistics.median(c["req_per_s"] for c in cores)
    print(f"core: median {core_median} ms on one core, {core_rps} req/s with one process per core")
    for result in results:
        print(json.dumps(result))
    if args.json:
        record = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "core": cores,
            "rounds": rounds,
            "results": results,
        }
        args.json.write_text(json.dumps(record, indent=2))
    failed = any(r["errors"] for rs in rounds.values() for x in rs for r in x["runs"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
