"""How values and expressions are written out: exact fractions, decimals and LaTeX.

:mod:`mathocr.compute` parses and evaluates; this module only writes. Its
token vocabulary is the canonical one of :func:`mathocr.compute.solve`: digits
and numbers, ``+ - * ÷ /``, the relations ``= < > <= >= !=``, brackets and
``?`` for an unknown symbol.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from fractions import Fraction
from typing import Final

__all__ = [
    "DECIMAL_DIGITS",
    "RELATION_LATEX",
    "format_decimal",
    "format_fraction",
    "latex_fraction",
    "latex_scientific",
    "latex_tokens",
]

#: Significant digits of a decimal when the exact one does not terminate (or
#: needs more digits than this).
DECIMAL_DIGITS: Final[int] = 15

#: Relation token -> its LaTeX, and the LaTeX of its negation.
RELATION_LATEX: Final[dict[str, tuple[str, str]]] = {
    "=": ("=", r"\neq"),
    "<": ("<", r"\nless"),
    ">": (">", r"\ngtr"),
    "<=": (r"\le", r"\nleq"),
    ">=": (r"\ge", r"\ngeq"),
    "!=": (r"\neq", "="),
}
_OPERATOR_LATEX: Final[dict[str, str]] = {
    "+": "+",
    "-": "-",
    "*": r"\times",
    "÷": r"\div",
    "/": "/",
}
#: Tokens after which ``+`` and ``-`` are signs, not operators.
_SIGN_AFTER: Final[frozenset[str]] = frozenset({"(", "[", "+", "-", "*", "÷", "/", *RELATION_LATEX})

#: What a comma between digits means: a decimal point (``1,5``, the default) or, in
#: the English convention, a separator of thousands (``1,000``).
COMMA_CONVENTIONS: Final[tuple[str, ...]] = ("decimal", "thousands")


def format_fraction(value: Fraction) -> str:
    """Exact string of a fraction: ``"33"``, ``"7/2"``, ``"-1/3"``.

    Examples
    --------
    >>> format_fraction(Fraction(-2, 6))
    '-1/3'
    """
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def latex_fraction(value: Fraction) -> str:
    """LaTeX of a fraction: ``33``, ``\\frac{7}{2}``, ``-\\frac{1}{3}``.

    Examples
    --------
    >>> latex_fraction(Fraction(-7, 2))
    '-\\\\frac{7}{2}'
    """
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return rf"{sign}\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def format_decimal(value: Fraction, *, digits: int = DECIMAL_DIGITS) -> str:
    """Decimal string of a fraction.

    Exact when the expansion terminates within ``digits`` significant digits
    (integers are always exact); otherwise rounded half-even to ``digits``
    significant digits, in scientific notation (``1.5e+20``) only when the
    plain form would need leading or trailing zeros beyond 6/``digits`` places.

    Examples
    --------
    >>> format_decimal(Fraction(7, 2))
    '3.5'
    >>> format_decimal(Fraction(-1, 3))
    '-0.333333333333333'
    """
    if value.denominator == 1:
        return str(value.numerator)
    places = _terminating_digits(value)
    ctx = decimal.Context(prec=digits, rounding=decimal.ROUND_HALF_EVEN)
    if places is not None:
        exact = decimal.Decimal(value.numerator * 10**places // value.denominator).scaleb(-places)
        if len(exact.as_tuple().digits) <= digits:
            return _plain(exact, digits)
    approx = ctx.divide(decimal.Decimal(value.numerator), decimal.Decimal(value.denominator))
    return _plain(approx.normalize(ctx), digits)


def latex_scientific(text: str) -> str:
    """LaTeX of a decimal from :func:`format_decimal`, ``e`` notation as a power of ten.

    Examples
    --------
    >>> latex_scientific("1.5e+20")
    '1.5 \\\\times 10^{20}'
    >>> latex_scientific("0.25")
    '0.25'
    """
    mantissa, e, power = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(power)}}}" if e else text


def latex_tokens(tokens: Sequence[str]) -> str:
    """LaTeX of canonical tokens: spaced binary operators and relations, tight signs.

    Examples
    --------
    >>> latex_tokens(["12", "+", "-", "7", "*", "3", "<=", "?"])
    '12 + -7 \\\\times 3 \\\\le \\\\text{?}'
    """
    parts: list[str] = []
    prev: str | None = None
    for tok in tokens:
        if tok in _OPERATOR_LATEX:
            sign = tok in ("+", "-") and (prev is None or prev in _SIGN_AFTER)
            parts.append(tok if sign else f" {_OPERATOR_LATEX[tok]} ")
        elif tok in RELATION_LATEX:
            parts.append(f" {RELATION_LATEX[tok][0]} ")
        elif tok == "?":
            parts.append(r"\text{?}")
        else:
            parts.append(tok.replace(",", "{,}"))  # a grouping comma, not a list
        prev = tok
    return " ".join("".join(parts).split())


def _terminating_digits(value: Fraction) -> int | None:
    """Decimal places of ``value`` if its decimal expansion terminates, else None."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


def _plain(number: decimal.Decimal, digits: int) -> str:
    exponent = number.adjusted()
    if -6 <= exponent < digits:
        text = format(number, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, _, power = format(number, "e").partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(power):+d}"
