"""gunicorn configuration: ``gunicorn -c python:digits_operators_recognizer.gunicorn_conf``.

Every value can be overridden on the command line or with ``GUNICORN_*``
environment variables read here. Workers load the recognition model right after
they fork (``post_worker_init``), not in the master: an onnxruntime session does
not survive ``fork()``, and a loaded worker answers its first request at full speed.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
#: CPU-bound recognition: about one process per core, plus one to cover I/O waits.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
#: Threads let one worker read a slow client's upload while another request runs.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
#: Recycle workers now and then (guards against slow leaks in native libraries).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
limit_request_line = 8190
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
wsgi_app = "digits_operators_recognizer.wsgi:application"


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
