"""Exceptions of the recognition core. Each carries a stable machine-readable code."""

from __future__ import annotations


class MathOCRError(Exception):
    """Base class of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidImage(MathOCRError, ValueError):
    """The bytes are not an image we accept (unknown format, corrupt, too big).

    ``code`` is one of ``unsupported_format``, ``corrupt``, ``too_many_pixels``,
    ``empty``.
    """

    code = "invalid_image"


class ModelError(MathOCRError, RuntimeError):
    """The classifier model file is missing, corrupt or does not match the code."""

    code = "model_error"


class RecognitionTimeout(MathOCRError, TimeoutError):
    """Recognition ran past its deadline (see :class:`mathocr.deadline.Deadline`)."""

    code = "recognition_timeout"


class TooManyMarks(MathOCRError):
    """The image holds far more separate marks than a line of arithmetic could.

    Not a fault of the bytes: the recogniser answers such an image as
    ``unreadable`` (noise, a texture, a page of text) instead of reading it.
    """

    code = "too_many_marks"
