"""Stage 6: compute a read expression exactly.

:func:`solve` takes the labels chosen by :func:`mathocr.read.read` (class names
from :data:`mathocr.symbols.CLASSES`) and computes them with
:class:`fractions.Fraction` through a small recursive-descent parser that builds
an expression tree. It never calls ``eval``, never raises and never hangs: every
failure becomes a :class:`~mathocr.result.Result` with ``status`` ``recognized``
(or ``unreadable`` for an empty input) and a stable ``error`` code. How the values
and the expression are written out (fractions, decimals, LaTeX) is
:mod:`mathocr.notation`'s job. The tree also gives ``Result.steps``: the working,
one operation a line in the order of operations (``12 + 7 \\times 3``, ``12 + 21``,
``33``), at most :data:`MAX_STEPS` lines. :func:`solve_text` solves an expression
typed as text (a person's correction of a reading).

Grammar (the same language :func:`mathocr.read.read` accepts as valid)::

    input    := expr "="                     a = (fill in the answer)
              | expr ( rel expr )*            a, a = b (= c ...: a chain), a < b
    rel      := "=" | "<" | ">" | "≤" | "≥" | "≠"
    expr     := sign? term ( ("+" | "-") term )*
    term     := factor ( ("×" | "÷" | "/") sign? factor | group )*
    sign     := "+" | "-"
    factor   := number | group
    group    := "(" expr ")" | "[" expr "]"   each closed by its own kind,
                                              at most MAX_DEPTH levels deep
    number   := whole ( "." digit+ )?
    whole    := digit+ | digit{1,3} ( "," digit{3} )+   the comma groups thousands

* ``x`` (the letter) and ASCII ``*`` mean ``×``; ``÷`` and ``/`` both divide.
* Unary signs (``-`` and ``+``): at the start of a side (``+1-1+1 = +1``), right
  after a bracket opens, and right after ``× ÷ /`` (``2 × -3``); never after
  ``+``/``-`` and never doubled (``2 + -3`` and ``--3`` are malformed: on paper
  they are far more often a misread than intended).
* Implicit multiplication only before a bracket: ``2(3+4)``, ``(1+2)[3+4]``.
* A number needs a digit on both sides of its point: ``.5`` and ``5.`` are
  malformed. A comma groups the digits of the whole part in threes
  (``1,000,000.5``); the reader reads one only where asked to
  (``thousands``, the English convention: elsewhere a comma is a decimal point,
  read as ``.``).
* A chain ``a = b = c`` (working written out step by step, as in 3 of the 476
  arithmetic expressions of CROHME 2016 train) is an equation whose verdict
  says whether all sides are equal. A trailing ``=`` fills in the answer of a
  single expression only (``a = b =`` is malformed). Comparisons (``<``,
  ``>``, ``≤``, ``≥``, ``≠``, mixed with ``=`` in a chain such as
  ``1 < 2 = 2``) get a verdict the same way: whether every relation holds.
* Verdicts are exact. ``48/21 = 2.29`` is false, but since its right side is a
  decimal the left side rounds to (half away from zero, at the written number
  of places), the message and the ``Check`` line (``\\frac{16}{7} \\approx 2.29``)
  say that it holds after rounding; 39 of the 476 CROHME 2016 train arithmetic
  expressions are written that way.
* Empty labels (``""``, noise dropped by the reader) and ``reject`` are skipped.

Error codes: ``empty`` (status ``unreadable``), ``malformed``,
``division_by_zero``, ``too_large`` (input longer than :data:`MAX_SYMBOLS`,
nesting deeper than :data:`mathocr.symbols.MAX_DEPTH`, a literal longer than
:data:`MAX_LITERAL_DIGITS` digits, or an intermediate value whose numerator or
denominator reaches ``10**MAX_VALUE_DIGITS``).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, TypeAlias

from .notation import (
    RELATION_LATEX,
    format_decimal,
    format_fraction,
    latex_fraction,
    latex_scientific,
    latex_tokens,
)
from .result import Computation, Result, Status
from .symbols import BRACKETS, MAX_DEPTH

__all__ = [
    "MAX_LITERAL_DIGITS",
    "MAX_STEPS",
    "MAX_SYMBOLS",
    "MAX_VALUE_DIGITS",
    "equation_holds",
    "solve",
    "solve_text",
    "text_labels",
]

#: Most symbols (after dropping noise) an expression may have.
MAX_SYMBOLS: Final[int] = 200
#: Most lines of :attr:`Result.steps <mathocr.result.Result.steps>`; longer working
#: skips to the result.
MAX_STEPS: Final[int] = 50
#: Most digits in one written number.
MAX_LITERAL_DIGITS: Final[int] = 30
#: Numerators and denominators of every intermediate value stay below 10**this.
MAX_VALUE_DIGITS: Final[int] = 60

_VALUE_LIMIT: Final[int] = 10**MAX_VALUE_DIGITS

#: Label -> canonical ASCII token. Labels missing here are unknown.
_TOKEN: Final[dict[str, str]] = {
    **{d: d for d in "0123456789"},
    ".": ".",
    ",": ",",
    "+": "+",
    "-": "-",
    "×": "*",
    "x": "*",
    "*": "*",
    "÷": "÷",
    "/": "/",
    "=": "=",
    "<": "<",
    ">": ">",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "(": "(",
    ")": ")",
    "[": "[",
    "]": "]",
}
#: Relation token -> whether it holds between two values.
_RELATIONS: Final[dict[str, Callable[[Fraction, Fraction], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "!=": operator.ne,
}
_SKIPPED: Final[frozenset[str]] = frozenset({"", "reject"})
#: Written characters -> labels, for :func:`solve_text` (besides digits; whitespace is
#: ignored). The canonical ASCII of ``Result.expression`` and the symbols themselves.
_TEXT_LABELS: Final[dict[str, str]] = {
    ".": ".", "+": "+", "-": "-", "*": "×", "x": "×", "×": "×", "÷": "÷", "/": "/",
    "=": "=", "<": "<", ">": ">", "≤": "≤", "≥": "≥", "≠": "≠",
    "(": "(", ")": ")", "[": "[", "]": "]",
}  # fmt: skip
#: Two-character relations of the canonical ASCII.
_TEXT_PAIRS: Final[dict[str, str]] = {"<=": "≤", ">=": "≥", "!=": "≠"}


class _Failure(Exception):
    """Internal: aborts parsing/evaluation with a code and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Num:
    """A number: as written (``literal``, e.g. ``"0.50"``), or computed (``literal`` None)."""

    value: Fraction
    literal: str | None = None


