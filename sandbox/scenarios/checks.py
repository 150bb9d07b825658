"""Compare a real response with a step's expectation; say what was expected and what came."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sandbox.scenarios.model import Expect, Matcher
from sandbox.scenarios.paths import resolve
from sandbox.scenarios.variables import substitute


def show(value: Any, limit: int = 200) -> str:
    """A value as compact JSON, cut to `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(wanted, str) and wanted in actual
    if isinstance(actual, list):
        if isinstance(wanted, dict):
            return any(isinstance(i, dict) and _contains(i, wanted) for i in actual)
        return wanted in actual
    if isinstance(actual, dict):
        if isinstance(wanted, dict):
            return all(k in actual and actual[k] == v for k, v in wanted.items())
        return wanted in actual
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _canonical(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def keys_named(value: Any, names: list[str], where: str = "") -> list[str]:
    """Where, anywhere inside `value`, a mapping has a key of one of these names (compared
    case-insensitively, ignoring `_` and `-`)."""
    wanted = {_canonical(n) for n in names}
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            inside = f"{where}.{key}" if where else str(key)
            if _canonical(str(key)) in wanted:
                found.append(inside)
            found += keys_named(item, names, inside)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += keys_named(item, names, f"{where}[{index}]")
    return found


def _nested(
    where: str, found: bool, actual: Any, rule: str, wanted: Any, variables: Mapping[str, Any]
) -> list[str]:
    """`each` and `any_of`: matchers applied to the elements, or as alternatives."""
    got = show(actual) if found else "(missing)"
    if rule == "any_of":
        if any(not check_value(where, found, actual, m, variables) for m in wanted):
            return []
        options = show([m.checks() for m in wanted], limit=120)
        return [f"{where}: expected any of {options}, got {got}"]
    if not found or not isinstance(actual, list):
        return [f"{where}: expected a list whose every element matches, got {got}"]
    failures: list[str] = []
    for index, item in enumerate(actual):
        failures += check_value(f"{where}[{index}]", True, item, wanted, variables)
    return failures if len(failures) <= 5 else [*failures[:5], f"... and {len(failures) - 5} more"]


def check_value(
    where: str, found: bool, actual: Any, matcher: Matcher, variables: Mapping[str, Any]
) -> list[str]:
    """Failures of one matcher, each naming the path, the rule, expected and actual."""
    failures: list[str] = []
    checks = {name: substitute(value, variables) for name, value in matcher.checks().items()}
    got = show(actual) if found else "(missing)"
    for rule, wanted in checks.items():
        if rule in ("each", "any_of"):
            failures += _nested(where, found, actual, rule, wanted, variables)
            continue
        if rule == "exists":
            if found != wanted:
                state = "present" if wanted else "absent"
                failures.append(f"{where}: expected {state}, got {got}")
            continue
        if not found:
            failures.append(f"{where}: expected {rule} {show(wanted)}, got (missing)")
            continue
        ok = True
        if rule == "equals":
            ok = actual == wanted
        elif rule == "not_equals":
            ok = actual != wanted
        elif rule == "contains":
            ok = _contains(actual, wanted)
        elif rule == "not_contains":
            ok = not _contains(actual, wanted)
        elif rule == "regex":
            ok = isinstance(actual, str | int | float) and (
                re.search(str(wanted), str(actual)) is not None
            )
        elif rule == "length":
            ok = isinstance(actual, list | dict | str) and len(actual) == wanted
            if not ok and isinstance(actual, list | dict | str):
                got = f"length {len(actual)}: {got}"
        elif rule == "at_least":
            number, limit = _number(actual), _number(wanted)
            ok = number is not None and limit is not None and number >= limit
        elif rule == "no_keys":
            hits = keys_named(actual, list(wanted))
            ok = not hits
            if hits:
                more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
                got = f"{', '.join(hits[:5])}{more}"
        if not ok:
            failures.append(f"{where}: expected {rule.replace('_', ' ')} {show(wanted)}, got {got}")
    return failures


def check_response(
    expect: Expect,
    *,
    status: int,
    headers: Mapping[str, str],
    body: Any,
    variables: Mapping[str, Any],
) -> list[str]:
    """Every way the response differs from the expectation (empty when it matches)."""
    failures: list[str] = []
    statuses = expect.statuses()
    if statuses is None and status >= 400:
        failures.append(f"status: expected success (below 400), got {status}")
    elif statuses is not None and status not in statuses:
        wanted = statuses[0] if len(statuses) == 1 else f"one of {statuses}"
        failures.append(f"status: expected {wanted}, got {status}")
    for path, matcher in expect.json_.items():
        if body is None or isinstance(body, str):
            failures.append(f"json {path}: expected a JSON body, got {show(body)}")
            continue
        found, actual = resolve(body, path)
        failures += check_value(f"json {path}", found, actual, matcher, variables)
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, matcher in expect.headers.items():
        present = name.lower() in lowered
        failures += check_value(
            f"header {name}", present, lowered.get(name.lower()), matcher, variables
        )
    return failures
