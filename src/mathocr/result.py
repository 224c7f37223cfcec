"""Frozen result types returned by :class:`mathocr.Recognizer`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """What the recognizer could do with an image."""

    SOLVED = "solved"  #: read and computed (or an equation checked)
    RECOGNIZED = "recognized"  #: read, but cannot be computed (see ``Result.error``)
    UNREADABLE = "unreadable"  #: no handwriting, or nothing that forms an expression


@dataclass(frozen=True, slots=True)
class Alternative:
    """A runner-up class for one symbol."""

    symbol: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Symbol:
    """One recognized symbol: its label, probability, box ``(x, y, w, h)`` in image
    pixels, and the classifier's runner-up classes."""

    symbol: str
    confidence: float
    box: tuple[int, int, int, int]
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True, slots=True)
class Computation:
    """A named line of the answer, rendered as LaTeX (the Angular client's shape)."""

    name: str
    result: str


@dataclass(frozen=True, slots=True)
class Result:
    """Everything the recognizer found in one image.

    ``expression`` is canonical ASCII (digits, ``.``, ``+ - * / = ( )``);
    ``result`` is exact (``"33"``, ``"7/2"``), ``result_decimal`` its decimal
    form; ``verdict`` is set for a written equation ``a = b``. ``steps`` is the
    working in LaTeX, one operation a line in the order of operations, from the
    expression as written to its value (``12 + 7 \\times 3``, ``12 + 21``, ``33``), or
    for an equation to its sides' values and the verdict; empty without a result.
    ``error`` is a stable code (``division_by_zero``, ``malformed``, ``too_large``,
    ...) when ``status`` is ``recognized``; ``message`` says it in words.
    ``timings`` are milliseconds per stage.
    """

    status: Status
    expression: str = ""
    latex: str = ""
    result: str | None = None
    result_decimal: str | None = None
    verdict: bool | None = None
    confidence: float = 0.0
    symbols: tuple[Symbol, ...] = ()
    computations: tuple[Computation, ...] = ()
    steps: tuple[str, ...] = ()
    error: str | None = None
    message: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: the fields in order, status as its string value, lists.

        Written out by hand: :func:`dataclasses.asdict` walks and deep-copies every
        value, several times slower on a line of symbols with their alternatives.
        """
        return {
            "status": self.status.value,
            "expression": self.expression,
            "latex": self.latex,
            "result": self.result,
            "result_decimal": self.result_decimal,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "symbols": [
                {
                    "symbol": s.symbol,
                    "confidence": s.confidence,
                    "box": list(s.box),
                    "alternatives": [
                        {"symbol": a.symbol, "confidence": a.confidence} for a in s.alternatives
                    ],
                }
                for s in self.symbols
            ],
            "computations": [{"name": c.name, "result": c.result} for c in self.computations],
            "steps": list(self.steps),
            "error": self.error,
            "message": self.message,
            "timings": dict(self.timings),
        }