@dataclass(frozen=True, slots=True)
class _Neg:
    """A unary minus (a unary plus leaves no node)."""

    operand: _Node


@dataclass(frozen=True, slots=True)
class _Group:
    """A bracketed expression; ``opening`` is ``(`` or ``[``."""

    opening: str
    inner: _Node


@dataclass(frozen=True, slots=True)
class _Op:
    """A binary operation: ``op`` as written (``+ - * ÷ /``); ``implicit`` for ``2(3+4)``."""

    op: str
    left: _Node
    right: _Node
    implicit: bool = False


_Node: TypeAlias = "_Num | _Neg | _Group | _Op"


class _Parser:
    """Recursive descent over canonical tokens, building an expression tree.

    Parsing a whole side before evaluating it means a malformed expression is
    reported as ``malformed`` even when it also divides by zero (``(1÷0``).
    """

    __slots__ = ("depth", "pos", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def sign(self) -> bool:
        """Skip a unary sign; whether it negates."""
        tok = self.peek()
        if tok in ("+", "-"):
            self.pos += 1
            return tok == "-"
        return False

    def expr(self) -> _Node:
        negate = self.sign()
        node = self.term()
        if negate:
            node = _Neg(node)
        while (op := self.peek()) in ("+", "-"):
            self.pos += 1
            node = _Op(op, node, self.term())
        return node

    def term(self) -> _Node:
        node = self.factor()
        while True:
            op = self.peek()
            if op in ("*", "÷", "/"):
                self.pos += 1
                negate = self.sign()
                right = self.factor()
                node = _Op(op, node, _Neg(right) if negate else right)
            elif op in BRACKETS:  # implicit multiplication: 2(3+4), (1+2)[3+4]
                node = _Op("*", node, self.factor(), implicit=True)
            else:
                return node

    def factor(self) -> _Node:
        tok = self.peek()
        if tok is None:
            raise _Failure("malformed", "The expression ends where a number was expected.")
        if tok in BRACKETS:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Failure("too_large", f"Brackets nest deeper than {MAX_DEPTH}.")
            self.pos += 1
            inner = self.expr()
            if self.peek() != BRACKETS[tok]:
                raise _Failure("malformed", f"A '{tok}' is not closed by '{BRACKETS[tok]}'.")
            self.pos += 1
            self.depth -= 1
            return _Group(tok, inner)
        if tok[0].isdigit():
            self.pos += 1
            return _Num(Fraction(tok.replace(",", "")), tok)
        raise _Failure("malformed", f"Unexpected {_describe(tok)} where a number was expected.")


def _apply(op: str, left: Fraction, right: Fraction) -> Fraction:
    """One operation, exactly, guarding size and division by zero."""
    if op == "+":
        value = left + right
    elif op == "-":
        value = left - right
    elif op == "*":
        value = left * right
    elif right == 0:
        raise _Failure("division_by_zero", "Division by zero.")
    else:
        value = left / right
    return _check(value)


def _run(node: _Node) -> Fraction:
    """Evaluate a tree exactly, operations in the order of operations (left operand first).

    Recursion is bounded: a side has at most :data:`MAX_SYMBOLS` tokens.
    """
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Neg):
        return -_run(node.operand)
    if isinstance(node, _Group):
        return _run(node.inner)
    left = _run(node.left)
    return _apply(node.op, left, _run(node.right))


