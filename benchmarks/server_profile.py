"""Where a request's time goes in the real server: py-spy samples of every worker, by stage.

Starts the production server as ``server_bench.py`` does, posts the same 1000x250
JPEG from ``--clients`` clients for ``--seconds`` seconds while ``py-spy record``
samples every gunicorn worker (all threads, idle ones left out), and sorts each
sample into the stage it is in: the innermost frame that names a stage wins, in
the order of :data:`STAGES`. Prints each stage's share of the busy samples and its
milliseconds per request.

py-spy is not a project dependency: ``pip install py-spy`` (PyPI) into the venv
first. It reads other processes' memory, so it needs ptrace permission (root, or
``kernel.yama.ptrace_scope=0``).

Usage::

    .venv-test/bin/python benchmarks/server_profile.py --clients 8 --seconds 20
    .venv-test/bin/python benchmarks/server_profile.py --baseline /tmp/old   # another checkout
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchmarks.server_bench import post_loop  # noqa: E402
from tests.support.images import data_url, expression_image  # noqa: E402
from tests.support.liveserver import serve, worker_pids  # noqa: E402

#: (stage, markers) in priority order: a sample goes to the first stage one of whose
#: markers matches a frame of its stack. A marker is (part of the function's name, part of
#: its file's path); an empty part matches anything.
STAGES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("recognition (mathocr.Recognizer)", (("Recognizer.__call__", "mathocr/recognizer.py"),)),
    ("image validation (base64, decode)", (("to_internal_value", "resolver/fields.py"),)),
    ("file write", (("save", "core/files/storage"), ("save", "db/models/fields/files.py"))),
    (
        "database (connect, transaction, insert, close)",
        (("", "django/db/transaction.py"), ("", "django/db/backends/"), ("save", "models/base.py")),
    ),
    ("answer (serializer, JSON rendering)", (("data", "rest_framework/serializers.py"),
                                             ("render", "rest_framework/renderers.py"))),
    ("request body (JSON parsing)", (("", "rest_framework/parsers.py"),
                                     ("", "resolver/parsers.py"))),
    ("logging", (("", "logging/__init__.py"), ("", "logging/handlers.py"))),
    ("Django and middleware", (("WSGIHandler.__call__", ""),)),
    ("HTTP front (uvicorn, asyncio, threads)", (("", ""),)),
)  # fmt: skip


def _frames(stack: str) -> list[tuple[str, str]]:
    """py-spy's ``name (path:line)`` frames as (name, path)."""
    out = []
    for text in stack.split(";"):
        name, _, where = text.partition(" (")
        out.append((name, where.rsplit(":", 1)[0]))
    return out


#: Innermost frames of a thread that waits (py-spy's --nonblocking samples count them).
IDLE: frozenset[str] = frozenset({"EpollSelector.select", "_worker", "Condition.wait"})


def breakdown(raw_files: list[Path]) -> dict[str, int]:
    """Busy samples per stage, from py-spy's ``--format raw`` output files."""
    counts: collections.Counter[str] = collections.Counter()
    for raw in raw_files:
        for line in raw.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            frames = _frames(stack)
            if not frames or frames[-1][0] in IDLE:
                continue
            for stage, markers in STAGES:
                if any(m in name and f in path for m, f in markers for name, path in frames):
                    counts[stage] += int(n)
                    break
    return {stage: counts[stage] for stage, _ in STAGES}


def profile(root: Path, body: bytes, args: argparse.Namespace, out: Path) -> dict:
    """Load one server from ``root`` while py-spy samples its workers; the stages."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ANON_THROTTLE_RATE": ""}
        with serve(
            Path(tmp), workers=args.workers, threads=args.threads, env=env, root=root
        ) as base_url:
            latencies: list = []
            errors: list = []
            post_loop(base_url, body, 10 * args.workers, latencies, errors)  # warm up
            latencies.clear()
            spies = []
            for pid in worker_pids(base_url):
                raw = out / f"{root.name}-{pid}.txt"
                command = [
                    args.py_spy, "record", "--pid", str(pid), "--duration", str(args.seconds),
                    "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
                    "--nonblocking",
                ]  # fmt: skip
                spies.append((raw, subprocess.Popen(command, stdout=subprocess.DEVNULL)))
            time.sleep(1.0)  # py-spy attaches
            stop = time.monotonic() + args.seconds - 2
            clients = [
                threading.Thread(target=_load, args=(base_url, body, stop, latencies, errors))
                for _ in range(args.clients)
            ]
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            for _, spy in spies:
                spy.wait(timeout=args.seconds + 30)
    counts = breakdown([raw for raw, _ in spies if raw.is_file()])
    busy = sum(counts.values())
    requests = len(latencies)
    # samples per worker-second -> milliseconds of one worker thread's time per request
    ms_per_sample = 1000 / args.rate
    return {
        "root": str(root),
        "requests": requests,
        "errors": len(errors),
        "stages": {
            stage: {
                "share": round(n / busy, 3) if busy else 0.0,
                "ms_per_request": round(n * ms_per_sample / requests, 2) if requests else None,
            }
            for stage, n in counts.items()
        },
    }


def _load(base_url: str, body: bytes, stop: float, latencies: list, errors: list) -> None:
    while time.monotonic() < stop:
        post_loop(base_url, body, 5, latencies, errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument("--threads", type=int, default=None, help="default: gunicorn_conf's")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--baseline", type=Path, help="another checkout, profiled after")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples in this folder")
    args = parser.parse_args(argv)
    if not shutil.which(args.py_spy):
        raise SystemExit("py-spy not found: pip install py-spy (or pass --py-spy PATH)")

    from digits_operators_recognizer import gunicorn_conf

    args.workers = args.workers or gunicorn_conf.workers
    args.threads = args.threads or gunicorn_conf.threads
    image = expression_image("jpeg", size=(1000, 250), text="12+7x3=")
    body = json.dumps({"image": data_url(image, "jpeg")}).encode()
    roots = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = args.raw or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for root in roots:
            result = profile(root, body, args, out)
            results.append(result)
            print(f"{root}: {result['requests']} requests, {result['errors']} errors")
            for stage, figures in result["stages"].items():
                print(
                    f"  {100 * figures['share']:5.1f} %  {figures['ms_per_request']:7.2f} ms"
                    f"  {stage}"
                )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"baseline": str(args.baseline), "json": str(args.json)},
                    "results": results,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
