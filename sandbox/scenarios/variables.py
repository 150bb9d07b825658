"""`${name}` in scenario values: run built-ins, the scenario's `vars`, values saved by steps."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariable(KeyError):
    """A `${name}` with no value at run time."""


def builtins(run_id: str) -> dict[str, Any]:
    """Per-run values, so that a scenario can run again on the same data without collisions."""
    now = datetime.now(UTC)
    return {
        "run_id": run_id,
        "unique": secrets.token_hex(4),
        "now": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "today": now.date().isoformat(),
    }


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace `${name}` everywhere; a string that is only `${name}` keeps the value's type."""
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), variables)
        return VARIABLE.sub(lambda m: str(_lookup(m.group(1), variables)), value)
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    return value


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise MissingVariable(f"${{{name}}} has no value (known: {', '.join(sorted(variables))})")
    return variables[name]
