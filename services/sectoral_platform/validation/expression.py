"""DHIS2 data expressions for validation rules and predictors: parse once, evaluate per cell.

Grammar (a subset of DHIS2's): numbers, `#{de}`, `#{de.coc}`, `C{constant}`, + - * / % ^,
comparisons, `&&`/`and`, `||`/`or`, `!`/`not`, parentheses, `if`, `isNull`, `isNotNull`,
`firstNonNull`, `greatest`, `least`, and the predictor aggregate functions over sample periods.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"\s*(#\{[^}]*\}|C\{[^}]*\}|[A-Za-z]+\{[^}]*\}|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
    r"|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|&&|\|\||[-+*/%^()<>!,])"
)
_ITEM = re.compile(r"#\{([A-Za-z][A-Za-z0-9]{10})(?:\.([A-Za-z][A-Za-z0-9]{10}))?\}")
_CONSTANT = re.compile(r"C\{([A-Za-z][A-Za-z0-9]{10})\}")

AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum,
    "avg": statistics.fmean,
    "min": min,
    "max": max,
    "count": lambda xs: float(len(xs)),
    "median": statistics.median,
    "stddev": lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0,
    "stddevSamp": lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0,
    "stddevPop": statistics.pstdev,
    "variance": lambda xs: statistics.variance(xs) if len(xs) > 1 else 0.0,
}
FUNCTIONS = {"if": (3, 3), "isNull": (1, 1), "isNotNull": (1, 1), "firstNonNull": (1, 99),
             "greatest": (1, 99), "least": (1, 99)}  # fmt: skip
_BINARY = (("||", "or"), ("&&", "and"), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"),
           ("*", "/", "%"))  # fmt: skip

Node = tuple[object, ...]
MAX_NESTING = 50  # parentheses and function calls


class ExpressionError(ValueError):
    """Why an expression does not parse, and the offending token."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


def tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos]
            raise ExpressionError(f"Invalid token `{bad}`", bad)
        tokens.append(match.group(1))
        pos = match.end()
    if not tokens:
        raise ExpressionError("Empty expression", "")
    return tokens


def parse(expression: str, *, aggregates: bool = False) -> Node:
    """The syntax tree; `aggregates` allows the predictor's sample-period functions."""
    tokens = tokenize(expression)
    pos = 0
    depth = {"aggregate": 0, "nesting": 0}

    def enter(token: str) -> None:
        depth["nesting"] += 1
        if depth["nesting"] > MAX_NESTING:
            raise ExpressionError(f"Expression nests deeper than {MAX_NESTING} levels", token)

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ExpressionError("Unexpected end of expression", tokens[-1])
        pos += 1
        return tokens[pos - 1]

    def expect(token: str) -> None:
        found = take()
        if found != token:
            raise ExpressionError(f"Expected `{token}` but found `{found}`", found)

    def binary(level: int) -> Node:
        if level == len(_BINARY):
            return unary()
        node = binary(level + 1)
        while peek() in _BINARY[level]:
            op = take()
            op = {"or": "||", "and": "&&"}.get(op, op)
            node = ("bin", op, node, binary(level + 1))
        return node

    def unary() -> Node:
        if peek() in ("-", "+"):
            op = take()
            inner = unary()
            return ("neg", inner) if op == "-" else inner
        if peek() in ("!", "not"):
            take()
            return ("not", unary())
        return power()

    def power() -> Node:
        node = atom()
        if peek() == "^":  # binds tighter than a sign, right-associative: -2^2 = -4
            take()
            return ("bin", "^", node, unary())
        return node

    def call(name: str) -> Node:
        enter(name)
        expect("(")
        args = [binary(0)]
        while peek() == ",":
            take()
            args.append(binary(0))
        expect(")")
        depth["nesting"] -= 1
        return ("call", name, tuple(args))

    def atom() -> Node:
        token = take()
        if token == "(":
            enter(token)
            node = binary(0)
            expect(")")
            depth["nesting"] -= 1
            return node
        if token.startswith("#{"):
            match = _ITEM.fullmatch(token)
            if match is None:
                raise ExpressionError(f"Invalid data element operand `{token}`", token)
            return ("item", match.group(1), match.group(2), depth["aggregate"] > 0)
        if token.startswith("C{"):
            match = _CONSTANT.fullmatch(token)
            if match is None:
                raise ExpressionError(f"Invalid constant `{token}`", token)
            return ("const", match.group(1))
        if "{" in token:
            raise ExpressionError(f"Expression item `{token}` is not supported", token)
        if token[0].isdigit():
            number = float(token)
            if not math.isfinite(number):
                raise ExpressionError(f"Number out of range `{token}`", token)
            return ("num", number)
        if token in AGGREGATES and peek() == "(":
            if not aggregates:
                raise ExpressionError(f"Function `{token}` is only allowed in predictors", token)
            if depth["aggregate"]:
                raise ExpressionError(f"Aggregate function `{token}` cannot be nested", token)
            depth["aggregate"] += 1
            node = call(token)
            depth["aggregate"] -= 1
            if len(node[2]) != 1:  # type: ignore[arg-type]
                raise ExpressionError(f"Function `{token}` takes one argument", token)
            return ("agg", token, node[2][0])  # type: ignore[index]
        if token in FUNCTIONS and peek() == "(":
            node = call(token)
            low, high = FUNCTIONS[token]
            if not low <= len(node[2]) <= high:  # type: ignore[arg-type]
                raise ExpressionError(f"Wrong number of arguments to `{token}`", token)
            return node
        raise ExpressionError(f"Unexpected `{token}`", token)

    tree = binary(0)
    if pos != len(tokens):
        raise ExpressionError(f"Unexpected `{tokens[pos]}`", tokens[pos])
    return tree


def items(node: Node, *, sampled: bool | None = None) -> set[tuple[str, str | None]]:
    """(data element, combo or None) the expression reads; `sampled` picks inside/outside
    aggregate functions (None: both)."""
    found: set[tuple[str, str | None]] = set()

    def walk(n: Node) -> None:
        if n[0] == "item":
            if sampled is None or n[3] == sampled:
                found.add((str(n[1]), n[2] if n[2] is None else str(n[2])))
            return
        for child in n[1:]:
            if isinstance(child, tuple) and child and isinstance(child[0], str):
                walk(child)
            elif isinstance(child, tuple):
                for grandchild in child:
                    walk(grandchild)

    walk(node)
    return found


def constants(node: Node) -> set[str]:
    if node[0] == "const":
        return {str(node[1])}
    out: set[str] = set()
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            out |= constants(child)
        elif isinstance(child, tuple):
            for grandchild in child:
                out |= constants(grandchild)
    return out


Lookup = Callable[[str, str | None], float | None]


@dataclass
class Context:
    """Values for one evaluation: the current period's, each sample period's, the constants."""

    current: Lookup
    constants: dict[str, float] = field(default_factory=dict)
    samples: list[Lookup] = field(default_factory=list)
