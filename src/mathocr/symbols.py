"""The symbol classes the classifier knows, and how each maps to ASCII and LaTeX.

The class order here is the order of the classifier's output logits. The shipped
model's ``symbols.json`` repeats the list; :func:`mathocr.classify.load_classifier`
refuses a model whose list differs, so training and serving cannot drift apart.
"""

from __future__ import annotations

from typing import Final

#: Output classes of the symbol classifier, in logit order.
#: ``x`` is the handwritten letter x: the reader decides from context whether it
#: stands for multiplication (``3 x 4``); ``reject`` covers specks, other letters
#: and scribbles that are no arithmetic symbol at all.
CLASSES: Final[tuple[str, ...]] = (
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "+", "-", "×", "÷", "/", "=", "(", ")", ".",
    "x", "reject",
)  # fmt: skip

CLASS_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(CLASSES)}

DIGITS: Final[frozenset[str]] = frozenset("0123456789")
BINARY_OPERATORS: Final[frozenset[str]] = frozenset({"+", "-", "×", "÷", "/"})

#: Canonical ASCII spelling of each symbol in an expression string.
ASCII: Final[dict[str, str]] = {
    **{d: d for d in "0123456789"},
    "+": "+", "-": "-", "×": "*", "÷": "/", "/": "/", "=": "=",
    "(": "(", ")": ")", ".": ".", "x": "*",
}  # fmt: skip

#: LaTeX spelling of each symbol.
LATEX: Final[dict[str, str]] = {
    **{d: d for d in "0123456789"},
    "+": "+", "-": "-", "×": r"\times", "÷": r"\div", "/": "/", "=": "=",
    "(": "(", ")": ")", ".": ".", "x": r"\times",
}  # fmt: skip

#: Size of the square image the classifier sees (see :mod:`mathocr.normalize`).
INPUT_SIZE: Final[int] = 32
