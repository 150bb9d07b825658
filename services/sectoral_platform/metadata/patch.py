"""JSON Patch (RFC 6902: add, remove, replace) on a metadata object, as DHIS2's PATCH accepts."""

from __future__ import annotations

import copy
from typing import Any

from services.sectoral_platform.errors import bad_request


def apply_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise bad_request("JSON Patch body must be a list of operations")
    result = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or op.get("op") not in ("add", "remove", "replace"):
            raise bad_request(f"Unsupported JSON Patch operation: {op!r}")
        parts = [
            p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]
        ]
        if not parts or parts[0] in ("id",):
            raise bad_request(f"Invalid JSON Patch path `{op.get('path')}`")
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        try:
            if op["op"] == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif isinstance(parent, list):
                if last == "-":
                    parent.append(op.get("value"))
                elif op["op"] == "add":
                    parent.insert(int(last), op.get("value"))
                else:
                    parent[int(last)] = op.get("value")
            elif op["op"] == "add" and isinstance(parent.get(last), list) and last == "-":
                parent[last].append(op.get("value"))
            else:
                parent[last] = op.get("value")
        except (KeyError, IndexError, ValueError) as exc:
            raise bad_request(f"JSON Patch path `{op.get('path')}` does not exist") from exc
    return result
