"""Variable templates and a tiny arithmetic language for `set` nodes.

Flows are data edited by admins, so nothing here ever reaches Python's eval: templates
only substitute `${name}`, expressions only know decimals, variables, + - * / and
parentheses. IVR variables are strings (as channel variables are in Asterisk and
FreeSWITCH); arithmetic is done in Decimal so that money never meets binary floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class ExprError(ValueError):
    """A template or expression that cannot be parsed or evaluated."""


def template_names(template: str) -> list[str]:
    """Variable names a template refers to; raises ExprError on malformed syntax."""
    names: list[str] = []
    for m in _PLACEHOLDER.finditer(template):
        name = m.group(1)
        if not NAME_RE.fullmatch(name):
            raise ExprError(f"bad variable name {name!r} in template")
        names.append(name)
    # A "${" left over after removing complete placeholders is an unclosed one.
    if "${" in _PLACEHOLDER.sub("", template):
        raise ExprError("unclosed '${' in template")
    return names


def render(template: str, variables: Mapping[str, str]) -> str:
    """Substitute `${name}`; a missing variable is an error, never a silent ''."""
    template_names(template)

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in variables:
            raise ExprError(f"variable {name!r} is not set")
        return variables[name]

    return _PLACEHOLDER.sub(sub, template)


# --- arithmetic -------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


Node = Num | Var | Neg | BinOp


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing whitespace can fail to match, stripped above
            break
        pos = m.end()
        number, name, other = m.groups()
        if number is not None:
            tokens.append(("num", number))
        elif name is not None:
            tokens.append(("name", name))
        elif other in {"+", "-", "*", "/", "(", ")"}:
            tokens.append(("op", other))
        else:
            raise ExprError(f"unexpected character {other!r}")
    return tokens


class _Parser:
    """Recursive descent: expr := term (('+'|'-') term)*, term := unary (('*'|'/') unary)*."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExprError("unexpected end of expression")
        self.pos += 1
        return tok

    def expr(self) -> Node:
        node = self.term()
        while (tok := self.peek()) is not None and tok in (("op", "+"), ("op", "-")):
            self.pos += 1
            node = BinOp(tok[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (tok := self.peek()) is not None and tok in (("op", "*"), ("op", "/")):
            self.pos += 1
            node = BinOp(tok[1], node, self.unary())
        return node

    def unary(self) -> Node:
        kind, text = self.take()
        if (kind, text) == ("op", "-"):
            return Neg(self.unary())
        if (kind, text) == ("op", "("):
            node = self.expr()
            if self.take() != ("op", ")"):
                raise ExprError("missing ')'")
            return node
        if kind == "num":
            return Num(Decimal(text))
        if kind == "name":
            return Var(text)
        raise ExprError(f"unexpected {text!r}")


def parse_expr(text: str) -> Node:
    tokens = _tokenize(text)
    if not tokens:
        raise ExprError("empty expression")
    parser = _Parser(tokens)
    node = parser.expr()
    extra = parser.peek()
    if extra is not None:
        raise ExprError(f"unexpected {extra[1]!r}")
    return node


def expr_names(node: Node) -> list[str]:
    match node:
        case Var(name):
            return [name]
        case Neg(operand):
            return expr_names(operand)
        case BinOp(_, left, right):
            return expr_names(left) + expr_names(right)
        case _:
            return []


def _eval(node: Node, variables: Mapping[str, str]) -> Decimal:
    match node:
        case Num(value):
            return value
        case Var(name):
            if name not in variables:
                raise ExprError(f"variable {name!r} is not set")
            try:
                return Decimal(variables[name].strip())
            except InvalidOperation:
                raise ExprError(f"variable {name!r} is not a number") from None
        case Neg(operand):
            return -_eval(operand, variables)
        case BinOp(op, left, right):
            a, b = _eval(left, variables), _eval(right, variables)
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                return a / b
            except (DivisionByZero, InvalidOperation):
                raise ExprError("division by zero") from None
    raise ExprError(f"bad expression node {node!r}")  # pragma: no cover


def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros ('1E+2' would break say)."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def evaluate(text: str, variables: Mapping[str, str]) -> str:
    return format_decimal(_eval(parse_expr(text), variables))
