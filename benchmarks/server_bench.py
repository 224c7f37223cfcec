"""Latency and throughput of the real server against the recognition core, in one run.

Starts the production server (``tests.support.liveserver.serve``: gunicorn with
``gunicorn_conf.py``, DEBUG off, SQLite, the shipped model), posts a 1000x250
photo-like handwritten expression (JPEG, as a JSON data URL) from 1 and then 8
concurrent clients with keep-alive connections, and reports p50/p95 latency,
requests per second and each worker's memory. It measures the recognition core
alone on the same image in the same run: its median on one core and its throughput
with one process per core (each one thread, as the workers run it). The core's
processes stay loaded, and the core and the server take turns in short slices
(``--slices``), so that both see the same machine: a shared machine's speed drifts
by a third within minutes, more than the differences measured. The targets are
ratios of the two, each the median of the slices' paired ratios:

* throughput at 8 clients >= 70 % of the core's throughput;
* p50 at one client <= 1.3x the core's median;
* memory per worker < 150 MB (after the run; resident, proportional and unique
  memory are reported: workers share the libraries and, preloaded, Django's pages);
* a 12 MP phone JPEG through the API: p50 <= 150 ms (``--phone``).

``--baseline DIR`` serves another checkout of the project (``git worktree add
/tmp/old <commit>``) in the same run, alternating with this one for ``--rounds``
rounds, so that two versions are compared on the same machine state.

Usage::

    .venv-test/bin/python benchmarks/server_bench.py                       # 3 workers x 2
    .venv-test/bin/python benchmarks/server_bench.py --client wrk --rounds 2 --baseline /tmp/old

The clients share the machine's cores with the server: ``--client python`` (threads
of ``http.client``) spends about a core at 8 clients, ``--client wrk`` (``apt install
wrk``) a small part of one. The server figures are a lower bound for a server whose
clients are elsewhere.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
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


#: wrk's script: POST the body named by $WRK_BODY; print the figures as one JSON line.
WRK_SCRIPT = r"""
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.6f, "p50_us": %d, "p95_us": %d, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(95), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def run_wrk(base_url: str, body: bytes, *, concurrency: int, seconds: float, wrk: str) -> dict:
    """As :func:`run`, for ``seconds``, with ``wrk`` (C, one event loop per thread) as the
    clients: far less CPU per request than the Python clients, which share the server's
    cores. Latencies are wrk's (from its histogram)."""
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT)
        command = [
            wrk, f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
            "--timeout", "60s", "-s", str(script), base_url.rstrip("/") + PATH,
        ]  # fmt: skip
        out = subprocess.run(
            command, env={**os.environ, "WRK_BODY": str(body_path)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK "))
    got = json.loads(line[4:])
    return {
        "concurrency": concurrency,
        "requests": got["requests"],
        "errors": got["errors"],
        "p50_ms": round(got["p50_us"] / 1000, 2),
        "p95_ms": round(got["p95_us"] / 1000, 2),
        "req_per_s": round(got["requests"] / got["seconds"], 1),
        "recognition_p50_ms": None,
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


_CORE: dict = {}


def _core_load(data: bytes) -> None:
    """In each core process: load the recognizer once, as a worker does."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    from mathocr import Recognizer

    cv2.setNumThreads(1)  # as gunicorn_conf.post_worker_init does (MATHOCR_THREADS)
    recognizer = Recognizer(threads=1)
    recognizer(data)  # warm up
    _CORE.update(recognizer=recognizer, data=data)


def _core_pid(_: int) -> int:
    return os.getpid()


def _core_times(runs: int) -> list[float]:
    recognizer, data = _CORE["recognizer"], _CORE["data"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        recognizer(data)
        times.append(time.perf_counter() - started)
    return times


class Core:
    """The recognition core alone: ``processes`` loaded processes (spawned, one thread
    each) that wait between slices, so that the core is measured between the server's
    slices on the same machine."""

    def __init__(self, data: bytes, *, processes: int) -> None:
        self.processes = processes
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(processes, initializer=_core_load, initargs=(data,))
        # a process takes tasks only once its initializer has loaded the model: wait until
        # every one has answered, so that no slice runs beside a process still loading
        ready: set[int] = set()
        while len(ready) < processes:
            ready.update(self.pool.map(_core_pid, range(4 * processes), chunksize=1))
            time.sleep(0.05)

    def median_ms(self, runs: int) -> float:
        """Median of ``runs`` recognitions in one process (the others wait)."""
        return 1000 * statistics.median(self.pool.apply(_core_times, (runs,)))

    def req_per_s(self, runs: int) -> float:
        """Recognitions per second with every process recognising ``runs`` images."""
        started = time.perf_counter()
        self.pool.map(_core_times, [runs] * self.processes, chunksize=1)
        return self.processes * runs / (time.perf_counter() - started)

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def phone_image() -> bytes:
    """A 4000x3000 (12 MP) photo-like JPEG of a handwritten sum, as phones send them."""
    array = expression_array("12+7x3=", size=(4000, 3000), seed=3)
    return encode(array, "jpeg", quality=90)


def _merged(concurrency: int, slices: list[dict], cores: list[float], kind: str) -> dict:
    """One concurrency's slices in one: latencies and rates as medians over the slices,
    with the core's figure of each slice and their paired ratio (``vs_core``)."""
    server = [x["p50_ms"] if kind == "median_ms" else x["req_per_s"] for x in slices]
    ratios = [a / b for a, b in zip(server, cores, strict=True)]
    return {
        "concurrency": concurrency,
        "requests": sum(x["requests"] for x in slices),
        "errors": sum(x["errors"] for x in slices),
        "p50_ms": round(statistics.median(x["p50_ms"] for x in slices), 2),
        "p95_ms": round(statistics.median(x["p95_ms"] for x in slices), 2),
        "req_per_s": round(statistics.median(x["req_per_s"] for x in slices), 1),
        "recognition_p50_ms": (
            round(statistics.median(x["recognition_p50_ms"] for x in slices), 2)
            if all(x["recognition_p50_ms"] is not None for x in slices)
            else None
        ),
        f"core_{kind}": round(statistics.median(cores), 2),
        "vs_core": round(statistics.median(ratios), 3),
        "slices": [{"server": a, "core": round(b, 2)} for a, b in zip(server, cores, strict=True)],
    }


def serve_and_measure(
    root: Path, body: bytes, phone_body: bytes | None, core: Core, args: argparse.Namespace
) -> dict:
    """One server from ``root``: warm up, then for each concurrency ``args.slices`` turns
    of the core and the server; worker memory; the phone image."""
    out: dict = {"root": str(root), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ANON_THROTTLE_RATE": "", **dict(args.env)}  # the server, not the throttle
        with serve(
            Path(tmp), workers=args.workers, threads=args.threads, env=env, root=root
        ) as base_url:
            run(base_url, body, concurrency=args.workers, requests=8 * args.workers)  # warm up
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                kind = "median_ms" if concurrency == 1 else "req_per_s"
                slices, cores = [], []
                for _ in range(args.slices):
                    if kind == "median_ms":
                        cores.append(core.median_ms(args.core_runs))
                    else:
                        cores.append(core.req_per_s(args.core_runs))
                    if args.client == "wrk":
                        seconds = args.requests / args.slices / 40  # about 40 req/s per slice
                        slices.append(
                            run_wrk(base_url, body, concurrency=concurrency, seconds=seconds,
                                    wrk=args.wrk)
                        )  # fmt: skip
                    else:
                        slices.append(
                            run(base_url, body, concurrency=concurrency,
                                requests=max(concurrency, args.requests // args.slices))
                        )  # fmt: skip
                out["runs"].append(_merged(concurrency, slices, cores, kind))
            out["worker_mb"] = [memory_mb(pid) for pid in worker_pids(base_url)]
            if phone_body is not None:
                out["phone"] = run(base_url, phone_body, concurrency=1, requests=args.phone_n)
    return out


def summary(name: str, rounds: list[dict]) -> dict:
    """Medians over rounds of the figures and of their paired ratios to the core."""
    out: dict = {"name": name}
    for i, first in enumerate(rounds[0]["runs"]):
        runs = [r["runs"][i] for r in rounds]
        c = first["concurrency"]
        out[f"p50_ms@{c}"] = round(statistics.median(r["p50_ms"] for r in runs), 2)
        out[f"req_per_s@{c}"] = round(statistics.median(r["req_per_s"] for r in runs), 1)
        key = "p50_vs_core" if "core_median_ms" in first else "throughput_vs_core"
        out[f"{key}@{c}"] = round(statistics.median(r["vs_core"] for r in runs), 3)
        core_key = "core_median_ms" if key == "p50_vs_core" else "core_req_per_s"
        out[f"{core_key}@{c}"] = round(statistics.median(r[core_key] for r in runs), 2)
    for kind in ("rss", "pss", "uss"):
        out[f"worker_{kind}_mb"] = max(w[kind] for r in rounds for w in r["worker_mb"])
    if "phone" in rounds[0]:
        out["phone_p50_ms"] = round(statistics.median(r["phone"]["p50_ms"] for r in rounds), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument("--threads", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument(
        "--requests", type=int, default=400, help="requests per concurrency (over the slices)"
    )
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
    parser.add_argument("--format", default="jpeg", choices=["jpeg", "png", "webp"])
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    parser.add_argument(
        "--core-runs", type=int, default=40, help="the core's recognitions per process and slice"
    )
    parser.add_argument(
        "--slices", type=int, default=5, help="turns of the core and the server per concurrency"
    )
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
    parser.add_argument(
        "--client",
        choices=["python", "wrk"],
        default="python",
        help="load generator: Python threads (http.client) or wrk (apt install wrk)",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk's path")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.client == "wrk" and shutil.which(args.wrk) is None:
        parser.error("wrk not found: apt install wrk (or pass --wrk PATH)")

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
    rounds: dict[str, list[dict]] = {name: [] for name in trees}
    core = Core(image, processes=os.cpu_count() or 1)
    try:
        for i in range(args.rounds):
            for name, root in trees.items():
                rounds[name].append(serve_and_measure(root, body, phone_body, core, args))
                brief = [{k: v for k, v in r.items() if k != "slices"}
                         for r in rounds[name][-1]["runs"]]  # fmt: skip
                print(f"round {i + 1}: {name} {json.dumps(brief)}", flush=True)
    finally:
        core.close()
    results = [summary(name, rounds[name]) for name in trees]
    for result in results:
        print(json.dumps(result))
    if args.json:
        record = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "rounds": rounds,
            "results": results,
        }
        args.json.write_text(json.dumps(record, indent=2))
    failed = any(r["errors"] for rs in rounds.values() for x in rs for r in x["runs"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
