"""A time budget for one recognition, checked cooperatively by every stage.

Python cannot stop a busy thread from outside, so the stages call
:meth:`Deadline.check` between steps and inside their loops; together with the
caps on the work of each stage (pieces, candidates, beam) this bounds the time
any image can take, whatever runs the recogniser (a thread, a process, a CLI).

Examples
--------
>>> budget = Deadline(60.0)
>>> budget.check("segment")          # plenty left: returns quietly
>>> Deadline(0.0).check("segment")
Traceback (most recent call last):
...
mathocr.errors.RecognitionTimeout: Recognition took longer than 0 s (stopped in segment).
"""

from __future__ import annotations

import time

from .errors import RecognitionTimeout


class Deadline:
    """A point in time after which :meth:`check` raises :class:`RecognitionTimeout`.

    Parameters
    ----------
    seconds : float or None
        The budget from now; ``None`` never expires.
    """

    __slots__ = ("_at", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = None if seconds is None else time.perf_counter() + max(0.0, seconds)

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that never expires."""
        return cls(None)

    def remaining(self) -> float:
        """Seconds left (``inf`` when it never expires; never negative)."""
        if self._at is None:
            return float("inf")
        return max(0.0, self._at - time.perf_counter())

    def expired(self) -> bool:
        """Whether the time is up."""
        return self._at is not None and time.perf_counter() >= self._at

    def check(self, stage: str) -> None:
        """Raise :class:`RecognitionTimeout` naming ``stage`` when the time is up."""
        if self.expired():
            raise RecognitionTimeout(
                f"Recognition took longer than {self.seconds:g} s (stopped in {stage})."
            )
