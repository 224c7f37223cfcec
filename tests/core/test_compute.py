"""Tests of stage 6: exact computation of read labels (mathocr.compute)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mathocr.compute import (
    MAX_LITERAL_DIGITS,
    MAX_STEPS,
    MAX_SYMBOLS,
    MAX_VALUE_DIGITS,
    solve,
    solve_text,
    text_labels,
)
from mathocr.notation import DECIMAL_DIGITS, format_decimal, format_fraction, latex_fraction
from mathocr.result import Computation, Result, Status
from mathocr.symbols import CLASSES, MAX_DEPTH


def labels(text: str) -> list[str]:
    """One label per character: '12+7×3=' -> ['1', '2', '+', '7', '×', '3', '=']."""
    return list(text)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", "7"),
        ("007", "7"),
        ("12+7×3", "33"),
        ("12+7x3", "33"),  # the letter x means ×
        ("2×3+4", "10"),
        ("8-3-2", "3"),  # left associative
        ("8÷4÷2", "1"),  # left associative
        ("8/4/2", "1"),
        ("2-3", "-1"),
        ("7÷2", "7/2"),
        ("7/2", "7/2"),
        ("-1÷3", "-1/3"),
        ("2÷-6", "-1/3"),
        ("(1+2)×3", "9"),
        ("2×(3+4)", "14"),
        ("((2))", "2"),
        ("-(2+3)", "-5"),
        ("(-2)×3", "-6"),
        ("-2×3", "-6"),
        ("2×-3", "-6"),
        ("-2×-3", "6"),
        ("6÷-(1+2)", "-2"),
        ("2(3+4)", "14"),  # implicit multiplication before a parenthesis
        ("(1+2)(3+4)", "21"),
        ("8÷2(2+2)", "16"),  # implicit product binds like ×, left to right
        ("0.1+0.2", "3/10"),
        ("1.25×4", "5"),
        ("1.5-2.25", "-3/4"),
        ("0÷5", "0"),
        ("10-10", "0"),
    ],
)
def test_solve_computes_exact_value_with_precedence_and_associativity(text, expected):
    solution = solve(labels(text))
    assert solution.status is Status.SOLVED, solution.message
    assert solution.result == expected
    assert solution.verdict is None
    assert solution.error is None


def test_trailing_equals_fills_in_the_answer():
    solution = solve(labels("12+7×3="))
    assert solution.status is Status.SOLVED
    assert solution.expression == "12+7*3="
    assert solution.result == "33"
    assert solution.verdict is None
    assert solution.latex == r"12 + 7 \times 3 ="
    assert solution.computations == (
        Computation("Expression", r"12 + 7 \times 3"),
        Computation("Result", "33"),
    )


def test_true_equation_gets_verdict_true_and_left_value():
    solution = solve(labels("3+4=7"))
    assert solution.status is Status.SOLVED
    assert solution.verdict is True
    assert solution.result == "7"
    assert ("Check", "7 = 7") in [(c.name, c.result) for c in solution.computations]


def test_false_equation_gets_verdict_false_and_both_sides():
    solution = solve(labels("3+4=8"))
    assert solution.status is Status.SOLVED
    assert solution.verdict is False
    assert solution.result == "7"
    names = {c.name: c.result for c in solution.computations}
    assert names["Left side"] == "7"
    assert names["Right side"] == "8"
    assert names["Check"] == r"7 \neq 8"
    assert "8" in solution.message


def test_equation_compares_exact_fractions_not_floats():
    assert solve(labels("0.1+0.2=0.3")).verdict is True
    assert solve(labels("1÷3=0.333")).verdict is False
    assert solve(labels("1÷2=2÷4")).verdict is True


def test_equation_with_negative_right_side():
    assert solve(labels("2-5=-3")).verdict is True


@pytest.mark.parametrize("text", ["48/21=2.29", "-32÷49=-0.65", "1÷3=0.3", "2÷3=0.667"])
def test_rounded_decimal_answer_is_false_but_explained(text):
    solution = solve(labels(text))
    assert solution.verdict is False
    assert "rounds to" in solution.message
    assert r"\approx" in solution.computations[-1].result


@pytest.mark.parametrize("text", ["48/21=2.28", "32÷49=-0.65", "1÷300=0.00", "1÷3=0", "2÷3=0.666"])
def test_wrong_decimal_answer_is_not_called_rounded(text):
    solution = solve(labels(text))
    assert solution.verdict is False
    assert "rounds" not in solution.message
    assert r"\neq" in solution.computations[-1].result


def test_true_chain_of_equalities_checks_every_side():
    solution = solve(labels("7×5=7+7+7+7+7=35"))
    assert solution.status is Status.SOLVED
    assert solution.verdict is True
    assert solution.result == "35"
    names = [c.name for c in solution.computations]
    assert names == ["Equation", "Side 1", "Side 2", "Side 3", "Check"]
    assert solution.computations[-1].result == "35 = 35 = 35"


def test_false_chain_of_equalities_names_the_differing_sides():
    solution = solve(labels("872-91=881-100=781"))  # 781 = 781 = 781
    assert solution.verdict is True
    solution = solve(labels("25=1+3×8=1+3×(2+3×3)"))  # 25 = 25 = 34
    assert solution.verdict is False
    assert solution.computations[-1].result == r"25 = 25 \neq 34"
    assert "34" in solution.message


@pytest.mark.parametrize(
    ("text", "verdict", "check"),
    [
        ("1<2", True, "1 < 2"),
        ("3>5", False, r"3 \ngtr 5"),
        ("2≤1+1", True, r"2 \le 2"),
        ("2≥3", False, r"2 \ngeq 3"),
        ("7≠3+4", False, "7 = 7"),
        ("1<2=2", True, "1 < 2 = 2"),
        ("1<3<2", False, r"1 < 3 \nless 2"),
    ],
)
def test_comparisons_get_a_verdict_like_equations(text, verdict, check):
    solution = solve(labels(text))
    assert solution.status is Status.SOLVED
    assert solution.verdict is verdict
    assert solution.computations[0].name == "Inequality"
    assert solution.computations[-1].result == check
    assert solution.message.startswith("The inequality is " + ("true" if verdict else "false"))


def test_comparison_results_in_ascii_and_latex():
    solution = solve(labels("2×3≥5"))
    assert solution.expression == "2*3>=5"
    assert solution.latex == r"2 \times 3 \ge 5"
    assert solution.result == "6"
    assert solve(labels("4≤")).error == "malformed"  # only "=" fills in an answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [("[2+3]×2", "10"), ("2[3-1]", "4"), ("[(1+2)×3]-1", "8"), ("[1+2](3+4)", "21")],
)
def test_square_brackets_group(text, expected):
    assert solve(labels(text)).result == expected


@pytest.mark.parametrize("text", ["[2+3)", "(2+3]", "[2+3", "2+3]"])
def test_a_bracket_closed_by_another_kind_is_malformed(text):
    solution = solve(labels(text))
    assert solution.error == "malformed"
    assert "'" in solution.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+3", "3"), ("+2(-2)", "-4"), ("2×(+3)", "6"), ("-3+5", "2"), ("5-8=-3", "-3")],
)
def test_unary_signs_where_a_sign_can_stand(text, expected):
    assert solve(labels(text)).result == expected


def test_a_chain_of_signed_numbers_gets_its_verdict():
    solution = solve(labels("+1-1+1=+1"))
    assert solution.verdict is True
    assert solution.latex == "+1 - 1 + 1 = +1"


def test_noise_labels_are_skipped():
    assert solve(["1", "", "+", "reject", "2"]).result == "3"


def test_ascii_star_is_accepted_as_times():
    assert solve(["3", "*", "4"]).result == "12"


# --------------------------------------------------------------------------- rendering


def test_expression_is_canonical_ascii_without_spaces():
    assert solve(labels("(1+2)×3÷4x5-6/7=")).expression == "(1+2)*3/4*5-6/7="


def test_latex_uses_times_div_and_tight_unary_minus():
    assert solve(labels("-2×-3÷(4-1)")).latex == r"-2 \times -3 \div (4 - 1)"
    assert solve(labels("1/2")).latex == "1 / 2"


def test_fraction_result_is_rendered_as_latex_frac_with_decimal_line():
    solution = solve(labels("7÷2="))
    assert solution.result == "7/2"
    assert solution.result_decimal == "3.5"
    assert solution.computations[1:] == (
        Computation("Result", r"\frac{7}{2}"),
        Computation("Decimal", "3.5"),
    )


def test_negative_fraction_renders_sign_outside_frac():
    solution = solve(labels("-1÷3"))
    assert solution.result == "-1/3"
    assert solution.computations[1] == Computation("Result", r"-\frac{1}{3}")


@pytest.mark.parametrize(
    ("value", "exact", "latex"),
    [
        (Fraction(33), "33", "33"),
        (Fraction(-4), "-4", "-4"),
        (Fraction(0), "0", "0"),
        (Fraction(7, 2), "7/2", r"\frac{7}{2}"),
        (Fraction(-1, 3), "-1/3", r"-\frac{1}{3}"),
    ],
)
def test_format_fraction_and_latex_fraction(value, exact, latex):
    assert format_fraction(value) == exact
    assert latex_fraction(value) == latex


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(33), "33"),
        (Fraction(10**40), str(10**40)),  # integers are always exact
        (Fraction(7, 2), "3.5"),
        (Fraction(-1, 8), "-0.125"),
        (Fraction(1, 3), "0." + "3" * DECIMAL_DIGITS),
        (Fraction(2, 3), "0." + "6" * (DECIMAL_DIGITS - 1) + "7"),  # rounded, not cut
        (Fraction(-1, 7), "-0.142857142857143"),
        (Fraction(1, 2**20), "9.5367431640625e-7"),  # exact, scientific when tiny
        (Fraction(1, 3 * 10**9), "3.33333333333333e-10"),
        (Fraction(10**20 + 1, 3), "3.33333333333333e+19"),
    ],
)
def test_format_decimal_is_exact_when_terminating_else_rounded(value, text):
    assert format_decimal(value) == text


def test_format_decimal_rounds_long_terminating_expansions():
    value = Fraction(1, 2**60)  # terminates, but after 60 places
    assert format_decimal(value) == "8.67361737988404e-19"


def test_solution_is_frozen():
    solution = solve(labels("1+1"))
    with pytest.raises(FrozenInstanceError):
        solution.result = "3"  # type: ignore[misc]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("given_labels", [[], [""], ["", "reject", ""]])
def test_empty_input_is_unreadable(given_labels):
    solution = solve(given_labels)
    assert solution.status is Status.UNREADABLE
    assert solution.error == "empty"
    assert solution.message


@pytest.mark.parametrize(
    "text",
    [
        "3+",  # ends after an operator
        "++3",  # signs are never doubled
        "×3",
        "x3",
        "(()",  # empty group, unbalanced
        "()",
        "(1+2",  # unclosed
        "1+2)",  # unmatched close
        ")1(",
        "==",
        "=3",  # nothing before =
        "1=2=",  # a chain cannot end in "="
        "1==2",
        "2+-3",  # no unary minus after + or -
        "2--3",
        "--3",  # no doubled unary minus
        ".5",  # a point needs digits on both sides
        "5.",
        "1.2.3",
        "1..2",
        "3(",
        "(2)3",  # no implicit product after ')' unless '(' follows
        "2=(",
        "(1=1)",  # '=' inside parentheses
        "1+=2",
    ],
)
def test_malformed_expressions_are_recognized_with_malformed_error(text):
    solution = solve(labels(text))
    assert solution.status is Status.RECOGNIZED
    assert solution.error == "malformed"
    assert solution.result is None
    assert solution.verdict is None
    assert solution.message
    assert solution.expression  # the client can still show what was read


@pytest.mark.parametrize("text", ["(1÷0", "1÷0+", "1÷0=(", "1÷0)"])
def test_syntax_errors_win_over_division_by_zero(text):
    assert solve(labels(text)).error == "malformed"


def test_unknown_label_is_malformed_and_shown_as_question_mark():
    solution = solve(["1", "+", "a", "2"])
    assert solution.error == "malformed"
    assert solution.expression == "1+?2"
    assert "unknown" in solution.message


def test_non_string_labels_are_malformed_not_an_exception():
    solution = solve(["1", None, "+", 2, ["x"]])  # type: ignore[list-item]
    assert solution.error == "malformed"
    assert solution.expression == "1?+??"


@pytest.mark.parametrize("text", ["1÷0", "1/0", "0÷0", "1÷(2-2)", "1+2=3÷0", "5÷(0.5-0.5)="])
def test_division_by_zero_is_reported(text):
    solution = solve(labels(text))
    assert solution.status is Status.RECOGNIZED
    assert solution.error == "division_by_zero"
    assert solution.result is None
    assert solution.latex  # the expression is still rendered


def test_literal_with_too_many_digits_is_too_large():
    assert solve(labels("9" * MAX_LITERAL_DIGITS)).status is Status.SOLVED
    solution = solve(labels("9" * (MAX_LITERAL_DIGITS + 1) + "+1"))
    assert solution.status is Status.RECOGNIZED
    assert solution.error == "too_large"


def test_decimal_point_does_not_count_as_a_digit():
    text = "1." + "5" * (MAX_LITERAL_DIGITS - 1)
    assert solve(labels(text)).status is Status.SOLVED


def test_huge_result_is_too_large():
    factor = "9" * 20
    solution = solve(labels("×".join([factor] * 4)))
    assert solution.error == "too_large"
    assert str(MAX_VALUE_DIGITS) in solution.message


def test_huge_denominator_is_too_large():
    factor = "9" * 20
    solution = solve(labels("1÷" + "÷".join([factor] * 4)))
    assert solution.error == "too_large"


def test_too_many_symbols_is_too_large():
    solution = solve(labels("1+" * MAX_SYMBOLS + "1"))
    assert solution.status is Status.RECOGNIZED
    assert solution.error == "too_large"


def test_deep_nesting_is_too_large():
    depth = MAX_DEPTH + 1
    solution = solve(labels("(" * depth + "1" + ")" * depth))
    assert solution.error == "too_large"
    ok = solve(labels("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH))
    assert ok.result == "1"


def test_adversarial_long_input_is_refused_quickly():
    # a million symbols must be refused by the length guard, not parsed
    solution = solve(["("] * 1_000_000)
    assert solution.error == "too_large"
    assert len(solution.expression) <= 2 * MAX_SYMBOLS


# --------------------------------------------------------------------------- properties

JUNK = st.text(max_size=4)
LABELS = st.lists(st.one_of(st.sampled_from(CLASSES), st.sampled_from(["", "*"]), JUNK))


@given(LABELS)
@settings(max_examples=400)
def test_solve_never_raises_for_any_labels(given_labels):
    solution = solve(given_labels)
    assert isinstance(solution, Result)
    assert isinstance(solution.status, Status)
    if solution.status is Status.SOLVED:
        assert solution.error is None
        assert solution.result is not None
    else:
        assert solution.error is not None
        assert solution.result is None
        assert solution.message


# A tiny reference: an expression tree evaluated with Fraction and rendered to labels
# with exactly the parentheses the grammar needs (plus optional redundant ones).


@st.composite
def numbers(draw):
    whole = draw(st.integers(0, 9999))
    places = draw(st.integers(0, 2))
    if places == 0:
        return ("num", Fraction(whole), list(str(whole)))
    frac = draw(st.integers(0, 10**places - 1))
    text = f"{whole}.{frac:0{places}d}"
    return ("num", Fraction(whole * 10**places + frac, 10**places), list(text))


def trees():
    def extend(children):
        binary = st.tuples(
            st.sampled_from(["+", "-", "×", "÷", "/", "x", "imp"]), children, children
        )
        return st.one_of(
            binary.map(lambda t: ("bin", *t)),
            binary.map(lambda t: ("bin", *t)),
            children.map(lambda c: ("neg", c)),
            children.map(lambda c: ("group", c)),
        )

    return st.recursive(numbers(), extend, max_leaves=8)


class DivisionByZero(Exception):
    pass


def reference_value(node) -> Fraction:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "neg":
        return -reference_value(node[1])
    if kind == "group":
        return reference_value(node[1])
    op, left, right = node[1], reference_value(node[2]), reference_value(node[3])
    if op == "+":
        value = left + right
    elif op == "-":
        value = left - right
    elif op in ("×", "x", "imp"):
        value = left * right
    else:
        if right == 0:
            raise DivisionByZero
        value = left / right
    assume(abs(value.numerator) < 10**MAX_VALUE_DIGITS and value.denominator < 10**MAX_VALUE_DIGITS)
    return value


PREC = {"+": 1, "-": 1, "×": 2, "÷": 2, "/": 2, "x": 2, "imp": 2}


def render(node) -> tuple[list[str], int, bool]:
    """Labels, precedence (1 sum, 2 product, 3 atom) and whether it starts with '-'."""
    kind = node[0]
    if kind == "num":
        return node[2], 3, False
    if kind == "group":
        inner, _, _ = render(node[1])
        return ["(", *inner, ")"], 3, False
    if kind == "neg":
        inner, prec, starts_neg = render(node[1])
        if prec < 3 or starts_neg:
            inner = ["(", *inner, ")"]
        return ["-", *inner], 2, True
    op = node[1]
    left, left_prec, left_neg = render(node[2])
    right, right_prec, right_neg = render(node[3])
    prec = PREC[op]
    if left_prec < prec:
        left, left_neg = ["(", *left, ")"], False
    if op == "imp":
        return [*left, "(", *right, ")"], 2, left_neg
    if right_prec <= prec or (right_neg and prec == 1):
        right = ["(", *right, ")"]
    return [*left, op, *right], prec, left_neg


@given(trees(), st.booleans())
@settings(max_examples=400, suppress_health_check=[HealthCheck.filter_too_much])
def test_solve_agrees_with_fraction_reference_on_generated_expressions(tree, fill_in):
    text, _, _ = render(tree)
    given_labels = text + (["="] if fill_in else [])
    try:
        expected = reference_value(tree)
    except DivisionByZero:
        assert solve(given_labels).error == "division_by_zero"
        return
    solution = solve(given_labels)
    assert solution.status is Status.SOLVED, (given_labels, solution.message)
    assert solution.result == format_fraction(expected)
    assert solution.result_decimal == format_decimal(expected)


@given(trees(), trees())
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
def test_equation_verdict_agrees_with_fraction_reference(left_tree, right_tree):
    try:
        left, right = reference_value(left_tree), reference_value(right_tree)
    except DivisionByZero:
        assume(False)
    left_labels, right_labels = render(left_tree)[0], render(right_tree)[0]
    solution = solve([*left_labels, "=", *right_labels])
    assert solution.verdict is (left == right)
    assert solve([*left_labels, "=", *left_labels]).verdict is True


FRACTIONS = st.fractions(max_denominator=10**12).filter(lambda f: abs(f) < 10**40)


@given(FRACTIONS)
def test_format_fraction_round_trips(value):
    assert Fraction(format_fraction(value)) == value


@given(FRACTIONS)
def test_format_decimal_is_exact_or_within_rounding(value):
    text = format_decimal(value)
    parsed = Fraction(text)  # Fraction reads '1.5e-7' too
    if value.denominator == 1:
        assert parsed == value
    elif parsed != value:
        # rounded to DECIMAL_DIGITS significant digits
        assert abs(parsed - value) <= abs(value) * Fraction(1, 10 ** (DECIMAL_DIGITS - 1))
    digits = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    assert value.denominator == 1 or len(digits) <= DECIMAL_DIGITS


# --------------------------------------------------------------------------- steps


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        # precedence: × before +, whatever comes first
        ("12+7×3", [r"12 + 7 \times 3", "12 + 21", "33"]),
        ("2×3+4×5", [r"2 \times 3 + 4 \times 5", r"6 + 4 \times 5", "6 + 20", "26"]),
        ("12+7×3=", [r"12 + 7 \times 3", "12 + 21", "33"]),  # a fill-in: without its '='
        # left to right
        ("8-3-2", ["8 - 3 - 2", "5 - 2", "3"]),
        ("1+2+3+4", ["1 + 2 + 3 + 4", "3 + 3 + 4", "6 + 4", "10"]),
        ("8÷4÷2", [r"8 \div 4 \div 2", r"2 \div 2", "1"]),
        ("2-3-4", ["2 - 3 - 4", "-1 - 4", "-5"]),
        # brackets first, and gone once they hold a number
        ("(2+3)×4", [r"(2 + 3) \times 4", r"5 \times 4", "20"]),
        ("[1+2]×3", [r"[1 + 2] \times 3", r"3 \times 3", "9"]),
        (
            "2×((1+2)×3)",
            [r"2 \times ((1 + 2) \times 3)", r"2 \times (3 \times 3)", r"2 \times 9", "18"],
        ),
        ("((2))", ["((2))", "2"]),
        # unary minus; a negative value after an operator is bracketed
        ("-(2+3)", ["-(2 + 3)", "-5"]),
        ("-(2-3)", ["-(2 - 3)", "-(-1)", "1"]),
        ("5-(2-3)", ["5 - (2 - 3)", "5 - (-1)", "6"]),
        ("-2×3", [r"-2 \times 3", "-6"]),
        ("(-2)×3", [r"(-2) \times 3", "-6"]),
        ("2×-3+1", [r"2 \times -3 + 1", "-6 + 1", "-5"]),
        ("1×2+2×-3", [r"1 \times 2 + 2 \times -3", r"2 + 2 \times -3", "2 + (-6)", "-4"]),
        # implicit multiplication: a product like ×, written out once the bracket is gone
        ("2(3+4)", ["2(3 + 4)", r"2 \times 7", "14"]),
        ("(1+2)(3+4)", ["(1 + 2)(3 + 4)", "3(3 + 4)", r"3 \times 7", "21"]),
        ("8÷2(2+2)", [r"8 \div 2(2 + 2)", "4(2 + 2)", r"4 \times 4", "16"]),
        # division gives fractions; decimals are fractions once computed
        ("7÷2", [r"7 \div 2", r"\frac{7}{2}"]),
        ("7/2+1", ["7 / 2 + 1", r"\frac{7}{2} + 1", r"\frac{9}{2}"]),
        (
            "1÷2-1÷3",
            [
                r"1 \div 2 - 1 \div 3",
                r"\frac{1}{2} - 1 \div 3",
                r"\frac{1}{2} - \frac{1}{3}",
                r"\frac{1}{6}",
            ],
        ),
        ("1÷3-1", [r"1 \div 3 - 1", r"\frac{1}{3} - 1", r"-\frac{2}{3}"]),
        ("0.1+0.2", ["0.1 + 0.2", r"\frac{3}{10}"]),
        ("0.5", ["0.5", r"\frac{1}{2}"]),
        ("7", ["7"]),
        ("007", ["007", "7"]),
        # an equation: each side reduced, then the verdict where it does not hold
        ("3+4=8", ["3 + 4 = 8", "7 = 8", r"7 \neq 8"]),
        ("3+4=7", ["3 + 4 = 7", "7 = 7"]),
        ("1+2=4-1", ["1 + 2 = 4 - 1", "3 = 4 - 1", "3 = 3"]),
        ("1÷2=0.5", [r"1 \div 2 = 0.5", r"\frac{1}{2} = 0.5"]),
        # chains
        ("1+2=4-1=3", ["1 + 2 = 4 - 1 = 3", "3 = 4 - 1 = 3", "3 = 3 = 3"]),
        (
            "5×5=25=30+4",
            [r"5 \times 5 = 25 = 30 + 4", "25 = 25 = 30 + 4", "25 = 25 = 34", r"25 = 25 \neq 34"],
        ),
        # comparisons
        ("1<2", ["1 < 2"]),
        ("2<1", ["2 < 1", r"2 \nless 1"]),
        ("2×3≥5", [r"2 \times 3 \ge 5", r"6 \ge 5"]),
        ("2×3≤5", [r"2 \times 3 \le 5", r"6 \le 5", r"6 \nleq 5"]),
        ("1+1≠2", [r"1 + 1 \neq 2", r"2 \neq 2", "2 = 2"]),
        ("1<2=2", ["1 < 2 = 2"]),
        # a rounded answer: not exact, and said so
        ("48/21=2.29", ["48 / 21 = 2.29", r"\frac{16}{7} = 2.29", r"\frac{16}{7} \approx 2.29"]),
        ("48/21=2.28", ["48 / 21 = 2.28", r"\frac{16}{7} = 2.28", r"\frac{16}{7} \neq 2.28"]),
    ],
)
def test_steps_do_one_operation_a_line_in_the_order_of_operations(text, steps):
    solution = solve(labels(text))
    assert solution.status is Status.SOLVED, solution.message
    assert list(solution.steps) == steps


def test_the_first_step_is_the_expression_and_the_last_the_result():
    solution = solve(labels("12+7×3="))
    assert solution.steps[0] == solution.computations[0].result
    assert solution.steps[-1] == solution.computations[-1].result
    equation = solve(labels("3+4=8"))
    assert equation.steps[0] == equation.latex
    assert equation.steps[-1] == equation.computations[-1].result  # the Check line


@pytest.mark.parametrize("text", ["3+", "1÷0", "1+2=3÷0", "", "2×?", "(2"])
def test_errors_have_no_steps(text):
    solution = solve(labels(text))
    assert solution.status is not Status.SOLVED
    assert solution.steps == ()


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("+".join(["1"] * 60), "60"),  # 59 additions
        ("×".join(["2"] * 100), str(2**100)),  # 99 products
        ("=".join(["1+1+1"] * 33), " = ".join(["3"] * 33)),  # 66 additions, true
        ("=".join(["1+1+1"] * 32 + ["4"]), " = ".join(["3"] * 32) + r" \neq 4"),
    ],
    ids=["sum", "product", "true-chain", "false-chain"],
)
def test_long_working_is_cut_at_max_steps_and_skips_to_the_result(text, last):
    solution = solve(labels(text))
    assert solution.status is Status.SOLVED
    assert len(solution.steps) == MAX_STEPS
    assert solution.steps[0] == solution.latex
    assert solution.steps[-1] == last
    assert solution.steps[-1] == solution.computations[-1].result


def step_as_labels(line: str) -> list[str]:
    """A step's LaTeX back as labels: fractions as bracketed divisions."""
    import re

    text = re.sub(r"\\frac\{(\d+)\}\{(\d+)\}", r"(\1÷\2)", line)
    text = text.replace(r"\times", "×").replace(r"\div", "÷").replace(" ", "")
    return list(text)