def _describe(token: str) -> str:
    return "unknown symbol" if token == "?" else f"'{token}'"  # noqa: S105 - a parsed token


def _check(value: Fraction) -> Fraction:
    if abs(value.numerator) >= _VALUE_LIMIT or value.denominator >= _VALUE_LIMIT:
        raise _Failure("too_large", f"A value exceeds {MAX_VALUE_DIGITS} digits.")
    return value


def _tokenize(chars: list[str]) -> list[str]:
    """Group digits and points into number tokens; validate each number."""
    tokens: list[str] = []
    i, n = 0, len(chars)
    while i < n:
        c = chars[i]
        if c.isdigit() or c in ".,":
            j = i
            while j < n and (chars[j].isdigit() or chars[j] in ".,"):
                j += 1
            number = "".join(chars[i:j])
            whole, dot, frac = number.partition(".")
            groups = whole.split(",")
            grouped = len(groups) == 1 or (
                1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
            )
            if not whole or (dot and not frac) or "." in frac or "," in frac or not grouped:
                raise _Failure("malformed", f"'{number}' is not a number.")
            if len(number) - len(dot) - number.count(",") > MAX_LITERAL_DIGITS:
                raise _Failure("too_large", f"A number has more than {MAX_LITERAL_DIGITS} digits.")
            tokens.append(number)
            i = j
        else:
            tokens.append(c)
            i += 1
    return tokens


def _value_lines(value: Fraction) -> tuple[str, str, tuple[Computation, ...]]:
    exact, approx = format_fraction(value), format_decimal(value)
    lines = [Computation("Result", latex_fraction(value))]
    if value.denominator != 1:
        lines.append(Computation("Decimal", latex_scientific(approx)))
    return exact, approx, tuple(lines)


def text_labels(text: str) -> list[str]:
    """The labels of an expression written as text, for :func:`solve`.

    Accepts what ``Result.expression`` holds (``12+7*3=``, ``2*3>=5``, ``1!=2``) and
    the symbols themselves (``×``, ``÷``, ``≤``, ``≥``, ``≠``, and ``x`` for ``×``);
    whitespace is ignored. Any other character raises :class:`ValueError` naming it.

    Examples
    --------
    >>> text_labels("12 + 7*3 <= 40")
    ['1', '2', '+', '7', '×', '3', '≤', '4', '0']
    >>> text_labels("2a")
    Traceback (most recent call last):
    ...
    ValueError: 'a' is not a symbol of arithmetic.
    """
    labels: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if (pair := _TEXT_PAIRS.get(text[i : i + 2])) is not None:
            labels.append(pair)
            i += 2
            continue
        if c.isspace():
            pass
        elif c in "0123456789":
            labels.append(c)
        elif c in _TEXT_LABELS:
            labels.append(_TEXT_LABELS[c])
        else:
            raise ValueError(f"{c!r} is not a symbol of arithmetic.")
        i += 1
        if len(labels) > MAX_SYMBOLS:  # solve refuses it; no need to read further
            break
    return labels


