"""The benchmarks' ``--no-line-model`` option: the lattice reader alone, as before issue 16."""

from __future__ import annotations

import argparse


def add_line_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-line-model`` (and ``--line-model PATH``) to a benchmark's options."""
    parser.add_argument(
        "--no-line-model", action="store_true", help="read with the lattice reader alone"
    )
    parser.add_argument("--line-model", type=str, default=None, help="another line model")


def line_option(args: argparse.Namespace) -> dict:
    """The ``Recognizer`` keywords for the options (none by default, so that the same
    command also runs an older checkout's code, which has no line model)."""
    if args.no_line_model:
        return {"line_model": False}
    if args.line_model:
        return {"line_model": args.line_model}
    return {}
