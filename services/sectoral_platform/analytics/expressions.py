"""Indicator expressions: `#{uid}` / `#{uid.coc}` operands, numbers, + - * / and parentheses."""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r"\s*(#\{[A-Za-z0-9.]+\}|\d+(?:\.\d+)?|[-+*/()])")
_OPERAND = re.compile(r"#\{([A-Za-z][A-Za-z0-9]{10})(?:\.([A-Za-z][A-Za-z0-9]{10}))?\}")


class ExpressionError(ValueError):
    pass


def operands(expression: str) -> list[tuple[str, str | None]]:
    """Every (data element, category option combo or None) the expression uses."""
    return [(m.group(1), m.group(2)) for m in _OPERAND.finditer(expression)]


def tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(f"Invalid expression near `{text[pos : pos + 10]}`")
        tokens.append(match.group(1))
        pos = match.end()
    if not tokens:
        raise ExpressionError("Empty expression")
    return tokens


def evaluate(expression: str, lookup: Callable[[str, str | None], float | None]) -> float | None:
    """The value, or None when every operand is missing (DHIS2's SKIP_IF_ALL_VALUES_MISSING)."""
    tokens = tokenize(expression)
    pos = 0
    seen = {"any": False, "operands": False}

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ExpressionError("Unexpected end of expression")
        pos += 1
        return tokens[pos - 1]

    def atom() -> float:
        token = take()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ExpressionError("Missing `)`")
            return value
        if token == "-":
            return -atom()
        if token.startswith("#{"):
            match = _OPERAND.fullmatch(token)
            if match is None:
                raise ExpressionError(f"Invalid operand `{token}`")
            seen["operands"] = True
            found = lookup(match.group(1), match.group(2))
            if found is not None:
                seen["any"] = True
            return found or 0.0
        try:
            return float(token)
        except ValueError as exc:
            raise ExpressionError(f"Unexpected `{token}`") from exc

    def term() -> float:
        value = atom()
        while peek() in ("*", "/"):
            op = take()
            right = atom()
            if op == "*":
                value *= right
            elif right == 0:
                raise ZeroDivisionError
            else:
                value /= right
        return value

    def expr() -> float:
        value = term()
        while peek() in ("+", "-"):
            op = take()
            right = term()
            value = value + right if op == "+" else value - right
        return value

    try:
        result = expr()
    except ZeroDivisionError:
        return None
    if pos != len(tokens):
        raise ExpressionError(f"Unexpected `{tokens[pos]}`")
    if seen["operands"] and not seen["any"]:
        return None
    return result


def validate(expression: str) -> str | None:
    """None if the expression parses, else why not."""
    try:
        evaluate(expression, lambda _de, _co: 1.0)
    except ExpressionError as exc:
        return str(exc)
    return None
