"""The WSGI application served from an event loop: what the shipped gunicorn worker runs.

:class:`BufferedWSGI` turns the Django WSGI application (``wsgi.py``, with its
``SECRET_KEY`` guard) into an ASGI application that keeps slow clients away from
the threads that run Django:

* the request body is read on the event loop, spooled to memory or a temporary
  file, and only a complete request is handed to a thread; a body larger than
  ``REQUEST_MAX_BYTES`` is read and thrown away (up to ``DISCARD_LIMIT``, so that a
  client still sending gets the answer instead of a reset connection) and
  Django sees its length only, so the view still answers ``413 too_large``;
* the whole body has to arrive within ``body_timeout`` seconds, or the client
  gets ``408`` and the connection is closed;
* the response is produced in the thread, then written to the client by the
  event loop (files, such as static files and stored images, in blocks, without
  a thread); a client that takes more than ``send_timeout`` seconds to take one
  block is disconnected.

The request head is read by the HTTP server (uvicorn); its deadline lives in
``gunicorn_conf.HeadTimeoutH11Protocol``. ``application`` below serves any ASGI
server (``uvicorn digits_operators_recognizer.asgi:application``), without that
head deadline. Importing this module loads Django.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from resolver.middleware import DISCARD_LIMIT

logger = logging.getLogger(__name__)

#: Request bodies above this size are spooled to a temporary file.
SPOOL_MAX_MEMORY = 1024 * 1024
#: Blocks in which files (``wsgi.file_wrapper``) are written to the client.
FILE_BLOCK_SIZE = 64 * 1024


class FileWrapper:
    """``wsgi.file_wrapper``: lets the event loop, not a thread, send a file response."""

    def __init__(self, filelike, block_size: int = FILE_BLOCK_SIZE) -> None:
        self.filelike = filelike
        self.block_size = max(block_size, FILE_BLOCK_SIZE)

    def read_block(self) -> bytes:
        return self.filelike.read(self.block_size)

    def __iter__(self):
        while block := self.read_block():
            yield block

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


class _Response:
    """What the WSGI application answered: status, headers, then body or file."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.file: FileWrapper | None = None

    def start_response(self, status: str, headers, exc_info=None):
        if exc_info is not None and self.chunks:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = int(status.split(" ", 1)[0])
        # Django's Set-Cookie values start with a space, which h11 refuses.
        self.headers = [
            (name.strip().encode("latin-1"), value.strip().encode("latin-1"))
            for name, value in headers
        ]
        return self.chunks.append


