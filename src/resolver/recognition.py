"""The process-wide :class:`mathocr.Recognizer`, loaded once and shared.

The model is loaded lazily on first use (thread-safe) or eagerly with
:func:`warm_up`, which the gunicorn ``post_worker_init`` hook calls in every
worker so that the first request does not pay for loading it. Loading happens
after the fork on purpose: an onnxruntime session's thread pool does not survive
``fork()``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from mathocr import Recognizer

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_recognizer: Recognizer | None = None


def get_recognizer() -> Recognizer:
    """The shared recogniser, loading the model on first call.

    Raises
    ------
    mathocr.ModelError
        The model file is missing or does not match the code (the error is not
        cached: the next call tries again).
    """
    global _recognizer
    if _recognizer is None:
        with _lock:
            if _recognizer is None:
                from mathocr import Recognizer

                started = time.perf_counter()
                line_model = settings.MATHOCR_LINE_READER and (settings.MATHOCR_LINE_MODEL or True)
                _recognizer = Recognizer(
                    settings.MATHOCR_MODEL,
                    line_model=line_model,
                    max_pixels=settings.IMAGE_MAX_PIXELS,
                    threads=settings.MATHOCR_THREADS,
                    time_limit=settings.MATHOCR_TIME_LIMIT,
                    comma=settings.MATHOCR_COMMA,
                )
                logger.info(
                    "loaded recognition model %s in %.0f ms",
                    _recognizer.model_version,
                    (time.perf_counter() - started) * 1000,
                )
    return _recognizer


def is_loaded() -> bool:
    """Whether the model is in memory already (no loading attempted)."""
    return _recognizer is not None


def warm_up(*, exercise: bool = True) -> bool:
    """Load the model now; log and return ``False`` instead of raising on failure.

    With ``exercise``, also recognise a small synthetic image once, so that
    onnxruntime and OpenCV set up their buffers before the first real request.
    """
    try:
        recognizer = get_recognizer()
    except Exception as exc:
        logger.error("could not load the recognition model: %s", exc)
        return False
    if exercise:
        try:
            recognizer(_warm_up_image())
        except Exception:  # a failed rehearsal must not stop the worker
            logger.warning("warm-up recognition failed", exc_info=True)
    return True


def _warm_up_image() -> bytes:
    """PNG of ``1+1`` drawn with bars: enough ink for every stage to run."""
    import cv2
    import numpy as np

    image = np.full((60, 160), 255, np.uint8)
    image[10:50, 20:26] = 0  # 1
    image[27:33, 50:90] = 0  # + (bar)
    image[10:50, 67:73] = 0  # + (stem)
    image[10:50, 120:126] = 0  # 1
    return cv2.imencode(".png", image)[1].tobytes()


def reset() -> None:
    """Forget the loaded recogniser (tests, or after replacing the model file)."""
    global _recognizer
    with _lock:
        _recognizer = None
