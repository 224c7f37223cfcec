"""mathocr: read a photo of handwritten arithmetic and solve it.

A plain Python package (no Django, no torch): image bytes in, a frozen
:class:`Result` out.

>>> import cv2
>>> import numpy as np
>>> from mathocr import Recognizer
>>> page = np.full((100, 400), 255, np.uint8)  # white paper, a sum written on it
>>> page = cv2.putText(page, "12+7x3", (20, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 4)
>>> result = Recognizer()(cv2.imencode(".png", page)[1].tobytes())
>>> result.expression, result.result
('12+7*3', '33')
"""

from typing import TYPE_CHECKING

from .errors import InvalidImage, MathOCRError, ModelError
from .result import Alternative, Computation, Result, Status, Symbol

if TYPE_CHECKING:  # at run time, __getattr__ below imports it on first use
    from .recognizer import Recognizer

#: Version of the package and of the service's API (the model has its own, in its
#: card and in ``Recognizer.model_version``).
__version__ = "1.0.0"

__all__ = [
    "Alternative",
    "Computation",
    "InvalidImage",
    "MathOCRError",
    "ModelError",
    "Recognizer",
    "Result",
    "Status",
    "Symbol",
    "__version__",
]


def __getattr__(name: str) -> object:  # lazy: importing mathocr.result must not load onnxruntime
    if name == "Recognizer":
        from .recognizer import Recognizer

        return Recognizer
    raise AttributeError(name)