def _json_response(status: int, detail: str, code: str) -> tuple[dict, dict]:
    body = json.dumps({"detail": detail, "code": code}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class _ClientGone(Exception):
    """The client disconnected before its request was complete."""


class BufferedWSGI:
    """An ASGI application running ``wsgi_app`` in ``threads`` threads, on complete requests.

    Parameters
    ----------
    wsgi_app : callable
        The WSGI application.
    threads : int
        Threads that run it (one request each at a time).
    max_body : int
        Largest body passed on; a longer one is discarded and only its length shown.
    body_timeout : float
        Seconds the client has to send the whole body.
    send_timeout : float
        Seconds the client has to take each block of the response.
    """

    def __init__(
        self,
        wsgi_app,
        *,
        threads: int,
        max_body: int,
        body_timeout: float = 60.0,
        send_timeout: float = 60.0,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.send_timeout = send_timeout
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")
        #: Requests handed to the threads and not yet answered (read on the event loop).
        self.in_flight = 0
        #: Called on the event loop each time a thread finishes a request.
        self.on_thread_free: Callable[[], None] | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: not served
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as spool:
            try:
                async with asyncio.timeout(self.body_timeout):
                    length, kept, complete = await self._read_body(receive, scope, spool)
            except TimeoutError:
                logger.info("request body not received within %.0f s; closing", self.body_timeout)
                for message in _json_response(
                    408,
                    f"The request body did not arrive within {self.body_timeout:.0f} s.",
                    "request_timeout",
                ):
                    await send(message)
                return
            except _ClientGone:
                return
            spool.seek(0)
            environ = self._environ(scope, spool if kept else None, length)
            loop = asyncio.get_running_loop()
            self.in_flight += 1
            try:
                response = await loop.run_in_executor(self.executor, self._run, environ)
            finally:
                self.in_flight -= 1
                if self.on_thread_free is not None:
                    self.on_thread_free()
        if not complete:  # unread bytes follow: the connection cannot be reused
            response.headers.append((b"Connection", b"close"))
        try:
            await self._send(response, send, head_only=scope["method"] == "HEAD")
        except TimeoutError:
            logger.warning(
                "client took more than %.0f s to read a response block; closing",
                self.send_timeout,
            )
        finally:
            if response.file is not None:
                await loop.run_in_executor(self.executor, response.file.close)

    def busy(self) -> bool:
        """Whether every thread is running a request (the worker then takes no new
        connection: ``gunicorn_conf.FairAcceptLoop``)."""
        return self.in_flight >= self.threads

    async def _read_body(self, receive, scope, spool) -> tuple[int, bool, bool]:
        """Read the body into ``spool``: (length to show, whether kept, whether all read).

        A body over ``max_body`` is not kept (read and dropped up to ``DISCARD_LIMIT``);
        its length is still shown, so that the view can answer 413.
        """
        declared = _content_length(scope)
        if declared is not None and declared > DISCARD_LIMIT:
            return declared, False, False  # not worth reading: answer at once
        kept = declared is None or declared <= self.max_body
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            total += len(chunk)
            if kept and total > self.max_body:  # chunked, and over the cap: drop it
                kept = False
                spool.truncate(0)
            elif kept:
                spool.write(chunk)
            if not message.get("more_body", False):
                return (declared if declared is not None else total), kept, True
            if total > DISCARD_LIMIT:
                return total, False, False

    def _environ(self, scope, body, length: int) -> dict:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        root_path = scope.get("root_path", "").encode()
        path = unquote_to_bytes(raw_path)
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        server = scope.get("server") or ("localhost", 80)
        environ = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": root_path.decode("latin-1"),
            "PATH_INFO": path.decode("latin-1"),
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1] or 0),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": body if body is not None else _EmptyInput(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,  # the body is complete (a file that ends)
            "wsgi.file_wrapper": FileWrapper,
        }
        if scope.get("client"):
            environ["REMOTE_ADDR"] = scope["client"][0]
            environ["REMOTE_PORT"] = str(scope["client"][1])
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if "_" in name:  # X_Forwarded_For would pose as X-Forwarded-For (as gunicorn)
                continue
            value = raw_value.decode("latin-1")
            if name == "content-length":
                continue  # set below
            key = (
                "CONTENT_TYPE"
                if name == "content-type"
                else "HTTP_" + name.upper().replace("-", "_")
            )
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is no longer chunked
        if length or _content_length(scope) is not None:
            environ["CONTENT_LENGTH"] = str(length)
        return environ

    def _run(self, environ: dict) -> _Response:
        """Run the WSGI application in a thread; collect all but a file body."""
        response = _Response()
        result = self.wsgi_app(environ, response.start_response)
        if isinstance(result, FileWrapper):
            response.file = result  # closed after sending
            return response
        try:
            for chunk in result:
                if chunk:
                    response.chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished, in the request's own thread
        names = {name.lower() for name, _ in response.headers}
        if (
            b"content-length" not in names
            and response.status >= 200
            and response.status not in (204, 304)
        ):
            size = sum(len(chunk) for chunk in response.chunks)
            response.headers.append((b"Content-Length", str(size).encode()))
        return response

    async def _send(self, response: _Response, send, *, head_only: bool) -> None:
        async def timed(message: dict) -> None:
            async with asyncio.timeout(self.send_timeout):
                await send(message)

        await timed(
            {"type": "http.response.start", "status": response.status, "headers": response.headers}
        )
        for chunk in response.chunks:
            await timed({"type": "http.response.body", "body": chunk, "more_body": True})
        if response.file is not None and not head_only:
            while block := response.file.read_block():
                await timed({"type": "http.response.body", "body": block, "more_body": True})
        await timed({"type": "http.response.body", "body": b""})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                self.executor.shutdown(wait=False)
                return


class _EmptyInput:
    """``wsgi.input`` of a request whose body was not kept."""

    def read(self, size: int = -1) -> bytes:
        return b""

    def readline(self, size: int = -1) -> bytes:
        return b""


def _content_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def asgi_application(wsgi_app, *, threads: int) -> BufferedWSGI:
    """``wsgi_app`` behind :class:`BufferedWSGI`, with the limits from the settings."""
    from django.conf import settings

    return BufferedWSGI(
        wsgi_app,
        threads=threads,
        max_body=settings.REQUEST_MAX_BYTES,
        body_timeout=float(os.environ.get("GUNICORN_BODY_TIMEOUT", "60")),
        send_timeout=float(os.environ.get("GUNICORN_SEND_TIMEOUT", "60")),
    )


def _application() -> BufferedWSGI:
    from digits_operators_recognizer.wsgi import application as wsgi_application

    return asgi_application(wsgi_application, threads=int(os.environ.get("GUNICORN_THREADS", "2")))


application = _application()
