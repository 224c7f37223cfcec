"""New connections go to workers with a free thread (``gunicorn_conf.FairAcceptLoop``).

Every worker watches the one listening socket. asyncio's loop took up to 100 waiting
connections per wake-up, so the worker that woke first took a whole burst of
keep-alive clients (all eight of a load test's) while the others idled. The loop
here takes one per wake-up and none while its worker's threads are all busy.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from digits_operators_recognizer import gunicorn_conf
from digits_operators_recognizer.gunicorn_conf import ACCEPT_RETRY, FairAcceptLoop
from tests.support.images import data_url, encode, expression_array
from tests.support.liveserver import serve, worker_pids


class _Count(asyncio.Protocol):
    made = 0

    def connection_made(self, transport) -> None:
        type(self).made += 1


def _accepted_while(
    busy_for: float, *, close_early: bool = False, freed: bool = False
) -> list[tuple[float, int]]:
    """Serve on a FairAcceptLoop whose worker is busy for ``busy_for`` s (then, with
    ``freed``, says so); connect twice at once; the connections accepted over time, as
    (seconds, count)."""
    loop = FairAcceptLoop()
    _Count.made = 0
    started = time.monotonic()
    loop.busy = lambda: time.monotonic() - started < busy_for  # type: ignore[method-assign]
    if freed:
        loop.call_later(busy_for + 0.001, loop.thread_freed)
    seen: list[tuple[float, int]] = []
    clients: list[socket.socket] = []

    async def main() -> None:
        server = await loop.create_server(_Count, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clients.extend(socket.create_connection(("127.0.0.1", port)) for _ in range(2))
        for _ in range(30):
            await asyncio.sleep(0.02)
            seen.append((time.monotonic() - started, _Count.made))
            if close_early and len(seen) == 3:
                server.close()  # while not watching the socket
                await server.wait_closed()
        server.close()

    errors: list[BaseException] = []

    def serve() -> None:  # in a thread of its own: no other loop runs there
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # raised in the test's thread below
            errors.append(exc)
        finally:
            for client in clients:
                client.close()
            loop.close()

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if errors:
        raise errors[0]
    return seen


def test_a_busy_worker_leaves_new_connections_waiting():
    seen = _accepted_while(0.3)
    assert all(count == 0 for at, count in seen if at < 0.28)
    assert seen[-1][1] == 2  # taken once the worker has a free thread again


def test_an_idle_worker_takes_new_connections_at_once():
    seen = _accepted_while(0.0)
    assert seen[0][1] == 2
    assert seen[0][0] < 0.2


def test_a_worker_looks_again_as_soon_as_a_thread_is_free(monkeypatch):
    monkeypatch.setattr(gunicorn_conf, "ACCEPT_RETRY", 5.0)  # only the thread's news counts
    seen = _accepted_while(0.2, freed=True)
    assert all(count == 0 for at, count in seen if at < 0.18)
    assert next(at for at, count in seen if count == 2) < 0.35


def test_a_server_closed_while_its_worker_is_busy_stops_cleanly():
    seen = _accepted_while(10.0, close_early=True)  # no error, nothing accepted
    assert seen[-1][1] == 0
    assert ACCEPT_RETRY < 0.1  # a busy worker looks again soon


# --- the real server --------------------------------------------------------------


def _owner(pids: list[int], server_port: int, client_port: int) -> int | None:
    """The worker holding the server end of the connection from ``client_port``."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == server_port and (
                int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if fd.readlink().name == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


@pytest.mark.slow
def test_connections_opened_during_a_request_go_to_the_idle_worker(tmp_path):
    phone = encode(expression_array("12+7x3=", size=(4000, 3000), seed=3), "jpeg", quality=90)
    slow_body = json.dumps({"image": data_url(phone, "jpeg")}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    with serve(tmp_path, workers=2, threads=1, env={"ANON_THROTTLE_RATE": ""}) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        pids = worker_pids(url)
        busy = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        busy.request("POST", "/api/images/create/", body=slow_body, headers=headers)
        time.sleep(0.05)  # its worker's one thread now recognises a 12 MP photo
        others = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        time.sleep(0.05)
        assert busy.sock is not None
        busy_worker = _owner(pids, port, busy.sock.getsockname()[1])
        owners = [_owner(pids, port, s.getsockname()[1]) for s in others]
        assert busy.getresponse().status == 201
        for s in others:
            s.close()
        busy.close()
    assert busy_worker in pids
    assert owners == [next(p for p in pids if p != busy_worker)] * 2