def solve_text(text: str) -> Result:
    """:func:`solve` an expression written as text (see :func:`text_labels`); never eval.

    A character outside the grammar is ``malformed`` (the message names it), text
    without any symbol is ``empty``, more than :data:`MAX_SYMBOLS` symbols ``too_large``.

    Examples
    --------
    >>> solve_text("12 + 7*3 =").steps
    ('12 + 7 \\\\times 3', '12 + 21', '33')
    >>> r = solve_text("3 + 4 != 8")
    >>> r.expression, r.verdict
    ('3+4!=8', True)
    >>> solve_text("2 + a").message
    "'a' is not a symbol of arithmetic."
    """
    try:
        labels = text_labels(text)
    except ValueError as exc:
        return Result(Status.RECOGNIZED, error="malformed", message=str(exc))
    return solve(labels)


def solve(labels: Sequence[str]) -> Result:
    """Compute a sequence of symbol labels exactly.

    Parameters
    ----------
    labels : sequence of str
        Class names from :data:`mathocr.symbols.CLASSES` (``""`` and
        ``reject`` are skipped; ASCII ``*`` is accepted for ``×``).

    Returns
    -------
    Result
        Everything but what only an image gives (``confidence`` 0, no
        ``symbols``, no ``timings``: :class:`mathocr.Recognizer` adds them).
        Never raises for any input; see the module docstring for the grammar
        and the error codes.

    Examples
    --------
    >>> s = solve(["1", "2", "+", "7", "×", "3", "="])
    >>> s.expression, s.result, s.latex
    ('12+7*3=', '33', '12 + 7 \\\\times 3 =')
    >>> solve(["7", "÷", "2"]).result
    '7/2'
    >>> solve(["3", "+", "4", "=", "8"]).verdict
    False
    """
    chars = [
        _TOKEN.get(label, "?") if isinstance(label, str) else "?"
        for label in labels
        if not (isinstance(label, str) and label in _SKIPPED)
    ]
    if not chars:
        return Result(
            Status.UNREADABLE, error="empty", message="No arithmetic symbols were recognized."
        )
    expression = "".join("/" if c == "÷" else c for c in chars[: MAX_SYMBOLS * 2])
    if len(chars) > MAX_SYMBOLS:
        return Result(
            Status.RECOGNIZED,
            expression=expression,
            error="too_large",
            message=f"The expression has more than {MAX_SYMBOLS} symbols.",
        )
    latex = latex_tokens(chars)
    try:
        if "?" in chars:
            raise _Failure("malformed", "The expression contains an unknown symbol.")
        return _solve_tokens(_tokenize(chars), expression, latex)
    except _Failure as failure:
        return Result(
            Status.RECOGNIZED,
            expression=expression,
            latex=latex,
            error=failure.code,
            message=failure.message,
        )


def equation_holds(labels: Sequence[str]) -> bool | None:
    """Whether ``labels`` are an equation that holds, for the reader's answer prior.

    ``True`` when every side of an equation (``a = b``, a chain ``a = b = c``) has
    the same value, or a decimal right side is the left side rounded
    (``92/70 = 1.31``, as :func:`solve` says it holds after rounding); ``False``
    when they differ; ``None`` for anything else: no ``=``, a trailing ``=`` (the
    answer is to be filled in), a comparison, or labels :func:`solve` would not
    compute. Cheaper than :func:`solve` (no notation, no steps); the same guards.

    Examples
    --------
    >>> equation_holds(["3", "+", "4", "=", "7"]), equation_holds(["3", "+", "4", "=", "8"])
    (True, False)
    >>> equation_holds(["9", "2", "/", "7", "0", "=", "1", ".", "3", "1"])
    True
    >>> equation_holds(["3", "+", "4", "="]) is None, equation_holds(["3", "<", "4"]) is None
    (True, True)
    """
    chars = [_TOKEN.get(label, "?") for label in labels if label not in _SKIPPED]
    if "=" not in chars or "?" in chars or len(chars) > MAX_SYMBOLS:
        return None
    try:
        sides, relations = _split_sides(_tokenize(chars))
        if set(relations) != {"="} or not all(sides):
            return None
        values = [_run(_parse(side)) for side in sides]
    except _Failure:
        return None
    if all(v == values[0] for v in values[1:]):
        return True
    return len(values) == 2 and _rounds_to(values[0], sides[1])


