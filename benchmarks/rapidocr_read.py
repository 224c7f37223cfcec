"""RapidOCR's recognition model on the images ``benchmarks/readers.py --save DIR`` wrote.

A general OCR never trained on handwritten arithmetic, for comparison (issue 16):
RapidOCR's PP-OCR recognition model run on each whole image with no detection and no
angle classifier. It is no dependency of the service: run this file with a
benchmark-only environment's Python::

    python3 -m venv /tmp/rapid && /tmp/rapid/bin/pip install rapidocr onnxruntime
    /tmp/rapid/bin/python benchmarks/rapidocr_read.py DIR

It writes ``DIR/rapidocr.json`` (file name -> text read, in our ASCII), which
``benchmarks/readers.py --rapidocr DIR`` scores beside our readers. The text is
mapped generously onto our symbols before it is compared: ``× x X`` are ``*``,
``÷ :`` are ``/``, dashes are ``-``, a comma is a point, ``o O`` are ``0``, ``l I |``
are ``1``, and spaces are dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

_MAP = str.maketrans(
    {"×": "*", "x": "*", "X": "*", "÷": "/", ":": "/", "−": "-", "–": "-", "—": "-",
     ",": ".", "o": "0", "O": "0", "l": "1", "I": "1", "|": "1", " ": None}
)  # fmt: skip


def normalized(text: str) -> str:
    """RapidOCR's text in our ASCII (see the module docstring)."""
    return text.translate(_MAP)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    folder = Path(args[0])
    from rapidocr import RapidOCR

    engine = RapidOCR()
    cases = json.loads((folder / "cases.json").read_text())
    out = {}
    for case in cases:
        data = np.frombuffer((folder / case["file"]).read_bytes(), np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        result = engine(image, use_det=False, use_cls=False, use_rec=True)
        text = result.txts[0] if result.txts else ""
        out[case["file"]] = normalized(text)
    (folder / "rapidocr.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"{len(out)} images read into {folder / 'rapidocr.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
