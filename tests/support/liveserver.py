"""Start the real production server (gunicorn) on a free loopback port.

Used by the end-to-end tests and ``benchmarks/server_bench.py``::

    with serve(tmp_path, workers=2) as base_url:
        requests.post(base_url + "api/images/create/", json={"image": data_url})

The server runs with production settings (``DEBUG`` off, whitenoise serving
collected static files, a random ``SECRET_KEY``) on its own SQLite database and
media folder under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


class ServerError(RuntimeError):
    """The server did not start; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(tmp_path: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a throw-away production-like server rooted at ``tmp_path``."""
    result = dict(os.environ)
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ENV_FILE"):
        result.pop(key, None)
    result.update(
        {
            "DJANGO_SETTINGS_MODULE": "digits_operators_recognizer.settings",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(SRC), str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            "ENV_FILE": str(tmp_path / "no.env"),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STATIC_ROOT": str(tmp_path / "static"),
            "VAR_DIR": str(tmp_path),
            "GUNICORN_ACCESSLOG": "",
            "GUNICORN_LOGLEVEL": "warning",
            "LOG_LEVEL": "WARNING",
        }
    )
    result.update(env or {})
    return result


def _manage(args: list[str], env: Mapping[str, str], *, root: Path = ROOT) -> None:
    proc = subprocess.run(
        [sys.executable, str(root / "manage.py"), *args],
        cwd=root,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ServerError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def wait_until_up(base_url: str, *, process: subprocess.Popen, log: Path, timeout: float) -> dict:
    """Poll ``/api/health/`` until it answers (200 or 503); return its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + "api/health/", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # 503: up, but the model is not ready
            if exc.code == 503:
                return json.load(exc)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.1)
    raise ServerError(f"gunicorn did not answer within {timeout:.0f} s:\n{_tail(log)}")


@contextmanager
def serve(
    tmp_path: Path,
    *,
    workers: int = 1,
    threads: int = 2,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    root: Path = ROOT,
) -> Iterator[str]:
    """Migrate a fresh SQLite database, collect static files and run gunicorn.

    Parameters
    ----------
    tmp_path : Path
        Folder for the database, media, static files and the server log.
    workers, threads : int
        gunicorn processes and threads per process.
    env : mapping, optional
        Extra environment variables (they win over the defaults here).
    timeout : float
        Seconds to wait for the server to answer ``/api/health/``.
    root : Path
        The checkout whose code is served (another one's, to compare two versions).

    Yields
    ------
    str
        Base URL ending in ``/``, e.g. ``http://127.0.0.1:40123/``.
    """
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    environment = server_env(tmp_path, env)
    if root != ROOT:
        environment["PYTHONPATH"] = os.pathsep.join((str(root / "src"), str(root)))
    _manage(["migrate", "--noinput"], environment, root=root)
    _manage(["collectstatic", "--noinput", "--verbosity", "0"], environment, root=root)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:digits_operators_recognizer.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--max-requests",
        "0",
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(base_url, process=process, log=log, timeout=timeout)
        yield base_url
    finally:
        stop(process)


def worker_pids(base_url: str) -> list[int]:
    """The gunicorn worker processes (not the master) serving ``base_url``, from /proc."""
    bind = f"127.0.0.1:{base_url.rstrip('/').rsplit(':', 1)[1]}"
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if b"gunicorn" in b" ".join(argv) and bind.encode() in argv:
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])  # its parent
    return sorted(pid for pid, parent in found.items() if parent in found)


def stop(process: subprocess.Popen, *, timeout: float = 15) -> None:
    """SIGTERM ``process`` and wait ``timeout`` seconds for it; then kill it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
