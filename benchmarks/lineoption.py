"""The benchmarks' reader options: ``--no-line-model`` (the lattice reader alone, as
before issue 16) and ``--truth-odds`` (the answer prior's odds, 1 for none)."""

from __future__ import annotations

import argparse


def add_line_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-line-model`` (and ``--line-model PATH``) to a benchmark's options."""
    parser.add_argument(
        "--no-line-model", action="store_true", help="read with the lattice reader alone"
    )
    parser.add_argument("--line-model", type=str, default=None, help="another line model")
    parser.add_argument(
        "--truth-odds", type=float, default=None,
        help="the answer prior's odds (mathocr.truth; 1 turns it off)",
    )  # fmt: skip


def line_option(args: argparse.Namespace) -> dict:
    """The ``Recognizer`` keywords for the options (none by default, so that the same
    command also runs an older checkout's code, which has neither)."""
    out: dict = {}
    if args.no_line_model:
        out["line_model"] = False
    elif args.line_model:
        out["line_model"] = args.line_model
    if args.truth_odds is not None:
        out["truth_odds"] = args.truth_odds
    return out