def _split_sides(tokens: list[str]) -> tuple[list[list[str]], list[str]]:
    """The sides between relations, and the relations."""
    sides: list[list[str]] = [[]]
    relations: list[str] = []
    for tok in tokens:
        if tok in _RELATIONS:
            sides.append([])
            relations.append(tok)
        else:
            sides[-1].append(tok)
    return sides, relations


def _solve_tokens(tokens: list[str], expression: str, latex: str) -> Result:
    sides, relations = _split_sides(tokens)
    fill_in = relations == ["="] and not sides[1]
    if fill_in:
        sides.pop()
    if not sides[0]:
        raise _Failure("malformed", f"Nothing is written before '{relations[0]}'.")
    if not all(sides):
        raise _Failure("malformed", "Two relations have nothing between them, or one ends a chain.")
    trees = [_parse(side) for side in sides]  # every side parses before any is computed
    values = [_run(tree) for tree in trees]
    left = values[0]
    exact, approx, lines = _value_lines(left)
    if len(values) == 1:
        return Result(
            Status.SOLVED,
            expression=expression,
            latex=latex,
            result=exact,
            result_decimal=approx,
            computations=(Computation("Expression", latex_tokens(sides[0])), *lines),
            steps=_steps(sides, trees, [], values, ()),
            message=f"{expression.removesuffix('=')} = {exact}",
        )
    holds = [
        _RELATIONS[rel](before, value)
        for rel, (before, value) in zip(relations, itertools.pairwise(values), strict=True)
    ]
    verdict = all(holds)
    equation = set(relations) == {"="}
    kind = "equation" if equation else "inequality"
    verdicts = [
        RELATION_LATEX[rel][0 if ok else 1] for rel, ok in zip(relations, holds, strict=True)
    ]
    check = _line([latex_fraction(value) for value in values], verdicts)
    if verdict:
        message = f"The {kind} is true."
    elif equation and len(values) == 2 and _rounds_to(left, sides[1]):
        # "48/21 = 2.29": not exact, but the writer rounded; say so, verdict stays False
        verdicts = [r"\approx"]
        check = rf"{latex_fraction(left)} \approx {latex_tokens(sides[1])}"
        message = (
            f"The equation is not exact: the left side is {format_decimal(left)}, "
            f"which rounds to {''.join(sides[1])}."
        )
    else:
        shown = ", ".join(format_fraction(value) for value in values)
        message = f"The {kind} is false: its sides are {shown}."
    if len(values) == 2:
        named = [("Left side", values[0]), ("Right side", values[1])]
    else:
        named = [(f"Side {i}", value) for i, value in enumerate(values, 1)]
    return Result(
        Status.SOLVED,
        expression=expression,
        latex=latex,
        result=exact,
        result_decimal=approx,
        verdict=verdict,
        computations=(
            Computation(kind.capitalize(), latex),
            *(Computation(name, latex_fraction(value)) for name, value in named),
            Computation("Check", check),
        ),
        steps=_steps(sides, trees, relations, values, verdicts),
        message=message,
    )


# --------------------------------------------------------------------------- steps


def _step(node: _Node) -> tuple[_Node, bool]:
    """``node`` with its first operation in the order of operations done, and whether
    there was one (the first operation of :func:`_run`'s order: left to right, brackets
    and ``× ÷ /`` before ``+ -``). On the way to it, a negated number becomes a negative
    one and brackets around a number are dropped; neither counts as an operation."""
    if isinstance(node, _Num):
        return node, False
    if isinstance(node, _Neg):
        operand, done = _step(node.operand)
        if not done and isinstance(operand, _Num):
            return _Num(-operand.value), False
        return _Neg(operand), done
    if isinstance(node, _Group):
        inner, done = _step(node.inner)
        return (inner, done) if isinstance(inner, _Num) else (_Group(node.opening, inner), done)
    return _step_operation(node)


def _step_operation(node: _Op) -> tuple[_Node, bool]:
    """:func:`_step` of a binary operation: in its left operand, its right, or itself."""
    left, done = _step(node.left)
    if done:
        return _Op(node.op, left, node.right, node.implicit), True
    right, done = _step(node.right)
    if not done and isinstance(left, _Num) and isinstance(right, _Num):
        return _Num(_apply(node.op, left.value, right.value)), True
    return _Op(node.op, left, right, node.implicit), done


