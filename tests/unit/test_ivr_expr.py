"""Templates and the small arithmetic language of `set` nodes (no eval anywhere)."""

from __future__ import annotations

import pytest

from firmware.ivr.expr import ExprError, evaluate, expr_names, parse_expr, render, template_names


def test_render() -> None:
    assert render("q-${a}-${b_2}", {"a": "1", "b_2": "x"}) == "q-1-x"
    assert render("plain", {}) == "plain"
    with pytest.raises(ExprError, match="'a' is not set"):
        render("${a}", {})


@pytest.mark.parametrize("bad", ["${", "x${a", "${1a}", "${a b}", "${}"])
def test_template_syntax(bad: str) -> None:
    with pytest.raises(ExprError):
        template_names(bad)


def test_template_names() -> None:
    assert template_names("${a}/${b}/${a}") == ["a", "b", "a"]


@pytest.mark.parametrize(("text", "result"), [
    ("1 + 2 * 3", "7"),
    ("(1 + 2) * 3", "9"),
    ("-x + 10", "7"),
    ("x * 100", "300"),
    ("10 / 4", "2.5"),
    ("0.1 + 0.2", "0.3"),  # Decimal: money never meets binary floats
    ("x - x", "0"),
    ("1000 * 1000", "1000000"),  # never "1E+6"
])
def test_evaluate(text: str, result: str) -> None:
    assert evaluate(text, {"x": "3"}) == result


@pytest.mark.parametrize("bad", ["", "1 +", "(1", "1 2", "a.b", "__import__('os')", "1 ** 2",
                                 "x)"])
def test_parse_errors(bad: str) -> None:
    with pytest.raises(ExprError):
        parse_expr(bad)


def test_runtime_errors() -> None:
    with pytest.raises(ExprError, match="not set"):
        evaluate("y + 1", {})
    with pytest.raises(ExprError, match="not a number"):
        evaluate("y + 1", {"y": "abc"})
    with pytest.raises(ExprError, match="division by zero"):
        evaluate("1 / (x - 3)", {"x": "3"})
    with pytest.raises(ExprError, match="division by zero"):
        evaluate("0 / 0", {})


def test_names() -> None:
    assert expr_names(parse_expr("-(a + b) * c / 2")) == ["a", "b", "c"]
