"""`fields=` parsing and rendering: nesting, presets (`*`, `:all`, `:owner`...) and `!exclusion`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.errors import bad_request, not_implemented
from services.sectoral_platform.metadata.schema import (
    EMBEDDED,
    EMBEDDED_SIMPLE,
    IDENTIFIABLE_FIELDS,
    NAMEABLE_FIELDS,
    SCHEMAS,
)
from services.sectoral_platform.metadata.wire import MISSING, Viewer

DEFAULT_FIELDS = "id,displayName"


Transformer = tuple[str, str | None]
TRANSFORMERS = frozenset({"size", "isEmpty", "isNotEmpty", "rename", "pluck"})


@dataclass
class FieldNode:
    name: str
    children: list[FieldNode] | None = None
    exclude: bool = False
    transformers: list[Transformer] = field(default_factory=list)

    @property
    def key(self) -> str:
        renamed = [arg for name, arg in self.transformers if name == "rename" and arg]
        return renamed[-1] if renamed else self.name


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
        if char == "(" and ("~" in name or "::" in name):
            end = text.find(")", pos)
            if end < 0:
                raise bad_request("Invalid fields expression: missing closing `)`")
            name += text[pos : end + 1]
            pos = end + 1
            continue
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
            _flush(nodes, name)
            return nodes, pos + 1
        if char == ",":
            _flush(nodes, name)
            name = ""
        else:
            name += char
        pos += 1
    if depth > 0:
        raise bad_request("Invalid fields expression: missing closing `]`")
    _flush(nodes, name)
    return nodes, pos


def _flush(nodes: list[FieldNode], name: str) -> None:
    """`dataSets[id]~size`: a transformer after brackets belongs to the node before it."""
    if name.startswith(("~", "::")) and nodes:
        nodes[-1].transformers += _transformers(name)
    elif name:
        nodes.append(_node(name, None))


def _transformers(text: str) -> list[Transformer]:
    found: list[Transformer] = []
    for part in re.split(r"~|::", text):
        if not part:
            continue
        match = re.fullmatch(r"(\w+)(?:\(([^)]*)\))?", part)
        if match is None or match.group(1) not in TRANSFORMERS:
            raise not_implemented(f"Field transformer `{part}` is not implemented here")
        found.append((match.group(1), match.group(2)))
    return found


def _node(name: str, children: list[FieldNode] | None) -> FieldNode:
    exclude = name.startswith("!") or name.startswith("-")
    name = name.lstrip("!-")
    cut = min((i for i in (name.find("~"), name.find("::")) if i >= 0), default=len(name))
    return FieldNode(name[:cut], children, exclude, _transformers(name[cut:]))


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
            made = FieldNode(name, kids, transformers=node.transformers)
            if made.key not in chosen or kids is not None or node.transformers:
                chosen[made.key] = made
    return [n for n in chosen.values() if n.key not in excluded]


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
        if node.transformers:
            value = _transform(viewer, type_, node, None if value is MISSING else value)
            if value is not MISSING:
                out[node.key] = value
            continue
        if value is MISSING or value is None:
            continue
        target = viewer.target_type(type_, node.name)
        out[node.name] = _shape(viewer, target, value, node.children)
    return out


def _transform(viewer: Viewer, type_: str, node: FieldNode, value: Any) -> Any:
    """DHIS2's `~size`, `~isEmpty`, `~isNotEmpty`, `~pluck(prop)`, `~rename(name)`."""
    target = viewer.target_type(type_, node.name)
    kids = node.children
    for name, arg in node.transformers:
        if name == "pluck":
            kids = [FieldNode(arg or "id")]
    shaped = None if value is None else _shape(viewer, target, value, kids)
    for name, arg in node.transformers:
        if name == "size":
            shaped = len(shaped) if isinstance(shaped, list | dict | str) else 0
        elif name in ("isEmpty", "isNotEmpty"):
            empty = shaped is None or (isinstance(shaped, list | dict | str) and not shaped)
            shaped = empty if name == "isEmpty" else not empty
        elif name == "pluck" and isinstance(shaped, list):
            prop = arg or "id"
            shaped = [i.get(prop) if isinstance(i, dict) else i for i in shaped]
    return MISSING if shaped is None else shaped


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
