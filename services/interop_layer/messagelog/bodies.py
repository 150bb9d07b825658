"""What a record keeps of an exchange's bodies: the stored text and the JSON field names (values
never). Below the capture, the writer and the models, which all use it."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson

MAX_FIELDS = 200


def body_text(data: bytes) -> str:
    """Bodies as text; anything that is not clean UTF-8 is kept as base64."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return "base64:" + base64.b64encode(data).decode()
    return text


def stored_fields(body: str | None) -> list[str] | None:
    """Field names of a stored body that is a whole JSON document (not cut off, not base64)."""
    if not body or body[0] not in "{[":
        return None
    return json_fields(body.encode(), "application/json")


def json_fields(data: bytes, content_type: str | None) -> list[str] | None:
    """Dotted names of the JSON fields in a body (values never), for tracing views."""
    if not data or "json" not in (content_type or ""):
        return None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:  # orjson refuses some documents `json` reads (huge integers)
        try:
            document = json.loads(data)
        except ValueError:
            return None
    names: set[str] = set()
    add = names.add

    # Exact types (decoded JSON has no subclasses), and no call for scalars: this runs per record.
    def walk(value: Any, prefix: str, depth: int) -> None:
        if depth > 4 or len(names) >= MAX_FIELDS:
            return
        if type(value) is dict:
            for key, item in value.items():
                name = prefix + key
                add(name)
                kind = type(item)
                if kind is dict or kind is list:
                    walk(item, name + ".", depth + 1)
        else:
            inner = prefix.rstrip(".") + "[]." if prefix else "[]."
            for item in value[:20]:
                kind = type(item)
                if kind is dict or kind is list:
                    walk(item, inner, depth + 1)

    if type(document) is not dict and type(document) is not list:
        return []
    walk(document, "", 0)
    return sorted(names)


def derive_bodies(fields: dict[str, Any]) -> None:
    """Turn captured raw bodies into the stored text (writer thread)."""
    captured = fields.pop("_bodies", None)
    if captured is None:
        return
    request, response, limit = captured
    fields["request_body"] = body_text(request[:limit]) if request else None
    fields["response_body"] = body_text(response[:limit]) if response else None
    # Field names are derived from the stored bodies when records are read (`stored_fields`):
    # walking every body here cost a full-body exchange a fifth of the mediator's CPU.
