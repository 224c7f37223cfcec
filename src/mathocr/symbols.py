"""The symbol classes the classifier knows, and how each maps to ASCII and LaTeX.

The class order here is the order of the classifier's output logits. The shipped
model's ``symbols.json`` repeats the list; :func:`mathocr.classify.load_classifier`
refuses a model whose list differs, so training and serving cannot drift apart.
"""

from __future__ import annotations

from typing import Final

#: Output classes of the symbol classifier, in logit order.
#: ``×`` is any handwritten cross, the letter x included: held-out writers' ``x`` and
#: ``\times`` have the same shape (the training data tells them apart only by the
#: expression around them), so telling a variable from a product is left to the
#: reader. ``reject`` covers specks, other letters and scribbles that are no
#: arithmetic symbol at all.
CLASSES: Final[tuple[str, ...]] = (
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "+", "-", "×", "÷", "/", "=", "(", ")", ".",
    "reject",
)  # fmt: skip

CLASS_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(CLASSES)}

DIGITS: Final[frozenset[str]] = frozenset("0123456789")
BINARY_OPERATORS: Final[frozenset[str]] = frozenset({"+", "-", "×", "÷", "/"})

#: Canonical ASCII spelling of each symbol in an expression string.
ASCII: Final[dict[str, str]] = {
    **{d: d for d in "0123456789"},
    "+": "+", "-": "-", "×": "*", "÷": "/", "/": "/", "=": "=",
    "(": "(", ")": ")", ".": ".",
}  # fmt: skip

#: LaTeX spelling of each symbol.
LATEX: Final[dict[str, str]] = {
    **{d: d for d in "0123456789"},
    "+": "+", "-": "-", "×": r"\times", "÷": r"\div", "/": "/", "=": "=",
    "(": "(", ")": ")", ".": ".",
}  # fmt: skip

#: Size of the square image the classifier sees (see :mod:`mathocr.normalize`).
INPUT_SIZE: Final[int] = 32
#: Planes of the classifier input: the symbol's ink, and a constant plane holding its
#: size relative to the line's typical symbol height (see :mod:`mathocr.normalize`).
INPUT_CHANNELS: Final[int] = 2
