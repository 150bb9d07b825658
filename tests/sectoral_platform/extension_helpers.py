"""Users with given authorities, app bundles built in memory, a loopback echo server."""

from __future__ import annotations

import io
import secrets
import zipfile
from typing import Any

import httpx
import orjson

PASSWORD = "Secret123!"
FACILITY = "XD-R01-D01-F001"


async def user_with(client: httpx.AsyncClient, authorities: list[str]) -> tuple[str, str]:
    """A new user holding exactly `authorities` (through one new role); its Basic credentials."""
    name = f"u{secrets.token_hex(4)}"
    role = await client.post("/api/userRoles", json={"name": name, "authorities": authorities})
    assert role.status_code == 201, role.text
    user = {
        "username": name,
        "firstName": name,
        "surname": "Tester",
        "password": PASSWORD,
        "userRoles": [{"id": role.json()["response"]["uid"]}],
    }
    assert (await client.post("/api/users", json=user)).status_code == 201
    return name, PASSWORD


def bundle(files: dict[str, Any], *, raw: dict[str, bytes] | None = None) -> bytes:
    """A zip: JSON-able values are written as JSON, strings as text, `raw` entries as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else orjson.dumps(content)
            archive.writestr(name, data)
        for name, data in (raw or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def manifest(name: str, namespace: str | None = None) -> dict[str, Any]:
    dhis: dict[str, Any] = {"href": "*"}
    if namespace:
        dhis["namespace"] = namespace
    return {
        "name": name,
        "version": "1.0.0",
        "description": "test app",
        "launch_path": "index.html",
        "activities": {"dhis": dhis},
    }


async def install(client: httpx.AsyncClient, data: bytes, **kwargs: Any) -> httpx.Response:
    files = {"file": ("app.zip", data, "application/zip")}
    return await client.post("/api/apps", files=files, **kwargs)
