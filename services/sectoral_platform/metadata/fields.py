"""`fields=` parsing and rendering: nesting, presets (`*`, `:all`, `:owner`...) and `!exclusion`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.metadata.schema import (
    EMBEDDED,
    EMBEDDED_SIMPLE,
    IDENTIFIABLE_FIELDS,
    NAMEABLE_FIELDS,
    SCHEMAS,
)
from services.sectoral_platform.metadata.wire import MISSING, Viewer

DEFAULT_FIELDS = "id,displayName"


@dataclass
class FieldNode:
    name: str
    children: list[FieldNode] | None = None
    exclude: bool = False


def parse_fields(text: str | None) -> list[FieldNode]:
    """Parse `id,name,dataSets[id,name],!code` into a tree; unbalanced brackets are a 400."""
    text = (text or DEFAULT_FIELDS).replace(" ", "")
    nodes, pos = _parse(text, 0, 0)
    if pos != len(text):
        raise bad_request(f"Invalid fields expression: unexpected `{text[pos]}` at {pos}")
    return nodes


def _parse(text: str, pos: int, depth: int) -> tuple[list[FieldNode], int]:
    nodes: list[FieldNode] = []
    name = ""
    while pos < len(text):
        char = text[pos]
        if char in "[(":
            if not name:
                raise bad_request(f"Invalid fields expression: `{char}` without a field at {pos}")
            children, pos = _parse(text, pos + 1, depth + 1)
            nodes.append(_node(name, children))
            name = ""
            continue
        if char in "])":
            if depth == 0:
                raise bad_request(f"Invalid fields expression: unbalanced `{char}` at {pos}")
            if name:
                nodes.append(_node(name, None))
            return nodes, pos + 1
        if char == ",":
            if name:
                nodes.append(_node(name, None))
            name = ""
        else:
            name += char
        pos += 1
    if depth > 0:
        raise bad_request("Invalid fields expression: missing closing `]`")
    if name:
        nodes.append(_node(name, None))
    return nodes, pos


def _node(name: str, children: list[FieldNode] | None) -> FieldNode:
    exclude = name.startswith("!") or name.startswith("-")
    name = name.lstrip("!-")
    if "::" in name or "~" in name:  # transformers are accepted and ignored
        name = name.split("::", 1)[0].split("~", 1)[0]
    return FieldNode(name, children, exclude)


def expand(viewer: Viewer, type_: str, nodes: list[FieldNode]) -> list[FieldNode]:
    """Presets replaced by property names, exclusions applied, later duplicates merged."""
    chosen: dict[str, FieldNode] = {}
    excluded: set[str] = set()
    for node in nodes:
        if node.exclude:
            excluded.add(node.name)
            continue
        for name in _preset(viewer, type_, node.name):
            if name == node.name or node.name in ("*", ":all"):
                kids = node.children if name == node.name else None
            else:
                kids = None
            if name not in chosen or kids is not None:
                chosen[name] = FieldNode(name, kids)
    return [n for n in chosen.values() if n.name not in excluded]


def _preset(viewer: Viewer, type_: str, name: str) -> list[str]:
    schema = SCHEMAS.get(type_)
    if name in ("*", ":all"):
        if schema is None:
            return [*EMBEDDED.get(type_, {}), *EMBEDDED_SIMPLE.get(type_, ())]
        return [p.name for p in schema.props]
    if name == ":owner" and schema is not None:
        return [p.name for p in schema.owner_props] + ["created", "lastUpdated"]
    if name == ":identifiable":
        return list(IDENTIFIABLE_FIELDS)
    if name == ":nameable":
        return list(NAMEABLE_FIELDS)
    if name == ":simple" and schema is not None:
        return [p.name for p in schema.props if p.kind in ("simple", "computed")]
    return [name]


def render(
    viewer: Viewer, type_: str, obj: dict[str, Any], nodes: list[FieldNode]
) -> dict[str, Any]:
    """One object shaped by a parsed field tree; unknown fields are ignored, as DHIS2 does."""
    out: dict[str, Any] = {}
    for node in expand(viewer, type_, nodes):
        value = viewer.value(type_, obj, node.name)
        if value is MISSING or value is None:
            continue
        target = viewer.target_type(type_, node.name)
        out[node.name] = _shape(viewer, target, value, node.children)
    return out


def _shape(viewer: Viewer, target: str | None, value: Any, kids: list[FieldNode] | None) -> Any:
    if isinstance(value, list):
        return [_shape(viewer, target, item, kids) for item in value]
    if not isinstance(value, dict):
        return value
    if target in SCHEMAS and isinstance(value.get("id"), str):
        if kids is None:
            return {"id": value["id"]}
        found = viewer.resolve(target, value)
        if found is None:
            return {"id": value["id"]}
        return render(viewer, found[0], found[1], kids)
    if target in EMBEDDED:
        if kids is None:
            kids = [FieldNode("*")]
        return render(viewer, target, value, kids)
    return value
