"""Parsed expressions compiled to Python functions: rules are evaluated per unit x period x
combo, so the tree is walked once, not at every evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import cast

from services.sectoral_platform.validation.expression import (
    AGGREGATES,
    Context,
    Lookup,
    Node,
)


def evaluate(node: Node, ctx: Context) -> float | None:
    """The value (None: division by zero, or null); a missing item counts as 0 in arithmetic."""
    return compiled(node)(ctx.current, ctx.constants, ctx.samples)


Compiled = Callable[[Lookup, dict[str, float], list[Lookup]], float | None]


@lru_cache(maxsize=4096)
def compiled(node: Node) -> Compiled:
    """The tree as one Python function (rules are evaluated per unit x period x combo). The
    source is generated from the parsed tree only: uids, numbers and known function names."""
    body = eval(f"lambda L, K, S: {_code(node)}", dict(_RUNTIME))

    def run(current: Lookup, constants: dict[str, float], samples: list[Lookup]) -> float | None:
        try:
            result: float | None = body(current, constants, samples)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return result

    return run


def _n(value: float | None) -> float:
    return 0.0 if value is None else value


def _agg(name: str, inner: Callable[[Lookup], float | None], samples: list[Lookup]) -> float | None:
    values = [v for s in samples if (v := inner(s)) is not None]
    return AGGREGATES[name](values) if values else None


def _pick(name: str, values: tuple[float | None, ...]) -> float | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if name == "firstNonNull":
        return present[0]
    return max(present) if name == "greatest" else min(present)


_RUNTIME: dict[str, object] = {
    "__builtins__": {}, "_n": _n, "_agg": _agg, "_pick": _pick, "_fmod": math.fmod,
    "_pow": lambda a, b: float(a**b),
}  # fmt: skip
_LOGIC = {"&&": "and", "||": "or"}
_ARITHMETIC = {"+": 0, "-": 0, "*": 1, "/": 1}


def _operand(node: Node) -> str:
    """A child of an arithmetic operation: arithmetic results are never null."""
    if node[0] == "num":
        return _code(node)
    if node[0] == "bin" and node[1] in _ARITHMETIC:
        return f"({_chain(node)})"
    return f"_n({_code(node)})"


def _chain(node: Node) -> str:
    """`a + b - c` flat (left-associative, as Python's own): a sum of hundreds of items
    nests no deeper than one."""
    op, left, right = str(node[1]), cast(Node, node[2]), cast(Node, node[3])
    same = left[0] == "bin" and _ARITHMETIC.get(str(left[1])) == _ARITHMETIC[op]
    return f"{_chain(left) if same else _operand(left)} {op} {_operand(right)}"


def _code(node: Node) -> str:
    kind = node[0]
    if kind == "num":
        return repr(float(node[1]))  # type: ignore[arg-type]
    if kind == "item":
        return f"L({str(node[1])!r}, {node[2]!r})"
    if kind == "const":
        return f"K.get({str(node[1])!r})"
    if kind == "neg":
        return f"(-_n({_code(node[1])}))"  # type: ignore[arg-type]
    if kind == "not":
        return f"(0.0 if _n({_code(node[1])}) else 1.0)"  # type: ignore[arg-type]
    if kind == "agg":
        return f"_agg({str(node[1])!r}, lambda L: {_code(node[2])}, S)"  # type: ignore[arg-type]
    if kind == "call":
        name, args = str(node[1]), [_code(a) for a in cast(tuple[Node, ...], node[2])]
        if name == "if":
            return f"({args[1]} if _n({args[0]}) else {args[2]})"
        if name in ("isNull", "isNotNull"):
            yes, no = ("1.0", "0.0") if name == "isNull" else ("0.0", "1.0")
            return f"({yes} if {args[0]} is None else {no})"
        return f"_pick({name!r}, ({', '.join(args)},))"
    op, left, right = str(node[1]), _code(node[2]), _code(node[3])  # type: ignore[arg-type]
    if op in _ARITHMETIC:
        return f"({_chain(node)})"
    if op == "%":
        return f"_fmod(_n({left}), _n({right}))"
    if op == "^":
        return f"_pow(_n({left}), _n({right}))"
    return f"(1.0 if (_n({left}) {_LOGIC.get(op, op)} _n({right})) else 0.0)"
