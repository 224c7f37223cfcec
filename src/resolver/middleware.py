"""WSGI middleware: request bodies sent without a ``Content-Length`` (chunked).

A client may send its body with ``Transfer-Encoding: chunked`` and no
``Content-Length``. gunicorn de-chunks it and marks that its ``wsgi.input``
ends where the body ends (``wsgi.input_terminated``, always true in gunicorn),
but passes no ``CONTENT_LENGTH``. Django's ``WSGIRequest`` takes a missing
length as 0 and reads nothing, so a valid image arrived as "No image was
submitted" (``required``).

:class:`ChunkedBodyMiddleware` reads such a body, at most ``REQUEST_MAX_BYTES``
of it, into a spooled temporary file and hands Django that file with its
length. A body above the cap is never held: the middleware stops keeping bytes
at the cap, reads and throws away the rest (up to :data:`DISCARD_LIMIT`, so that
the client, still sending, gets the answer instead of a reset connection) and
passes the length it saw with an empty body, so the view answers 413
(``too_large``) exactly as for a ``Content-Length`` above the cap, and Django's
own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check refuses it elsewhere.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable

from django.conf import settings

#: Bodies above the cap are read and thrown away up to this size before answering.
DISCARD_LIMIT = 64 * 1024 * 1024
#: Bytes read from the client at a time.
READ_SIZE = 64 * 1024


class ChunkedBodyMiddleware:
    """Give Django a ``CONTENT_LENGTH`` for bodies the server says are terminated.

    Acts only when ``wsgi.input_terminated`` is true, ``CONTENT_LENGTH`` is missing
    or empty and the request has a ``Transfer-Encoding``: reading such an input to
    its end is safe (PEP 3333 allows it only when the server promises the end).
    Every other request passes through untouched.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not _needs_length(environ):
            return self.application(environ, start_response)
        body, length = _read_capped(environ["wsgi.input"], settings.REQUEST_MAX_BYTES)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(length)
        try:
            response = self.application(environ, start_response)
        except BaseException:
            body.close()
            raise
        return _ClosingResponse(response, body)


def _needs_length(environ: dict) -> bool:
    return bool(
        environ.get("wsgi.input_terminated")
        and not environ.get("CONTENT_LENGTH")
        and environ.get("HTTP_TRANSFER_ENCODING")
    )


def _read_capped(stream, cap: int) -> tuple[io.IOBase, int]:
    """The body (at most ``cap`` bytes kept) and the number of bytes seen.

    Above ``cap`` the kept bytes are dropped and an empty body is returned with the
    length seen so far (at least ``cap + 1``), after discarding up to ``DISCARD_LIMIT``.
    """
    # Closed with the response (or at once above the cap): no context manager.
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    seen = 0
    while piece := stream.read(min(READ_SIZE, cap + 1 - seen)):
        seen += len(piece)
        if seen > cap:
            body.close()
            while seen < DISCARD_LIMIT and (piece := stream.read(READ_SIZE)):
                seen += len(piece)
            return io.BytesIO(), seen
        body.write(piece)
    body.seek(0)
    return body, seen


class _ClosingResponse:
    """The application's response, closing the buffered body when the server closes it."""

    def __init__(self, response: Iterable[bytes], body: io.IOBase) -> None:
        self._response = response
        self._body = body

    def __iter__(self):
        return iter(self._response)

    def close(self) -> None:
        try:
            close = getattr(self._response, "close", None)
            if close is not None:
                close()
        finally:
            self._body.close()
