"""Program indicator expressions and filters: `#{stage.de}`, `A{attribute}`, `V{...}`, numbers,
'strings', true/false, + - * / %, comparisons, && || !, parentheses and a few `d2:` functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Node = tuple[Any, ...]
VARIABLES = ("event_count", "enrollment_count", "tei_count")
FUNCTIONS = {"hasValue": 1, "zing": 1, "oizp": 1, "condition": 3}
_TOKEN = re.compile(
    r"\s*(#\{[^}]*\}|A\{[^}]*\}|V\{[^}]*\}|d2:[A-Za-z]+|\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\""
    r"|&&|\|\||==|!=|>=|<=|[-+*/%()<>!,]|and\b|or\b|not\b|true\b|false\b|\S+)"
)
_DE = re.compile(r"#\{([A-Za-z][A-Za-z0-9]{10})\.([A-Za-z][A-Za-z0-9]{10})\}")
_ATTR = re.compile(r"A\{([A-Za-z][A-Za-z0-9]{10})\}")
_VAR = re.compile(r"V\{([a-z_]+)\}")


class ExpressionError(ValueError):
    """The expression does not parse; `token` is the offending one."""

    def __init__(self, token: str, why: str) -> None:
        super().__init__(f"{why}: `{token}`")
        self.token = token


@dataclass(frozen=True)
class Row:
    """What an expression reads for one event or enrollment."""

    values: Callable[[str, str], str | None]  # (stage, data element) -> raw value
    attributes: Callable[[str], str | None]


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            break
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def parse(text: str) -> Node:
    """The expression's tree; ExpressionError naming the first token that does not fit."""
    tokens = _tokens(text)
    if not tokens:
        raise ExpressionError("", "Empty expression")
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ExpressionError(tokens[-1], "Unexpected end of expression after")
        pos += 1
        return tokens[pos - 1]

    def expect(token: str) -> None:
        found = take()
        if found != token:
            raise ExpressionError(found, f"Expected `{token}`, found")

    def binary(next_level: Callable[[], Node], ops: tuple[str, ...]) -> Callable[[], Node]:
        def level() -> Node:
            node = next_level()
            while peek() in ops:
                op = take()
                op = {"and": "&&", "or": "||"}.get(op, op)
                node = ("op", op, node, next_level())
            return node

        return level

    def unary() -> Node:
        if peek() in ("-", "!", "not"):
            op = take()
            return ("neg" if op == "-" else "not", unary())
        if peek() == "+":
            take()
            return unary()
        return atom()

    def atom() -> Node:
        token = take()
        if token == "(":
            node = either()
            expect(")")
            return node
        if token.startswith("#{"):
            m = _DE.fullmatch(token)
            if m is None:
                raise ExpressionError(
                    token, "Invalid data element reference (expected #{stage.de})"
                )
            return ("de", m.group(1), m.group(2))
        if token.startswith("A{"):
            m = _ATTR.fullmatch(token)
            if m is None:
                raise ExpressionError(token, "Invalid attribute reference")
            return ("attr", m.group(1))
        if token.startswith("V{"):
            m = _VAR.fullmatch(token)
            if m is None or m.group(1) not in VARIABLES:
                raise ExpressionError(token, "Unsupported program variable")
            return ("var", m.group(1))
        if token.startswith("d2:"):
            name = token[3:]
            if name not in FUNCTIONS:
                raise ExpressionError(token, "Unsupported function")
            expect("(")
            args = [either()]
            while peek() == ",":
                take()
                args.append(either())
            expect(")")
            if len(args) != FUNCTIONS[name]:
                raise ExpressionError(token, f"Wrong number of arguments ({len(args)}) to")
            return ("fn", name, *args)
        if token[0] in "'\"":
            return ("str", token[1:-1])
        if token in ("true", "false"):
            return ("num", 1.0 if token == "true" else 0.0)
        try:
            return ("num", float(token))
        except ValueError:
            raise ExpressionError(token, "Unexpected token") from None

    products = binary(unary, ("*", "/", "%"))
    sums = binary(products, ("+", "-"))
    comparisons = binary(sums, ("==", "!=", ">", ">=", "<", "<="))
    conjunctions = binary(comparisons, ("&&", "and"))
    either = binary(conjunctions, ("||", "or"))
    tree = either()
    if pos != len(tokens):
        raise ExpressionError(tokens[pos], "Unexpected token")
    return tree