def _has_operation(node: _Node) -> bool:
    if isinstance(node, _Num):
        return False
    if isinstance(node, _Neg):
        return _has_operation(node.operand)
    if isinstance(node, _Group):
        return _has_operation(node.inner)
    return True


def _emit(node: _Node, out: list[str]) -> None:
    """Append ``node``'s canonical tokens to ``out``; computed values as LaTeX, in
    brackets when negative after an operator (``5 - (-1)``)."""
    if isinstance(node, _Num):
        if node.literal is not None:
            out.append(node.literal)
            return
        text = latex_fraction(node.value)
        if node.value < 0 and out and out[-1] not in BRACKETS:
            out.extend(("(", text, ")"))
        else:
            out.append(text)
    elif isinstance(node, _Neg):
        out.append("-")
        _emit(node.operand, out)
    elif isinstance(node, _Group):
        out.append(node.opening)
        _emit(node.inner, out)
        out.append(BRACKETS[node.opening])
    else:
        _emit(node.left, out)
        if not (node.implicit and isinstance(node.right, _Group)):
            out.append(node.op)  # an implicit product once its bracket is gone: 2 × 7
        _emit(node.right, out)


def _latex(node: _Node) -> str:
    out: list[str] = []
    _emit(node, out)
    return latex_tokens(out)


def _line(sides: Sequence[str], relations: Sequence[str]) -> str:
    """One line of LaTeX: the sides with the relations (already LaTeX) between them."""
    parts = [sides[0]]
    for rel, side in zip(relations, sides[1:], strict=True):
        parts += [rel, side]
    return " ".join(parts)


def _steps(
    sides: list[list[str]],
    trees: list[_Node],
    relations: list[str],
    values: list[Fraction],
    verdicts: Sequence[str],
) -> tuple[str, ...]:
    """The working, one operation a line (:data:`MAX_STEPS` lines at most).

    The first line is the expression as written (without a trailing ``=``); each next
    one does the first operation left to do (:func:`_step`), the sides of an equation
    or comparison one after another; the last is the value, or for an equation or
    comparison the sides reduced and then, unless every relation holds as written,
    the verdict (``7 \\neq 8``, or ``\\approx`` for a rounded answer). Working longer
    than :data:`MAX_STEPS` lines skips from there to those last lines.
    """
    written = [latex_tokens(side) for side in sides]
    rels = [RELATION_LATEX[rel][0] for rel in relations]
    if not relations:
        final = [latex_fraction(values[0])]
    else:
        reduced = [
            latex_fraction(value) if _has_operation(tree) else side
            for tree, value, side in zip(trees, values, written, strict=True)
        ]
        final = [_line(reduced, rels), _line(reduced, verdicts)]
        if final[1] == final[0]:  # every relation holds as written
            final.pop()
    shown = list(written)
    lines = [_line(shown, rels)]
    for i, tree in enumerate(trees):
        node = tree
        while len(lines) < MAX_STEPS - len(final):  # room for the last lines
            node, done = _step(node)
            if not done:
                break
            shown[i] = _latex(node)
            if (text := _line(shown, rels)) != lines[-1]:
                lines.append(text)
    for text in final:
        if text != lines[-1]:
            lines.append(text)
    return tuple(lines)


def _rounds_to(value: Fraction, side: list[str]) -> bool:
    """Whether ``side`` is a decimal literal (``2.29``, ``-0.65``) that ``value``
    rounds to, half away from zero, at the literal's number of places."""
    negative = side[:1] == ["-"]
    digits = side[1:] if negative else side
    if len(digits) != 1 or "." not in digits[0]:
        return False
    scale = 10 ** len(digits[0].partition(".")[2])
    magnitude = math.floor(abs(value) * scale + Fraction(1, 2))
    target = Fraction(digits[0].replace(",", "")) * scale
    return magnitude == target != 0 and (value < 0) == negative


def _parse(tokens: list[str]) -> _Node:
    parser = _Parser(tokens)
    tree = parser.expr()
    if parser.pos != len(tokens):
        tok = tokens[parser.pos]
        if tok in (")", "]"):
            raise _Failure("malformed", f"A '{tok}' has no matching opening bracket.")
        raise _Failure("malformed", f"Unexpected {_describe(tok)}.")
    return tree
