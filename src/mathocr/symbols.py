"""The symbol classes the classifier knows, and the groups the grammar sorts them into.

The class order here is the order of a full model's output logits. A model's
``symbols.json`` lists the classes it was trained on, in its own logit order:
:class:`mathocr.classify.Classifier` maps them onto these (a model trained
before a class existed never proposes it) and refuses a model that knows a
class the code does not, so training and serving cannot drift apart.
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
    "[", "]", "<", ">", "≤", "≥", "≠",
    "reject",
)  # fmt: skip

CLASS_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(CLASSES)}

#: Classes that compare two sides (an equation or an inequality): a verdict, not a value.
RELATIONS: Final[frozenset[str]] = frozenset({"=", "<", ">", "≤", "≥", "≠"})
#: Opening bracket -> its closing one.
BRACKETS: Final[dict[str, str]] = {"(": ")", "[": "]"}
#: Deepest bracket nesting of the grammar, for the reader and the computation alike.
MAX_DEPTH: Final[int] = 8

#: Size of the square image the classifier sees (see :mod:`mathocr.normalize`).
INPUT_SIZE: Final[int] = 32
#: Planes of the classifier input: the symbol's ink, and a constant plane holding its
#: size relative to the line's typical symbol height (see :mod:`mathocr.normalize`).
INPUT_CHANNELS: Final[int] = 2
