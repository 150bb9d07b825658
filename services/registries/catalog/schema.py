"""JSON Schema handling: checking a registry's schema, validating records, walking paths.

Besides standard JSON Schema, a property may carry the upstream keyword `primaryKey: true` and
the sandbox keywords `personalId: true` (values identify a person, for `myPersonalDataUsage`),
`facilityCode: true` (value must be a facility of the facility registry) and
`references: "<registry>/<version>"` (value must be a record key there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import validator_for

from services.kernel.errors import BadRequest
from services.kernel.national_ids import KEYS as NATIONAL_ID_KEYS

Path = tuple[str, ...]


def check_schema(schema: dict[str, Any]) -> None:
    """Refuse a schema that is not valid JSON Schema or does not describe objects."""
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise BadRequest(f"schema is not valid JSON Schema at {where}: {exc.message}") from exc
    if schema.get("type", "object") != "object":
        raise BadRequest("schema must describe an object (type: object).")
    for path, _ in walk(schema):
        if path[-1].lower() in NATIONAL_ID_KEYS:
            raise BadRequest(
                f"schema field {'.'.join(path)!r}: a registry never holds national ID numbers "
                "(uin/vid); use the person's token."
            )


def violations(schema: dict[str, Any], content: Any) -> list[dict[str, str]]:
    """Every way `content` breaks `schema`, each naming the field and the rule."""
    cls = validator_for(schema, default=Draft202012Validator)
    validator = cls(schema, format_checker=FormatChecker())
    found = sorted(validator.iter_errors(content), key=lambda e: [str(p) for p in e.path])
    return [_describe(error) for error in found]


def _describe(error: ValidationError) -> dict[str, str]:
    field = ".".join(str(p) for p in error.absolute_path) or "(root)"
    if error.validator == "required" and isinstance(error.message, str):
        missing = error.message.split("'")[1] if "'" in error.message else ""
        field = f"{field}.{missing}" if field != "(root)" else missing
    if error.validator == "additionalProperties":
        extra = error.message.split("'")[1] if "'" in error.message else ""
        field = f"{field}.{extra}" if field != "(root)" else extra
    return {"field": field, "rule": str(error.validator), "message": error.message}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return target if isinstance(target, dict) else {}
    return node


def walk(schema: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every declared property path with its (resolved) schema, depth first."""

    def visit(
        node: dict[str, Any], prefix: Path, depth: int
    ) -> Iterator[tuple[Path, dict[str, Any]]]:
        if depth > 8:
            return
        props = _resolve(schema, node).get("properties", {})
        if not isinstance(props, dict):
            return
        for name, sub in props.items():
            if not isinstance(sub, dict):
                continue
            resolved = _resolve(schema, sub)
            yield (*prefix, name), resolved
            yield from visit(resolved, (*prefix, name), depth + 1)

    yield from visit(schema, (), 0)


def has_path(schema: dict[str, Any], path: str) -> bool:
    """Whether `path` (dotted) is a field the schema declares or could hold."""
    node = schema
    for part in path.split("."):
        node = _resolve(schema, node)
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            return True
        if part not in props:
            return False
        node = props[part] if isinstance(props[part], dict) else {}
    return True


def primary_key(schema: dict[str, Any]) -> str:
    for path, node in walk(schema):
        if len(path) == 1 and node.get("primaryKey") is True:
            return path[0]
    return "id"


def keyword_paths(schema: dict[str, Any], keyword: str) -> list[tuple[str, Any]]:
    """Dotted paths whose property carries `keyword`, with the keyword's value."""
    return [(".".join(path), node[keyword]) for path, node in walk(schema) if keyword in node]


def get_path(content: Any, path: str) -> Any:
    """The value at a dotted path, or None."""
    node = content
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
