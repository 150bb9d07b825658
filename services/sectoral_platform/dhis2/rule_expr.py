"""The subset of DHIS2's program rule expression language the platform evaluates on import.

Supported: numbers, 'text' / "text", `true` / `false`, `#{variable}`, `A{variable}`,
`V{current_date|event_date|enrollment_date|incident_date|event_status|enrollment_status}`,
`!`, `not`, `&&`, `and`, `||`, `or`, `== != < <= > >=`, `+ - * / %`, parentheses and the
functions in FUNCTIONS. Anything else is refused with the offending token (ExpressionError).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

ENV_VARIABLES = (
    "current_date", "event_date", "enrollment_date", "incident_date", "event_status",
    "enrollment_status",
)  # fmt: skip
FUNCTIONS = {
    "d2:hasValue": 1,
    "d2:daysBetween": 2,
    "d2:yearsBetween": 2,
    "d2:length": 1,
    "d2:concatenate": -1,
}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<var>[#A-Za-z]\{[^}]*\})|(?P<fn>d2:\w+)|(?P<word>[A-Za-z_]\w*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!(),]))"
)
_BINARY = {
    "||": 1, "or": 1, "&&": 2, "and": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5, "*": 6, "/": 6, "%": 6,
}  # fmt: skip


class ExpressionError(ValueError):
    """An expression the platform does not parse; `token` is the first offending one."""

    def __init__(self, token: str, reason: str = "is not supported") -> None:
        super().__init__(f"`{token}` {reason}")
        self.token = token


@dataclass(frozen=True)
class Node:
    kind: str  # num, str, bool, var, attr, env, not, neg, bin, fn
    value: Any = None
    args: tuple[Node, ...] = ()


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(text[pos:].strip().split(" ")[0] or text[pos])
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("<end>", "ends the expression too early")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        got = self.take()[1]
        if got != value:
            raise ExpressionError(got, f"found where `{value}` was expected")

    def expression(self, min_power: int = 0) -> Node:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None or token[1] not in _BINARY or _BINARY[token[1]] <= min_power:
                return left
            self.take()
            right = self.expression(_BINARY[token[1]])
            op = {"or": "||", "and": "&&"}.get(token[1], token[1])
            left = Node("bin", op, (left, right))

    def unary(self) -> Node:
        kind, value = self.take()
        if value in ("!", "not"):
            return Node("not", args=(self.unary(),))
        if value == "-":
            return Node("neg", args=(self.unary(),))
        if value == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if kind == "num":
            return Node("num", float(value))
        if kind == "str":
            return Node("str", value[1:-1])
        if kind == "word" and value in ("true", "false"):
            return Node("bool", value == "true")
        if kind == "var":
            return _variable(value)
        if kind == "fn":
            return self.function(value)
        raise ExpressionError(value)

    def function(self, name: str) -> Node:
        if name not in FUNCTIONS:
            raise ExpressionError(name)
        self.expect("(")
        args: list[Node] = []
        if self.peek() is not None and self.peek() != ("op", ")"):
            args.append(self.expression())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expression())
        self.expect(")")
        arity = FUNCTIONS[name]
        if arity >= 0 and len(args) != arity:
            raise ExpressionError(name, f"takes {arity} argument(s)")
        return Node("fn", name, tuple(args))


def _variable(token: str) -> Node:
    prefix, name = token[0], token[2:-1].strip()
    if not name or prefix not in "#AV":
        raise ExpressionError(token, "names no variable")
    if prefix == "V":
        if name not in ENV_VARIABLES:
            raise ExpressionError(token)
        return Node("env", name)
    return Node("var" if prefix == "#" else "attr", name)


def parse(text: str) -> Node:
    """The expression's tree; ExpressionError names the first token not understood."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(str(text or ""), "is not an expression")
    parser = _Parser(text)
    node = parser.expression()
    extra = parser.peek()
    if extra is not None:
        raise ExpressionError(extra[1], "is not expected here")
    return node


def variables(node: Node) -> set[str]:
    """The `#{}` and `A{}` names an expression uses."""
    found = {node.value} if node.kind in ("var", "attr") else set()
    for arg in node.args:
        found |= variables(arg)
    return found


# ---- evaluation ----
Resolve = Callable[[str], Any]  # a variable's value: str, float, bool or None (no value)


@dataclass
class Context:
    variable: Resolve
    env: dict[str, Any]


def evaluate(node: Node, ctx: Context) -> Any:
    kind = node.kind
    if kind in ("num", "str", "bool"):
        return node.value
    if kind in ("var", "attr"):
        return _default(ctx.variable(node.value))
    if kind == "env":
        return ctx.env.get(node.value) or ""
    if kind == "not":
        return not truthy(evaluate(node.args[0], ctx))
    if kind == "neg":
        return -_number(evaluate(node.args[0], ctx))
    if kind == "fn":
        return _call(node, ctx)
    return _binary(node.value, node.args, ctx)


def _default(value: Any) -> Any:
    """A variable without a value counts as an empty text (DHIS2 uses the type's default)."""
    return "" if value is None else value


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("", "false", "0")
    return bool(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if value not in ("", None) else 0.0
    except ValueError:
        return 0.0


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, float) or isinstance(right, float):
        return _number(left), _number(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left), truthy(right)
    return str(left), str(right)


def _binary(op: str, args: tuple[Node, ...], ctx: Context) -> Any:
    if op == "&&":
        return truthy(evaluate(args[0], ctx)) and truthy(evaluate(args[1], ctx))
    if op == "||":
        return truthy(evaluate(args[0], ctx)) or truthy(evaluate(args[1], ctx))
    left, right = evaluate(args[0], ctx), evaluate(args[1], ctx)
    if (
        op == "+"
        and isinstance(left, str)
        and isinstance(right, str)
        and not (_numeric(left) and _numeric(right))
    ):
        return left + right
    if op in ("+", "-", "*", "/", "%"):
        a, b = _number(left), _number(right)
        if op in ("/", "%") and b == 0:
            return 0.0
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0, "%": a % b}[op]
    a, b = _comparable(left, right)
    return {
        "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
    }[op]  # fmt: skip


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _call(node: Node, ctx: Context) -> Any:
    name = node.value
    if name == "d2:hasValue":
        arg = node.args[0]
        if arg.kind in ("var", "attr"):
            return ctx.variable(arg.value) not in (None, "")
        if arg.kind == "str":
            return ctx.variable(arg.value) not in (None, "")
        return evaluate(arg, ctx) not in (None, "")
    values = [evaluate(a, ctx) for a in node.args]
    if name == "d2:length":
        return float(len(str(values[0])))
    if name == "d2:concatenate":
        return "".join(display(v) for v in values)
    start, end = _day(values[0]), _day(values[1])
    if start is None or end is None:
        return 0.0
    if name == "d2:daysBetween":
        return float((end - start).days)
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return float(years)


def display(value: Any) -> str:
    """A value as a rule writes it into a message or a data value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return "" if value is None else str(value)