@given(trees())
@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
def test_every_step_has_the_value_of_the_expression(tree):
    text, _, _ = render(tree)
    try:
        expected = reference_value(tree)
    except DivisionByZero:
        assume(False)
    solution = solve(text)
    assert solution.status is Status.SOLVED, (text, solution.message)
    assert 1 <= len(solution.steps) <= MAX_STEPS
    assert solution.steps[-1] == latex_fraction(expected)
    for line in solution.steps:
        again = solve(step_as_labels(line))
        assert again.status is Status.SOLVED, (line, again.message)
        assert again.result == format_fraction(expected), line
    assert len(set(solution.steps)) == len(solution.steps)  # no line repeats


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "expression", "result", "verdict"),
    [
        ("12+7*3=", "12+7*3=", "33", None),
        ("12 + 7 × 3 =", "12+7*3=", "33", None),
        ("12+7x3", "12+7*3", "33", None),
        ("7 ÷ 2", "7/2", "7/2", None),
        ("[1+2]*3", "[1+2]*3", "9", None),
        ("2*3>=5", "2*3>=5", "6", True),
        ("2 × 3 ≥ 5", "2*3>=5", "6", True),
        ("2*3<=5", "2*3<=5", "6", False),
        ("1 != 2", "1!=2", "1", True),
        ("1 ≠ 1", "1!=1", "1", False),
        ("3+4 = 8", "3+4=8", "7", False),
        ("\t1\n+\u00a02 ", "1+2", "3", None),  # any whitespace
    ],
)
def test_solve_text_reads_the_canonical_ascii_and_the_symbols(text, expression, result, verdict):
    solution = solve_text(text)
    assert solution.status is Status.SOLVED, solution.message
    assert solution.expression == expression
    assert solution.result == result
    assert solution.verdict is verdict
    assert solution == solve(text_labels(text))


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", "empty", "No arithmetic symbols were recognized."),
        ("   ", "empty", "No arithmetic symbols were recognized."),
        ("2+a", "malformed", "'a' is not a symbol of arithmetic."),
        ("2^3", "malformed", "'^' is not a symbol of arithmetic."),
        ("1 ! 2", "malformed", "'!' is not a symbol of arithmetic."),
        ("__import__('os')", "malformed", "'_' is not a symbol of arithmetic."),
        ("3+", "malformed", "The expression ends where a number was expected."),
        ("(2", "malformed", "A '(' is not closed by ')'."),
        ("1" * 31, "too_large", f"A number has more than {MAX_LITERAL_DIGITS} digits."),
        ("1+" * 150 + "1", "too_large", f"The expression has more than {MAX_SYMBOLS} symbols."),
        ("1÷0", "division_by_zero", "Division by zero."),
    ],
)
def test_solve_text_refuses_what_is_outside_the_grammar(text, error, message):
    solution = solve_text(text)
    assert solution.status is not Status.SOLVED
    assert solution.error == error
    assert solution.message == message
    assert solution.steps == ()


def test_text_labels_stops_reading_past_max_symbols():
    assert len(text_labels("1" * 10**6)) == MAX_SYMBOLS + 1


@pytest.mark.parametrize(
    ("text", "value", "latex"),
    [
        ("1,000+1", "1001", "1{,}000 + 1"),
        ("12,345,678.5*2", "24691357", "12{,}345{,}678.5 \\times 2"),
    ],
)
def test_a_grouping_comma_is_read_as_thousands(text, value, latex):
    result = solve(list(text))
    assert (result.expression, result.result, result.latex) == (text, value, latex)


@pytest.mark.parametrize("text", ["1,00", "1000,000", ",5", "1,000,", "1.000,5"])
def test_a_comma_that_does_not_group_threes_is_malformed(text):
    assert solve(list(text)).error == "malformed"
