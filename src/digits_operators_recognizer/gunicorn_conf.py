"""gunicorn configuration: ``gunicorn -c python:digits_operators_recognizer.gunicorn_conf``.

Every value can be overridden on the command line or with ``GUNICORN_*``
environment variables read here. Workers load the recognition model right after
they fork (``post_worker_init``), not in the master: an onnxruntime session does
not survive ``fork()``, and a loaded worker answers its first request at full speed.

Slow clients: each worker reads requests on an asyncio event loop (uvicorn's
HTTP/1.1 protocol, see :class:`Worker`) and hands only complete requests to the
threads that run Django (``asgi.BufferedWSGI``). A client that drips its request
head or body holds a socket, not a thread, and only for a bounded time:
``GUNICORN_HEADER_TIMEOUT`` for the head, ``GUNICORN_BODY_TIMEOUT`` for the body,
``GUNICORN_SEND_TIMEOUT`` for each block of the response it is slow to read.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
#: CPU-bound recognition: about one process per core, plus one to cover I/O waits.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
#: Asyncio front (reads and writes clients), Django in ``threads`` threads behind it.
worker_class = "digits_operators_recognizer.gunicorn_conf.Worker"
#: Threads per worker that run Django on complete requests.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
#: Open connections per worker; beyond it new requests get 503.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
#: Import Django in the master before forking, so that workers share those pages (the
#: model is still loaded in each worker after the fork: see ``post_worker_init``).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes", "on")
graceful_timeout = 20
keepalive = 5
#: Seconds from connecting (or the previous response) to the end of the request head.
HEADER_TIMEOUT = float(os.environ.get("GUNICORN_HEADER_TIMEOUT", "10"))
#: Recycle workers now and then (guards against slow leaks in native libraries).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
#: For ``--worker-class gthread`` only; :class:`Worker` caps the head at HEAD_MAX_BYTES.
limit_request_line = 8190
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
wsgi_app = "digits_operators_recognizer.wsgi:application"

#: Largest request head (request line and headers together), as gunicorn's limits allow.
HEAD_MAX_BYTES = 64 * 1024
_HEAD_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 24\r\nConnection: close\r\n\r\nRequest head too slow.\r\n"
)


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus a deadline for the request head.

    uvicorn closes idle kept-alive connections but lets a client take forever over
    a request head it has started. Here the head must be complete within
    ``HEADER_TIMEOUT`` seconds of connecting or of the previous response; otherwise
    the client gets ``408`` (or, having sent nothing, is just disconnected).
    """

    head_timeout = HEADER_TIMEOUT
    #: Closes a connection whose request head is not in by then (connection_made arms it).
    _head_timer: asyncio.TimerHandle | None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = None
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is in
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a head arrived
            self.logger.info("request head not complete within %.0f s; closing", self.head_timeout)
            self.transport.write(_HEAD_TIMEOUT_RESPONSE)
        self.transport.close()


#: Seconds a worker whose threads are all busy leaves new connections to the others
#: before it looks at the listening socket again.
ACCEPT_RETRY = 0.02


class FairAcceptLoop(asyncio.SelectorEventLoop):
    """asyncio's event loop, taking new connections only while the worker has a free thread,
    and one per wake-up.

    Every worker watches the same listening socket, and asyncio accepts up to its
    ``backlog`` (100) waiting connections each time the socket is ready: the first
    worker to wake took every connection of a burst. Eight keep-alive clients that
    connected at once all landed on one worker, whose two threads served them while
    the other workers idled (367 requests in 8 s with wrk, 3 workers; 609-627 here).
    Here a worker accepts one connection per wake-up, and none while :attr:`busy`
    says that its threads are all taken: it stops watching the socket until one of
    its threads is free (:meth:`thread_freed`) or for :data:`ACCEPT_RETRY` seconds,
    and the connection waits in the kernel's listen queue for a worker that has time.

    It overrides asyncio's private ``_start_serving`` and calls its private reader
    methods, unchanged from Python 3.8 to 3.13; ``tests/server/test_fair_accept.py``
    checks them on the Python in use.
    """

    @staticmethod
    def busy() -> bool:
        """Whether every thread of this worker is running a request (set by :class:`Worker`)."""
        return False

    def __init__(self, selector=None) -> None:
        super().__init__(selector)
        #: The listening sockets not watched now, by file number: their timer and accept.
        self._paused: dict[int, tuple[asyncio.TimerHandle, tuple]] = {}

    def thread_freed(self) -> None:
        """A thread of this worker finished a request: watch the socket again now."""
        for fd, (timer, accept) in list(self._paused.items()):
            timer.cancel()
            self._watch_again(fd, accept)

    def _start_serving(self, protocol_factory, sock, *args) -> None:
        # (protocol_factory, sock, sslcontext, server, backlog, handshake and shutdown
        # timeouts), as asyncio.Server passes them; backlog is the accept count only
        accept = (protocol_factory, sock, *args[:2], 1, *args[3:])
        self._add_reader(sock.fileno(), self._accept_fairly, *accept)  # type: ignore[attr-defined]

    def _accept_fairly(self, *accept) -> None:
        if not self.busy():
            self._accept_connection(*accept)  # type: ignore[attr-defined]
            return
        fd = accept[1].fileno()
        self._remove_reader(fd)  # type: ignore[attr-defined]
        self._paused[fd] = (self.call_later(ACCEPT_RETRY, self._watch_again, fd, accept), accept)

    def _watch_again(self, fd: int, accept: tuple) -> None:
        sock, server = accept[1], accept[3]
        del self._paused[fd]
        if sock.fileno() == -1 or (server is not None and not server.is_serving()):
            return  # closed meanwhile (shutting down)
        self._add_reader(sock.fileno(), self._accept_fairly, *accept)  # type: ignore[attr-defined]


class Worker(UvicornWorker):
    """gunicorn worker: uvicorn's event loop in front of the WSGI application.

    Serves ``wsgi_app`` (Django) through ``asgi.BufferedWSGI`` in ``threads``
    threads; ``post_worker_init`` runs as with any gunicorn worker.
    """

    CONFIG_KWARGS = {
        "loop": FairAcceptLoop,
        "http": HeadTimeoutH11Protocol,
        "lifespan": "off",
        # The application reads X-Forwarded-* itself (NUM_PROXIES, BEHIND_HTTPS_PROXY).
        "proxy_headers": False,
        "server_header": False,
        "h11_max_incomplete_event_size": HEAD_MAX_BYTES,
    }
    #: Set by gunicorn's load_wsgi: the WSGI application, which ours wraps for uvicorn.
    wsgi: Any

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config.limit_concurrency = self.cfg.worker_connections
        self.config.timeout_graceful_shutdown = self.cfg.graceful_timeout

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(loop, FairAcceptLoop):
            loop.busy = self.wsgi.busy  # type: ignore[method-assign]
            self.wsgi.on_thread_free = loop.thread_freed
        await super()._serve()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        from digits_operators_recognizer.asgi import asgi_application

        self.wsgi = asgi_application(self.wsgi, threads=self.cfg.threads)


def post_worker_init(worker) -> None:
    """Pin native thread pools to one thread per worker and load the model."""
    from django.conf import settings

    try:
        import cv2

        cv2.setNumThreads(settings.MATHOCR_THREADS)
    except ImportError:  # pragma: no cover - opencv is a hard dependency
        pass

    if settings.MATHOCR_WARM_UP:
        from resolver.recognition import warm_up

        warm_up()
