"""National ID numbers (UIN, VID) stay in the ID system: no sector stores or carries one.

A sector knows a person by its own partner-specific token (`identity-flows.md`). The mediator's
pub/sub refuses events, and the registries refuse records and registry schemas, that name a
national ID number under any key spelled `uin` or `vid` (any case), at any depth.
"""

from __future__ import annotations

from typing import Any

KEYS = frozenset({"uin", "vid"})


def national_id_path(value: Any, prefix: str = "") -> str | None:
    """The dotted path of the first key naming a national ID number, or None.

    Request bodies are at most 64 levels deep (the kernel refuses deeper ones), so the walk is
    bounded by the body's size."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if str(key).lower() in KEYS:
                return path
            found = national_id_path(item, path)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = national_id_path(item, f"{prefix}[{index}]")
            if found is not None:
                return found
    return None
