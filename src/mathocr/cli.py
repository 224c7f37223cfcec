"""Command line: ``mathocr recognize IMAGE... [--json]``.

Prints one line per image (``sum.png: 12+7*3= -> 33  (solved, confidence 0.93)``)
or, with ``--json``, a JSON list with one object per image (the
:meth:`~mathocr.result.Result.to_dict` fields plus ``path``; an image that cannot
be read has ``error`` and ``message`` only). Exits 1 when any image could not be
read, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InvalidImage, MathOCRError
from .notation import COMMA_CONVENTIONS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mathocr", description="Read handwritten arithmetic in images and solve it."
    )
    parser.add_argument("--version", action="version", version=f"mathocr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recognize", help="recognize and solve the expression in each image")
    rec.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    rec.add_argument("--json", action="store_true", help="print JSON instead of text")
    rec.add_argument("--model", type=Path, default=None, help="ONNX model (default: shipped)")
    rec.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    rec.add_argument("--line-model", type=Path, default=None, help="line model (default: shipped)")
    rec.add_argument(
        "--no-line-model", action="store_true", help="read with the lattice reader alone"
    )
    rec.add_argument(
        "--comma",
        choices=COMMA_CONVENTIONS,
        default="decimal",
        help="what a comma between digits means: decimal (1,5) or thousands (1,000)",
    )
    return parser


def _describe(path: Path, data: dict[str, Any]) -> str:
    if data["status"] == "unreadable":
        return f"{path}: unreadable ({data['message']})"
    line = f"{path}: {data['expression']}"
    if data["verdict"] is not None:
        line += f"  -> {'true' if data['verdict'] else 'false'}"
    elif data["result"] is not None:
        shown = data["result"]
        if data["result_decimal"] and data["result_decimal"] != shown:
            shown += f" = {data['result_decimal']}"
        line += f" -> {shown}"
    line += f"  ({data['status']}, confidence {data['confidence']:.2f})"
    if data["error"]:
        line += f" [{data['error']}: {data['message']}]"
    return line


def recognize(
    paths: Sequence[Path],
    *,
    as_json: bool,
    model: Path | None,
    threads: int,
    comma: str = "decimal",
    line_model: bool | Path = True,
) -> int:
    """Recognize each image and print the outcome; returns the exit status."""
    from .recognizer import Recognizer

    try:
        recognizer = Recognizer(model, threads=threads, comma=comma, line_model=line_model)
    except MathOCRError as exc:
        print(f"mathocr: {exc}", file=sys.stderr)
        return 2
    failed = False
    records = []
    for path in paths:
        try:
            data = recognizer(path.read_bytes()).to_dict()
        except (OSError, InvalidImage) as exc:
            failed = True
            code = getattr(exc, "code", "unreadable_file")
            message = str(exc) if isinstance(exc, InvalidImage) else exc.strerror or str(exc)
            records.append({"path": str(path), "error": code, "message": message})
            if not as_json:
                print(f"{path}: error {code}: {message}", file=sys.stderr)
            continue
        records.append({"path": str(path), **data})
        if not as_json:
            print(_describe(path, data))
    if as_json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mathocr`` console script."""
    args = _parser().parse_args(argv)
    try:
        return recognize(
            args.images,
            as_json=args.json,
            model=args.model,
            threads=args.threads,
            comma=args.comma,
            line_model=False if args.no_line_model else (args.line_model or True),
        )
    except BrokenPipeError:  # `mathocr recognize ... | head`: the reader left, so do we
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