def references(tree: Node) -> list[Node]:
    """Every #{..}, A{..} and V{..} leaf of the tree."""
    if tree[0] in ("de", "attr", "var"):
        return [tree]
    found: list[Node] = []
    for part in tree[1:]:
        if isinstance(part, tuple):
            found += references(part)
    return found


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return 1.0 if lowered == "true" else 0.0
    try:
        return float(lowered)
    except ValueError:
        return None


def evaluate(tree: Node, row: Row, *, zero_missing: bool) -> Any:
    """One row's value: numbers as floats, text as str, None for missing. Expressions count a
    missing numeric value as 0 (`zero_missing`), as DHIS2 does; filters keep it missing."""
    kind = tree[0]
    if kind == "num" or kind == "str":
        return tree[1]
    if kind == "var":
        return 1.0
    if kind in ("de", "attr"):
        raw = row.values(tree[1], tree[2]) if kind == "de" else row.attributes(tree[1])
        number = _number(raw)
        if number is not None:
            return number
        if raw is None:
            return 0.0 if zero_missing else None
        return raw
    if kind == "neg":
        value = evaluate(tree[1], row, zero_missing=zero_missing)
        return -value if isinstance(value, float) else None
    if kind == "not":
        return 0.0 if _truthy(evaluate(tree[1], row, zero_missing=zero_missing)) else 1.0
    if kind == "fn":
        return _function(tree, row, zero_missing)
    left = evaluate(tree[2], row, zero_missing=zero_missing)
    right = evaluate(tree[3], row, zero_missing=zero_missing)
    return _binary(tree[1], left, right)


def _function(tree: Node, row: Row, zero_missing: bool) -> Any:
    name = tree[1]
    if name == "hasValue":
        arg = tree[2]
        if arg[0] == "de":
            return 1.0 if row.values(arg[1], arg[2]) is not None else 0.0
        if arg[0] == "attr":
            return 1.0 if row.attributes(arg[1]) is not None else 0.0
        return 1.0 if evaluate(arg, row, zero_missing=False) is not None else 0.0
    if name == "condition":
        test = evaluate(tree[2], row, zero_missing=zero_missing)
        return evaluate(tree[3] if _truthy(test) else tree[4], row, zero_missing=zero_missing)
    value = evaluate(tree[2], row, zero_missing=zero_missing)
    if not isinstance(value, float):
        return 0.0 if zero_missing else None
    if name == "zing":
        return max(value, 0.0)
    return 1.0 if value >= 0 else 0.0  # oizp


def _truthy(value: Any) -> bool:
    if isinstance(value, float):
        return value != 0
    return bool(value)


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "&&":
        return 1.0 if _truthy(left) and _truthy(right) else 0.0
    if op == "||":
        return 1.0 if _truthy(left) or _truthy(right) else 0.0
    if left is None or right is None:
        return None if op in "+-*/%" else 0.0
    if op in ("==", "!=", ">", ">=", "<", "<="):
        if isinstance(left, str) or isinstance(right, str):
            left, right = str(left).lower(), str(right).lower()
        result = {
            "==": left == right, "!=": left != right, ">": left > right,
            ">=": left >= right, "<": left < right, "<=": left <= right,
        }[op]  # fmt: skip
        return 1.0 if result else 0.0
    if not isinstance(left, float) or not isinstance(right, float):
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    return left / right if op == "/" else left % right
